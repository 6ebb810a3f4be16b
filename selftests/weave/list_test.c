// SPDX-License-Identifier: GPL-2.0
/*
 * WEAVE_IOC_LIST: batches, cursors, errors, and walks that race with
 * inserts and deletes in another process.
 */
#include "weave_util.h"

#include "kselftest_harness.h"

#define NKEYS	1000

/* Keys that are not in order of insertion. */
static __u64 key_of(int i)
{
	return (__u64)(i + 1) * 2654435761ULL % 1000003ULL + 1;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Check that @keys (n of them) are exactly key_of(0 .. NKEYS - 1):
 * returns the number of problems.
 */
static int check_exact(__u64 *keys, long n)
{
	__u64 want[NKEYS];
	int i, bad = 0;

	if (n != NKEYS)
		return 1;
	for (i = 0; i < NKEYS; i++)
		want[i] = key_of(i);
	qsort(want, NKEYS, sizeof(__u64), cmp_u64);
	qsort(keys, n, sizeof(__u64), cmp_u64);
	for (i = 0; i < NKEYS; i++)
		bad += keys[i] != want[i];
	return bad;
}

FIXTURE(list) {
	int fd;
	__u64 *keys;
};

FIXTURE_SETUP(list)
{
	int i;

	self->fd = wv_open_anon(0);
	ASSERT_GE(self->fd, 0) TH_LOG("open+attach: %s", strerror(-self->fd));
	self->keys = calloc(NKEYS + WEAVE_LIST_MAX + 16, sizeof(__u64));
	ASSERT_NE(NULL, self->keys);
	for (i = 0; i < NKEYS; i++)
		ASSERT_EQ(0, wv_set(self->fd, key_of(i), &i, sizeof(i), 0,
				    NULL));
	ASSERT_EQ(NKEYS, wv_count(self->fd));
}

FIXTURE_TEARDOWN(list)
{
	close(self->fd);
	free(self->keys);
}

TEST_F(list, batches)
{
	static const __u32 batch[] = { 1, 7, 64, 1000, 4096 };
	size_t b;

	for (b = 0; b < ARRAY_SIZE(batch); b++) {
		long n;

		memset(self->keys, 0, (NKEYS + 16) * sizeof(__u64));
		n = wv_list_all(self->fd, self->keys, NKEYS + 16, batch[b]);
		EXPECT_EQ(NKEYS, n) TH_LOG("batch %u", batch[b]);
		if (n > 0)
			EXPECT_EQ(0, check_exact(self->keys, n))
				TH_LOG("batch %u", batch[b]);
	}
}

/* Each call fills its batch unless the walk ends; the end is cursor 0. */
TEST_F(list, cursor)
{
	__u64 cursor = 0, prev = 0, buf[7];
	long total = 0, calls = 0;
	int n;

	do {
		n = wv_list(self->fd, &cursor, buf, 7);
		ASSERT_GE(n, 0) TH_LOG("%s", strerror(-n));
		ASSERT_LE(n, 7);
		total += n;
		if (cursor) {
			/* a cursor moves forward */
			EXPECT_NE(prev, cursor);
			prev = cursor;
		}
		ASSERT_LT(++calls, NKEYS + 10);
	} while (cursor);
	EXPECT_EQ(NKEYS, total);
	/* at least as many calls as batches needed */
	EXPECT_GE(calls, (NKEYS + 6) / 7);

	/* Starting again with 0 walks again. */
	cursor = 0;
	n = wv_list(self->fd, &cursor, buf, 7);
	EXPECT_EQ(7, n);
	EXPECT_NE(0, cursor);

	/* A batch larger than the registry ends the walk. */
	cursor = 0;
	n = wv_list(self->fd, &cursor, self->keys, WEAVE_LIST_MAX);
	ASSERT_GE(n, 0);
	if (cursor) {
		/* allowed: the end may take one more, empty, call */
		int m = wv_list(self->fd, &cursor, self->keys + n,
				WEAVE_LIST_MAX);
		EXPECT_EQ(0, m);
		EXPECT_EQ(0, cursor);
		n += m > 0 ? m : 0;
	}
	EXPECT_EQ(NKEYS, n);
}

TEST_F(list, empty)
{
	__u64 cursor = 0, buf[4];
	int fd = wv_open_anon(0);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, wv_list(fd, &cursor, buf, 4));
	EXPECT_EQ(0, cursor);
	ASSERT_EQ(0, wv_set(fd, 42, "x", 1, 0, NULL));
	cursor = 0;
	EXPECT_EQ(1, wv_list(fd, &cursor, buf, 4));
	EXPECT_EQ(42, buf[0]);
	EXPECT_EQ(0, cursor);
	ASSERT_EQ(0, wv_clear(fd, 0, NULL, NULL));
	cursor = 0;
	EXPECT_EQ(0, wv_list(fd, &cursor, buf, 4));
	EXPECT_EQ(0, cursor);
	close(fd);
}

TEST_F(list, errors)
{
	struct weave_list_args l;
	__u64 cursor = 0;
	void *bad;

	EXPECT_EQ(-EINVAL, wv_list(self->fd, &cursor, self->keys, 0));
	EXPECT_EQ(-EINVAL, wv_list(self->fd, &cursor, self->keys,
				   WEAVE_LIST_MAX + 1));
	EXPECT_EQ(-EINVAL, wv_list(self->fd, &cursor, self->keys, ~0U));
	memset(&l, 0, sizeof(l));
	l.keys = WV_PTR(self->keys);
	l.count = 4;
	l.flags = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_LIST, &l));

	bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-EFAULT, wv_list(self->fd, &cursor, bad, 4));
	munmap(bad, 4096);
	EXPECT_EQ(-EFAULT, wv_list(self->fd, &cursor, bad, 4));

	/* exactly WEAVE_LIST_MAX is fine */
	cursor = 0;
	EXPECT_EQ(NKEYS, wv_list_all(self->fd, self->keys, NKEYS + 16,
				     WEAVE_LIST_MAX));
}

/* Deleting keys behind and ahead of the cursor mid-walk. */
TEST_F(list, delete_during_walk)
{
	__u64 cursor = 0, got[NKEYS + 16];
	bool deleted[NKEYS] = { false };
	long n = 0;
	int i, r, step = 0;

	do {
		r = wv_list(self->fd, &cursor, got + n, 50);
		ASSERT_GE(r, 0);
		n += r;
		ASSERT_LE(n, NKEYS);
		/* delete every 5th key, spread over the walk */
		for (i = step; i < NKEYS; i += 97) {
			if (i % 5 == 0 && !deleted[i]) {
				ASSERT_EQ(0, wv_delete(self->fd, key_of(i), 0,
						       NULL));
				deleted[i] = true;
			}
		}
		step++;
	} while (cursor);

	/* No duplicates; every key never deleted is there. */
	qsort(got, n, sizeof(__u64), cmp_u64);
	for (i = 1; i < n; i++)
		EXPECT_NE(got[i - 1], got[i]);
	for (i = 0; i < NKEYS; i++) {
		__u64 k = key_of(i);

		if (deleted[i])
			continue;
		EXPECT_NE(NULL, bsearch(&k, got, n, sizeof(__u64), cmp_u64))
			TH_LOG("stable key %llu missing",
			       (unsigned long long)k);
	}
}

#define VOLATILE_BASE	(1ULL << 40)

/*
 * Another process inserts fresh keys and deletes older ones as fast as it
 * can while this one walks. Keys are never reused, so no key may come
 * back twice in a walk, and every key present for the whole walk must
 * come back once.
 */
TEST_F_TIMEOUT(list, concurrent_walk, 120)
{
	volatile __u64 *ops;
	__u64 *got;
	int i, walks, pipefd[2], status;
	long n, stable_missing = 0, dups = 0;
	pid_t pid;
	char c;

	/* Holes between the stable keys for the inserts to land in. */
	for (i = 0; i < NKEYS; i += 2)
		ASSERT_EQ(0, wv_delete(self->fd, key_of(i), 0, NULL));

	ops = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ops);
	got = calloc(4 * NKEYS, sizeof(*got));
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, pipe(pipefd));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		__u64 k = 0;

		close(pipefd[1]);
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		/* until the parent closes the pipe */
		while (read(pipefd[0], &c, 1) < 0 && errno == EAGAIN) {
			if (wv_set(self->fd, VOLATILE_BASE + k, &k, sizeof(k),
				   WEAVE_SET_NOREPLACE, NULL))
				_exit(1);
			if (k >= 200 && wv_delete(self->fd,
						  VOLATILE_BASE + k - 200, 0,
						  NULL))
				_exit(2);
			k++;
			ops[0] = k;
		}
		_exit(0);
	}
	close(pipefd[0]);

	/* Wait until the writer is going. */
	for (i = 0; i < 10000 && ops[0] < 50; i++)
		usleep(1000);
	ASSERT_GE(ops[0], 50) TH_LOG("writer did not start");

	double end = wv_now() + 3.0;
	__u64 before = ops[0];

	for (walks = 0; walks < 200 && (walks < 3 || wv_now() < end);
	     walks++) {
		__u32 batch = walks % 3 == 0 ? 1 : walks % 3 == 1 ? 7 : 64;

		n = wv_list_all(self->fd, got, 4 * NKEYS, batch);
		ASSERT_GE(n, 0) TH_LOG("walk %d: %s", walks, strerror(-n));
		qsort(got, n, sizeof(*got), cmp_u64);
		for (i = 1; i < n; i++)
			dups += got[i] == got[i - 1];
		for (i = 1; i < NKEYS; i += 2) {
			__u64 k = key_of(i);

			stable_missing += !bsearch(&k, got, n, sizeof(*got),
						   cmp_u64);
		}
	}
	__u64 during = ops[0] - before;

	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("writer status 0x%x", status);
	EXPECT_EQ(0, dups);
	EXPECT_EQ(0, stable_missing);
	/* The walks really raced with the writer. */
	EXPECT_GT(during, 100) TH_LOG("%d walks, %llu writer ops", walks,
				      (unsigned long long)during);
	/* Afterwards, an exact walk. */
	n = wv_list_all(self->fd, got, 4 * NKEYS, 64);
	EXPECT_EQ(wv_count(self->fd), n);
	free(got);
	munmap((void *)ops, 4096);
}

TEST_HARNESS_MAIN
