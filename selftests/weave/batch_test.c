// SPDX-License-Identifier: GPL-2.0
/*
 * Batches (WEAVE_IOC_BATCH): several sets, gets, deletes and stats in one
 * call, each with its own result; in order; all or nothing with
 * WEAVE_BATCH_ATOMIC, which other operations never see half done.
 * Validation of the batch and of each operation, the limits, faults,
 * entry locks (waiting, EAGAIN, EINTR), read-only files, events, and
 * the size-versioned operation array.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "weave_util.h"
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

#define NKEYS		8

FIXTURE(batch) {
	int fd;
	struct weave_api_args api;
};

FIXTURE_SETUP(batch)
{
	self->fd = wv_open_anon(0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, wv_api(self->fd, &self->api));
	ASSERT_TRUE(self->api.features & WEAVE_FEATURE_BATCH);
}

FIXTURE_TEARDOWN(batch)
{
	close(self->fd);
}

static struct weave_batch_op op_set(__u64 key, const void *buf, __u64 len)
{
	return (struct weave_batch_op){
		.op = WEAVE_BATCH_SET, .key = key, .buf = WV_PTR(buf),
		.len = len,
	};
}

static struct weave_batch_op op_get(__u64 key, void *buf, __u64 len)
{
	return (struct weave_batch_op){
		.op = WEAVE_BATCH_GET, .key = key, .buf = WV_PTR(buf),
		.len = len,
	};
}

static struct weave_batch_op op_key(__u32 op, __u64 key)
{
	return (struct weave_batch_op){ .op = op, .key = key };
}

static __u64 gen_of(int fd, __u64 key)
{
	struct weave_stat_args st;

	return wv_stat(fd, key, &st) ? 0 : st.gen;
}

TEST_F(batch, api)
{
	struct weave_api_args old;
	__u64 v = 0;

	ASSERT_EQ(0, wv_param("max_batch", &v));
	EXPECT_EQ(v, self->api.max_batch);
	EXPECT_LE(64, self->api.max_batch);
	/* The first API size still works, without the new field. */
	memset(&old, 0, sizeof(old));
	old.api = WEAVE_API;
	old.max_batch = 12345;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x00, WEAVE_API_SIZE_VER0),
			      &old));
	EXPECT_EQ(self->api.features, old.features);
	EXPECT_EQ(12345, old.max_batch);
}

/* Each kind of operation, in order, each with its result and outputs. */
TEST_F(batch, mixed)
{
	char got[16] = "", room[2];
	struct weave_batch_op ops[] = {
		op_set(1, "one", 3),
		op_set(2, "second", 6),
		op_get(1, got, sizeof(got)),
		op_key(WEAVE_BATCH_STAT, 2),
		op_key(WEAVE_BATCH_DELETE, 1),
		op_get(2, room, sizeof(room)),
		op_key(WEAVE_BATCH_STAT, 1),
	};
	__u32 failed = 99;

	ASSERT_EQ(0, wv_batch(self->fd, ops, ARRAY_SIZE(ops), 0, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(3, ops[0].size);
	EXPECT_EQ(0, ops[1].result);
	EXPECT_EQ(ops[0].gen + 1, ops[1].gen);
	EXPECT_EQ(0, ops[2].result);
	EXPECT_EQ(ops[0].gen, ops[2].gen);
	EXPECT_EQ(3, ops[2].size);
	EXPECT_EQ(0, memcmp(got, "one", 4));
	EXPECT_EQ(0, ops[3].result);
	EXPECT_EQ(ops[1].gen, ops[3].gen);
	EXPECT_EQ(6, ops[3].size);
	EXPECT_EQ(0, ops[4].result);
	EXPECT_EQ(ops[1].gen + 1, ops[4].gen);
	/* A get copies min(len, size) and reports the whole size. */
	EXPECT_EQ(0, ops[5].result);
	EXPECT_EQ(6, ops[5].size);
	EXPECT_EQ(0, memcmp(room, "se", 2));
	/* The stat after the delete, in the same batch, finds nothing. */
	EXPECT_EQ(-ENOENT, ops[6].result);

	EXPECT_EQ(0, gen_of(self->fd, 1));
	EXPECT_EQ(ops[1].gen, gen_of(self->fd, 2));
}

/* Without ATOMIC, a failed operation stops nothing. */
TEST_F(batch, independent_results)
{
	char got[8];
	struct weave_batch_op ops[] = {
		op_set(1, "a", 1),
		op_get(99, got, sizeof(got)),
		op_set(1, "b", 1),
		op_key(WEAVE_BATCH_DELETE, 98),
		op_set(2, "c", 1),
	};
	__u32 failed;

	ops[2].flags = WEAVE_SET_NOREPLACE;
	ASSERT_EQ(0, wv_batch(self->fd, ops, ARRAY_SIZE(ops), 0, &failed));
	EXPECT_EQ(3, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-ENOENT, ops[1].result);
	EXPECT_EQ(-EEXIST, ops[2].result);
	EXPECT_EQ(-ENOENT, ops[3].result);
	EXPECT_EQ(0, ops[4].result);
	EXPECT_NE(0, gen_of(self->fd, 2));
}

/* The batch itself: every malformed field fails the call, doing nothing. */
TEST_F(batch, invalid_batch)
{
	struct weave_batch_op op = op_set(1, "x", 1);
	struct weave_batch_args b;

#define RESET() (b = (struct weave_batch_args){ .ops = WV_PTR(&op), \
		.count = 1, .op_size = sizeof(op) })
	RESET();
	b.count = 0;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.count = self->api.max_batch + 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.op_size = WEAVE_BATCH_OP_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.op_size = 4097;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.failed = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	RESET();
	b.ops = 0;
	EXPECT_EQ(-EFAULT, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
#undef RESET
	EXPECT_EQ(0, gen_of(self->fd, 1));
	EXPECT_EQ(0, op.result);

	/* libweave checks what it can before the kernel does. */
	EXPECT_EQ(-EINVAL, weave_batch(NULL, NULL, 1, 0));
}

/* Each malformed operation gets EINVAL; the others run. */
TEST_F(batch, invalid_ops)
{
	struct weave_batch_op ops[14];
	char buf[4];
	__u32 failed, i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		ops[i] = op_set(1, "x", 1);
	ops[0].op = 0;
	ops[1].op = 5;
	ops[2].key = 0;
	ops[3].result = -1;
	ops[4].reserved = 1;
	ops[5].flags = WEAVE_SET_NOREPLACE | WEAVE_SET_NOCREATE;
	ops[6].gen = 3;			/* a gen without IF_GEN */
	ops[7].size = 1;		/* out field */
	ops[8] = op_get(1, buf, sizeof(buf));
	ops[8].gen = 1;
	ops[9] = op_get(1, buf, sizeof(buf));
	ops[9].flags = WEAVE_SET_NOREPLACE;
	ops[10] = op_key(WEAVE_BATCH_DELETE, 1);
	ops[10].len = 1;
	ops[11] = op_key(WEAVE_BATCH_STAT, 1);
	ops[11].flags = WEAVE_OP_NONBLOCK;
	ops[12] = op_key(WEAVE_BATCH_STAT, 1);
	ops[12].buf = WV_PTR(buf);
	ops[13] = op_set(2, "ok", 2);

	ASSERT_EQ(0, wv_batch(self->fd, ops, ARRAY_SIZE(ops), 0, &failed));
	EXPECT_EQ(ARRAY_SIZE(ops) - 1, failed);
	for (i = 0; i < ARRAY_SIZE(ops) - 1; i++)
		EXPECT_EQ(-EINVAL, ops[i].result)
			TH_LOG("op %u", i);
	EXPECT_EQ(0, ops[13].result);
	EXPECT_EQ(0, gen_of(self->fd, 1));
}

/* A value too big for an entry, and a batch too big to stage. */
TEST_F(batch, efbig)
{
	struct weave_info_args info;
	struct weave_batch_op ops[3];
	__u32 failed;
	char *big;

	ASSERT_EQ(0, wv_info(self->fd, &info));
	big = malloc(info.max_entry_size + 1);
	ASSERT_NE(NULL, big);

	ops[0] = op_set(1, big, info.max_entry_size + 1);
	ops[1] = op_set(2, "ok", 2);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, 0, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(-EFBIG, ops[0].result);
	EXPECT_EQ(0, ops[1].result);

	/* Two halves and a byte: the staging limit, for the whole call. */
	ops[0] = op_get(2, big, info.max_entry_size / 2);
	ops[1] = op_get(2, big, info.max_entry_size / 2);
	ops[2] = op_set(3, big, 1);
	EXPECT_EQ(-EFBIG, wv_batch(self->fd, ops, 3, 0, NULL));
	EXPECT_EQ(0, gen_of(self->fd, 3));
	/* Exactly the limit is fine. */
	ops[1].len--;
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, 0, &failed));
	EXPECT_EQ(0, failed);
	free(big);
}

/* Bad pointers: of a value (the call), of a get's room (that get). */
TEST_F(batch, efault)
{
	struct weave_batch_op ops[3], *ro;
	char got[4];
	__u32 failed;
	void *page;

	ops[0] = op_set(1, "a", 1);
	ops[1] = op_set(2, NULL, 1);
	EXPECT_EQ(-EFAULT, wv_batch(self->fd, ops, 2, 0, NULL));
	EXPECT_EQ(0, gen_of(self->fd, 1));

	ops[1] = op_get(1, NULL, 4);
	ops[2] = op_get(1, got, sizeof(got));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, 0, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EFAULT, ops[1].result);
	EXPECT_EQ(0, ops[2].result);

	/* Results that cannot be written back: the operations still ran. */
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ro = page;
	ro[0] = op_set(5, "z", 1);
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, wv_batch(self->fd, ro, 1, 0, NULL));
	EXPECT_NE(0, gen_of(self->fd, 5));
	munmap(page, 4096);
}

/* A read-only file may get and stat, not set or delete. */
TEST_F(batch, read_only_file)
{
	struct weave_batch_op ops[4];
	char got[4];
	__u32 failed;
	int ro;

	ASSERT_EQ(0, wv_set(self->fd, 1, "v", 1, 0, NULL));
	ro = wv_reopen_file(self->fd, WEAVE_REOPEN_RDONLY);
	ASSERT_LE(0, ro);
	ops[0] = op_get(1, got, sizeof(got));
	ops[1] = op_set(2, "w", 1);
	ops[2] = op_key(WEAVE_BATCH_DELETE, 1);
	ops[3] = op_key(WEAVE_BATCH_STAT, 1);
	ASSERT_EQ(0, wv_batch(ro, ops, 4, 0, &failed));
	EXPECT_EQ(2, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EBADF, ops[1].result);
	EXPECT_EQ(-EBADF, ops[2].result);
	EXPECT_EQ(0, ops[3].result);
	/* Atomic: the refused ones cancel the rest. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_get(1, got, sizeof(got));
	ops[1] = op_set(2, "w", 1);
	ASSERT_EQ(0, wv_batch(ro, ops, 2, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(2, failed);
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-EBADF, ops[1].result);
	close(ro);
}

/* A caller that knows a longer operation: zero tails, the right stride. */
TEST_F(batch, larger_op_size)
{
	struct op_v1 {
		struct weave_batch_op op;
		__u64 future;
	} ops[2];
	struct weave_batch_args b = {
		.ops = WV_PTR(ops), .count = 2, .op_size = sizeof(ops[0]),
	};

	memset(ops, 0, sizeof(ops));
	ops[0].op = op_set(1, "a", 1);
	ops[1].op = op_key(WEAVE_BATCH_STAT, 1);
	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
	EXPECT_EQ(0, b.failed);
	EXPECT_EQ(0, ops[1].op.result);
	EXPECT_EQ(ops[0].op.gen, ops[1].op.gen);
	EXPECT_EQ(1, ops[1].op.size);
	EXPECT_EQ(0, ops[0].future);

	ops[1].future = 1;
	b.failed = 0;
	EXPECT_EQ(-E2BIG, wv_ioctl(self->fd, WEAVE_IOC_BATCH, &b));
}

/* All or nothing: one failing check cancels every operation. */
TEST_F(batch, atomic_all_or_nothing)
{
	struct weave_batch_op ops[3];
	__u64 g1, g2, g3;
	__u32 failed;

	ASSERT_EQ(0, wv_set(self->fd, 1, "1", 1, 0, &g1));
	ASSERT_EQ(0, wv_set(self->fd, 2, "2", 1, 0, &g2));
	ASSERT_EQ(0, wv_set(self->fd, 3, "3", 1, 0, &g3));

	ops[0] = op_set(1, "one", 3);
	ops[0].flags = WEAVE_OP_IF_GEN;
	ops[0].gen = g1;
	ops[1] = op_set(2, "two", 3);
	ops[1].flags = WEAVE_OP_IF_GEN;
	ops[1].gen = g1;		/* stale */
	ops[2] = op_key(WEAVE_BATCH_DELETE, 3);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(3, failed);
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-ESTALE, ops[1].result);
	EXPECT_EQ(g2, ops[1].gen);	/* the gen found */
	EXPECT_EQ(-ECANCELED, ops[2].result);
	EXPECT_EQ(g1, gen_of(self->fd, 1));
	EXPECT_EQ(g2, gen_of(self->fd, 2));
	EXPECT_EQ(g3, gen_of(self->fd, 3));

	/* With the right gens, all of it, in order. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_set(1, "one", 3);
	ops[0].flags = WEAVE_OP_IF_GEN;
	ops[0].gen = g1;
	ops[1] = op_set(2, "two", 3);
	ops[1].flags = WEAVE_OP_IF_GEN;
	ops[1].gen = g2;
	ops[2] = op_key(WEAVE_BATCH_DELETE, 3);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ(ops[0].gen + 1, ops[1].gen);
	EXPECT_EQ(ops[1].gen + 1, ops[2].gen);
	EXPECT_EQ(0, gen_of(self->fd, 3));

	/* Each errno of the checks: a missing key. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_set(4, "x", 1);
	ops[1] = op_key(WEAVE_BATCH_STAT, 3);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-ENOENT, ops[1].result);
	EXPECT_EQ(0, gen_of(self->fd, 4));
}

/* An atomic batch names a key once; a plain one may repeat it. */
TEST_F(batch, atomic_duplicate_key)
{
	char got[4];
	struct weave_batch_op ops[3] = {
		op_set(1, "a", 1), op_get(1, got, sizeof(got)),
		op_set(2, "b", 1),
	};
	__u32 failed;

	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(3, failed);
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-EINVAL, ops[1].result);
	EXPECT_EQ(-ECANCELED, ops[2].result);
	EXPECT_EQ(0, gen_of(self->fd, 1));

	memset(ops, 0, sizeof(ops));
	ops[0] = op_set(1, "a", 1);
	ops[1] = op_get(1, got, sizeof(got));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, 0, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ('a', got[0]);
}

/* Capacity is counted in order: a delete makes room for a later set. */
TEST_F(batch, atomic_enospc)
{
	struct weave_batch_op ops[3];
	__u32 failed;
	int fd = wv_open_anon(2);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_set(fd, 1, "1", 1, 0, NULL));
	ops[0] = op_set(2, "2", 1);
	ops[1] = op_set(3, "3", 1);
	ASSERT_EQ(0, wv_batch(fd, ops, 2, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-ENOSPC, ops[1].result);
	EXPECT_EQ(0, gen_of(fd, 2));

	memset(ops, 0, sizeof(ops));
	ops[0] = op_key(WEAVE_BATCH_DELETE, 1);
	ops[1] = op_set(2, "2", 1);
	ops[2] = op_set(3, "3", 1);
	ASSERT_EQ(0, wv_batch(fd, ops, 3, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_NE(0, gen_of(fd, 3));

	/* Not atomic: the first fits, the second does not. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_key(WEAVE_BATCH_DELETE, 2);
	ops[1] = op_set(4, "4", 1);
	ops[2] = op_set(5, "5", 1);
	ASSERT_EQ(0, wv_batch(fd, ops, 3, 0, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(0, ops[1].result);
	EXPECT_EQ(-ENOSPC, ops[2].result);
	close(fd);
}

/* Entry locks of another file: an atomic batch does not wait for them. */
TEST_F(batch, atomic_lock_conflict)
{
	struct weave_batch_op ops[2];
	char got[4];
	__u32 failed;
	int other = wv_reopen_file(self->fd, 0);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, wv_set(self->fd, 2, "2", 1, 0, NULL));
	ASSERT_EQ(0, wv_lock(other, 2, 0, 0, NULL));

	ops[0] = op_set(1, "1", 1);
	ops[1] = op_get(2, got, sizeof(got));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(2, failed);
	EXPECT_EQ(-ECANCELED, ops[0].result);
	EXPECT_EQ(-EAGAIN, ops[1].result);
	EXPECT_EQ(0, gen_of(self->fd, 1));

	/* A stat heeds no entry lock, as WEAVE_IOC_STAT. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_key(WEAVE_BATCH_STAT, 2);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 1, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ(1, ops[0].size);

	/* Not atomic, non-blocking: that one operation fails. */
	memset(ops, 0, sizeof(ops));
	ops[0] = op_set(1, "1", 1);
	ops[1] = op_get(2, got, sizeof(got));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, WEAVE_OP_NONBLOCK, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EAGAIN, ops[1].result);

	/* A shared lock lets an atomic batch read, not write. */
	ASSERT_EQ(0, wv_lock(other, 2, WEAVE_LOCK_CONVERT | WEAVE_LOCK_SHARED,
			     0, NULL));
	memset(ops, 0, sizeof(ops));
	ops[0] = op_get(2, got, sizeof(got));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 1, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(0, failed);
	ops[0] = op_set(2, "x", 1);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 1, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(-EAGAIN, ops[0].result);

	/* Its own file's lock is no conflict. */
	ASSERT_EQ(0, wv_unlock(other, 2, 0));
	ASSERT_EQ(0, wv_lock(self->fd, 2, 0, 0, NULL));
	memset(ops, 0, sizeof(ops));
	ops[0] = op_set(2, "y", 1);
	ASSERT_EQ(0, wv_batch(self->fd, ops, 1, WEAVE_BATCH_ATOMIC, &failed));
	EXPECT_EQ(0, failed);
	close(other);
}

struct unlocker {
	int fd;
	__u64 key;
	unsigned int delay_ms;
	pthread_t kill;		/* with a non-zero @sig, signal it instead */
	int sig;
};

static void *unlock_later(void *arg)
{
	struct unlocker *u = arg;

	usleep(u->delay_ms * 1000);
	if (u->sig)
		pthread_kill(u->kill, u->sig);
	else
		wv_unlock(u->fd, u->key, 0);
	return NULL;
}

/* Not atomic, blocking: an operation waits for the lock as its command. */
TEST_F(batch, waits_for_lock)
{
	struct weave_batch_op ops[2] = { op_set(1, "1", 1), op_set(2, "2", 1) };
	struct unlocker u = { .key = 2, .delay_ms = 300 };
	pthread_t t;
	__u32 failed;
	double t0;

	u.fd = wv_reopen_file(self->fd, 0);
	ASSERT_LE(0, u.fd);
	ASSERT_EQ(0, wv_lock(u.fd, 2, 0, 0, NULL));
	t0 = wv_now();
	ASSERT_EQ(0, pthread_create(&t, NULL, unlock_later, &u));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 2, 0, &failed));
	EXPECT_LE(0.25, wv_now() - t0);
	EXPECT_EQ(0, failed);
	pthread_join(t, NULL);
	close(u.fd);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A signal during a wait stops the batch there: no restart, no redo. */
TEST_F(batch, interrupted)
{
	struct weave_batch_op ops[3] = {
		op_set(1, "1", 1), op_set(2, "2", 1), op_set(3, "3", 1),
	};
	struct unlocker u = { .delay_ms = 300, .sig = SIGUSR1 };
	pthread_t t;
	__u32 failed;
	int other = wv_reopen_file(self->fd, 0);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, wv_lock(other, 2, 0, 0, NULL));
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, on_usr1, true));
	u.kill = pthread_self();
	ASSERT_EQ(0, pthread_create(&t, NULL, unlock_later, &u));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, 0, &failed));
	pthread_join(t, NULL);
	EXPECT_EQ(2, failed);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EINTR, ops[1].result);
	EXPECT_EQ(-ECANCELED, ops[2].result);
	EXPECT_NE(0, gen_of(self->fd, 1));
	EXPECT_EQ(0, gen_of(self->fd, 3));
	close(other);
}

/* Watchers get each operation's event, in order. */
TEST_F(batch, events)
{
	struct weave_batch_op ops[3] = {
		op_set(1, "1", 1), op_set(2, "2", 1),
		op_key(WEAVE_BATCH_DELETE, 1),
	};
	struct weave_event ev[4];
	int w = wv_reopen_file(self->fd, WEAVE_REOPEN_NONBLOCK);
	__u32 failed;
	ssize_t n;

	ASSERT_LE(0, w);
	ASSERT_EQ(0, wv_watch(w, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_batch(self->fd, ops, 3, 0, &failed));
	ASSERT_EQ(0, failed);
	n = read(w, ev, sizeof(ev));
	ASSERT_EQ(2 * sizeof(ev[0]), n)
		TH_LOG("read: %s", n < 0 ? strerror(errno) : "short");
	/* Key 1's records coalesce: new, then deleted, at the last gen. */
	EXPECT_EQ(1, ev[0].key);
	EXPECT_EQ(WEAVE_EV_NEW | WEAVE_EV_DELETED, ev[0].mask);
	EXPECT_EQ(ops[2].gen, ev[0].gen);
	EXPECT_EQ(2, ev[1].key);
	EXPECT_EQ(WEAVE_EV_NEW, ev[1].mask);
	EXPECT_EQ(ops[1].gen, ev[1].gen);
	close(w);
}

/*
 * The promise of ATOMIC: one process writes the same number to keys
 * 1..NKEYS in atomic batches, another sets other keys in between, and a
 * reader that GETs keys 1..NKEYS one at a time, in that order, never
 * sees a later key older than an earlier one (which it would, were a
 * batch half applied when a GET ran), nor a batch GET of them unequal.
 */
#define BATCHES_SEEN	200
#define READ_SECONDS	60

TEST_F(batch, atomic_never_half_seen)
{
	volatile __u64 *stop = wv_shared(sizeof(*stop));
	__u64 v[NKEYS], last = 0, seen = 0, bad = 0, k, r, i;
	struct weave_batch_op ops[NKEYS];
	pid_t pids[2];
	double t0;
	int p;

	ASSERT_NE(NULL, stop);
	for (p = 0; p < 2; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (pids[p])
			continue;
		for (r = 1; !*stop; r++) {
			if (p == 0) {
				for (k = 0; k < NKEYS; k++)
					ops[k] = op_set(k + 1, &r, sizeof(r));
				if (wv_batch(self->fd, ops, NKEYS,
					     WEAVE_BATCH_ATOMIC, NULL))
					_exit(1);
			} else if (wv_set(self->fd, 100 + r % 16, &r,
					  sizeof(r), 0, NULL)) {
				_exit(1);
			}
		}
		_exit(0);
	}

	t0 = wv_now();
	for (i = 0; seen < BATCHES_SEEN && !bad &&
	     wv_now() - t0 < READ_SECONDS; i++) {
		for (k = 0; k < NKEYS; k++) {
			v[k] = 0;
			if (i & 1)
				ops[k] = op_get(k + 1, &v[k], sizeof(v[k]));
			else if (wv_get(self->fd, k + 1, &v[k], sizeof(v[k]),
					0, 0, NULL) && k)
				bad += v[0] != 0;	/* keys never go */
		}
		/* Odd rounds read all keys in one atomic batch: equal. */
		if (i & 1) {
			if (wv_batch(self->fd, ops, NKEYS, WEAVE_BATCH_ATOMIC,
				     NULL))
				continue;
			for (k = 1; k < NKEYS; k++)
				bad += v[k] != v[0];
		}
		for (k = 1; k < NKEYS; k++)
			bad += v[k] < v[k - 1];
		seen += v[0] > last;
		last = v[0] > last ? v[0] : last;
		/* Let the writers run between reads, whatever the scheduler. */
		sched_yield();
	}
	*stop = 1;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, wv_wait_pid(pids[0]));
	EXPECT_EQ(0, wv_wait_pid(pids[1]));
	/* The reader met many batches, not one at the end. */
	EXPECT_LE(BATCHES_SEEN, seen);
	TH_LOG("%llu reads met %llu newer batches",
	       (unsigned long long)i, (unsigned long long)seen);
}

TEST_HARNESS_MAIN
