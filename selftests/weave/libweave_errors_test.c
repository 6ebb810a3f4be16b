// SPDX-License-Identifier: GPL-2.0
/*
 * The -errno values of libweave that a program can meet over the kernel,
 * with the state after the failed call: arguments the library refuses,
 * descriptors or address space running out, a handle whose descriptor
 * was replaced by a file that is not attached, an O_NONBLOCK handle
 * meeting a lock, and views whose entry changed under them. The argument
 * checks that need no kernel are in tests/host/libweave_args_test.c.
 */
#include <sys/resource.h>
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

FIXTURE(liberr) {
	char name[64];
	struct weave *w;
	struct weave *other;	/* another file of the registry */
};

FIXTURE_SETUP(liberr)
{
	wv_name(self->name, sizeof(self->name), "liberr");
	ASSERT_EQ(0, weave_open(self->name, WEAVE_OPEN_CREATE, 0600, &self->w));
	ASSERT_EQ(0, weave_reopen(self->w, 0, &self->other));
}

FIXTURE_TEARDOWN(liberr)
{
	weave_close(self->other);
	weave_close(self->w);
	weave_unlink(self->name);
}

static int never(uint64_t key, void *arg)
{
	(void)key;
	(void)arg;
	return -1000;
}

static int never_entry(uint64_t key, const void *buf, size_t size,
		       uint64_t gen, void *arg)
{
	(void)buf;
	(void)size;
	(void)gen;
	return never(key, arg);
}

TEST_F(liberr, arguments)
{
	struct weave_batch_op op = { .key = 1, .op = WEAVE_BATCH_STAT };
	struct weave_stat_args st;
	struct weave_view v;
	struct weave_params p;
	struct weave *w2 = NULL;
	uint64_t cursor = 0;
	char buf[8];

	EXPECT_EQ(-EINVAL, weave_get(self->w, 0, buf, sizeof(buf), NULL));
	EXPECT_EQ(-EINVAL, weave_read(self->w, 0, 0, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, weave_stat(self->w, 0, &st));
	EXPECT_EQ(-EINVAL, weave_stat(self->w, 1, NULL));
	EXPECT_EQ(-EINVAL, weave_has(self->w, 0));
	EXPECT_EQ(-EINVAL, weave_write(self->w, 0, 0, "x", 1));
	EXPECT_EQ(-EINVAL, weave_resize(self->w, 0, 1));
	EXPECT_EQ(-EINVAL, weave_batch(self->w, NULL, 1, 0));
	EXPECT_EQ(-EINVAL, weave_batch(self->w, &op, 0, 0));
	EXPECT_EQ(-EINVAL, weave_batch(self->w, &op, 1, 1U << 20));
	EXPECT_EQ(-EINVAL, weave_info(self->w, NULL));
	EXPECT_EQ(-EINVAL, weave_probe(NULL));
	EXPECT_EQ(-EINVAL, weave_setattr(self->w, NULL));
	EXPECT_EQ(-EINVAL, weave_from_fd(weave_fd(self->w), NULL));
	EXPECT_EQ(-EINVAL, weave_reopen(self->w, WEAVE_OPEN_CREATE, &w2));
	EXPECT_EQ(-EINVAL, weave_view_map(self->w, 0, &v));
	EXPECT_EQ(-EINVAL, weave_view_map(self->w, 1, NULL));
	EXPECT_EQ(-EINVAL, weave_view_map_rw(self->w, 0, &v));
	EXPECT_EQ(-EINVAL, weave_foreach_key(self->w, NULL, NULL));
	EXPECT_EQ(-EINVAL, weave_foreach_entry(self->w, NULL, NULL));
	memset(&p, 0, sizeof(p));
	p.resv = 1;
	EXPECT_EQ(-EINVAL, weave_open_params(self->name, 0, 0, &p, &w2));
	EXPECT_EQ(NULL, w2);
	/* Nothing was created by any of them. */
	EXPECT_EQ(0, weave_count(self->w));
	/* The kernel's refusal comes back as it is. */
	ASSERT_EQ(0, weave_set(self->w, 1, "x", 1));
	EXPECT_EQ(-EFAULT, weave_list(self->w, &cursor, NULL, 4));
}

TEST_F(liberr, batch)
{
	struct weave_batch_op ops[3];
	char out[8];

	memset(ops, 0, sizeof(ops));
	ops[0] = (struct weave_batch_op){ .key = 1, .op = WEAVE_BATCH_SET,
					  .buf = (uintptr_t)"one", .len = 3 };
	ops[1] = (struct weave_batch_op){ .key = 2, .op = WEAVE_BATCH_DELETE };
	ops[2] = (struct weave_batch_op){ .key = 1, .op = WEAVE_BATCH_GET,
					  .buf = (uintptr_t)out,
					  .len = sizeof(out) };
	/* One of three failed: the count, and each result. */
	EXPECT_EQ(1, weave_batch(self->w, ops, 3, 0));
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-ENOENT, ops[1].result);
	EXPECT_EQ(0, ops[2].result);
	EXPECT_EQ(3, ops[2].size);
	EXPECT_EQ(0, memcmp(out, "one", 3));
	/* All or nothing: the set is cancelled, both count. */
	ops[0] = (struct weave_batch_op){ .key = 1, .op = WEAVE_BATCH_SET,
					  .buf = (uintptr_t)"two", .len = 3 };
	ops[1] = (struct weave_batch_op){ .key = 2, .op = WEAVE_BATCH_DELETE };
	EXPECT_EQ(2, weave_batch(self->w, ops, 2, WEAVE_BATCH_ATOMIC));
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-ENOENT, ops[1].result);
	EXPECT_EQ(3, weave_get(self->w, 1, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, "one", 3));
	/* A batch that cannot run at all is one -errno. */
	EXPECT_EQ(-EFAULT, weave_batch(self->w, (void *)8, 1, 0));
}

TEST_F(liberr, read_and_setattr)
{
	struct weave_setattr_args a = { .flags = WEAVE_SETATTR_MODE,
					.mode = 0640 };
	struct weave_info_args info;
	char out[16];

	ASSERT_EQ(0, weave_set(self->w, 1, "0123456789", 10));
	/* Any length: the copy stops at the value's end. */
	EXPECT_EQ(6, weave_read(self->w, 1, 4, out, SIZE_MAX));
	EXPECT_EQ(0, memcmp(out, "456789", 6));
	EXPECT_EQ(-ENOENT, weave_read(self->w, 2, 0, out, sizeof(out)));

	ASSERT_EQ(0, weave_setattr(self->w, &a));
	ASSERT_EQ(0, weave_info(self->other, &info));
	EXPECT_EQ(0640, info.mode);
	a.flags = 1U << 20;
	a.mode = 0600;
	EXPECT_EQ(-EINVAL, weave_setattr(self->w, &a));
	ASSERT_EQ(0, weave_info(self->w, &info));
	EXPECT_EQ(0640, info.mode);
}

/* With no descriptor left, every call that opens one fails -EMFILE. */
TEST_F(liberr, no_descriptors)
{
	struct weave_api_args api;
	struct weave *w2 = NULL;
	struct rlimit old;

	ASSERT_EQ(0, wv_no_fds(&old));
	EXPECT_EQ(-EMFILE, weave_open(self->name, 0, 0, &w2));
	EXPECT_EQ(-EMFILE, weave_open(NULL, 0, 0600, &w2));
	EXPECT_EQ(-EMFILE, weave_reopen(self->w, 0, &w2));
	EXPECT_EQ(-EMFILE, weave_unlink(self->name));
	EXPECT_EQ(-EMFILE, weave_probe(&api));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(NULL, w2);
	/* The name is still there: the unlink did not happen. */
	ASSERT_EQ(0, weave_open(self->name, 0, 0, &w2));
	weave_close(w2);
}

/* Grow the stack now, so that it need not grow under limit_as(). */
static void touch_stack(void)
{
	volatile char pad[256 * 1024];

	memset((char *)pad, 0, sizeof(pad));
}

/* Address space of the process: what it maps now and nothing more. */
static int limit_as(struct rlimit *old)
{
	struct rlimit lim;
	unsigned long pages;
	FILE *f;

	touch_stack();
	if (getrlimit(RLIMIT_AS, old))
		return -errno;
	f = fopen("/proc/self/statm", "r");
	if (!f)
		return -errno;
	if (fscanf(f, "%lu", &pages) != 1) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	lim.rlim_cur = pages * (unsigned long)wv_page_size();
	lim.rlim_max = old->rlim_max;
	return setrlimit(RLIMIT_AS, &lim) ? -errno : 0;
}

/* Every mapping the library makes fails -ENOMEM when none can be had. */
TEST_F(liberr, no_address_space)
{
	static unsigned char big[20000];
	struct weave_view v, v2;
	struct rlimit old;
	int err, ret;

	ASSERT_EQ(0, weave_set(self->w, 1, big, 10000));
	ASSERT_EQ(0, weave_set(self->w, 2, "two", 3));

	/* The index, mapped on first use. */
	ASSERT_EQ(0, limit_as(&old));
	err = weave_view_map(self->w, 1, &v);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	EXPECT_EQ(-ENOMEM, err);

	/* A view, the index being there; a writable one. */
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	ASSERT_EQ(0, weave_lock(self->w, 2, 0, -1));
	ASSERT_EQ(0, limit_as(&old));
	err = weave_view_map(self->w, 2, &v2);
	ret = weave_view_map_rw(self->w, 2, &v2);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	EXPECT_EQ(-ENOMEM, err);
	EXPECT_EQ(-ENOMEM, ret);
	ASSERT_EQ(0, weave_unlock(self->w, 2, 0));

	/* A refresh that must map more: the view stays as it was. */
	ASSERT_EQ(0, weave_resize(self->w, 1, sizeof(big)));
	ASSERT_EQ(0, limit_as(&old));
	err = weave_view_refresh(&v);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	EXPECT_EQ(-ENOMEM, err);
	EXPECT_EQ(10000, weave_view_size(&v));
	EXPECT_EQ(0, weave_view_refresh(&v));
	EXPECT_EQ(sizeof(big), weave_view_size(&v));
	weave_view_unmap(&v);
}

/* Each call in turn on @w; the first that does not fail -EBADFD. */
static int unattached_calls(struct weave *w)
{
	uint64_t keys[4], cursor = 0;
	char buf[4];

	if (weave_count(w) != -EBADFD)
		return 1;
	if (weave_clear(w) != -EBADFD)
		return 2;
	if (weave_list(w, &cursor, keys, 4) != -EBADFD)
		return 3;
	if (weave_foreach_key(w, never, NULL) != -EBADFD)
		return 4;
	if (weave_foreach_entry(w, never_entry, NULL) != -EBADFD)
		return 5;
	if (weave_get(w, 1, buf, sizeof(buf), NULL) != -EBADFD)
		return 6;
	return 0;
}

/* The handle's descriptor replaced by a file that is not attached. */
TEST_F(liberr, unattached_descriptor)
{
	int fd = weave_fd(self->w), dev;

	ASSERT_EQ(0, weave_set(self->w, 1, "one", 3));
	dev = wv_dev(O_RDWR);
	ASSERT_LE(0, dev);
	ASSERT_EQ(fd, dup2(dev, fd));
	close(dev);
	EXPECT_EQ(0, unattached_calls(self->w));
	/* The registry is untouched. */
	EXPECT_EQ(1, weave_count(self->other));
}

struct walk {
	struct weave *w;
	int calls;
	int dev;		/* -1, or put in place of the handle's fd */
	uint64_t keys[8];
};

/* Deletes the key after this one, or replaces the descriptor. */
static int meddle(uint64_t key, const void *buf, size_t size, uint64_t gen,
		  void *arg)
{
	struct walk *c = arg;

	(void)buf;
	(void)gen;
	c->keys[c->calls++] = key;
	if (size == 10000 && !wv_check_pattern(buf, size, 9))
		return -1000;
	if (c->dev >= 0)
		return dup2(c->dev, weave_fd(c->w)) < 0 ? -1001 : 0;
	if (key == 1 && weave_delete(c->w, 2))
		return -1002;
	return 0;
}

TEST_F(liberr, foreach_entry)
{
	static unsigned char big[10000];
	struct walk c = { .w = self->w, .dev = -1 };

	/* Keys 1 to 4 in slot order; 1 deletes 2 before it is read. */
	ASSERT_EQ(0, weave_set(self->w, 1, "a", 1));
	ASSERT_EQ(0, weave_set(self->w, 2, "b", 1));
	wv_pattern(big, sizeof(big), 9);
	ASSERT_EQ(0, weave_set(self->w, 3, big, sizeof(big)));
	ASSERT_EQ(0, weave_set(self->w, 4, "d", 1));
	ASSERT_EQ(0, weave_foreach_entry(self->w, meddle, &c));
	/* 2 was skipped, 3 read whole with a larger buffer. */
	ASSERT_EQ(3, c.calls);
	EXPECT_EQ(1, c.keys[0]);
	EXPECT_EQ(3, c.keys[1]);
	EXPECT_EQ(4, c.keys[2]);
	EXPECT_EQ(3, weave_count(self->w));

	/* A read that fails for another reason ends the walk with it. */
	ASSERT_EQ(0, weave_set(self->w, 5, "e", 1));
	c.calls = 0;
	c.dev = wv_dev(O_RDWR);
	ASSERT_LE(0, c.dev);
	EXPECT_EQ(-EBADFD, weave_foreach_entry(self->w, meddle, &c));
	EXPECT_EQ(1, c.calls);
	close(c.dev);
}

static ssize_t append(const void *cur, size_t cur_size, void *out,
		      size_t out_size, void *arg)
{
	(void)cur;
	(void)arg;
	if (out_size >= cur_size + 1)
		memset(out, 'x', cur_size + 1);
	return (ssize_t)cur_size + 1;
}

/* An O_NONBLOCK handle fails -EAGAIN where another file holds the lock. */
TEST_F(liberr, nonblocking_handle)
{
	struct weave *nb;
	char out[8];

	ASSERT_EQ(0, weave_set(self->w, 1, "v", 1));
	ASSERT_EQ(0, weave_reopen(self->w, WEAVE_OPEN_NONBLOCK, &nb));
	ASSERT_EQ(0, weave_lock(self->other, 1, 0, -1));
	EXPECT_EQ(-EAGAIN, weave_get(nb, 1, out, sizeof(out), NULL));
	EXPECT_EQ(-EAGAIN, weave_update(nb, 1, append, NULL, NULL));
	EXPECT_EQ(-EAGAIN, weave_lock(nb, 1, 0, -1));
	ASSERT_EQ(0, weave_unlock(self->other, 1, 0));
	EXPECT_EQ(0, weave_update(nb, 1, append, NULL, NULL));
	EXPECT_EQ(2, weave_get(nb, 1, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, "xx", 2));
	weave_close(nb);
}

/*
 * Views whose entry another file writes through a writable view (its
 * slot stays odd from the first write until the lock goes): -EBUSY, and
 * stale.
 */
TEST_F(liberr, view_of_a_writable_entry)
{
	struct weave_view v, rw;

	ASSERT_EQ(0, weave_set(self->w, 1, "0123456789", 10));
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	ASSERT_EQ(0, weave_lock(self->other, 1, 0, -1));
	ASSERT_EQ(0, weave_view_map_rw(self->other, 1, &rw));
	/* The first write through it makes the slot odd. */
	*(char *)weave_view_data_rw(&rw) = 'x';
	EXPECT_TRUE(weave_view_stale(&v));
	EXPECT_EQ(-EBUSY, weave_view_refresh(&v));
	weave_view_unmap(&v);
	EXPECT_EQ(-EBUSY, weave_view_map(self->w, 1, &v));
	weave_view_unmap(&rw);
	ASSERT_EQ(0, weave_unlock(self->other, 1, 0));
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	EXPECT_FALSE(weave_view_stale(&v));
	weave_view_unmap(&v);
}

/* The holder's writable view after the holder deletes its entry. */
TEST_F(liberr, writable_view_of_a_deleted_entry)
{
	struct weave_view rw;
	uint64_t gen;
	char buf[16];

	ASSERT_EQ(0, weave_set(self->w, 1, "0123456789", 10));
	ASSERT_EQ(0, weave_lock(self->w, 1, 0, -1));
	ASSERT_EQ(0, weave_view_map_rw(self->w, 1, &rw));
	ASSERT_EQ(10, weave_get(self->w, 1, NULL, 0, &gen));
	EXPECT_EQ(gen, weave_view_gen(&rw));
	EXPECT_FALSE(weave_view_stale(&rw));

	ASSERT_EQ(0, weave_delete(self->w, 1));
	EXPECT_EQ(0, weave_view_gen(&rw));
	EXPECT_TRUE(weave_view_stale(&rw));
	EXPECT_EQ(-ENOENT, weave_view_read(&rw, buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, weave_view_refresh(&rw));

	/* Created again: another life of the key, not this view's. */
	ASSERT_EQ(0, weave_set(self->w, 1, "again", 5));
	EXPECT_EQ(0, weave_view_gen(&rw));
	EXPECT_TRUE(weave_view_stale(&rw));
	EXPECT_EQ(-ENOENT, weave_view_read(&rw, buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, weave_view_refresh(&rw));
	weave_view_unmap(&rw);
	ASSERT_EQ(0, weave_unlock(self->w, 1, 0));
}

/* A value that grew past its view: -ESTALE until refreshed. */
TEST_F(liberr, view_outgrown)
{
	static unsigned char in[20000], out[20000];
	struct weave_view v;

	wv_pattern(in, sizeof(in), 4);
	ASSERT_EQ(0, weave_set(self->w, 1, in, 10000));
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	ASSERT_EQ(0, weave_write(self->w, 1, 10000, in + 10000, 10000));
	EXPECT_EQ(-ESTALE, weave_view_read(&v, out, sizeof(out)));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_EQ(20000, weave_view_read(&v, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	weave_view_unmap(&v);
}

TEST_HARNESS_MAIN
