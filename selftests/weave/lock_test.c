// SPDX-License-Identifier: GPL-2.0
/*
 * Per-entry locks: mutual exclusion between processes, shared and
 * exclusive modes, FIFO fairness, conversion, timeouts and signals, the
 * errors, robustness when the holder dies, how the other entry operations
 * honour the locks, the lock state in the mapped index, the limits, and
 * the kernel's own deadlock safety.
 *
 * A lock belongs to the open file description, so every process (or
 * party) that must be excluded opens and attaches its own fd by name;
 * fork()ed children that keep the parent's fd are the same owner.
 */
#include "weave_proc.h"

#include "kselftest_harness.h"

#define KEY	42ULL
#define NS	1000000ULL	/* one millisecond in ns */

FIXTURE(lock) {
	char name[64];
	int fd;
	void *index;
	size_t index_size;
	pid_t pids[16];
	const char *param;	/* a module parameter to restore */
	__u64 param_val;
};

FIXTURE_SETUP(lock)
{
	struct weave_api_args api;
	__u64 v = 0;

	self->fd = wv_create(self->name, sizeof(self->name), "lock");
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_api(self->fd, &api));
	ASSERT_TRUE(api.features & WEAVE_FEATURE_LOCKS);
	self->index = wv_map_index(self->fd, &self->index_size);
	ASSERT_NE(NULL, self->index);
	ASSERT_EQ(0, wv_set(self->fd, KEY, &v, sizeof(v), 0, NULL));
}

FIXTURE_TEARDOWN(lock)
{
	wv_reap(self->pids, ARRAY_SIZE(self->pids));
	if (self->param)
		wv_param_set(self->param, self->param_val);
	if (self->index)
		munmap(self->index, self->index_size);
	close(self->fd);
	wv_unlink_name(self->name);
}

/* Remember a module parameter's value for teardown, then change it. */
static int set_param(FIXTURE_DATA(lock) *self, const char *name, __u64 val)
{
	int ret;

	if (!self->param) {
		ret = wv_param(name, &self->param_val);
		if (ret)
			return ret;
		self->param = name;
	}
	return wv_param_set(name, val);
}

/* --- Mutual exclusion: the counter ------------------------------------- */

#define COUNTER_PROCS	8
#define COUNTER_ITERS	2000

static int counter_child(const char *name, volatile int *go, bool locked)
{
	__u64 v;
	int fd, i;

	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		return 10;
	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < COUNTER_ITERS; i++) {
		if (locked && wv_lock(fd, KEY, 0, 0, NULL))
			return 11;
		if (wv_get_u64(fd, KEY, &v))
			return 12;
		if (wv_set_u64(fd, KEY, v + 1))
			return 13;
		if (locked && wv_unlock(fd, KEY, 0))
			return 14;
	}
	close(fd);
	return 0;
}

static __u64 run_counter(struct __test_metadata *_metadata,
			 FIXTURE_DATA(lock) *self, bool locked)
{
	volatile int *go = wv_shared(4096);
	double t0;
	__u64 v;
	int i;

	ASSERT_NE(NULL, go);
	ASSERT_EQ(0, wv_set_u64(self->fd, KEY, 0));
	for (i = 0; i < COUNTER_PROCS; i++) {
		self->pids[i] = fork();
		ASSERT_GE(self->pids[i], 0);
		if (!self->pids[i])
			_exit(counter_child(self->name, go, locked));
	}
	t0 = wv_now();
	__atomic_store_n(go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < COUNTER_PROCS; i++) {
		EXPECT_EQ(0, wv_wait_pid(self->pids[i]));
		self->pids[i] = 0;
	}
	ASSERT_EQ(0, wv_get_u64(self->fd, KEY, &v));
	TH_LOG("%s: %llu of %d in %.2f s", locked ? "locked" : "unlocked",
	       (unsigned long long)v, COUNTER_PROCS * COUNTER_ITERS,
	       wv_now() - t0);
	munmap((void *)go, 4096);
	return v;
}

/* 16,000 hand-offs: 25-50 s under TCG, several times that on the debug kernel. */
TEST_F_TIMEOUT(lock, counter_locked, 240)
{
	EXPECT_EQ(COUNTER_PROCS * COUNTER_ITERS,
		  run_counter(_metadata, self, true));
}

/* Without the lock updates may be lost: recorded, never asserted. */
TEST_F_TIMEOUT(lock, counter_unlocked, 120)
{
	__u64 v = run_counter(_metadata, self, false);

	EXPECT_LE(v, COUNTER_PROCS * COUNTER_ITERS);
	EXPECT_GT(v, 0);
}

/* --- Robustness: the holder dies --------------------------------------- */

struct died_shared {
	int a_ready;
	int b_ret, b_ret2, b_ret3;
	__u32 b_result, b_result2, b_result3;
	double b_time;
	int go;
};

TEST_F(lock, owner_died)
{
	const volatile struct weave_slot *slot;
	struct died_shared *sh = wv_shared(4096);
	struct weave_event ev[8];
	double t_kill;
	__u32 result;
	int wfd, fd, n;

	ASSERT_NE(NULL, sh);
	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	wfd = wv_reopen(self->name, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(wfd, 0);
	ASSERT_EQ(0, wv_watch(wfd, KEY, WEAVE_EV_UNLOCKED |
			      WEAVE_EV_OWNER_DIED, 0));

	/* A holds the lock and is killed; B waits for it. */
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0 || wv_lock(fd, KEY, 0, 0, NULL))
			_exit(1);
		__atomic_store_n(&sh->a_ready, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	ASSERT_TRUE(wv_until(__atomic_load_n(&sh->a_ready, __ATOMIC_ACQUIRE),
			     5000));
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);

	self->pids[1] = fork();
	ASSERT_GE(self->pids[1], 0);
	if (!self->pids[1]) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0)
			_exit(1);
		sh->b_ret = wv_lock(fd, KEY, 0, 0, &sh->b_result);
		wv_put_time(&sh->b_time, wv_now());
		while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
			wv_sleep_ms(1);
		/* Unlocked without CONSISTENT: still owner-died. */
		if (wv_unlock(fd, KEY, 0))
			_exit(2);
		sh->b_ret2 = wv_lock(fd, KEY, 0, 0, &sh->b_result2);
		if (wv_unlock(fd, KEY, WEAVE_UNLOCK_CONSISTENT))
			_exit(3);
		sh->b_ret3 = wv_lock(fd, KEY, 0, 0, &sh->b_result3);
		if (wv_unlock(fd, KEY, 0))
			_exit(4);
		_exit(0);
	}
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	/* Nothing was unlocked yet. */
	EXPECT_EQ(-EAGAIN, wv_read_events(wfd, ev, 8));
	EXPECT_EQ(0, wv_poll(wfd, 0));

	t_kill = wv_now();
	ASSERT_EQ(0, kill(self->pids[0], SIGKILL));
	EXPECT_EQ(128 + SIGKILL, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	ASSERT_TRUE(wv_until(wv_get_time(&sh->b_time),
			     3000));
	EXPECT_EQ(0, sh->b_ret);
	EXPECT_EQ(WEAVE_LOCK_OWNER_DIED, sh->b_result);
	EXPECT_LT(sh->b_time - t_kill, 1.0);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	EXPECT_TRUE(slot->flags & WEAVE_SLOT_OWNER_DIED);

	/* The watcher was told, with one record. */
	EXPECT_TRUE(wv_poll(wfd, 1000) & POLLIN);
	n = wv_read_events(wfd, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(KEY, ev[0].key);
	EXPECT_EQ(WEAVE_EV_UNLOCKED | WEAVE_EV_OWNER_DIED, ev[0].mask);

	/* Owner-died sticks until an unlock with CONSISTENT. */
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, wv_wait_pid(self->pids[1]));
	self->pids[1] = 0;
	EXPECT_EQ(0, sh->b_ret2);
	EXPECT_EQ(WEAVE_LOCK_OWNER_DIED, sh->b_result2);
	EXPECT_EQ(0, sh->b_ret3);
	EXPECT_EQ(0, sh->b_result3);
	EXPECT_FALSE(slot->flags & WEAVE_SLOT_OWNER_DIED);
	EXPECT_EQ(0, slot->lock);
	EXPECT_EQ(0, wv_lock(self->fd, KEY, WEAVE_OP_NONBLOCK, 0, &result));
	EXPECT_EQ(0, result);
	EXPECT_EQ(0, wv_unlock(self->fd, KEY, 0));
	close(wfd);
	munmap(sh, 4096);
}

/* A shared holder's death releases its share but does not mark the key. */
TEST_F(lock, shared_holder_dies)
{
	const volatile struct weave_slot *slot;
	volatile int *ready = wv_shared(4096);
	__u32 result = 1;
	int fd;

	ASSERT_NE(NULL, ready);
	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDONLY);
		if (fd < 0 || wv_lock(fd, KEY, WEAVE_LOCK_SHARED, 0, NULL))
			_exit(1);
		*ready = 1;
		for (;;)
			pause();
	}
	ASSERT_TRUE(wv_until(*ready, 5000));
	EXPECT_EQ(1, slot->lock);
	kill(self->pids[0], SIGKILL);
	wv_wait_pid(self->pids[0]);
	self->pids[0] = 0;
	EXPECT_EQ(0, slot->lock);
	EXPECT_EQ(0, wv_lock(self->fd, KEY, WEAVE_OP_NONBLOCK, 0, &result));
	EXPECT_EQ(0, result);
	EXPECT_FALSE(slot->flags & WEAVE_SLOT_OWNER_DIED);
}

/* --- Shared holders, a waiting writer, FIFO ---------------------------- */

struct fifo_shared {
	int seq;
	int w_seq, r_seq, w_ret, r_ret;
	double w_got, w_rel, r_got;
};

TEST_F(lock, shared_and_fifo)
{
	const volatile struct weave_slot *slot;
	struct fifo_shared *sh = wv_shared(4096);
	int fd1, fd2, fd3, fd;
	double t2;
	char buf[8];

	ASSERT_NE(NULL, sh);
	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd1 = wv_reopen(self->name, O_RDONLY);
	fd2 = wv_reopen(self->name, O_RDWR);
	fd3 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd1, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fd3, 0);

	/* Shared holders coexist; readers go on; writers are refused. */
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, wv_lock(fd2, KEY, WEAVE_LOCK_SHARED | WEAVE_OP_NONBLOCK,
			     0, NULL));
	EXPECT_EQ(2, slot->lock);
	EXPECT_EQ(0, wv_get(fd3, KEY, buf, sizeof(buf), 0, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(fd3, KEY, WEAVE_OP_NONBLOCK, 0, NULL));

	/* A writer queues behind them. */
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0)
			_exit(1);
		sh->w_ret = wv_lock(fd, KEY, 0, 0, NULL);
		sh->w_got = wv_now();
		sh->w_seq = __atomic_add_fetch(&sh->seq, 1, __ATOMIC_SEQ_CST);
		wv_sleep_ms(200);
		sh->w_rel = wv_now();
		_exit(wv_unlock(fd, KEY, 0) ? 2 : 0);
	}
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	/* A new reader may not jump the queue. */
	EXPECT_EQ(-EAGAIN, wv_lock(fd3, KEY, WEAVE_LOCK_SHARED |
				   WEAVE_OP_NONBLOCK, 0, NULL));

	/* A reader arriving after the writer waits behind it. */
	self->pids[1] = fork();
	ASSERT_GE(self->pids[1], 0);
	if (!self->pids[1]) {
		fd = wv_reopen(self->name, O_RDONLY);
		if (fd < 0)
			_exit(1);
		sh->r_ret = wv_lock(fd, KEY, WEAVE_LOCK_SHARED, 0, NULL);
		sh->r_got = wv_now();
		sh->r_seq = __atomic_add_fetch(&sh->seq, 1, __ATOMIC_SEQ_CST);
		_exit(wv_unlock(fd, KEY, 0) ? 2 : 0);
	}
	ASSERT_TRUE(wv_until(slot->waiters == 2, 5000));
	wv_sleep_ms(100);
	EXPECT_EQ(0, __atomic_load_n(&sh->seq, __ATOMIC_SEQ_CST));
	EXPECT_EQ(2, slot->lock);

	/* One sharer left: the writer still waits. */
	ASSERT_EQ(0, wv_unlock(fd1, KEY, 0));
	wv_sleep_ms(100);
	EXPECT_EQ(0, __atomic_load_n(&sh->seq, __ATOMIC_SEQ_CST));
	EXPECT_EQ(1, slot->lock);
	EXPECT_EQ(2, slot->waiters);

	t2 = wv_now();
	ASSERT_EQ(0, wv_unlock(fd2, KEY, 0));
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	EXPECT_EQ(0, wv_wait_pid(self->pids[1]));
	self->pids[0] = self->pids[1] = 0;
	EXPECT_EQ(0, sh->w_ret);
	EXPECT_EQ(0, sh->r_ret);
	EXPECT_EQ(1, sh->w_seq);
	EXPECT_EQ(2, sh->r_seq);
	EXPECT_GE(sh->w_got, t2);
	EXPECT_GE(sh->r_got, sh->w_rel);
	EXPECT_EQ(0, slot->lock);
	EXPECT_EQ(0, slot->waiters);
	close(fd1);
	close(fd2);
	close(fd3);
	munmap(sh, 4096);
}

/* --- Timeouts, signals, non-blocking ----------------------------------- */

TEST_F(lock, timeout)
{
	const volatile struct weave_slot *slot;
	double t0, dt;
	int fd2;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);

	/* Free: a timed lock is granted at once. */
	t0 = wv_now();
	ASSERT_EQ(0, wv_lock(fd2, KEY, WEAVE_LOCK_TIMED, 1000 * NS, NULL));
	EXPECT_LT(wv_now() - t0, 0.5);
	ASSERT_EQ(0, wv_unlock(fd2, KEY, 0));

	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	t0 = wv_now();
	EXPECT_EQ(-ETIMEDOUT, wv_lock(fd2, KEY, WEAVE_LOCK_TIMED, 300 * NS,
				      NULL));
	dt = wv_now() - t0;
	EXPECT_GE(dt, 0.29);
	EXPECT_LT(dt, 2.0);
	TH_LOG("300 ms exclusive timeout took %.3f s", dt);

	t0 = wv_now();
	EXPECT_EQ(-ETIMEDOUT, wv_lock(fd2, KEY, WEAVE_LOCK_TIMED |
				      WEAVE_LOCK_SHARED, 100 * NS, NULL));
	dt = wv_now() - t0;
	EXPECT_GE(dt, 0.09);
	EXPECT_LT(dt, 2.0);

	/* A timed-out waiter is gone from the queue; no lock was taken. */
	EXPECT_EQ(0, slot->waiters);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	EXPECT_EQ(-EPERM, wv_unlock(fd2, KEY, 0));
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	EXPECT_EQ(0, wv_lock(fd2, KEY, WEAVE_OP_NONBLOCK, 0, NULL));
	close(fd2);
}

static volatile sig_atomic_t sig_count;

static void count_sig(int sig)
{
	sig_count++;
}

TEST_F(lock, eintr)
{
	const volatile struct weave_slot *slot;
	struct wv_timer t = { .sig = SIGUSR1, .delay_ms = 200 };
	double t0, dt;
	int fd2;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, false));
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));

	/* Timed: EINTR. */
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	t0 = wv_now();
	EXPECT_EQ(-EINTR, wv_lock(fd2, KEY, WEAVE_LOCK_TIMED, 10000 * NS,
				  NULL));
	dt = wv_now() - t0;
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	EXPECT_GE(dt, 0.15);
	EXPECT_LT(dt, 5.0);
	EXPECT_EQ(0, slot->waiters);

	/* Untimed, without SA_RESTART: EINTR too. */
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	EXPECT_EQ(-EINTR, wv_lock(fd2, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	EXPECT_EQ(0, slot->waiters);
	EXPECT_EQ(-EPERM, wv_unlock(fd2, KEY, 0));
	close(fd2);
}

static int restart_fd;

static void unlock_restart_fd(void *arg)
{
	wv_unlock(restart_fd, KEY, 0);
}

/* Untimed under SA_RESTART: the signal is handled and the wait goes on. */
TEST_F(lock, sa_restart)
{
	struct wv_timer t = {
		.sig = SIGUSR1, .delay_ms = 200,
		.action = unlock_restart_fd, .action_ms = 300,
	};
	double t_done;
	int fd2;

	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, true));
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	restart_fd = self->fd;
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	EXPECT_EQ(0, wv_lock(fd2, KEY, 0, 0, NULL));
	t_done = wv_now();
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	EXPECT_NE(0, t.acted);
	EXPECT_GE(t_done, t.acted);
	EXPECT_EQ(0, wv_unlock(fd2, KEY, 0));
	close(fd2);
}

TEST_F(lock, nonblock)
{
	const volatile struct weave_slot *slot;
	int fd2, fdnb;
	double t0;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd2 = wv_reopen(self->name, O_RDWR);
	fdnb = wv_reopen(self->name, O_RDWR | O_NONBLOCK);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fdnb, 0);
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	t0 = wv_now();
	EXPECT_EQ(-EAGAIN, wv_lock(fd2, KEY, WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(fd2, KEY, WEAVE_OP_NONBLOCK |
				   WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(fdnb, KEY, 0, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(fdnb, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(fdnb, KEY, WEAVE_LOCK_TIMED, 5000 * NS,
				   NULL));
	EXPECT_LT(wv_now() - t0, 2.0);
	EXPECT_EQ(0, slot->waiters);
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	EXPECT_EQ(0, wv_lock(fdnb, KEY, 0, 0, NULL));
	EXPECT_EQ(0, wv_unlock(fdnb, KEY, 0));
	close(fd2);
	close(fdnb);
}

/* --- The errors -------------------------------------------------------- */

TEST_F(lock, edeadlk)
{
	const volatile struct weave_slot *slot;
	pid_t pid;
	int fd2;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);

	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, WEAVE_LOCK_SHARED, 0,
				    NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, WEAVE_OP_NONBLOCK, 0,
				    NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, WEAVE_LOCK_TIMED, NS,
				    NULL));

	/* A fork()ed child shares the description: the same owner. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(wv_lock(self->fd, KEY, 0, 0, NULL) == -EDEADLK ? 0 : 1);
	EXPECT_EQ(0, wv_wait_pid(pid));
	/* Its exit closed no description: the lock is still held. */
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	EXPECT_EQ(-EAGAIN, wv_lock(fd2, KEY, WEAVE_OP_NONBLOCK, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));

	ASSERT_EQ(0, wv_lock(self->fd, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, WEAVE_LOCK_SHARED, 0,
				    NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(1, slot->lock);
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	close(fd2);
}

TEST_F(lock, eperm)
{
	int fd2;

	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(-EPERM, wv_unlock(self->fd, KEY, 0));
	EXPECT_EQ(-EPERM, wv_unlock(self->fd, 12345, 0));
	EXPECT_EQ(-EPERM, wv_lock(self->fd, KEY, WEAVE_LOCK_CONVERT, 0, NULL));
	EXPECT_EQ(-EPERM, wv_lock(self->fd, KEY, WEAVE_LOCK_CONVERT |
				  WEAVE_LOCK_SHARED, 0, NULL));

	/* Held by another file. */
	ASSERT_EQ(0, wv_lock(fd2, KEY, 0, 0, NULL));
	EXPECT_EQ(-EPERM, wv_unlock(self->fd, KEY, 0));
	EXPECT_EQ(-EPERM, wv_unlock(self->fd, KEY, WEAVE_UNLOCK_CONSISTENT));
	EXPECT_EQ(-EPERM, wv_lock(self->fd, KEY, WEAVE_LOCK_CONVERT |
				  WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, wv_unlock(fd2, KEY, 0));
	/* Twice. */
	EXPECT_EQ(-EPERM, wv_unlock(fd2, KEY, 0));
	close(fd2);
}

TEST_F(lock, einval)
{
	struct weave_lock_args l;
	struct weave_unlock_args u;

	EXPECT_EQ(-EINVAL, wv_lock(self->fd, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, 0, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, KEY, 1U << 4, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, KEY, ~WEAVE_LOCK_VALID, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, KEY, 1U << 31, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, KEY, 0, 1000, NULL));
	EXPECT_EQ(-EINVAL, wv_lock(self->fd, KEY, WEAVE_LOCK_SHARED, 1, NULL));
	memset(&l, 0, sizeof(l));
	l.key = KEY;
	l.result = WEAVE_LOCK_OWNER_DIED;	/* out field */
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_LOCK, &l));

	/* Nothing was locked by those. */
	EXPECT_EQ(-EPERM, wv_unlock(self->fd, KEY, 0));

	EXPECT_EQ(-EINVAL, wv_unlock(self->fd, 0, 0));
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_unlock(self->fd, KEY, 2));
	EXPECT_EQ(-EINVAL, wv_unlock(self->fd, KEY, ~WEAVE_UNLOCK_VALID));
	memset(&u, 0, sizeof(u));
	u.key = KEY;
	u.reserved = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_UNLOCK, &u));
	/* Still held after the refused unlocks. */
	EXPECT_EQ(-EDEADLK, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(0, wv_unlock(self->fd, KEY, 0));
}

TEST_F(lock, unattached)
{
	int fd = wv_dev(O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADFD, wv_lock(fd, KEY, 0, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_unlock(fd, KEY, 0));
	close(fd);
}

/* --- Missing keys, read-only handles ----------------------------------- */

struct op_thread {
	pthread_t thread;
	int fd;
	int op;
	__u32 flags;
	int ret;
	char buf[16];
	volatile double done;
};

enum { OP_SET, OP_WRITE, OP_RESIZE, OP_GET, OP_DELETE, OP_NR };
static const char *op_name(int op)
{
	static const char *const names[OP_NR] = {
		"set", "write", "resize", "get", "delete",
	};

	return op >= 0 && op < OP_NR ? names[op] : "?";
}

/* One entry operation on @key with @flags: 0 or -errno. */
static int do_op(int fd, int op, __u64 key, __u32 flags, char *buf)
{
	switch (op) {
	case OP_SET:
		return wv_set(fd, key, "12345678", 8, flags, NULL);
	case OP_WRITE:
		return wv_write(fd, key, 1, "ab", 2, flags, NULL);
	case OP_RESIZE:
		return wv_resize(fd, key, 16, flags, NULL);
	case OP_GET:
		return wv_get(fd, key, buf, 16, 0, flags, NULL);
	case OP_DELETE:
		return wv_delete(fd, key, flags, NULL);
	}
	return -ENOSYS;
}

static void *op_thread_fn(void *p)
{
	struct op_thread *t = p;

	t->ret = do_op(t->fd, t->op, KEY, t->flags, t->buf);
	t->done = wv_now();
	return NULL;
}

static int op_start(struct op_thread *t, int fd, int op)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->op = op;
	return -pthread_create(&t->thread, NULL, op_thread_fn, t);
}

TEST_F(lock, missing_key)
{
	struct op_thread t;
	struct weave_get_args g;
	double t_unlock;
	char buf[16];
	int fd2;

	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_delete(self->fd, KEY, 0, NULL));
	ASSERT_EQ(0, wv_count(self->fd));

	/* Locking a missing key reserves it without creating it. */
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(0, wv_count(self->fd));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, KEY, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(fd2, KEY, NULL));
	EXPECT_EQ(-ENOENT, wv_get(self->fd, KEY, buf, sizeof(buf), 0, 0, NULL));
	EXPECT_EQ(-EAGAIN, do_op(fd2, OP_GET, KEY, WEAVE_OP_NONBLOCK, buf));
	EXPECT_EQ(-EAGAIN, wv_lock(fd2, KEY, WEAVE_OP_NONBLOCK, 0, NULL));

	/* A get from another file waits, then finds nothing. */
	ASSERT_EQ(0, op_start(&t, fd2, OP_GET));
	wv_sleep_ms(300);
	EXPECT_EQ(0, t.done);
	t_unlock = wv_now();
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	pthread_join(t.thread, NULL);
	EXPECT_EQ(-ENOENT, t.ret);
	EXPECT_GE(t.done, t_unlock);

	/* The holder creates it; the waiting get then sees the value. */
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	ASSERT_EQ(0, op_start(&t, fd2, OP_GET));
	wv_sleep_ms(200);
	EXPECT_EQ(0, t.done);
	ASSERT_EQ(0, wv_set(self->fd, KEY, "held", 5, 0, NULL));
	EXPECT_EQ(1, wv_count(self->fd));
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL,
		  wv_slot_of(self->fd, self->index, KEY)->lock);
	EXPECT_EQ(0, wv_get(self->fd, KEY, buf, sizeof(buf), 0, 0, &g));
	wv_sleep_ms(100);
	EXPECT_EQ(0, t.done);
	t_unlock = wv_now();
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	pthread_join(t.thread, NULL);
	EXPECT_EQ(0, t.ret);
	EXPECT_STREQ("held", t.buf);
	EXPECT_GE(t.done, t_unlock);
	close(fd2);
}

TEST_F(lock, read_only)
{
	const volatile struct weave_slot *slot;
	int rfd, rfd2;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	rfd = wv_reopen(self->name, O_RDONLY);
	rfd2 = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(rfd, 0);
	ASSERT_GE(rfd2, 0);
	EXPECT_EQ(-EBADF, wv_lock(rfd, KEY, 0, 0, NULL));
	EXPECT_EQ(-EBADF, wv_lock(rfd, KEY, WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(-EBADF, wv_lock(rfd, 999, WEAVE_LOCK_TIMED, NS, NULL));
	EXPECT_EQ(0, slot->lock);
	ASSERT_EQ(0, wv_lock(rfd, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, wv_lock(rfd2, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(2, slot->lock);
	/* No upgrade to exclusive on a read-only handle either. */
	EXPECT_EQ(-EBADF, wv_lock(rfd, KEY, WEAVE_LOCK_CONVERT, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_lock(self->fd, KEY, WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, wv_unlock(rfd, KEY, 0));
	EXPECT_EQ(0, wv_unlock(rfd2, KEY, 0));
	EXPECT_EQ(0, slot->lock);
	close(rfd);
	close(rfd2);
}

/* --- Conversion -------------------------------------------------------- */

struct conv_shared {
	int s_ret, w_ret;
	double s_got, w_got;
	int release;
};

static void *upgrade_fn(void *p)
{
	struct op_thread *t = p;

	t->ret = wv_lock(t->fd, KEY, WEAVE_LOCK_CONVERT, 0, NULL);
	t->done = wv_now();
	return NULL;
}

/* A child that takes KEY (shared or not), reports, and waits for release. */
static pid_t lock_child(const char *name, bool shared, int *ret,
			double *got, int *release)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = wv_reopen(name, shared ? O_RDONLY : O_RDWR);
	if (fd < 0)
		_exit(1);
	*ret = wv_lock(fd, KEY, shared ? WEAVE_LOCK_SHARED : 0, 0, NULL);
	wv_put_time(got, wv_now());
	while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
		wv_sleep_ms(1);
	_exit(wv_unlock(fd, KEY, 0) ? 2 : 0);
}

TEST_F(lock, convert)
{
	const volatile struct weave_slot *slot;
	struct conv_shared *sh = wv_shared(4096);
	struct op_thread up;
	int fd1, fd2, fd3;
	double t0;

	ASSERT_NE(NULL, sh);
	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd1 = self->fd;
	fd2 = wv_reopen(self->name, O_RDWR);
	fd3 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fd3, 0);

	/* Downgrade lets a waiting reader in. */
	ASSERT_EQ(0, wv_lock(fd1, KEY, 0, 0, NULL));
	self->pids[0] = lock_child(self->name, true, &sh->s_ret, &sh->s_got,
				   &sh->release);
	ASSERT_GE(self->pids[0], 0);
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	EXPECT_EQ(0, sh->s_got);
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_CONVERT | WEAVE_LOCK_SHARED,
			     0, NULL));
	EXPECT_TRUE(wv_until(wv_get_time(&sh->s_got),
			     2000));
	EXPECT_EQ(0, sh->s_ret);
	EXPECT_EQ(2, slot->lock);
	EXPECT_EQ(0, slot->waiters);

	/* Upgrade with another sharer: EAGAIN, or a timeout. */
	EXPECT_EQ(-EAGAIN, wv_lock(fd1, KEY, WEAVE_LOCK_CONVERT |
				   WEAVE_OP_NONBLOCK, 0, NULL));
	t0 = wv_now();
	EXPECT_EQ(-ETIMEDOUT, wv_lock(fd1, KEY, WEAVE_LOCK_CONVERT |
				      WEAVE_LOCK_TIMED, 200 * NS, NULL));
	EXPECT_GE(wv_now() - t0, 0.19);
	EXPECT_EQ(2, slot->lock);	/* still shared by both */
	EXPECT_EQ(0, slot->waiters);
	__atomic_store_n(&sh->release, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	EXPECT_EQ(1, slot->lock);

	/* The sole sharer upgrades at once. */
	EXPECT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_CONVERT | WEAVE_OP_NONBLOCK,
			     0, NULL));
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	EXPECT_EQ(-EAGAIN, wv_lock(fd2, KEY, WEAVE_LOCK_SHARED |
				   WEAVE_OP_NONBLOCK, 0, NULL));

	/* Downgrade with a writer waiting: the writer keeps waiting. */
	sh->release = 0;
	sh->w_got = 0;
	self->pids[0] = lock_child(self->name, false, &sh->w_ret, &sh->w_got,
				   &sh->release);
	ASSERT_GE(self->pids[0], 0);
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_CONVERT | WEAVE_LOCK_SHARED,
			     0, NULL));
	wv_sleep_ms(100);
	EXPECT_EQ(0, sh->w_got);
	EXPECT_EQ(1, slot->lock);
	EXPECT_EQ(1, slot->waiters);
	/* A new reader queues behind the writer. */
	EXPECT_EQ(-EAGAIN, wv_lock(fd3, KEY, WEAVE_LOCK_SHARED |
				   WEAVE_OP_NONBLOCK, 0, NULL));
	ASSERT_EQ(0, wv_unlock(fd1, KEY, 0));
	EXPECT_TRUE(wv_until(wv_get_time(&sh->w_got),
			     2000));
	EXPECT_EQ(0, sh->w_ret);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	__atomic_store_n(&sh->release, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;

	/*
	 * Two sharers and a queued writer: the first upgrader waits at the
	 * head of the queue, a second upgrader gets EDEADLK; when the other
	 * sharer leaves, the upgrade wins over the writer.
	 */
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, wv_lock(fd2, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	sh->release = 0;
	sh->w_got = 0;
	self->pids[0] = lock_child(self->name, false, &sh->w_ret, &sh->w_got,
				   &sh->release);
	ASSERT_GE(self->pids[0], 0);
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	memset(&up, 0, sizeof(up));
	up.fd = fd1;
	ASSERT_EQ(0, pthread_create(&up.thread, NULL, upgrade_fn, &up));
	EXPECT_TRUE(wv_until(slot->waiters == 2, 5000));
	wv_sleep_ms(50);
	EXPECT_EQ(0, up.done);
	EXPECT_EQ(-EDEADLK, wv_lock(fd2, KEY, WEAVE_LOCK_CONVERT, 0, NULL));
	EXPECT_EQ(-EDEADLK, wv_lock(fd2, KEY, WEAVE_LOCK_CONVERT |
				    WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, up.done);
	ASSERT_EQ(0, wv_unlock(fd2, KEY, 0));
	pthread_join(up.thread, NULL);
	EXPECT_EQ(0, up.ret);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	wv_sleep_ms(50);
	EXPECT_EQ(0, sh->w_got);
	EXPECT_EQ(1, slot->waiters);
	ASSERT_EQ(0, wv_unlock(fd1, KEY, 0));
	EXPECT_TRUE(wv_until(wv_get_time(&sh->w_got),
			     2000));
	__atomic_store_n(&sh->release, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;

	/* Convert without a hold. */
	EXPECT_EQ(-EPERM, wv_lock(fd3, KEY, WEAVE_LOCK_CONVERT, 0, NULL));
	close(fd2);
	close(fd3);
	munmap(sh, 4096);
}

/* --- Other files honour the locks -------------------------------------- */

TEST_F(lock, exclusive_blocks_others)
{
	struct op_thread t;
	struct weave_stat_args st;
	__u64 keys[4], count;
	double t_unlock;
	char buf[16];
	int fd2, fdnb, op;

	fd2 = wv_reopen(self->name, O_RDWR);
	fdnb = wv_reopen(self->name, O_RDWR | O_NONBLOCK);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fdnb, 0);

	for (op = 0; op < OP_NR; op++) {
		ASSERT_EQ(0, wv_set(self->fd, KEY, "abcdefgh", 8, 0, NULL));
		ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
		EXPECT_EQ(-EAGAIN, do_op(fd2, op, KEY, WEAVE_OP_NONBLOCK, buf))
			TH_LOG("%s", op_name(op));
		EXPECT_EQ(-EAGAIN, do_op(fdnb, op, KEY, 0, buf))
			TH_LOG("%s on O_NONBLOCK", op_name(op));
		/* STAT and LIST do not wait. */
		EXPECT_EQ(0, wv_stat(fd2, KEY, &st));
		count = 0;
		EXPECT_EQ(1, wv_list(fd2, &count, keys, 4));

		ASSERT_EQ(0, op_start(&t, fd2, op));
		wv_sleep_ms(200);
		EXPECT_EQ(0, t.done) TH_LOG("%s did not wait", op_name(op));
		t_unlock = wv_now();
		ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
		pthread_join(t.thread, NULL);
		EXPECT_EQ(0, t.ret) TH_LOG("%s", op_name(op));
		EXPECT_GE(t.done, t_unlock) TH_LOG("%s", op_name(op));
	}
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, KEY, NULL));

	/* The holder's own operations go on. */
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	for (op = 0; op < OP_NR; op++)
		EXPECT_EQ(0, do_op(self->fd, op, KEY, WEAVE_OP_NONBLOCK, buf))
			TH_LOG("holder's %s", op_name(op));

	/* CLEAR ignores locks. */
	ASSERT_EQ(0, wv_set(self->fd, KEY, "x", 1, 0, NULL));
	EXPECT_EQ(0, wv_clear(fdnb, 0, &count, NULL));
	EXPECT_EQ(1, count);
	EXPECT_EQ(0, wv_unlock(self->fd, KEY, 0));
	close(fd2);
	close(fdnb);
}

TEST_F(lock, shared_blocks_writers)
{
	struct op_thread t;
	double t_unlock;
	char buf[16];
	int fd1, fd2, op;

	fd1 = wv_reopen(self->name, O_RDWR);
	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd1, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_set(self->fd, KEY, "abcdefgh", 8, 0, NULL));
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_SHARED, 0, NULL));

	/* Readers go on. */
	EXPECT_EQ(0, do_op(fd2, OP_GET, KEY, WEAVE_OP_NONBLOCK, buf));
	EXPECT_EQ(0, do_op(fd2, OP_GET, KEY, 0, buf));
	for (op = 0; op < OP_NR; op++) {
		if (op == OP_GET)
			continue;
		EXPECT_EQ(-EAGAIN, do_op(fd2, op, KEY, WEAVE_OP_NONBLOCK, buf))
			TH_LOG("%s", op_name(op));
	}
	ASSERT_EQ(0, op_start(&t, fd2, OP_SET));
	wv_sleep_ms(200);
	EXPECT_EQ(0, t.done);
	t_unlock = wv_now();
	ASSERT_EQ(0, wv_unlock(fd1, KEY, 0));
	pthread_join(t.thread, NULL);
	EXPECT_EQ(0, t.ret);
	EXPECT_GE(t.done, t_unlock);

	/* The sole sharer may write; one of several gets EDEADLK. */
	ASSERT_EQ(0, wv_lock(fd1, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(0, do_op(fd1, OP_WRITE, KEY, 0, buf));
	ASSERT_EQ(0, wv_lock(fd2, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(-EDEADLK, do_op(fd1, OP_SET, KEY, 0, buf));
	EXPECT_EQ(-EDEADLK, do_op(fd2, OP_WRITE, KEY, 0, buf));
	EXPECT_EQ(0, do_op(fd1, OP_GET, KEY, 0, buf));
	EXPECT_EQ(0, wv_unlock(fd1, KEY, 0));
	EXPECT_EQ(0, wv_unlock(fd2, KEY, 0));
	close(fd1);
	close(fd2);
}

/* --- The index shows the lock state ------------------------------------ */

TEST_F(lock, index_state)
{
	const volatile struct weave_slot *slot;
	struct op_thread t;
	int fds[4], i;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	for (i = 0; i < 4; i++) {
		fds[i] = wv_reopen(self->name, O_RDWR);
		ASSERT_GE(fds[i], 0);
	}
	EXPECT_EQ(0, slot->lock);
	EXPECT_EQ(0, slot->waiters);
	ASSERT_EQ(0, wv_lock(fds[0], KEY, 0, 0, NULL));
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, slot->lock);
	ASSERT_EQ(0, wv_unlock(fds[0], KEY, 0));
	EXPECT_EQ(0, slot->lock);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, wv_lock(fds[i], KEY, WEAVE_LOCK_SHARED, 0, NULL));
		EXPECT_EQ(i + 1, slot->lock);
	}
	ASSERT_EQ(0, op_start(&t, fds[3], OP_SET));
	EXPECT_TRUE(wv_until(slot->waiters == 1, 5000));
	EXPECT_EQ(3, slot->lock);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, wv_unlock(fds[i], KEY, 0));
	pthread_join(t.thread, NULL);
	EXPECT_EQ(0, t.ret);
	EXPECT_EQ(0, slot->lock);
	EXPECT_EQ(0, slot->waiters);
	EXPECT_FALSE(slot->flags & WEAVE_SLOT_OWNER_DIED);
	for (i = 0; i < 4; i++)
		close(fds[i]);
}

/* --- Limits ------------------------------------------------------------ */

TEST_F(lock, enolck_locks)
{
	int fd2, i;

	fd2 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, set_param(self, "max_locks", 3));
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(0, wv_lock(self->fd, i, 0, 0, NULL));
	EXPECT_EQ(-ENOLCK, wv_lock(self->fd, 4, 0, 0, NULL));
	EXPECT_EQ(-ENOLCK, wv_lock(self->fd, KEY, WEAVE_LOCK_SHARED, 0, NULL));
	/* The limit is per file. */
	EXPECT_EQ(0, wv_lock(fd2, 4, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd, 2, 0));
	EXPECT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	EXPECT_EQ(-ENOLCK, wv_lock(self->fd, 5, 0, 0, NULL));
	close(fd2);
}

TEST_F(lock, enolck_waiters)
{
	const volatile struct weave_slot *slot;
	struct op_thread t;
	int fd2, fd3;
	double t0;

	slot = wv_slot_of(self->fd, self->index, KEY);
	ASSERT_NE(NULL, slot);
	fd2 = wv_reopen(self->name, O_RDWR);
	fd3 = wv_reopen(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fd3, 0);
	ASSERT_EQ(0, set_param(self, "max_waiters", 1));
	ASSERT_EQ(0, wv_lock(self->fd, KEY, 0, 0, NULL));
	ASSERT_EQ(0, op_start(&t, fd2, OP_GET));
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	t0 = wv_now();
	EXPECT_EQ(-ENOLCK, wv_lock(fd3, KEY, WEAVE_LOCK_TIMED, 5000 * NS,
				   NULL));
	EXPECT_LT(wv_now() - t0, 2.0);
	EXPECT_EQ(1, slot->waiters);
	ASSERT_EQ(0, wv_unlock(self->fd, KEY, 0));
	pthread_join(t.thread, NULL);
	EXPECT_EQ(0, t.ret);
	close(fd2);
	close(fd3);
}

/* --- Exit releases every lock ------------------------------------------ */

#define MANY	1000

TEST_F_TIMEOUT(lock, exit_releases_all, 60)
{
	volatile int *sh = wv_shared(4096);
	int i, fd, held = 0, unlocked = 0, died = 0;
	__u32 result;

	ASSERT_NE(NULL, sh);
	for (i = 1; i <= MANY; i++)
		ASSERT_EQ(0, wv_set(self->fd, i, &i, sizeof(i), 0, NULL));
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0)
			_exit(1);
		for (i = 1; i <= MANY; i++)
			if (wv_lock(fd, i, 0, 0, NULL))
				_exit(2);
		sh[0] = 1;
		while (!sh[1])
			wv_sleep_ms(1);
		_exit(0);	/* holding them all */
	}
	ASSERT_TRUE(wv_until(sh[0], 30000));
	for (i = 1; i <= MANY; i++)
		if (wv_slot_of(self->fd, self->index, i)->lock ==
		    WEAVE_SLOT_LOCK_EXCL)
			held++;
	EXPECT_EQ(MANY, held);
	EXPECT_EQ(-EAGAIN, wv_lock(self->fd, MANY / 2, WEAVE_OP_NONBLOCK, 0,
				   NULL));
	sh[1] = 1;
	EXPECT_EQ(0, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;

	for (i = 1; i <= MANY; i++) {
		result = 0;
		if (!wv_lock(self->fd, i, WEAVE_OP_NONBLOCK, 0, &result))
			unlocked++;
		if (result & WEAVE_LOCK_OWNER_DIED)
			died++;
	}
	EXPECT_EQ(MANY, unlocked);
	/* Exclusive locks released by the last close: owner died. */
	EXPECT_EQ(MANY, died);
}

/* --- Deadlock safety of the kernel ------------------------------------- */

#define DL_PROCS	4
#define DL_KEYS		6
#define DL_SECONDS	3.0

struct dl_shared {
	__u64 incs[DL_PROCS][DL_KEYS];
	__u64 timeouts[DL_PROCS];
};

static int dl_bump(int fd, __u64 key)
{
	__u64 v;

	if (wv_get_u64(fd, key, &v) || wv_set_u64(fd, key, v + 1))
		return -1;
	return 0;
}

static int dl_child(const char *name, struct dl_shared *sh, int me)
{
	double end = wv_now() + DL_SECONDS;
	unsigned int seed = getpid();
	int fd, a, b, ret;

	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		return 10;
	while (wv_now() < end) {
		a = rand_r(&seed) % DL_KEYS;
		do
			b = rand_r(&seed) % DL_KEYS;
		while (b == a);
		ret = wv_lock(fd, a + 1, WEAVE_LOCK_TIMED,
			      (1 + rand_r(&seed) % 20) * NS, NULL);
		if (ret == -ETIMEDOUT) {
			sh->timeouts[me]++;
			continue;
		}
		if (ret)
			return 11;
		ret = wv_lock(fd, b + 1, WEAVE_LOCK_TIMED,
			      (1 + rand_r(&seed) % 20) * NS, NULL);
		if (ret == -ETIMEDOUT) {
			sh->timeouts[me]++;
			if (wv_unlock(fd, a + 1, 0))
				return 12;
			continue;
		}
		if (ret)
			return 13;
		if (dl_bump(fd, a + 1) || dl_bump(fd, b + 1))
			return 14;
		sh->incs[me][a]++;
		sh->incs[me][b]++;
		if (wv_unlock(fd, b + 1, 0) || wv_unlock(fd, a + 1, 0))
			return 15;
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(lock, deadlock_safety, 60)
{
	struct dl_shared *sh = wv_shared(sizeof(*sh));
	__u64 v, sum, total = 0, timeouts = 0;
	double t0 = wv_now();
	int i, k;

	ASSERT_NE(NULL, sh);
	for (k = 0; k < DL_KEYS; k++)
		ASSERT_EQ(0, wv_set_u64(self->fd, k + 1, 0));
	for (i = 0; i < DL_PROCS; i++) {
		self->pids[i] = fork();
		ASSERT_GE(self->pids[i], 0);
		if (!self->pids[i])
			_exit(dl_child(self->name, sh, i));
	}
	for (i = 0; i < DL_PROCS; i++) {
		EXPECT_EQ(0, wv_wait_pid(self->pids[i]));
		self->pids[i] = 0;
		timeouts += sh->timeouts[i];
	}
	EXPECT_LT(wv_now() - t0, DL_SECONDS + 20);
	for (k = 0; k < DL_KEYS; k++) {
		sum = 0;
		for (i = 0; i < DL_PROCS; i++)
			sum += sh->incs[i][k];
		ASSERT_EQ(0, wv_get_u64(self->fd, k + 1, &v));
		EXPECT_EQ(sum, v) TH_LOG("key %d", k + 1);
		total += sum;
		/* Nothing left locked. */
		EXPECT_EQ(0, wv_slot_of(self->fd, self->index, k + 1)->lock);
	}
	EXPECT_GT(total, 0);
	TH_LOG("%llu increments, %llu timeouts in %.2f s",
	       (unsigned long long)total, (unsigned long long)timeouts,
	       wv_now() - t0);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
