// SPDX-License-Identifier: GPL-2.0
/*
 * libweave's entry locks over the kernel: weave_lock(), weave_unlock(),
 * weave_with_lock() and its owner-died handling, weave_lock_info(); each
 * error a caller can meet, with the lock state after the call.
 */
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

#define KEY	7

FIXTURE(liblock) {
	struct weave *w;
	struct weave *other;	/* another file of the same registry */
};

FIXTURE_SETUP(liblock)
{
	ASSERT_EQ(0, weave_open(NULL, 0, 0600, &self->w));
	ASSERT_EQ(0, weave_reopen(self->w, 0, &self->other));
	ASSERT_EQ(0, weave_set(self->w, KEY, "value", 5));
}

FIXTURE_TEARDOWN(liblock)
{
	weave_close(self->other);
	weave_close(self->w);
}

/* The lock state of KEY as the index shows it, through @w. */
static struct weave_lock_info lock_state(struct weave *w)
{
	struct weave_lock_info li;

	memset(&li, 0xff, sizeof(li));
	if (weave_lock_info(w, KEY, &li))
		li.lock = ~0U;
	return li;
}

/* Leave KEY owner-died: a file holding it exclusively goes away. */
static int kill_holder(struct weave *w)
{
	struct weave *h;
	int err;

	err = weave_reopen(w, 0, &h);
	if (err)
		return err;
	err = weave_lock(h, KEY, 0, 0);
	weave_close(h);
	return err;
}

TEST_F(liblock, arguments)
{
	struct weave_lock_info li;

	EXPECT_EQ(-EINVAL, weave_lock(self->w, 0, 0, -1));
	EXPECT_EQ(-EINVAL, weave_lock(self->w, KEY, WEAVE_LOCK_TIMED, -1));
	EXPECT_EQ(-EINVAL, weave_lock(self->w, KEY, 1U << 20, -1));
	EXPECT_EQ(-EINVAL, weave_unlock(self->w, 0, 0));
	EXPECT_EQ(-EINVAL, weave_unlock(self->w, KEY, 1U << 20));
	EXPECT_EQ(-EINVAL, weave_lock_info(self->w, 0, &li));
	EXPECT_EQ(-EINVAL, weave_lock_info(self->w, KEY, NULL));
	/* Nothing was locked by the refused calls. */
	EXPECT_EQ(0, lock_state(self->w).lock);
}

TEST_F(liblock, lock_unlock)
{
	struct weave_lock_info li;

	ASSERT_EQ(0, weave_lock(self->w, KEY, 0, -1));
	li = lock_state(self->other);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, li.lock);
	EXPECT_EQ(0, li.waiters);
	EXPECT_EQ(0, li.flags);
	EXPECT_EQ(0, li.resv);
	EXPECT_EQ(-EDEADLK, weave_lock(self->w, KEY, 0, -1));
	EXPECT_EQ(-EAGAIN, weave_lock(self->other, KEY, WEAVE_LOCK_NONBLOCK,
				      -1));
	EXPECT_EQ(-ETIMEDOUT, weave_lock(self->other, KEY, 0, 1000000));
	EXPECT_EQ(-EPERM, weave_unlock(self->other, KEY, 0));
	/* Converted to shared: another sharer gets in. */
	ASSERT_EQ(0, weave_lock(self->w, KEY, WEAVE_LOCK_CONVERT |
				WEAVE_LOCK_SHARED, -1));
	ASSERT_EQ(0, weave_lock(self->other, KEY, WEAVE_LOCK_SHARED, 0));
	EXPECT_EQ(2, lock_state(self->w).lock);
	EXPECT_EQ(0, weave_unlock(self->other, KEY, 0));
	EXPECT_EQ(0, weave_unlock(self->w, KEY, 0));
	EXPECT_EQ(0, lock_state(self->w).lock);
	EXPECT_EQ(-EPERM, weave_unlock(self->w, KEY, 0));

	/* A missing key can be locked, but has no lock state to show. */
	ASSERT_EQ(0, weave_lock(self->w, KEY + 1, 0, -1));
	EXPECT_EQ(-ENOENT, weave_lock_info(self->w, KEY + 1, &li));
	EXPECT_EQ(0, weave_unlock(self->w, KEY + 1, 0));
}

TEST(read_only_handle)
{
	struct weave *w, *ro;

	ASSERT_EQ(0, weave_open(NULL, 0, 0600, &w));
	ASSERT_EQ(0, weave_reopen(w, WEAVE_OPEN_RDONLY, &ro));
	EXPECT_EQ(-EBADF, weave_lock(ro, KEY, 0, -1));
	EXPECT_EQ(0, weave_lock(ro, KEY, WEAVE_LOCK_SHARED, -1));
	EXPECT_EQ(0, weave_unlock(ro, KEY, 0));
	weave_close(ro);
	weave_close(w);
}

TEST_F(liblock, owner_died)
{
	ASSERT_EQ(0, kill_holder(self->w));
	EXPECT_EQ(WEAVE_SLOT_OWNER_DIED, lock_state(self->w).flags);
	EXPECT_EQ(0, lock_state(self->w).lock);

	/* The next locker is told, and the mark stays until CONSISTENT. */
	ASSERT_EQ(WEAVE_LOCK_OWNER_DIED, weave_lock(self->w, KEY, 0, -1));
	ASSERT_EQ(0, weave_unlock(self->w, KEY, 0));
	EXPECT_EQ(WEAVE_SLOT_OWNER_DIED, lock_state(self->w).flags);
	ASSERT_EQ(WEAVE_LOCK_OWNER_DIED, weave_lock(self->w, KEY, 0, -1));
	ASSERT_EQ(0, weave_unlock(self->w, KEY, WEAVE_UNLOCK_CONSISTENT));
	EXPECT_EQ(0, lock_state(self->w).flags);
	ASSERT_EQ(0, weave_lock(self->w, KEY, 0, -1));
	ASSERT_EQ(0, weave_unlock(self->w, KEY, 0));
}

struct call {
	int calls;
	int ret;
	uint64_t key;
	struct weave *w;
	bool unlock;		/* unlock the key inside the callback */
	struct weave_lock_info seen;
};

static int callback(struct weave *w, uint64_t key, void *arg)
{
	struct call *c = arg;

	c->calls++;
	c->w = w;
	c->key = key;
	if (weave_lock_info(w, key, &c->seen))
		c->seen.lock = ~0U;
	if (c->unlock && weave_unlock(w, key, 0))
		return -1000;
	return c->ret;
}

TEST_F(liblock, with_lock)
{
	struct call c = { .ret = 42 };

	EXPECT_EQ(-EINVAL, weave_with_lock(self->w, KEY, 0, -1, NULL, &c));
	EXPECT_EQ(-EINVAL, weave_with_lock(self->w, KEY, WEAVE_LOCK_CONVERT,
					   -1, callback, &c));
	EXPECT_EQ(-EINVAL, weave_with_lock(self->w, 0, 0, -1, callback, &c));
	EXPECT_EQ(0, c.calls);

	/* The callback runs under the lock; its value is returned. */
	EXPECT_EQ(42, weave_with_lock(self->w, KEY, 0, -1, callback, &c));
	EXPECT_EQ(1, c.calls);
	EXPECT_EQ(self->w, c.w);
	EXPECT_EQ(KEY, c.key);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, c.seen.lock);
	EXPECT_EQ(0, lock_state(self->w).lock);
	EXPECT_EQ(42, weave_with_lock(self->w, KEY, WEAVE_LOCK_SHARED, -1,
				      callback, &c));
	EXPECT_EQ(1, c.seen.lock);
	EXPECT_EQ(0, lock_state(self->w).lock);

	/* A lock that cannot be had: its error, no call. */
	ASSERT_EQ(0, weave_lock(self->other, KEY, 0, -1));
	c.calls = 0;
	EXPECT_EQ(-EAGAIN, weave_with_lock(self->w, KEY, WEAVE_LOCK_NONBLOCK,
					   -1, callback, &c));
	EXPECT_EQ(-ETIMEDOUT, weave_with_lock(self->w, KEY, 0, 1000000,
					      callback, &c));
	EXPECT_EQ(0, c.calls);
	ASSERT_EQ(0, weave_unlock(self->other, KEY, 0));

	/*
	 * The callback released the lock itself: the unlock after it fails,
	 * and that failure is returned over the callback's success.
	 */
	c.unlock = true;
	c.ret = 0;
	EXPECT_EQ(-EPERM, weave_with_lock(self->w, KEY, 0, -1, callback, &c));
	/* A failing callback's value wins over the unlock's. */
	c.ret = -EIO;
	EXPECT_EQ(-EIO, weave_with_lock(self->w, KEY, 0, -1, callback, &c));
	EXPECT_EQ(0, lock_state(self->w).lock);
}

TEST_F(liblock, with_lock_owner_died)
{
	struct call c = { .ret = 1 };

	ASSERT_EQ(0, kill_holder(self->w));
	/* Without RECOVER: no call, the lock is let go, the mark stays. */
	EXPECT_EQ(-EOWNERDEAD, weave_with_lock(self->w, KEY, 0, -1, callback,
					       &c));
	EXPECT_EQ(0, c.calls);
	EXPECT_EQ(0, lock_state(self->w).lock);
	EXPECT_EQ(WEAVE_SLOT_OWNER_DIED, lock_state(self->w).flags);

	/* RECOVER with a failing callback: nothing repaired, still marked. */
	c.ret = -EIO;
	EXPECT_EQ(-EIO, weave_with_lock(self->w, KEY, WEAVE_LOCK_RECOVER, -1,
					callback, &c));
	EXPECT_EQ(1, c.calls);
	EXPECT_EQ(WEAVE_SLOT_OWNER_DIED, lock_state(self->w).flags);

	/* RECOVER with a callback that succeeds: consistent again. */
	c.ret = 5;
	EXPECT_EQ(5, weave_with_lock(self->w, KEY, WEAVE_LOCK_RECOVER, -1,
				     callback, &c));
	EXPECT_EQ(2, c.calls);
	EXPECT_EQ(0, lock_state(self->w).flags);
	EXPECT_EQ(0, lock_state(self->w).lock);
	ASSERT_EQ(0, weave_lock(self->w, KEY, 0, -1));
	ASSERT_EQ(0, weave_unlock(self->w, KEY, 0));
}

TEST_HARNESS_MAIN
