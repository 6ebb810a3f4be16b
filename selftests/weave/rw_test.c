// SPDX-License-Identifier: GPL-2.0
/*
 * Writable views: the file that holds a key's lock exclusively may map
 * the entry writable and write its pages in place; the mapping works
 * while that file holds the lock exclusively, and the kernel revokes its
 * pages when the hold ends (unlock, downgrade, close, death), publishing
 * the period of writing as one change. What is refused, what is revoked
 * when, lock periods, what readers see meanwhile, resize, delete and
 * seal while mapped, fork, and owner death.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "weave_util.h"
#include "weave_proc.h"

#include "kselftest_harness.h"

#define PS		4096
#define LEN		(2 * PS + 100)

FIXTURE(rw) {
	int fd;
	struct weave_info_args info;
	unsigned char val[LEN];
};

FIXTURE_SETUP(rw)
{
	self->fd = wv_open_anon(0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, wv_info(self->fd, &self->info));
	wv_pattern(self->val, sizeof(self->val), 3);
	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, LEN, 0, NULL));
}

FIXTURE_TEARDOWN(rw)
{
	close(self->fd);
}

/* mmap() @key's whole span with @prot; MAP_FAILED and errno on failure. */
static unsigned char *map_span(int fd, __u64 key, int prot)
{
	struct weave_stat_args st;

	if (wv_stat(fd, key, &st)) {
		errno = ENOENT;
		return MAP_FAILED;
	}
	return mmap(NULL, st.map_size, prot, MAP_SHARED, fd, st.map_offset);
}

static size_t span(FIXTURE_DATA(rw) *self)
{
	return self->info.entry_span;
}

/* 0 when a one-byte store at @p works, else the signal it raised. */
static int try_write(unsigned char *p, unsigned char v)
{
	return wv_probe_copy(p, &v, 1);
}

static __u64 gen_of(int fd, __u64 key)
{
	struct weave_stat_args st;

	return wv_stat(fd, key, &st) ? 0 : st.gen;
}

/* The slot's seq of @key, read from a fresh map of the index. */
static __u32 seq_of(int fd, __u64 key)
{
	struct weave_stat_args st;
	size_t isize;
	void *index = wv_map_index(fd, &isize);
	__u32 seq;

	if (!index || wv_stat(fd, key, &st))
		return 0xffffffff;
	seq = wv_seq_read(&wv_slot(index, st.slot)->seq);
	munmap(index, isize);
	return seq;
}

TEST_F(rw, refused)
{
	unsigned char *m;
	int ro, other;

	/* Without the lock. */
	EXPECT_EQ(MAP_FAILED, map_span(self->fd, 1, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
	/* With a shared lock. */
	ASSERT_EQ(0, wv_lock(self->fd, 1, WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(MAP_FAILED, map_span(self->fd, 1, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	/* With another file's exclusive lock. */
	other = wv_reopen_file(self->fd, 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, wv_lock(other, 1, 0, 0, NULL));
	EXPECT_EQ(MAP_FAILED, map_span(self->fd, 1, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
	close(other);
	/* Through a read-only file: mmap() itself refuses. */
	ro = wv_reopen_file(self->fd, WEAVE_REOPEN_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(MAP_FAILED, map_span(ro, 1, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	close(ro);

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	/* The index never. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PS, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EACCES, errno);
	/* A private mapping never. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PS, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd,
				   self->info.index_size));
	/* A read-only view cannot be made writable, lock or not. */
	m = map_span(self->fd, 1, PROT_READ);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, mprotect(m, PS, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(m, span(self));
	/* A locked key without an entry has no view. */
	ASSERT_EQ(0, wv_lock(self->fd, 2, 0, 0, NULL));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PS, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->fd,
				   self->info.index_size + span(self)));
	EXPECT_EQ(ENXIO, errno);
	/* A sealed entry stays sealed. */
	ASSERT_EQ(0, wv_set(self->fd, 3, "s", 1, WEAVE_SET_SEAL, NULL));
	ASSERT_EQ(0, wv_lock(self->fd, 3, 0, 0, NULL));
	EXPECT_EQ(MAP_FAILED, map_span(self->fd, 3, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
}

/*
 * Write in place, unlock: another process's file sees the bytes, one
 * gen later, with one CHANGED event; meanwhile its GET waits behind the
 * lock and the slot's seq is odd.
 */
TEST_F(rw, write_and_publish)
{
	struct weave_event ev[4];
	struct weave_get_args g;
	unsigned char got[LEN], *m;
	__u64 g0, g1;
	pid_t pid;
	int w;
	ssize_t n;

	w = wv_reopen_file(self->fd, WEAVE_REOPEN_NONBLOCK);
	ASSERT_LE(0, w);
	ASSERT_EQ(0, wv_watch(w, 1, WEAVE_EV_ALL, 0));
	g0 = gen_of(self->fd, 1);

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, memcmp(m, self->val, LEN));
	EXPECT_EQ(1, seq_of(self->fd, 1) & 1);
	memset(m, 0x5c, LEN);
	/* Others wait behind the lock; nothing is published yet. */
	EXPECT_EQ(-EAGAIN, wv_get(w, 1, got, sizeof(got), 0, 0, NULL));
	EXPECT_EQ(g0, gen_of(self->fd, 1));
	EXPECT_EQ(-1, read(w, ev, sizeof(ev)));

	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	g1 = gen_of(self->fd, 1);
	EXPECT_EQ(g0 + 1, g1);
	EXPECT_EQ(0, seq_of(self->fd, 1) & 1);
	/* Another process, through its own file, sees the new bytes. */
	memset(self->val, 0x5c, LEN);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (wv_get(w, 1, got, sizeof(got), 0, 0, &g) ||
		    g.gen != g1 || memcmp(got, self->val, LEN))
			_exit(1);
		n = read(w, ev, sizeof(ev));
		_exit(n != sizeof(ev[0]) || ev[0].key != 1 ||
		      ev[0].mask != (WEAVE_EV_CHANGED | WEAVE_EV_UNLOCKED) ||
		      ev[0].gen != g1 || ev[0].size != LEN ? 2 : 0);
	}
	EXPECT_EQ(0, wv_wait_pid(pid));

	/* Revoked: writing or reading now is SIGBUS. */
	EXPECT_EQ(SIGBUS, try_write(m, 1));
	EXPECT_EQ(SIGBUS, wv_probe(m + PS, NULL));
	munmap(m, span(self));
	close(w);
}

/*
 * A writable mapping works while its file holds the lock exclusively,
 * in every lock period; a period in which nothing touches it publishes
 * nothing.
 */
TEST_F(rw, lock_periods)
{
	unsigned char *m1, *m2;
	__u64 g0 = gen_of(self->fd, 1);
	int other;

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m1 = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m1);
	/* A second mapping in the same hold shares the grant. */
	m2 = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m2);
	EXPECT_EQ(0, try_write(m1, 1));
	EXPECT_EQ(0, try_write(m2 + 1, 2));
	EXPECT_EQ(2, m1[1]);
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	EXPECT_EQ(g0 + 1, gen_of(self->fd, 1));
	EXPECT_EQ(SIGBUS, try_write(m1, 8));
	EXPECT_EQ(SIGBUS, wv_probe(m2, NULL));

	/* Locked again: the same mappings work again, one change more. */
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	EXPECT_EQ(0, seq_of(self->fd, 1) & 1);
	EXPECT_EQ(0, try_write(m1, 7));
	EXPECT_EQ(1, seq_of(self->fd, 1) & 1);
	EXPECT_EQ(7, m2[0]);
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	EXPECT_EQ(g0 + 2, gen_of(self->fd, 1));

	/* A lock period that touches nothing changes nothing. */
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	EXPECT_EQ(g0 + 2, gen_of(self->fd, 1));

	/* Another file's lock is not this mapping's. */
	other = wv_reopen_file(self->fd, 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, wv_lock(other, 1, 0, 0, NULL));
	EXPECT_EQ(SIGBUS, try_write(m1, 9));
	close(other);
	munmap(m1, span(self));
	munmap(m2, span(self));
}

/* A downgrade to shared ends the grant too. */
TEST_F(rw, downgrade)
{
	unsigned char *m;
	__u64 g0 = gen_of(self->fd, 1);

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, try_write(m, 9));
	ASSERT_EQ(0, wv_lock(self->fd, 1, WEAVE_LOCK_CONVERT |
			     WEAVE_LOCK_SHARED, 0, NULL));
	EXPECT_EQ(SIGBUS, try_write(m, 9));
	EXPECT_EQ(g0 + 1, gen_of(self->fd, 1));
	EXPECT_EQ(0, seq_of(self->fd, 1) & 1);
	munmap(m, span(self));
}

/*
 * The mapping does not keep the holder's file open: closing its last
 * descriptor releases the lock (owner died) and revokes the mapping.
 */
TEST_F(rw, close_revokes)
{
	unsigned char *m;
	__u32 result = 0;
	__u64 g0 = gen_of(self->fd, 1);
	int fd2 = wv_reopen_file(self->fd, 0);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, wv_lock(fd2, 1, 0, 0, NULL));
	m = map_span(fd2, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, try_write(m, 4));
	close(fd2);
	EXPECT_EQ(SIGBUS, try_write(m, 5));
	EXPECT_EQ(g0 + 1, gen_of(self->fd, 1));
	ASSERT_EQ(0, wv_lock(self->fd, 1, WEAVE_OP_NONBLOCK, 0, &result));
	EXPECT_EQ(WEAVE_LOCK_OWNER_DIED, result);
	munmap(m, span(self));
}

/* A holder killed mid-write: owner died, its writes published once. */
TEST_F(rw, holder_killed)
{
	volatile int *ready = wv_shared(sizeof(*ready));
	unsigned char got[16];
	int i;
	__u32 result = 0;
	__u64 g0 = gen_of(self->fd, 1);
	pid_t pid;

	ASSERT_NE(NULL, ready);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd2 = wv_reopen_file(self->fd, 0);
		volatile unsigned char *m;

		if (fd2 < 0 || wv_lock(fd2, 1, 0, 0, NULL))
			_exit(1);
		m = map_span(fd2, 1, PROT_READ | PROT_WRITE);
		if (m == MAP_FAILED)
			_exit(2);
		for (i = 0; i < 16; i++)
			m[i] = 0xee;
		__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
		for (;;)
			m[16] ^= 1;	/* writing when the kill comes */
	}
	while (!*ready)
		usleep(1000);
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wv_wait_pid(pid));

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, &result));
	EXPECT_EQ(WEAVE_LOCK_OWNER_DIED, result);
	EXPECT_EQ(g0 + 1, gen_of(self->fd, 1));
	ASSERT_EQ(0, wv_get(self->fd, 1, got, sizeof(got), 0, 0, NULL));
	memset(self->val, 0xee, 16);
	EXPECT_EQ(0, memcmp(got, self->val, 16))
		TH_LOG("got %02x %02x .. %02x", got[0], got[1], got[15]);
}

/*
 * A fork child shares the parent's file, lock and mapping: it may write
 * until the parent unlocks, then gets SIGBUS.
 */
TEST_F(rw, fork_child)
{
	int go[2], done[2];
	unsigned char *m;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (try_write(m + 1, 0x11))
			_exit(1);
		if (write(done[1], "w", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(try_write(m + 1, 0x12) == SIGBUS ? 0 : 3);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	EXPECT_EQ(0x11, m[1]);
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, wv_wait_pid(pid));
	munmap(m, span(self));
}

/*
 * The child shares the mapping but closes its descriptor: the holder's
 * death then closes the file, which revokes the child's mapping too.
 */
TEST_F(rw, holder_killed_child_revoked)
{
	volatile int *state = wv_shared(sizeof(*state));
	pid_t holder, child;

	ASSERT_NE(NULL, state);
	holder = fork();
	ASSERT_LE(0, holder);
	if (!holder) {
		int fd2 = wv_reopen_file(self->fd, 0);
		unsigned char *m;

		if (fd2 < 0 || wv_lock(fd2, 1, 0, 0, NULL))
			_exit(1);
		m = map_span(fd2, 1, PROT_READ | PROT_WRITE);
		if (m == MAP_FAILED)
			_exit(2);
		child = fork();
		if (!child) {
			close(fd2);
			close(self->fd);
			if (try_write(m, 0x21))
				_exit(3);
			__atomic_store_n(state, 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != 2)
				usleep(1000);
			_exit(try_write(m, 0x22) == SIGBUS ? 0 : 4);
		}
		_exit(wv_wait_pid(child));
	}
	while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	kill(holder, SIGKILL);
	/* The lock is free once the holder's file is gone. */
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	__atomic_store_n(state, 2, __ATOMIC_RELEASE);
	EXPECT_EQ(128 + SIGKILL, wv_wait_pid(holder));
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
}

/*
 * Unlock racing a writer: a thread stores through the view until it
 * gets SIGBUS; once the unlock has returned, no store lands any more.
 */
struct racer {
	unsigned char *m;
	volatile int stop;
	volatile int revoked;
	unsigned long stores;
};

static void *store_until_revoked(void *arg)
{
	struct racer *r = arg;
	unsigned char b = 0;

	while (!r->stop) {
		if (try_write(r->m + (r->stores % 4096), ++b)) {
			r->revoked = 1;
			break;
		}
		__atomic_fetch_add(&r->stores, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(rw, unlock_races_writer)
{
	struct racer r = { 0 };
	unsigned char a[LEN], b[LEN];
	pthread_t t;
	int round;

	ASSERT_EQ(0, wv_fault_setup(NULL));
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
		r.m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
		ASSERT_NE(MAP_FAILED, r.m);
		r.stop = 0;
		r.revoked = 0;
		r.stores = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, store_until_revoked,
					    &r));
		/* Unlock while it writes: after its first stores, or later. */
		while (__atomic_load_n(&r.stores, __ATOMIC_RELAXED) < 16 &&
		       !r.revoked)
			sched_yield();
		usleep(round * 250);
		ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
		ASSERT_EQ(0, wv_get(self->fd, 1, a, sizeof(a), 0, 0, NULL));
		usleep(5000);
		ASSERT_EQ(0, wv_get(self->fd, 1, b, sizeof(b), 0, 0, NULL));
		EXPECT_EQ(0, memcmp(a, b, LEN)) TH_LOG("round %d", round);
		r.stop = 1;
		pthread_join(t, NULL);
		/* It was writing, and the unlock, not the test, stopped it. */
		EXPECT_TRUE(r.revoked);
		EXPECT_LT(0, r.stores);
		munmap(r.m, span(self));
	}
}

/* Resizing while mapped: the mapping follows the size. */
TEST_F(rw, resize_while_mapped)
{
	struct weave_stat_args st;
	unsigned char *m;
	__u64 g0 = gen_of(self->fd, 1);
	int other = wv_reopen_file(self->fd, 0);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(SIGBUS, try_write(m + 3 * PS, 1));
	ASSERT_EQ(0, wv_resize(self->fd, 1, 4 * PS, 0, NULL));
	EXPECT_EQ(0, try_write(m + 3 * PS, 1));
	ASSERT_EQ(0, wv_resize(self->fd, 1, PS, 0, NULL));
	EXPECT_EQ(SIGBUS, try_write(m + 3 * PS, 1));
	EXPECT_EQ(0, try_write(m + PS - 1, 2));
	/* The slot stays odd through the resizes, until the unlock. */
	EXPECT_EQ(1, seq_of(self->fd, 1) & 1);
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	EXPECT_EQ(0, seq_of(self->fd, 1) & 1);
	ASSERT_EQ(0, wv_stat(other, 1, &st));
	EXPECT_EQ(PS, st.size);
	/* Two resizes and the publication. */
	EXPECT_EQ(g0 + 3, st.gen);
	munmap(m, span(self));
	close(other);
}

/* A small value leaves its shared cell: the others stay out of reach. */
TEST_F(rw, small_entry_unshared)
{
	struct weave_stat_args st;
	unsigned char got[64], *m;

	ASSERT_EQ(0, wv_set(self->fd, 5, "five", 4, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 6, "six", 3, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 6, &st));
	ASSERT_EQ(0, wv_lock(self->fd, 6, 0, 0, NULL));
	m = map_span(self->fd, 6, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, wv_stat(self->fd, 6, &st));
	EXPECT_EQ(0, st.data_offset);
	EXPECT_EQ(0, memcmp(m, "six", 3));
	memset(m, 'X', PS);	/* the whole page: its own */
	ASSERT_EQ(0, wv_unlock(self->fd, 6, 0));
	ASSERT_EQ(0, wv_get(self->fd, 5, got, sizeof(got), 0, 0, NULL));
	EXPECT_EQ(0, memcmp(got, "five", 4));
	ASSERT_EQ(0, wv_get(self->fd, 6, got, sizeof(got), 0, 0, NULL));
	EXPECT_EQ(0, memcmp(got, "XXX", 3));
	munmap(m, span(self));
}

/*
 * Seal while being written is refused; sealed, the mapping is dead.
 * Delete while mapped ends the grant.
 */
TEST_F(rw, delete_and_seal_while_mapped)
{
	unsigned char *m;

	ASSERT_EQ(0, wv_set(self->fd, 2, "two", 3, 0, NULL));
	ASSERT_EQ(0, wv_lock(self->fd, 2, 0, 0, NULL));
	m = map_span(self->fd, 2, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, wv_set(self->fd, 2, "x", 1, WEAVE_SET_SEAL, NULL));
	EXPECT_EQ(SIGBUS, try_write(m, 1));
	ASSERT_EQ(0, wv_unlock(self->fd, 2, 0));
	munmap(m, span(self));

	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	m = map_span(self->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, try_write(m, 1));
	EXPECT_EQ(-EBUSY, wv_set(self->fd, 1, "x", 1, WEAVE_SET_SEAL, NULL));
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(SIGBUS, try_write(m, 1));
	/* The key can live again, and is written the usual way. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "y", 1, 0, NULL));
	EXPECT_EQ(0, seq_of(self->fd, 1) & 1);
	EXPECT_EQ(SIGBUS, try_write(m, 1));
	ASSERT_EQ(0, wv_unlock(self->fd, 1, 0));
	munmap(m, span(self));
}

/*
 * No torn reads: a writer rewrites a 3-page value with one byte value
 * at a time through its writable mapping, a lock period per round; a
 * reader of a read-only view, under the slot's seq, never sees two
 * byte values in one copy.
 */
#define ROUNDS		300

TEST_F(rw, readers_never_torn)
{
	volatile int *stop = wv_shared(sizeof(*stop));
	static unsigned char copy[LEN];
	const struct weave_slot *s;
	unsigned long reads = 0, torn = 0, i;
	struct weave_stat_args st;
	unsigned char *v;
	size_t isize;
	void *index;
	__u32 seq;
	pid_t pid;

	ASSERT_NE(NULL, stop);
	/* One byte value throughout, from the start. */
	memset(copy, 0xaa, LEN);
	ASSERT_EQ(0, wv_set(self->fd, 1, copy, LEN, 0, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd2 = wv_reopen_file(self->fd, 0);
		unsigned char *m;
		int r;

		for (r = 0; r < ROUNDS && !*stop; r++) {
			if (wv_lock(fd2, 1, 0, 0, NULL))
				_exit(1);
			m = map_span(fd2, 1, PROT_READ | PROT_WRITE);
			if (m == MAP_FAILED)
				_exit(2);
			for (i = 0; i < LEN; i += 64)
				memset(m + i, r, LEN - i < 64 ? LEN - i : 64);
			if (wv_unlock(fd2, 1, 0))
				_exit(3);
			munmap(m, self->info.entry_span);
		}
		_exit(0);
	}

	index = wv_map_index(self->fd, &isize);
	ASSERT_NE(NULL, index);
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	s = wv_slot(index, st.slot);
	v = mmap(NULL, st.map_size, PROT_READ, MAP_SHARED, self->fd,
		 st.map_offset);
	ASSERT_NE(MAP_FAILED, v);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		seq = wv_seq_begin(&s->seq);
		memcpy(copy, v, LEN);
		if (wv_seq_retry(&s->seq, seq))
			continue;
		reads++;
		for (i = 1; i < LEN; i++)
			if (copy[i] != copy[0]) {
				torn++;
				break;
			}
		if (torn)
			break;
	}
	*stop = 1;
	EXPECT_EQ(0, torn);
	EXPECT_LT(10, reads);
	TH_LOG("%lu consistent reads", reads);
	munmap(v, st.map_size);
	munmap(index, isize);
}

TEST_HARNESS_MAIN
