// SPDX-License-Identifier: GPL-2.0
/*
 * Compare and set on the gen (WEAVE_OP_IF_GEN): set, write, resize and
 * delete happen only when the entry has the gen the caller names, else
 * nothing changes and the call fails with ESTALE and reports the gen it
 * found; weave_update() builds lock-free read-modify-write on it.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "weave_util.h"
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

#define NPROC		8
#define INCREMENTS	300

FIXTURE(if_gen) {
	struct weave *w;
	int fd;
};

FIXTURE_SETUP(if_gen)
{
	struct weave_api_args api;

	ASSERT_EQ(0, weave_probe(&api));
	if (!(api.features & WEAVE_FEATURE_IF_GEN))
		SKIP(return, "no WEAVE_FEATURE_IF_GEN");
	ASSERT_EQ(0, weave_open(NULL, 0, 0600, &self->w));
	self->fd = weave_fd(self->w);
}

FIXTURE_TEARDOWN(if_gen)
{
	weave_close(self->w);
}

static __u64 gen_of(struct weave *w, __u64 key)
{
	struct weave_stat_args st;

	return weave_stat(w, key, &st) ? 0 : st.gen;
}

/* Set: 0 means "must not exist"; a wrong gen changes nothing. */
TEST_F(if_gen, set)
{
	char buf[16];
	uint64_t g, g1;

	g = 0;
	ASSERT_EQ(0, weave_set_flags(self->w, 1, "one", 3, WEAVE_OP_IF_GEN,
				     &g));
	g1 = g;
	EXPECT_EQ(g1, gen_of(self->w, 1));

	/* create-only again: the entry exists */
	g = 0;
	EXPECT_EQ(-ESTALE, weave_set_flags(self->w, 1, "two", 3,
					   WEAVE_OP_IF_GEN, &g));
	EXPECT_EQ(g1, g);
	/* a stale gen */
	g = g1 + 100;
	EXPECT_EQ(-ESTALE, weave_set_flags(self->w, 1, "two", 3,
					   WEAVE_OP_IF_GEN, &g));
	EXPECT_EQ(g1, g);
	EXPECT_EQ(3, weave_get(self->w, 1, buf, sizeof(buf), &g));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(g1, g);

	/* the current gen: it happens, and the gen moves */
	g = g1;
	ASSERT_EQ(0, weave_set_flags(self->w, 1, "three", 5, WEAVE_OP_IF_GEN,
				     &g));
	EXPECT_GT(g, g1);
	EXPECT_EQ(5, weave_get(self->w, 1, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "three", 5));

	/* a missing key with a gen named: ESTALE, gen 0 */
	g = 5;
	EXPECT_EQ(-ESTALE, weave_set_flags(self->w, 2, "x", 1, WEAVE_OP_IF_GEN,
					   &g));
	EXPECT_EQ(0, g);
	EXPECT_EQ(0, weave_has(self->w, 2));
}

/* Write and resize need the entry at the gen named. */
TEST_F(if_gen, write_resize)
{
	struct weave_write_args wr;
	struct weave_resize_args rs;
	uint64_t g0, g;

	ASSERT_EQ(0, weave_set_flags(self->w, 1, "abcdef", 6, 0, &g0));

	memset(&wr, 0, sizeof(wr));
	wr.key = 1;
	wr.buf = (uintptr_t)"XY";
	wr.len = 2;
	wr.flags = WEAVE_OP_IF_GEN;
	wr.gen = g0 + 1;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_WRITE, &wr));
	EXPECT_EQ(ESTALE, errno);
	EXPECT_EQ(g0, wr.gen);
	EXPECT_EQ(g0, gen_of(self->w, 1));
	wr.gen = g0;
	EXPECT_EQ(0, ioctl(self->fd, WEAVE_IOC_WRITE, &wr));
	EXPECT_GT(wr.gen, g0);
	EXPECT_EQ(6, wr.size);
	g = wr.gen;

	memset(&rs, 0, sizeof(rs));
	rs.key = 1;
	rs.size = 2;
	rs.flags = WEAVE_OP_IF_GEN;
	rs.gen = g0;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_RESIZE, &rs));
	EXPECT_EQ(ESTALE, errno);
	EXPECT_EQ(g, rs.gen);
	EXPECT_EQ(6, weave_get(self->w, 1, NULL, 0, NULL));
	rs.gen = g;
	EXPECT_EQ(0, ioctl(self->fd, WEAVE_IOC_RESIZE, &rs));
	EXPECT_EQ(2, weave_get(self->w, 1, NULL, 0, NULL));

	/* no entry: a gen named is stale, 0 finds no entry to change */
	wr.key = 9;
	wr.size = 0;
	wr.gen = 4;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_WRITE, &wr));
	EXPECT_EQ(ESTALE, errno);
	EXPECT_EQ(0, wr.gen);
	wr.gen = 0;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_WRITE, &wr));
	EXPECT_EQ(ENOENT, errno);
	rs.key = 9;
	rs.gen = 0;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_RESIZE, &rs));
	EXPECT_EQ(ENOENT, errno);
}

/* Delete only the life of the entry that was read. */
TEST_F(if_gen, delete)
{
	uint64_t g0, g;

	ASSERT_EQ(0, weave_set_flags(self->w, 1, "a", 1, 0, &g0));
	g = g0 + 7;
	EXPECT_EQ(-ESTALE, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      &g));
	EXPECT_EQ(g0, g);
	EXPECT_EQ(1, weave_has(self->w, 1));
	g = 0;
	EXPECT_EQ(-ESTALE, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      &g));
	EXPECT_EQ(g0, g);
	g = g0;
	EXPECT_EQ(0, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN, &g));
	EXPECT_GT(g, g0);
	EXPECT_EQ(0, weave_has(self->w, 1));
	g = 0;
	EXPECT_EQ(-ENOENT, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      &g));
	g = g0;
	EXPECT_EQ(-ESTALE, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      &g));
	EXPECT_EQ(0, g);
}

/* A failed compare changes nothing a watcher or the index could see. */
TEST_F(if_gen, stale_is_silent)
{
	struct weave_info_args before, after;
	struct weave_event ev;
	uint64_t g;

	ASSERT_EQ(0, weave_set(self->w, 1, "a", 1));
	ASSERT_EQ(0, weave_watch(self->w, 1, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, weave_info(self->w, &before));
	g = 12345;
	EXPECT_EQ(-ESTALE, weave_set_flags(self->w, 1, "b", 1,
					   WEAVE_OP_IF_GEN, &g));
	g = 12345;
	EXPECT_EQ(-ESTALE, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      &g));
	ASSERT_EQ(0, weave_info(self->w, &after));
	EXPECT_EQ(before.gen, after.gen);
	EXPECT_EQ(0, weave_events(self->w, &ev, 1, 0));
}

/* Bad combinations and a gen without the flag. */
TEST_F(if_gen, einval)
{
	struct weave_set_args s = { .key = 1, .buf = (uintptr_t)"a", .len = 1 };
	struct weave_delete_args d = { .key = 1 };
	struct weave_resize_args r = { .key = 1 };
	struct weave_write_args wr = { .key = 1 };
	uint64_t g = 0;

	ASSERT_EQ(0, weave_set(self->w, 1, "a", 1));
	/* a gen in without the flag */
	s.gen = 1;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_SET, &s));
	EXPECT_EQ(EINVAL, errno);
	d.gen = 1;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_DELETE, &d));
	EXPECT_EQ(EINVAL, errno);
	r.gen = 1;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_RESIZE, &r));
	EXPECT_EQ(EINVAL, errno);
	wr.gen = 1;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_WRITE, &wr));
	EXPECT_EQ(EINVAL, errno);
	/* with NOREPLACE or NOCREATE, which it already says */
	s.gen = 0;
	s.flags = WEAVE_OP_IF_GEN | WEAVE_SET_NOREPLACE;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_SET, &s));
	EXPECT_EQ(EINVAL, errno);
	s.flags = WEAVE_OP_IF_GEN | WEAVE_SET_NOCREATE;
	EXPECT_EQ(-1, ioctl(self->fd, WEAVE_IOC_SET, &s));
	EXPECT_EQ(EINVAL, errno);
	/* the library needs somewhere to read the gen from */
	EXPECT_EQ(-EINVAL, weave_set_flags(self->w, 1, "a", 1,
					   WEAVE_OP_IF_GEN, NULL));
	EXPECT_EQ(-EINVAL, weave_delete_flags(self->w, 1, WEAVE_OP_IF_GEN,
					      NULL));
	EXPECT_EQ(-EINVAL, weave_delete_flags(self->w, 1, 1U << 30, &g));
	EXPECT_EQ(1, weave_has(self->w, 1));
}

/* Add 1 to a decimal counter; a missing key counts as 0. */
static ssize_t increment(const void *cur, size_t cur_size, void *out,
			 size_t out_size, void *arg)
{
	unsigned long long v = 0;
	char text[32];
	int n;

	(void)arg;
	if (cur) {
		if (cur_size >= sizeof(text))
			return -EINVAL;
		memcpy(text, cur, cur_size);
		text[cur_size] = '\0';
		v = strtoull(text, NULL, 10);
	}
	n = snprintf(text, sizeof(text), "%llu", v + 1);
	if ((size_t)n <= out_size)
		memcpy(out, text, n);
	return n;
}

/*
 * NPROC processes add to one counter with weave_update(), no locks: the
 * counter ends on exactly the number of increments that succeeded.
 */
TEST_F(if_gen, counter_without_locks)
{
	unsigned long *done;
	char buf[32];
	pid_t pid[NPROC];
	unsigned long sum = 0;
	ssize_t n;
	int i, j;

	done = mmap(NULL, NPROC * sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, done);
	for (i = 0; i < NPROC; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i]) {
			for (j = 0; j < INCREMENTS; j++)
				if (!weave_update(self->w, 7, increment, NULL,
						  NULL))
					done[i]++;
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++) {
		EXPECT_EQ(0, wv_wait_pid(pid[i]));
		sum += done[i];
	}
	EXPECT_EQ(NPROC * INCREMENTS, sum);
	n = weave_get(self->w, 7, buf, sizeof(buf) - 1, NULL);
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	EXPECT_EQ(sum, strtoul(buf, NULL, 10));
	munmap(done, NPROC * sizeof(*done));
}

/* Append @arg's bytes; the first call gets no room at all. */
static ssize_t append(const void *cur, size_t cur_size, void *out,
		      size_t out_size, void *arg)
{
	const char *tail = arg;
	size_t len = cur_size + strlen(tail);

	if (len <= out_size) {
		if (cur)
			memcpy(out, cur, cur_size);
		memcpy((char *)out + cur_size, tail, strlen(tail));
	}
	return (ssize_t)len;
}

static ssize_t refuse(const void *cur, size_t cur_size, void *out,
		      size_t out_size, void *arg)
{
	(void)cur; (void)cur_size; (void)out; (void)out_size; (void)arg;
	return -ECANCELED;
}

/* weave_update(): growing values, a missing key, and giving up. */
TEST_F(if_gen, update)
{
	char big[5000], buf[6000];
	uint64_t g;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_EQ(0, weave_update(self->w, 3, append, "ab", &g));
	EXPECT_EQ(g, gen_of(self->w, 3));
	ASSERT_EQ(0, weave_update(self->w, 3, append, big, NULL));
	ASSERT_EQ(0, weave_update(self->w, 3, append, "cd", NULL));
	EXPECT_EQ(2 + 4999 + 2, weave_get(self->w, 3, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "abx", 3));
	EXPECT_EQ(0, memcmp(buf + 2 + 4999, "cd", 2));

	g = gen_of(self->w, 3);
	EXPECT_EQ(-ECANCELED, weave_update(self->w, 3, refuse, NULL, NULL));
	EXPECT_EQ(g, gen_of(self->w, 3));
	EXPECT_EQ(-EINVAL, weave_update(self->w, 0, append, "a", NULL));
	EXPECT_EQ(-EINVAL, weave_update(self->w, 3, NULL, NULL, NULL));
}

TEST_HARNESS_MAIN
