// SPDX-License-Identifier: GPL-2.0
/*
 * WEAVE_IOC_WAIT, wait-for-generation: returns at once when the gen
 * already differs, sleeps until a change, creation or deletion by another
 * process, follows a key that moved to another index slot, times out, is
 * interrupted by signals, works on read-only handles, and a close() by
 * another thread wakes it with EBADF.
 */
#include "weave_proc.h"

#include "kselftest_harness.h"

#define KEY	7ULL
#define NS	1000000ULL	/* one millisecond in ns */

struct wait_shared {
	__u64 gen;
	int ready;
};

FIXTURE(wait) {
	char name[64];
	int fd;
	__u64 gen;		/* KEY's gen after setup */
	struct wait_shared *sh;
	pid_t pids[4];
};

FIXTURE_SETUP(wait)
{
	struct weave_api_args api;

	self->fd = wv_create(self->name, sizeof(self->name), "wait");
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_api(self->fd, &api));
	ASSERT_TRUE(api.features & WEAVE_FEATURE_EVENTS);
	ASSERT_EQ(0, wv_set(self->fd, KEY, "abc", 3, 0, &self->gen));
	self->sh = wv_shared(4096);
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(wait)
{
	wv_reap(self->pids, ARRAY_SIZE(self->pids));
	close(self->fd);
	wv_unlink_name(self->name);
}

enum { C_SET, C_DELETE, C_WRITE, C_RESIZE };

/* In a process of its own: after @delay_ms, change @key; sh->gen = gen. */
static pid_t change_later(const char *name, struct wait_shared *sh, int op,
			  __u64 key, long delay_ms)
{
	pid_t pid = fork();
	int fd, ret = -EINVAL;

	if (pid)
		return pid;
	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		_exit(1);
	wv_sleep_ms(delay_ms);
	switch (op) {
	case C_SET:
		ret = wv_set(fd, key, "new", 3, 0, &sh->gen);
		break;
	case C_DELETE:
		ret = wv_delete(fd, key, 0, &sh->gen);
		break;
	case C_WRITE:
		ret = wv_write(fd, key, 1, "z", 1, 0, NULL);
		sh->gen = wv_gen(fd, key);
		break;
	case C_RESIZE:
		ret = wv_resize(fd, key, 100, 0, &sh->gen);
		break;
	}
	_exit(ret ? 2 : 0);
}

TEST_F(wait, immediate)
{
	double t0 = wv_now();
	__u64 cur = 0;

	EXPECT_EQ(0, wv_wait(self->fd, KEY, self->gen - 1, 0, 0, &cur));
	EXPECT_EQ(self->gen, cur);
	EXPECT_EQ(0, wv_wait(self->fd, KEY, 0, 0, 0, &cur));
	EXPECT_EQ(self->gen, cur);
	EXPECT_EQ(0, wv_wait(self->fd, KEY, ~0ULL, WEAVE_WAIT_TIMED,
			     10000 * NS, &cur));
	EXPECT_EQ(self->gen, cur);
	/* A missing key has gen 0. */
	EXPECT_EQ(0, wv_wait(self->fd, 99, self->gen, 0, 0, &cur));
	EXPECT_EQ(0, cur);
	EXPECT_LT(wv_now() - t0, 1.0);
}

TEST_F(wait, wakes_on_change)
{
	static const int ops[] = { C_SET, C_WRITE, C_RESIZE };
	__u64 gen = self->gen, cur;
	double t0, dt;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		self->pids[0] = change_later(self->name, self->sh, ops[i],
					     KEY, 200);
		ASSERT_GE(self->pids[0], 0);
		t0 = wv_now();
		cur = 0;
		EXPECT_EQ(0, wv_wait(self->fd, KEY, gen, 0, 0, &cur));
		dt = wv_now() - t0;
		EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
		self->pids[0] = 0;
		EXPECT_GT(cur, gen);
		EXPECT_EQ(self->sh->gen, cur);
		EXPECT_GE(dt, 0.1);
		EXPECT_LT(dt, 5.0);
		gen = cur;
	}
}

TEST_F(wait, wakes_on_creation)
{
	__u64 cur = 1;
	double t0;

	self->pids[0] = change_later(self->name, self->sh, C_SET, 99, 200);
	ASSERT_GE(self->pids[0], 0);
	t0 = wv_now();
	EXPECT_EQ(0, wv_wait(self->fd, 99, 0, WEAVE_WAIT_TIMED, 10000 * NS,
			     &cur));
	EXPECT_GE(wv_now() - t0, 0.1);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	EXPECT_EQ(self->sh->gen, cur);
	EXPECT_GT(cur, self->gen);
}

TEST_F(wait, wakes_on_deletion)
{
	__u64 cur = 1;
	double t0;

	self->pids[0] = change_later(self->name, self->sh, C_DELETE, KEY, 200);
	ASSERT_GE(self->pids[0], 0);
	t0 = wv_now();
	EXPECT_EQ(0, wv_wait(self->fd, KEY, self->gen, 0, 0, &cur));
	EXPECT_GE(wv_now() - t0, 0.1);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	/* Now missing: gen 0. */
	EXPECT_EQ(0, cur);
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, KEY, NULL));
}

/*
 * The kernel remembers the index slot where a file's wait last found its
 * key. Here the key leaves that slot, another key takes it and the key
 * comes back in a new slot: waits on the key must see the key's gen, not
 * the slot's, and a change of the other key must not end them.
 */
TEST_F(wait, key_moves_to_another_slot)
{
	struct weave_stat_args st_key, st_other;
	__u64 cur = 0, gen, other_gen;
	double t0, dt;

	ASSERT_EQ(0, wv_wait(self->fd, KEY, self->gen - 1, 0, 0, &cur));
	ASSERT_EQ(self->gen, cur);
	ASSERT_EQ(0, wv_stat(self->fd, KEY, &st_key));

	ASSERT_EQ(0, wv_delete(self->fd, KEY, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, KEY + 1, "other", 5, 0, &other_gen));
	ASSERT_EQ(0, wv_set(self->fd, KEY, "back", 4, 0, &gen));
	ASSERT_EQ(0, wv_stat(self->fd, KEY + 1, &st_other));
	/* Slots are handed out lowest first: the other key took KEY's. */
	ASSERT_EQ(st_key.slot, st_other.slot);
	ASSERT_EQ(0, wv_stat(self->fd, KEY, &st_key));
	ASSERT_NE(st_key.slot, st_other.slot);

	/* The old slot now holds the other key and its gen. */
	EXPECT_EQ(0, wv_wait(self->fd, KEY, self->gen, 0, 0, &cur));
	EXPECT_EQ(gen, cur);
	EXPECT_EQ(0, wv_wait(self->fd, KEY, other_gen, 0, 0, &cur));
	EXPECT_EQ(gen, cur);

	/* Asleep on KEY: the other key changes first, then KEY. */
	self->pids[0] = change_later(self->name, self->sh, C_SET, KEY + 1,
				     100);
	self->pids[1] = change_later(self->name, self->sh, C_SET, KEY, 400);
	ASSERT_GE(self->pids[0], 0);
	ASSERT_GE(self->pids[1], 0);
	t0 = wv_now();
	EXPECT_EQ(0, wv_wait(self->fd, KEY, gen, 0, 0, &cur));
	dt = wv_now() - t0;
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	EXPECT_EQ(0, wv_wait_pid(self->pids[1]));
	self->pids[0] = self->pids[1] = 0;
	EXPECT_EQ(self->sh->gen, cur);
	EXPECT_EQ(cur, wv_gen(self->fd, KEY));
	EXPECT_GE(dt, 0.3);
	EXPECT_LT(dt, 5.0);
}

TEST_F(wait, timeout)
{
	double t0, dt;
	__u64 cur = 1;

	t0 = wv_now();
	EXPECT_EQ(-ETIMEDOUT, wv_wait(self->fd, KEY, self->gen,
				      WEAVE_WAIT_TIMED, 300 * NS, &cur));
	dt = wv_now() - t0;
	EXPECT_GE(dt, 0.29);
	EXPECT_LT(dt, 2.0);
	TH_LOG("300 ms wait timeout took %.3f s", dt);

	/* On a missing key too; and a change elsewhere does not end it. */
	self->pids[0] = change_later(self->name, self->sh, C_SET, KEY, 50);
	ASSERT_GE(self->pids[0], 0);
	t0 = wv_now();
	EXPECT_EQ(-ETIMEDOUT, wv_wait(self->fd, 99, 0, WEAVE_WAIT_TIMED,
				      300 * NS, NULL));
	dt = wv_now() - t0;
	EXPECT_GE(dt, 0.29);
	EXPECT_LT(dt, 2.0);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
}

static volatile sig_atomic_t sig_count;

static void count_sig(int sig)
{
	sig_count++;
}

TEST_F(wait, signals)
{
	struct wv_timer t = { .sig = SIGUSR1, .delay_ms = 200 };
	double t0, dt;
	__u64 cur = 0;

	/* Timed: EINTR. */
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, true));
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	t0 = wv_now();
	EXPECT_EQ(-EINTR, wv_wait(self->fd, KEY, self->gen, WEAVE_WAIT_TIMED,
				  10000 * NS, NULL));
	dt = wv_now() - t0;
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	EXPECT_GE(dt, 0.15);
	EXPECT_LT(dt, 5.0);

	/* Untimed without SA_RESTART: EINTR. */
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, false));
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	EXPECT_EQ(-EINTR, wv_wait(self->fd, KEY, self->gen, 0, 0, NULL));
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);

	/* Untimed with SA_RESTART: restarted, then woken by the change. */
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, true));
	sig_count = 0;
	self->pids[0] = change_later(self->name, self->sh, C_SET, KEY, 500);
	ASSERT_GE(self->pids[0], 0);
	ASSERT_EQ(0, wv_timer_start(&t));
	EXPECT_EQ(0, wv_wait(self->fd, KEY, self->gen, 0, 0, &cur));
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	EXPECT_EQ(self->sh->gen, cur);
}

TEST_F(wait, einval)
{
	struct weave_wait_args w;

	EXPECT_EQ(-EINVAL, wv_wait(self->fd, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_wait(self->fd, 0, self->gen, WEAVE_WAIT_TIMED,
				   NS, NULL));
	EXPECT_EQ(-EINVAL, wv_wait(self->fd, KEY, self->gen, 2, NS, NULL));
	EXPECT_EQ(-EINVAL, wv_wait(self->fd, KEY, self->gen,
				   ~WEAVE_WAIT_VALID, 0, NULL));
	/* timeout_ns without TIMED. */
	EXPECT_EQ(-EINVAL, wv_wait(self->fd, KEY, self->gen, 0, NS, NULL));
	memset(&w, 0, sizeof(w));
	w.key = KEY;
	w.gen = self->gen;
	w.flags = WEAVE_WAIT_TIMED;
	w.timeout_ns = NS;
	w.reserved = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_WAIT, &w));
	w.reserved = 0;
	w.cur_gen = self->gen;	/* an out field */
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_WAIT, &w));
	/* The same, valid, times out (so the cases above were the cause). */
	w.cur_gen = 0;
	EXPECT_EQ(-ETIMEDOUT, wv_ioctl(self->fd, WEAVE_IOC_WAIT, &w));
}

TEST_F(wait, unattached)
{
	int fd = wv_dev(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADFD, wv_wait(fd, KEY, 0, 0, 0, NULL));
	close(fd);
}

TEST_F(wait, read_only)
{
	__u64 cur = 0;
	int rfd;

	rfd = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(rfd, 0);
	EXPECT_EQ(0, wv_wait(rfd, KEY, 0, 0, 0, &cur));
	EXPECT_EQ(self->gen, cur);
	EXPECT_EQ(-ETIMEDOUT, wv_wait(rfd, KEY, self->gen, WEAVE_WAIT_TIMED,
				      50 * NS, NULL));
	self->pids[0] = change_later(self->name, self->sh, C_SET, KEY, 200);
	ASSERT_GE(self->pids[0], 0);
	EXPECT_EQ(0, wv_wait(rfd, KEY, self->gen, 0, 0, &cur));
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	EXPECT_EQ(self->sh->gen, cur);
	close(rfd);
}

struct waiter {
	pthread_t thread;
	int fd;
	__u64 gen;
	int ret;
	volatile double done;
};

static void *wait_fn(void *p)
{
	struct waiter *w = p;

	w->ret = wv_wait(w->fd, KEY, w->gen, 0, 0, NULL);
	w->done = wv_now();
	return NULL;
}

/* close() by another thread of the process wakes the waiter with EBADF. */
TEST_F(wait, close_wakes_waiter)
{
	struct waiter w = { .gen = self->gen };
	double t_close;

	w.fd = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(w.fd, 0);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_fn, &w));
	wv_sleep_ms(300);
	EXPECT_EQ(0, w.done);
	t_close = wv_now();
	ASSERT_EQ(0, close(w.fd));
	EXPECT_TRUE(wv_until(w.done != 0, 3000));
	if (!w.done)	/* unstick it so that the test ends */
		ASSERT_EQ(0, wv_set(self->fd, KEY, "x", 1, 0, NULL));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(-EBADF, w.ret);
	EXPECT_LT(w.done - t_close, 1.0);
}

/*
 * Another process sharing the open file (fork) keeps sleeping when this
 * process closes its descriptor, and is woken by the change.
 */
TEST_F(wait, close_spares_other_process)
{
	__u64 cur = 0;
	int fd;

	fd = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(fd, 0);
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		__atomic_store_n(&self->sh->ready, 1, __ATOMIC_RELEASE);
		if (wv_wait(fd, KEY, self->gen, WEAVE_WAIT_TIMED,
			    20000 * NS, &cur))
			_exit(1);
		_exit(cur == wv_gen(fd, KEY) && cur != self->gen ? 0 : 2);
	}
	ASSERT_TRUE(wv_until(self->sh->ready, 5000));
	wv_sleep_ms(200);
	ASSERT_EQ(0, close(fd));
	wv_sleep_ms(300);
	/* Still waiting. */
	EXPECT_EQ(0, waitpid(self->pids[0], NULL, WNOHANG));
	ASSERT_EQ(0, wv_set(self->fd, KEY, "x", 1, 0, NULL));
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
}

TEST_HARNESS_MAIN
