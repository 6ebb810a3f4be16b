// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: watches, event records and wait-for-gen.
 *
 * weave_events() polls, then reads. The fd may be blocking (the default)
 * or O_NONBLOCK (WEAVE_OPEN_NONBLOCK, or set by the caller); the library
 * never changes the file's flags, since O_NONBLOCK also decides whether
 * lock waits fail, for every user of the open file. Instead the callers
 * of weave_events() on one handle take turns, so that the read() after a
 * "readable" poll finds the records still there.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* read() returns at most this many records per call. */
#define WEAVE_EVENTS_MAX	256

int weave_watch(struct weave *w, uint64_t key, unsigned int events,
		unsigned int flags)
{
	struct weave_watch_args wa = { .key = key, .events = events, .flags = flags };

	if (!events || (events & ~WEAVE_EV_ALL) || (flags & ~WEAVE_WATCH_VALID))
		return -EINVAL;
	return weave_ioctl(w->fd, WEAVE_IOC_WATCH, &wa);
}

int weave_unwatch(struct weave *w, uint64_t key)
{
	struct weave_watch_args wa = { .key = key };

	return weave_ioctl(w->fd, WEAVE_IOC_UNWATCH, &wa);
}

/* Milliseconds left until @deadline_ns, rounded up; -1 for no deadline. */
static int weave_ms_left(int64_t deadline_ns)
{
	int64_t left;

	if (deadline_ns < 0)
		return -1;
	left = deadline_ns - weave_now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 1000000000 ? 1000000000 : (int)left;
}

static int weave_events_lock(struct weave *w, int64_t deadline_ns)
{
	struct timespec ts;

	if (deadline_ns < 0)
		return -pthread_mutex_lock(&w->events_lock);
	ts.tv_sec = deadline_ns / 1000000000;
	ts.tv_nsec = deadline_ns % 1000000000;
	return -pthread_mutex_clocklock(&w->events_lock, CLOCK_MONOTONIC, &ts);
}

ssize_t weave_events(struct weave *w, struct weave_event *ev, size_t n,
		     int timeout_ms)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	int64_t deadline = -1;
	ssize_t ret;
	int err;

	if (!ev || !n)
		return -EINVAL;
	if (n > WEAVE_EVENTS_MAX)
		n = WEAVE_EVENTS_MAX;
	if (timeout_ms >= 0)
		deadline = weave_now_ns() + (int64_t)timeout_ms * 1000000;

	err = weave_events_lock(w, deadline);
	if (err)
		return err == -ETIMEDOUT ? 0 : err;
	for (;;) {
		err = poll(&pfd, 1, weave_ms_left(deadline));
		if (err < 0) {
			ret = -errno;
			break;
		}
		if (!err) {
			ret = 0;
			break;
		}
		if (pfd.revents & POLLNVAL) {
			ret = -EBADF;
			break;
		}
		if (pfd.revents & POLLERR) {
			ret = -EBADFD;	/* not attached */
			break;
		}
		ret = read(w->fd, ev, n * sizeof(*ev));
		if (ret >= 0) {
			ret /= (ssize_t)sizeof(*ev);
			break;
		}
		/* Drained by a plain read() of the caller's: poll again. */
		if (errno != EAGAIN) {
			ret = -errno;
			break;
		}
	}
	pthread_mutex_unlock(&w->events_lock);
	return ret;
}

int weave_wait(struct weave *w, uint64_t key, uint64_t gen,
	       int64_t timeout_ns, uint64_t *cur_gen)
{
	struct weave_wait_args wt = { .key = key, .gen = gen };
	int err;

	if (!key)
		return -EINVAL;
	if (timeout_ns >= 0) {
		wt.flags = WEAVE_WAIT_TIMED;
		wt.timeout_ns = (uint64_t)timeout_ns;
	}
	err = weave_ioctl(w->fd, WEAVE_IOC_WAIT, &wt);
	if (!err && cur_gen)
		*cur_gen = wt.cur_gen;
	return err;
}
