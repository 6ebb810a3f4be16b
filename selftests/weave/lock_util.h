/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw ioctl wrappers and helpers for the lock, event and wait selftests,
 * next to weave_util.h. Every wrapper returns 0 or -errno; none uses
 * libweave.
 */
#ifndef __WEAVE_LOCK_UTIL_H
#define __WEAVE_LOCK_UTIL_H

#include "weave_util.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>

static inline int wl_lock(int fd, __u64 key, __u32 flags, __u64 timeout_ns,
			  __u32 *result)
{
	struct weave_lock_args l = {
		.key = key, .timeout_ns = timeout_ns, .flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_LOCK, &l);

	if (result)
		*result = l.result;
	return ret;
}

static inline int wl_unlock(int fd, __u64 key, __u32 flags)
{
	struct weave_unlock_args u = { .key = key, .flags = flags };

	return wv_ioctl(fd, WEAVE_IOC_UNLOCK, &u);
}

static inline int wl_watch(int fd, __u64 key, __u32 events, __u32 flags)
{
	struct weave_watch_args w = { .key = key, .events = events, .flags = flags };

	return wv_ioctl(fd, WEAVE_IOC_WATCH, &w);
}

static inline int wl_unwatch(int fd, __u64 key)
{
	struct weave_watch_args w = { .key = key };

	return wv_ioctl(fd, WEAVE_IOC_UNWATCH, &w);
}

static inline int wl_wait(int fd, __u64 key, __u64 gen, __u32 flags,
			  __u64 timeout_ns, __u64 *cur_gen)
{
	struct weave_wait_args w = {
		.key = key, .gen = gen, .timeout_ns = timeout_ns, .flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_WAIT, &w);

	if (cur_gen)
		*cur_gen = w.cur_gen;
	return ret;
}

/* read() up to @n records: the number of records read, or -errno. */
static inline int wl_read(int fd, struct weave_event *ev, size_t n)
{
	ssize_t r = read(fd, ev, n * sizeof(*ev));

	if (r < 0)
		return -errno;
	if (r % sizeof(*ev))
		return -EPROTO;		/* a partial record: never allowed */
	return (int)(r / sizeof(*ev));
}

/* poll() one fd for POLLIN: the revents, 0 on timeout, or -errno. */
static inline int wl_poll(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);

	if (r < 0)
		return -errno;
	return r ? p.revents : 0;
}

/* The gen of @key, 0 when missing, or -errno (never 0 for an error). */
static inline long long wl_gen(int fd, __u64 key)
{
	struct weave_stat_args st;
	int ret = wv_stat(fd, key, &st);

	if (ret == -ENOENT)
		return 0;
	return ret ? ret : (long long)st.gen;
}

/* A 64-bit counter entry. */
static inline int wl_get_u64(int fd, __u64 key, __u64 *val)
{
	struct weave_get_args g;
	int ret;

	*val = 0;
	ret = wv_get(fd, key, val, sizeof(*val), 0, &g);
	if (!ret && g.size != sizeof(*val))
		return -EMSGSIZE;
	return ret;
}

static inline int wl_set_u64(int fd, __u64 key, __u64 val)
{
	return wv_set(fd, key, &val, sizeof(val), 0, NULL);
}

/* A time stamp in memory shared with another process or thread. */
static inline void wl_put_time(double *p, double v)
{
	__atomic_store(p, &v, __ATOMIC_SEQ_CST);
}

static inline double wl_get_time(double *p)
{
	double v;

	__atomic_load(p, &v, __ATOMIC_SEQ_CST);
	return v;
}

/* Zeroed memory shared with forked children, or NULL. */
static inline void *wl_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The mapped index of @fd (read-only), or NULL; *size gets its length. */
static inline void *wl_map_index(int fd, size_t *size)
{
	struct weave_info_args info;
	void *p;

	if (wv_info(fd, &info))
		return NULL;
	p = mmap(NULL, info.index_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*size = info.index_size;
	return p;
}

/* The index slot of @key, or NULL. */
static inline const volatile struct weave_slot *
wl_slot_of(int fd, const void *index, __u64 key)
{
	struct weave_stat_args st;

	if (wv_stat(fd, key, &st))
		return NULL;
	return (const volatile struct weave_slot *)wv_slot(index, st.slot);
}

static inline void wl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Poll @cond every millisecond for up to @ms: true once it holds. For
 * waiting until another task has queued (the index shows waiters) or has
 * reached a point it reports in shared memory.
 */
#define wl_until(cond, ms) ({						\
	double __end = wv_now() + (ms) / 1000.0;			\
	bool __ok;							\
	while (!(__ok = (cond)) && wv_now() < __end)			\
		wl_sleep_ms(1);						\
	__ok;								\
})

/*
 * A test registry that forked children can attach by name, so each gets
 * its own open file description (a fork()ed fd shares the description and
 * with it the lock owner and the watches).
 */
static inline int wl_create(char *name, size_t size, const char *tag)
{
	wv_name(name, size, tag);
	wv_unlink_name(name);	/* a leftover from a crashed run */
	return wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		       0600, 0, NULL);
}

/* Another open file description of registry @name: an fd or -errno. */
static inline int wl_reopen(const char *name, int oflags)
{
	return wv_open(name, oflags, 0, 0, 0, NULL);
}

/* Install @fn for @sig, with SA_RESTART when @restart. */
static inline int wl_sigaction(int sig, void (*fn)(int), bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) ? -errno : 0;
}

/*
 * A thread that, after @delay_ms, sends @sig to @target (if @sig) and then
 * after @action_ms more runs @action(@arg) (if set).
 */
struct wl_timer {
	pthread_t thread;
	pthread_t target;
	int sig;
	long delay_ms;
	long action_ms;
	void (*action)(void *arg);
	void *arg;
	double fired;		/* when the signal was sent */
	double acted;		/* when the action ran */
};

static void *wl_timer_fn(void *p)
{
	struct wl_timer *t = p;

	wl_sleep_ms(t->delay_ms);
	t->fired = wv_now();
	if (t->sig)
		pthread_kill(t->target, t->sig);
	if (t->action) {
		wl_sleep_ms(t->action_ms);
		t->acted = wv_now();
		t->action(t->arg);
	}
	return NULL;
}

static inline int wl_timer_start(struct wl_timer *t)
{
	t->target = pthread_self();
	return -pthread_create(&t->thread, NULL, wl_timer_fn, t);
}

static inline void wl_timer_join(struct wl_timer *t)
{
	pthread_join(t->thread, NULL);
}

/* Kill (SIGKILL) and reap the children in @pids that are still set. */
static inline void wl_reap(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
	}
}

#endif /* __WEAVE_LOCK_UTIL_H */
