// SPDX-License-Identifier: GPL-2.0
/*
 * Change notification: watches, poll/epoll readiness and the event
 * records read() returns. Every kind of event caused by another process,
 * coalescing (in a short queue and in a long one, across partial reads),
 * many watchers against one fast writer, single-key watches,
 * the own-changes flag, the errors, blocking and non-blocking reads,
 * edge-triggered epoll and close() waking a sleeping reader.
 */
#include "weave_proc.h"

#include <sys/epoll.h>

#include "kselftest_harness.h"

struct ev_shared {
	__u64 gen;		/* the gen the child's last change got */
	__u64 size;
	int ready;
};

FIXTURE(event) {
	char name[64];
	int fd;			/* the test's own read-write file */
	int w;			/* a watcher, O_NONBLOCK, watching nothing yet */
	struct ev_shared *sh;
	pid_t pids[16];
	__u64 max_watches;	/* to restore, or 0 */
};

FIXTURE_SETUP(event)
{
	struct weave_api_args api;

	self->fd = wv_create(self->name, sizeof(self->name), "ev");
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_api(self->fd, &api));
	ASSERT_TRUE(api.features & WEAVE_FEATURE_EVENTS);
	self->w = wv_reopen(self->name, O_RDWR | O_NONBLOCK);
	ASSERT_GE(self->w, 0);
	self->sh = wv_shared(4096);
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(event)
{
	wv_reap(self->pids, ARRAY_SIZE(self->pids));
	if (self->max_watches)
		wv_param_set("max_watches", self->max_watches);
	close(self->w);
	close(self->fd);
	wv_unlink_name(self->name);
}

/* Read and discard everything pending on a non-blocking watcher. */
static int drain(int fd)
{
	struct weave_event ev[64];
	int n, total = 0;

	while ((n = wv_read_events(fd, ev, 64)) > 0)
		total += n;
	return n == -EAGAIN ? total : n;
}

enum child_op {
	C_SET, C_WRITE, C_RESIZE, C_DELETE, C_LOCK_UNLOCK, C_CLEAR, C_UNLINK,
};

/*
 * In a new process with its own file: after 50 ms (so that the parent is
 * already in poll()), do @op on @key with @arg (a length, size or offset)
 * and store the gen it got in sh->gen. Returns the pid.
 */
static pid_t child_op(const char *name, struct ev_shared *sh, int op,
		      __u64 key, __u64 arg)
{
	static const char data[4096];
	struct weave_write_args w;
	pid_t pid = fork();
	int fd, ret = -EINVAL;

	if (pid)
		return pid;
	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		_exit(1);
	wv_sleep_ms(50);
	switch (op) {
	case C_SET:
		ret = wv_set(fd, key, data, arg, 0, &sh->gen);
		break;
	case C_WRITE:
		ret = wv_write(fd, key, arg, data, 4, 0, &w);
		sh->gen = w.gen;
		sh->size = w.size;
		break;
	case C_RESIZE:
		ret = wv_resize(fd, key, arg, 0, &sh->gen);
		break;
	case C_DELETE:
		ret = wv_delete(fd, key, 0, &sh->gen);
		break;
	case C_LOCK_UNLOCK:
		ret = wv_lock(fd, key, 0, 0, NULL);
		if (!ret)
			ret = wv_unlock(fd, key, 0);
		break;
	case C_CLEAR:
		ret = wv_clear(fd, 0, NULL, &sh->gen);
		break;
	case C_UNLINK:
		ret = wv_unlink(fd, name);
		break;
	}
	_exit(ret ? 2 : 0);
}

/*
 * Run child_op(), wait in poll() for the watcher to become readable, and
 * read what it has: the number of records, or -errno.
 */
static int child_event(struct __test_metadata *_metadata,
		       FIXTURE_DATA(event) *self, int w, int op, __u64 key,
		       __u64 arg, struct weave_event *ev, int room)
{
	pid_t pid = child_op(self->name, self->sh, op, key, arg);
	int revents;

	if (pid < 0)
		return -errno;
	revents = wv_poll(w, 5000);
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(POLLIN, revents & (POLLIN | POLLERR));
	return wv_read_events(w, ev, room);
}

/* Expect exactly one record: @key with @mask, the gen and size given. */
#define EXPECT_ONE(n, ev, k, m, g, s) do {				\
	ASSERT_EQ(1, n);						\
	EXPECT_EQ(k, (ev)[0].key);					\
	EXPECT_EQ(m, (ev)[0].mask);					\
	EXPECT_EQ(g, (ev)[0].gen);					\
	EXPECT_EQ(s, (ev)[0].size);					\
	EXPECT_EQ(0, (ev)[0].reserved);					\
} while (0)

TEST_F(event, new_changed_resized_deleted)
{
	struct weave_event ev[8];
	struct weave_stat_args st;
	int n;

	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
	EXPECT_EQ(0, wv_poll(self->w, 0));

	n = child_event(_metadata, self, self->w, C_SET, 5, 3, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_NEW, self->sh->gen, 3);
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
	EXPECT_EQ(0, wv_poll(self->w, 0));

	n = child_event(_metadata, self, self->w, C_SET, 5, 3, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED, self->sh->gen, 3);
	n = child_event(_metadata, self, self->w, C_SET, 5, 100, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED | WEAVE_EV_RESIZED,
		   self->sh->gen, 100);
	n = child_event(_metadata, self, self->w, C_SET, 5, 10, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED | WEAVE_EV_RESIZED,
		   self->sh->gen, 10);

	/* A write inside the entry; a write that grows it. */
	n = child_event(_metadata, self, self->w, C_WRITE, 5, 2, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED, self->sh->gen, 10);
	n = child_event(_metadata, self, self->w, C_WRITE, 5, 20, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED | WEAVE_EV_RESIZED,
		   self->sh->gen, 24);

	n = child_event(_metadata, self, self->w, C_RESIZE, 5, 5000, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_RESIZED, self->sh->gen, 5000);
	n = child_event(_metadata, self, self->w, C_RESIZE, 5, 7, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_RESIZED, self->sh->gen, 7);
	ASSERT_EQ(0, wv_stat(self->fd, 5, &st));
	EXPECT_EQ(self->sh->gen, st.gen);

	/* Deletion: the deletion's gen, size 0. */
	n = child_event(_metadata, self, self->w, C_DELETE, 5, 0, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_DELETED, self->sh->gen, 0);
	EXPECT_GT(self->sh->gen, st.gen);
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
}

TEST_F(event, unlocked_and_owner_died)
{
	struct weave_event ev[8];
	struct weave_stat_args st;
	int n, fd;

	ASSERT_EQ(0, wv_set(self->fd, 5, "abc", 3, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 5, &st));
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));

	/* A lock is no event; its unlock is. */
	n = child_event(_metadata, self, self->w, C_LOCK_UNLOCK, 5, 0, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_UNLOCKED, st.gen, 3);

	/* An exclusive holder killed. */
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0 || wv_lock(fd, 5, 0, 0, NULL))
			_exit(1);
		__atomic_store_n(&self->sh->ready, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	ASSERT_TRUE(wv_until(__atomic_load_n(&self->sh->ready,
					     __ATOMIC_ACQUIRE), 5000));
	EXPECT_EQ(0, wv_poll(self->w, 0));
	kill(self->pids[0], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wv_wait_pid(self->pids[0]));
	self->pids[0] = 0;
	EXPECT_EQ(POLLIN, wv_poll(self->w, 5000));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_UNLOCKED | WEAVE_EV_OWNER_DIED,
		   st.gen, 3);

	/* A shared holder killed: unlocked, not owner-died. */
	self->sh->ready = 0;
	self->pids[0] = fork();
	ASSERT_GE(self->pids[0], 0);
	if (!self->pids[0]) {
		fd = wv_reopen(self->name, O_RDONLY);
		if (fd < 0 || wv_lock(fd, 5, WEAVE_LOCK_SHARED, 0, NULL))
			_exit(1);
		__atomic_store_n(&self->sh->ready, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	ASSERT_TRUE(wv_until(__atomic_load_n(&self->sh->ready,
					     __ATOMIC_ACQUIRE), 5000));
	kill(self->pids[0], SIGKILL);
	wv_wait_pid(self->pids[0]);
	self->pids[0] = 0;
	EXPECT_EQ(POLLIN, wv_poll(self->w, 5000));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_UNLOCKED, st.gen, 3);

	/* Only the bits asked for: a watch of OWNER_DIED misses a plain unlock. */
	ASSERT_EQ(0, wv_watch(self->w, 5, WEAVE_EV_OWNER_DIED, 0));
	ASSERT_EQ(0, wv_unwatch(self->w, 0));
	ASSERT_EQ(0, wv_lock(self->fd, 5, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd, 5, 0));
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
}

TEST_F(event, cleared_and_unlinked)
{
	struct weave_event ev[8];
	int w2, n, i;
	__u64 g5, g6;

	w2 = wv_reopen(self->name, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(w2, 0);
	ASSERT_EQ(0, wv_set(self->fd, 5, "a", 1, 0, &g5));
	ASSERT_EQ(0, wv_set(self->fd, 6, "b", 1, 0, &g6));
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_watch(w2, 5, WEAVE_EV_ALL, 0));

	n = child_event(_metadata, self, self->w, C_CLEAR, 0, 0, ev, 8);
	ASSERT_EQ(3, n);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(WEAVE_EV_DELETED, ev[i].mask);
		EXPECT_EQ(0, ev[i].size);
		EXPECT_GT(ev[i].gen, g6);
		EXPECT_LE(ev[i].gen, self->sh->gen);
	}
	EXPECT_EQ(11, ev[0].key + ev[1].key);
	EXPECT_EQ(0, ev[2].key);
	EXPECT_EQ(WEAVE_EV_CLEARED, ev[2].mask);

	/* A watch of key 5 gets its deletion, not the registry's CLEARED. */
	n = wv_read_events(w2, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(5, ev[0].key);
	EXPECT_EQ(WEAVE_EV_DELETED, ev[0].mask);

	n = child_event(_metadata, self, self->w, C_UNLINK, 0, 0, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, ev[0].key);
	EXPECT_EQ(WEAVE_EV_UNLINKED, ev[0].mask);
	EXPECT_EQ(-EAGAIN, wv_read_events(w2, ev, 8));
	close(w2);
}

TEST_F(event, coalescing_and_order)
{
	struct weave_event ev[8];
	__u64 gen, g3, g1, g2;
	pid_t pid;
	int fd, i, n;
	char buf[64] = "";

	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));

	/* Many changes by another process between two reads: one record. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0)
			_exit(1);
		for (i = 0; i < 50; i++)
			if (wv_set(fd, 9, buf, 8 + i % 3, 0, &gen))
				_exit(2);
		if (wv_resize(fd, 9, 40, 0, &gen))
			_exit(3);
		if (wv_write(fd, 9, 0, "xy", 2, 0, NULL))
			_exit(4);
		if (wv_set(fd, 9, buf, 12, 0, &self->sh->gen))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(POLLIN, wv_poll(self->w, 0));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 9, WEAVE_EV_NEW | WEAVE_EV_CHANGED |
		   WEAVE_EV_RESIZED, self->sh->gen, 12);

	/* The mask starts afresh after a read. */
	ASSERT_EQ(0, wv_set(self->fd, 9, buf, 12, 0, &gen));
	ASSERT_EQ(0, wv_set(self->fd, 9, buf, 12, 0, &gen));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 9, WEAVE_EV_CHANGED, gen, 12);

	/* Oldest first, by the first pending event. */
	ASSERT_EQ(0, wv_set(self->fd, 3, "3", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 1, "1", 1, 0, &g1));
	ASSERT_EQ(0, wv_set(self->fd, 2, "2", 1, 0, &g2));
	ASSERT_EQ(0, wv_set(self->fd, 3, "33", 2, 0, &g3));
	n = wv_read_events(self->w, ev, 8);
	ASSERT_EQ(3, n);
	EXPECT_EQ(3, ev[0].key);
	EXPECT_EQ(g3, ev[0].gen);
	EXPECT_EQ(2, ev[0].size);
	EXPECT_EQ(WEAVE_EV_NEW | WEAVE_EV_CHANGED | WEAVE_EV_RESIZED,
		  ev[0].mask);
	EXPECT_EQ(1, ev[1].key);
	EXPECT_EQ(g1, ev[1].gen);
	EXPECT_EQ(2, ev[2].key);
	EXPECT_EQ(g2, ev[2].gen);

	/* Whole records only: room for 2 gives 2, the third stays. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "1", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, "2", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 3, "3", 1, 0, NULL));
	n = read(self->w, ev, 2 * sizeof(ev[0]) + 31);
	EXPECT_EQ(2 * sizeof(ev[0]), n);
	n = wv_read_events(self->w, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(3, ev[0].key);
}

/*
 * A short queue is searched by walking it, a long one (8 or more) by hash
 * until it drains: coalescing must find a key's record either way, across
 * partial reads, and the same key is never in a queue twice.
 */
TEST_F(event, coalescing_long_queue)
{
	__u64 gen[21] = { 0 }, seen[21] = { 0 }, order[32], g;
	struct weave_event ev[32];
	int i, n, total = 0;

	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	for (i = 1; i <= 20; i++)
		ASSERT_EQ(0, wv_set(self->fd, i, "v", 1, 0, &gen[i]));

	/* A read with room for 5 of the 20: the oldest 5. */
	n = wv_read_events(self->w, ev, 5);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i + 1, ev[i].key);
		EXPECT_EQ(gen[i + 1], ev[i].gen);
		EXPECT_EQ(WEAVE_EV_NEW, ev[i].mask);
	}

	/* Keys 6..10 still pending: a change joins their records. */
	for (i = 6; i <= 10; i++)
		ASSERT_EQ(0, wv_set(self->fd, i, "vv", 2, 0, &gen[i]));
	/* Keys 1..3 were read: they queue afresh, at the end. */
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(0, wv_set(self->fd, i, "w", 1, 0, &gen[i]));

	/* 8 at a time (the kernel's stack batch), then the rest. */
	while ((n = wv_read_events(self->w, ev, total ? 32 : 8)) > 0) {
		for (i = 0; i < n; i++) {
			ASSERT_GE(ev[i].key, 1);
			ASSERT_LE(ev[i].key, 20);
			EXPECT_EQ(0, seen[ev[i].key]) TH_LOG("key %llu twice",
					(unsigned long long)ev[i].key);
			seen[ev[i].key] = ev[i].gen;
			if (total + i < 32)
				order[total + i] = ev[i].key;
			if (ev[i].key >= 6 && ev[i].key <= 10) {
				EXPECT_EQ(2, ev[i].size);
				EXPECT_EQ(WEAVE_EV_NEW | WEAVE_EV_CHANGED |
					  WEAVE_EV_RESIZED, ev[i].mask);
			}
		}
		if (!total)
			EXPECT_EQ(8, n);
		total += n;
	}
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_EQ(18, total);
	for (i = 1; i <= 20; i++)
		if (i < 4 || i > 5)
			EXPECT_EQ(gen[i], seen[i]) TH_LOG("key %d", i);
	/* Oldest first: a joined record keeps its place; 1..3 come last. */
	for (i = 0; i < 18; i++)
		EXPECT_EQ(i < 15 ? i + 6 : i - 14, order[i]) TH_LOG("at %d", i);

	/* Drained: short again, and still coalescing. */
	ASSERT_EQ(0, wv_set(self->fd, 4, "x", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 5, "x", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 4, "xy", 2, 0, &g));
	n = wv_read_events(self->w, ev, 32);
	ASSERT_EQ(2, n);
	EXPECT_EQ(4, ev[0].key);
	EXPECT_EQ(g, ev[0].gen);
	EXPECT_EQ(WEAVE_EV_CHANGED | WEAVE_EV_RESIZED, ev[0].mask);
	EXPECT_EQ(5, ev[1].key);
}

/* --- Many watchers, one fast writer ------------------------------------ */

#define STORM_WATCHERS	8
#define STORM_KEYS	100
#define STORM_SETS	20000

struct storm_shared {
	__u64 final[STORM_KEYS + 1];	/* the writer's last gen per key */
	int ready;
	int go;
	int done;
	int max_batch[STORM_WATCHERS];
	long records[STORM_WATCHERS];
};

static int storm_watcher(const char *name, struct storm_shared *sh, int me)
{
	__u64 last[STORM_KEYS + 1] = { 0 };
	struct weave_event ev[256];
	bool done = false;
	int fd, n, i, k;

	fd = wv_reopen(name, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return 10;
	if (wv_watch(fd, 0, WEAVE_EV_NEW | WEAVE_EV_CHANGED, 0))
		return 11;
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		if (!done && __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE))
			done = true;	/* every set has returned: drain */
		n = wv_read_events(fd, ev, 256);
		if (n == -EAGAIN) {
			if (done)
				break;
			wv_poll(fd, 100);
			continue;
		}
		if (n < 0)
			return 12;
		if (n > sh->max_batch[me])
			sh->max_batch[me] = n;
		if (n > STORM_KEYS)
			return 13;	/* more records than keys */
		sh->records[me] += n;
		for (i = 0; i < n; i++) {
			k = ev[i].key;
			if (k < 1 || k > STORM_KEYS)
				return 14;
			if (ev[i].gen < last[k])
				return 15;	/* a gen went backwards */
			last[k] = ev[i].gen;
		}
	}
	for (k = 1; k <= STORM_KEYS; k++)
		if (last[k] != sh->final[k])
			return 16;
	return 0;
}

static int storm_writer(const char *name, struct storm_shared *sh)
{
	__u64 gen, v;
	int fd, i, k;

	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		return 20;
	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < STORM_SETS; i++) {
		k = 1 + i % STORM_KEYS;
		v = i;
		if (wv_set(fd, k, &v, sizeof(v), 0, &gen))
			return 21;
		sh->final[k] = gen;
	}
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* 20,000 sets to 8 watchers: ~3 s on 6.1, ~80 s under KASAN and kmemleak. */
TEST_F_TIMEOUT(event, storm, 240)
{
	struct storm_shared *sh = wv_shared(sizeof(struct storm_shared));
	double t0;
	long total = 0;
	int i, max = 0;

	ASSERT_NE(NULL, sh);
	for (i = 0; i < STORM_WATCHERS; i++) {
		self->pids[i] = fork();
		ASSERT_GE(self->pids[i], 0);
		if (!self->pids[i])
			_exit(storm_watcher(self->name, sh, i));
	}
	ASSERT_TRUE(wv_until(__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) ==
			     STORM_WATCHERS, 10000));
	self->pids[STORM_WATCHERS] = fork();
	ASSERT_GE(self->pids[STORM_WATCHERS], 0);
	if (!self->pids[STORM_WATCHERS])
		_exit(storm_writer(self->name, sh));
	t0 = wv_now();
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, wv_wait_pid(self->pids[STORM_WATCHERS]));
	self->pids[STORM_WATCHERS] = 0;
	TH_LOG("writer: %d sets in %.2f s", STORM_SETS, wv_now() - t0);
	for (i = 0; i < STORM_WATCHERS; i++) {
		EXPECT_EQ(0, wv_wait_pid(self->pids[i])) TH_LOG("watcher %d", i);
		self->pids[i] = 0;
		total += sh->records[i];
		if (sh->max_batch[i] > max)
			max = sh->max_batch[i];
		EXPECT_GE(sh->records[i], STORM_KEYS);
	}
	EXPECT_LE(max, STORM_KEYS);
	TH_LOG("watchers: %ld records in all, largest read %d, %.2f s",
	       total, max, wv_now() - t0);
	munmap(sh, sizeof(*sh));
}

/* --- Watch a single key, unwatch, own changes -------------------------- */

TEST_F(event, single_key_and_unwatch)
{
	struct weave_event ev[8];
	pid_t pid;
	int fd, n;

	ASSERT_EQ(0, wv_watch(self->w, 5, WEAVE_EV_ALL, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		fd = wv_reopen(self->name, O_RDWR);
		if (fd < 0 || wv_set(fd, 6, "6", 1, 0, NULL) ||
		    wv_set(fd, 5, "5", 1, 0, &self->sh->gen) ||
		    wv_set(fd, 7, "7", 1, 0, NULL) || wv_delete(fd, 6, 0, NULL))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, wv_wait_pid(pid));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_NEW, self->sh->gen, 1);

	/* Unwatch: no more events; pending ones stay readable. */
	ASSERT_EQ(0, wv_set(self->fd, 5, "55", 2, 0, NULL));
	ASSERT_EQ(0, wv_unwatch(self->w, 5));
	EXPECT_EQ(-ENOENT, wv_unwatch(self->w, 5));
	EXPECT_EQ(-ENOENT, wv_unwatch(self->w, 0));
	EXPECT_EQ(-ENOENT, wv_unwatch(self->w, 6));
	n = wv_read_events(self->w, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(5, ev[0].key);
	pid = child_op(self->name, self->sh, C_SET, 5, 3);
	ASSERT_GE(pid, 0);
	EXPECT_EQ(0, wv_poll(self->w, 300));
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));

	/* A file that watches nothing gets nothing. */
	fd = wv_reopen(self->name, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(self->fd, 5, "5", 1, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_read_events(fd, ev, 8));
	EXPECT_EQ(0, wv_poll(fd, 0));
	close(fd);
}

TEST_F(event, own_changes)
{
	struct weave_event ev[8];
	__u64 gen;
	int n;

	/* Default: a file sees its own changes. */
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_set(self->w, 5, "a", 1, 0, &gen));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_NEW, gen, 1);

	/* NO_SELF (watching again replaces the flags). */
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, WEAVE_WATCH_NO_SELF));
	ASSERT_EQ(0, wv_set(self->w, 5, "b", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->w, 6, "b", 1, 0, NULL));
	ASSERT_EQ(0, wv_lock(self->w, 5, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->w, 5, 0));
	ASSERT_EQ(0, wv_delete(self->w, 6, 0, NULL));
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
	EXPECT_EQ(0, wv_poll(self->w, 0));
	/* Others' changes still come. */
	n = child_event(_metadata, self, self->w, C_SET, 5, 2, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED | WEAVE_EV_RESIZED,
		   self->sh->gen, 2);
	ASSERT_EQ(0, wv_set(self->fd, 5, "cc", 2, 0, &gen));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED, gen, 2);

	/* Back to the default. */
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_set(self->w, 5, "dd", 2, 0, &gen));
	n = wv_read_events(self->w, ev, 8);
	EXPECT_ONE(n, ev, 5, WEAVE_EV_CHANGED, gen, 2);
}

/* --- Errors ------------------------------------------------------------ */

TEST_F(event, einval)
{
	struct weave_watch_args wa;
	struct weave_event ev[2];
	char small[31];
	int fd;

	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, 0, 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 0, 0, 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, WEAVE_EV_OVERFLOW, 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, 1U << 9, 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, ~0U, 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, WEAVE_EV_NEW | (1U << 31), 0));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, WEAVE_EV_ALL, 2));
	EXPECT_EQ(-EINVAL, wv_watch(self->w, 5, WEAVE_EV_ALL,
				    ~WEAVE_WATCH_VALID));
	/* None of those made a watch. */
	EXPECT_EQ(-ENOENT, wv_unwatch(self->w, 5));
	EXPECT_EQ(-ENOENT, wv_unwatch(self->w, 0));

	ASSERT_EQ(0, wv_watch(self->w, 5, WEAVE_EV_ALL, 0));
	memset(&wa, 0, sizeof(wa));
	wa.key = 5;
	wa.events = WEAVE_EV_NEW;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->w, WEAVE_IOC_UNWATCH, &wa));
	wa.events = 0;
	wa.flags = WEAVE_WATCH_NO_SELF;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->w, WEAVE_IOC_UNWATCH, &wa));
	EXPECT_EQ(0, wv_unwatch(self->w, 5));

	/* A buffer smaller than one record, with and without records. */
	EXPECT_EQ(-1, read(self->w, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_set(self->fd, 5, "x", 1, 0, NULL));
	EXPECT_EQ(-1, read(self->w, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->w, small, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, wv_read_events(self->w, ev, 2));

	/* Unattached: EBADFD, and poll reports an error. */
	fd = wv_dev(O_RDWR | O_NONBLOCK);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADFD, wv_watch(fd, 0, WEAVE_EV_ALL, 0));
	EXPECT_EQ(-EBADFD, wv_unwatch(fd, 0));
	EXPECT_EQ(-EBADFD, wv_read_events(fd, ev, 2));
	EXPECT_TRUE(wv_poll(fd, 0) & POLLERR);
	close(fd);
}

TEST_F(event, watch_limit)
{
	int i, ret = 0;

	ASSERT_EQ(0, wv_param("max_watches", &self->max_watches));
	ASSERT_EQ(0, wv_param_set("max_watches", 4));
	for (i = 1; i <= 4 && !ret; i++)
		ret = wv_watch(self->w, i, WEAVE_EV_ALL, 0);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(-ENOSPC, wv_watch(self->w, 5, WEAVE_EV_ALL, 0));
	/* Watching a key again replaces: no new watch. */
	EXPECT_EQ(0, wv_watch(self->w, 4, WEAVE_EV_NEW, 0));
	EXPECT_EQ(0, wv_unwatch(self->w, 4));
	EXPECT_EQ(0, wv_watch(self->w, 5, WEAVE_EV_ALL, 0));
}

/* --- Blocking and non-blocking reads ----------------------------------- */

static volatile sig_atomic_t sig_count;

static void count_sig(int sig)
{
	sig_count++;
}

TEST_F(event, blocking_read)
{
	struct wv_timer t = { .sig = SIGUSR1, .delay_ms = 200 };
	struct weave_event ev[8];
	double t0, dt;
	pid_t pid;
	int wb, n;

	wb = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(wb, 0);
	ASSERT_EQ(0, wv_watch(wb, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	EXPECT_EQ(-EAGAIN, wv_read_events(self->w, ev, 8));
	/* O_NONBLOCK set later with fcntl works as well. */
	ASSERT_EQ(0, fcntl(wb, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, wv_read_events(wb, ev, 8));
	ASSERT_EQ(0, fcntl(wb, F_SETFL, 0));

	/* Woken by a change in another process. */
	pid = child_op(self->name, self->sh, C_SET, 5, 4);
	ASSERT_GE(pid, 0);
	t0 = wv_now();
	n = wv_read_events(wb, ev, 8);
	dt = wv_now() - t0;
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_ONE(n, ev, 5, WEAVE_EV_NEW, self->sh->gen, 4);
	EXPECT_GE(dt, 0.02);
	EXPECT_LT(dt, 5.0);

	/* A signal without SA_RESTART: EINTR. */
	ASSERT_EQ(0, wv_sigaction(SIGUSR1, count_sig, false));
	sig_count = 0;
	ASSERT_EQ(0, wv_timer_start(&t));
	EXPECT_EQ(-EINTR, wv_read_events(wb, ev, 8));
	wv_timer_join(&t);
	EXPECT_EQ(1, sig_count);
	close(wb);
}

struct closer {
	pthread_t thread;
	int fd;
	int ret;
	volatile double done;
};

static void *read_fn(void *p)
{
	struct closer *c = p;
	struct weave_event ev[4];

	c->ret = wv_read_events(c->fd, ev, 4);
	c->done = wv_now();
	return NULL;
}

/* close() by another thread wakes the sleeping reader with EBADF. */
TEST_F(event, close_wakes_reader)
{
	struct closer c = { 0 };
	double t_close;

	c.fd = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(c.fd, 0);
	ASSERT_EQ(0, wv_watch(c.fd, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, pthread_create(&c.thread, NULL, read_fn, &c));
	wv_sleep_ms(300);
	EXPECT_EQ(0, c.done);
	t_close = wv_now();
	ASSERT_EQ(0, close(c.fd));
	EXPECT_TRUE(wv_until(c.done != 0, 3000));
	if (!c.done) {
		/* Unstick the reader so that the test can end. */
		ASSERT_EQ(0, wv_set(self->fd, 1, "x", 1, 0, NULL));
	}
	pthread_join(c.thread, NULL);
	EXPECT_EQ(-EBADF, c.ret);
	EXPECT_LT(c.done - t_close, 1.0);
}

/* --- epoll, edge-triggered --------------------------------------------- */

static pid_t set_batch(const char *name, int nkeys)
{
	pid_t pid = fork();
	int fd, k;

	if (pid)
		return pid;
	fd = wv_reopen(name, O_RDWR);
	if (fd < 0)
		_exit(1);
	for (k = 1; k <= nkeys; k++)
		if (wv_set(fd, k, &k, sizeof(k), 0, NULL))
			_exit(2);
	_exit(0);
}

TEST_F(event, epoll_edge_triggered)
{
	struct epoll_event ee = { .events = EPOLLIN | EPOLLET }, out[4];
	struct weave_event ev[3];
	int ep, round, n, total, seen;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	ee.data.fd = self->w;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->w, &ee));
	ASSERT_EQ(0, wv_watch(self->w, 0, WEAVE_EV_ALL, 0));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

	for (round = 0; round < 2; round++) {
		/* A batch of 10 changes, made before we look. */
		self->pids[0] = set_batch(self->name, 10);
		ASSERT_GE(self->pids[0], 0);
		ASSERT_EQ(0, wv_wait_pid(self->pids[0]));
		self->pids[0] = 0;

		EXPECT_EQ(1, epoll_wait(ep, out, 4, 2000));
		EXPECT_EQ(EPOLLIN, out[0].events & (EPOLLIN | EPOLLERR));
		/* One wakeup per batch. */
		EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

		/* Drain in small reads until EAGAIN. */
		total = 0;
		seen = 0;
		while ((n = wv_read_events(self->w, ev, 3)) > 0) {
			EXPECT_LE(n, 3);
			for (int i = 0; i < n; i++)
				seen |= 1 << ev[i].key;
			total += n;
		}
		EXPECT_EQ(-EAGAIN, n);
		EXPECT_EQ(10, total);
		EXPECT_EQ(0x7fe, seen);
		EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	}

	/* Not drained: edge-triggered reports nothing new... */
	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, "a", 1, 0, NULL));
	EXPECT_EQ(1, epoll_wait(ep, out, 4, 1000));
	EXPECT_EQ(1, wv_read_events(self->w, ev, 1));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	/* ...until a new record arrives. */
	ASSERT_EQ(0, wv_set(self->fd, 3, "a", 1, 0, NULL));
	EXPECT_EQ(1, epoll_wait(ep, out, 4, 1000));
	EXPECT_EQ(2, drain(self->w));
	close(ep);
}

TEST_HARNESS_MAIN
