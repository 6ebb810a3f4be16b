// SPDX-License-Identifier: GPL-2.0
/*
 * libweave's change events over the kernel: weave_watch(),
 * weave_unwatch(), weave_events() (timeouts, callers taking turns, a
 * signal, a handle whose fd is no longer an attached file) and
 * weave_wait().
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

#define KEY	3

FIXTURE(libev) {
	struct weave *w;
	struct weave *other;	/* another file of the registry: its changes */
};

FIXTURE_SETUP(libev)
{
	ASSERT_EQ(0, weave_open(NULL, 0, 0600, &self->w));
	ASSERT_EQ(0, weave_reopen(self->w, 0, &self->other));
}

FIXTURE_TEARDOWN(libev)
{
	weave_close(self->other);
	weave_close(self->w);
}

TEST_F(libev, watch_arguments)
{
	struct weave_event ev;

	EXPECT_EQ(-EINVAL, weave_watch(self->w, KEY, 0, 0));
	EXPECT_EQ(-EINVAL, weave_watch(self->w, KEY, WEAVE_EV_ALL + 1, 0));
	EXPECT_EQ(-EINVAL, weave_watch(self->w, KEY, WEAVE_EV_NEW, 1U << 20));
	EXPECT_EQ(-EINVAL, weave_events(self->w, NULL, 1, 0));
	EXPECT_EQ(-EINVAL, weave_events(self->w, &ev, 0, 0));
	/* Nothing was watched by the refused calls. */
	EXPECT_EQ(-ENOENT, weave_unwatch(self->w, KEY));
	ASSERT_EQ(0, weave_set(self->other, KEY, "x", 1));
	EXPECT_EQ(0, weave_events(self->w, &ev, 1, 0));
}

TEST_F(libev, watch_unwatch)
{
	struct weave_event ev[4];
	uint64_t gen;

	ASSERT_EQ(0, weave_watch(self->w, KEY, WEAVE_EV_NEW |
				 WEAVE_EV_CHANGED, 0));
	ASSERT_EQ(0, weave_set_flags(self->other, KEY, "a", 1, 0, &gen));
	ASSERT_EQ(1, weave_events(self->w, ev, 4, 1000));
	EXPECT_EQ(KEY, ev[0].key);
	EXPECT_EQ(WEAVE_EV_NEW, ev[0].mask);
	EXPECT_EQ(gen, ev[0].gen);
	EXPECT_EQ(1, ev[0].size);

	/* After UNWATCH the key's changes are not reported. */
	ASSERT_EQ(0, weave_unwatch(self->w, KEY));
	EXPECT_EQ(-ENOENT, weave_unwatch(self->w, KEY));
	ASSERT_EQ(0, weave_set(self->other, KEY, "b", 1));
	EXPECT_EQ(0, weave_events(self->w, ev, 4, 20));

	/* Watching again replaces the mask; NO_SELF skips our changes. */
	ASSERT_EQ(0, weave_watch(self->w, 0, WEAVE_EV_DELETED,
				 WEAVE_WATCH_NO_SELF));
	ASSERT_EQ(0, weave_set(self->w, KEY + 1, "c", 1));
	ASSERT_EQ(0, weave_delete(self->w, KEY + 1));
	ASSERT_EQ(0, weave_delete(self->other, KEY));
	ASSERT_EQ(1, weave_events(self->w, ev, 4, 1000));
	EXPECT_EQ(KEY, ev[0].key);
	EXPECT_EQ(WEAVE_EV_DELETED, ev[0].mask);
	EXPECT_EQ(0, weave_events(self->w, ev, 4, 0));
}

/* More records than one read() returns: the call takes 256 at most. */
TEST_F(libev, many_records)
{
	static struct weave_event ev[1000];
	uint64_t k;
	ssize_t n;

	ASSERT_EQ(0, weave_watch(self->w, 0, WEAVE_EV_NEW, 0));
	for (k = 1; k <= 300; k++)
		ASSERT_EQ(0, weave_set(self->other, k, "v", 1));
	/* No limit on the wait, and none needed: the records are there. */
	n = weave_events(self->w, ev, 1000, -1);
	EXPECT_EQ(256, n);
	for (k = 0; k < 256 && k < (uint64_t)n; k++)
		EXPECT_EQ(k + 1, ev[k].key);
	/* The longest timeout there is, as long as the library waits. */
	EXPECT_EQ(44, weave_events(self->w, ev, 1000, INT_MAX));
	EXPECT_EQ(257, ev[0].key);
	EXPECT_EQ(0, weave_events(self->w, ev, 1000, 0));
}

/* An expired timeout is a 0, also on an O_NONBLOCK handle. */
TEST_F(libev, timeout)
{
	struct weave_event ev;
	struct weave *nb;
	double t;

	ASSERT_EQ(0, weave_watch(self->w, 0, WEAVE_EV_ALL, 0));
	t = wv_now();
	EXPECT_EQ(0, weave_events(self->w, &ev, 1, 50));
	t = wv_now() - t;
	EXPECT_GE(t, 0.045);
	EXPECT_LT(t, 5.0);

	ASSERT_EQ(0, weave_reopen(self->w, WEAVE_OPEN_NONBLOCK, &nb));
	ASSERT_EQ(0, weave_watch(nb, KEY, WEAVE_EV_NEW, 0));
	EXPECT_EQ(0, weave_events(nb, &ev, 1, 0));
	EXPECT_EQ(0, weave_events(nb, &ev, 1, 20));
	ASSERT_EQ(0, weave_set(self->other, KEY, "x", 1));
	EXPECT_EQ(1, weave_events(nb, &ev, 1, 1000));
	EXPECT_EQ(KEY, ev.key);
	weave_close(nb);
}

struct waiter {
	struct weave *w;
	ssize_t ret;
	struct weave_event ev;
	int started;
};

static void *wait_forever(void *arg)
{
	struct waiter *t = arg;

	__atomic_store_n(&t->started, 1, __ATOMIC_RELEASE);
	t->ret = weave_events(t->w, &t->ev, 1, -1);
	return NULL;
}

/*
 * Callers of one handle take turns: while one waits, another whose
 * timeout ends before its turn comes returns 0, and the records go to
 * the one that waited.
 */
TEST_F(libev, callers_take_turns)
{
	struct waiter t = { .w = self->w };
	struct weave_event ev;
	pthread_t th;
	double t0;

	ASSERT_EQ(0, weave_watch(self->w, KEY, WEAVE_EV_NEW, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, wait_forever, &t));
	ASSERT_TRUE(wv_until(__atomic_load_n(&t.started, __ATOMIC_ACQUIRE),
			     5000));
	/* Let it reach its poll(). */
	wv_sleep_ms(100);
	t0 = wv_now();
	EXPECT_EQ(0, weave_events(self->w, &ev, 1, 50));
	EXPECT_GE(wv_now() - t0, 0.045);
	ASSERT_EQ(0, weave_set(self->other, KEY, "x", 1));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, t.ret);
	EXPECT_EQ(KEY, t.ev.key);
	EXPECT_EQ(WEAVE_EV_NEW, t.ev.mask);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal ends the wait with -EINTR: the call is not restarted. */
TEST_F(libev, signal)
{
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct weave_event ev;

	ASSERT_EQ(0, weave_watch(self->w, KEY, WEAVE_EV_ALL, 0));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, weave_events(self->w, &ev, 1, 10000));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, weave_wait(self->w, KEY, 0, -1, NULL));
}

/*
 * The handle's descriptor replaced behind the library's back: closed, it
 * is -EBADF; a /dev/weave file that is not attached, -EBADFD.
 */
TEST_F(libev, descriptor_replaced)
{
	struct weave_event ev;
	int fd = weave_fd(self->w), dev;

	dev = wv_dev(O_RDWR);
	ASSERT_LE(0, dev);
	ASSERT_EQ(fd, dup2(dev, fd));
	close(dev);
	EXPECT_EQ(-EBADFD, weave_events(self->w, &ev, 1, 1000));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-EBADF, weave_events(self->w, &ev, 1, 1000));
	/* The number taken again, for the teardown's weave_close(). */
	ASSERT_EQ(fd, open("/dev/null", O_RDONLY));
}

TEST_F(libev, wait)
{
	uint64_t gen, cur = 0;
	double t;

	EXPECT_EQ(-EINVAL, weave_wait(self->w, 0, 0, 0, &cur));
	/* A missing key has gen 0: waiting for another returns at once. */
	EXPECT_EQ(0, weave_wait(self->w, KEY, 5, -1, &cur));
	EXPECT_EQ(0, cur);
	ASSERT_EQ(0, weave_set_flags(self->other, KEY, "a", 1, 0, &gen));
	EXPECT_EQ(0, weave_wait(self->w, KEY, 0, -1, &cur));
	EXPECT_EQ(gen, cur);
	EXPECT_EQ(0, weave_wait(self->w, KEY, 0, 0, NULL));

	/* The gen it has: a timeout after that long. */
	t = wv_now();
	EXPECT_EQ(-ETIMEDOUT, weave_wait(self->w, KEY, gen, 30000000, &cur));
	EXPECT_GE(wv_now() - t, 0.025);
	EXPECT_EQ(-ETIMEDOUT, weave_wait(self->w, KEY, gen, 0, NULL));
}

TEST_HARNESS_MAIN
