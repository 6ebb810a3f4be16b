// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * uring: one io_uring waits on the events of several registries and on a
 * timer. Each registry's fd has a multishot poll (IORING_POLL_ADD_MULTI,
 * Linux 5.13; a one-shot poll re-armed after each completion where the
 * kernel refuses it); a completion says "records are pending", and the
 * loop reads them with weave_events() and a timeout of 0. A timeout
 * request ticks every half second, and is queued again each time.
 *
 *   uring               a child process changes three registries in turn,
 *                       the loop prints what happens to each
 *   uring NAME...       print the events of the registries NAME until
 *                       interrupted, and a tick each second
 *
 * Build: cc uring.c $(pkg-config --cflags --libs weave) -luring
 * (Debian: liburing-dev).
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weave.h>

#define MAX_REGS	8
#define TIMER		UINT64_MAX	/* user_data of the timeout */
#define IDLE_TICKS	20		/* self-contained run: give up */

struct source {
	const char *name;
	struct weave *w;
	bool multishot;		/* false once the kernel refused it */
	bool deleted;		/* self-contained run: saw the last change */
};

/* Queue a poll of @s's fd, its index @i as user_data. */
static int arm_poll(struct io_uring *ring, struct source *s, unsigned int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	if (s->multishot)
		io_uring_prep_poll_multishot(sqe, weave_fd(s->w), POLLIN);
	else
		io_uring_prep_poll_add(sqe, weave_fd(s->w), POLLIN);
	io_uring_sqe_set_data64(sqe, i);
	return 0;
}

static int arm_timer(struct io_uring *ring, struct __kernel_timespec *ts)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_timeout(sqe, ts, 0, 0);
	io_uring_sqe_set_data64(sqe, TIMER);
	return 0;
}

/* Read and print every record pending on @s; 0 or -errno. */
static int drain(struct source *s)
{
	struct weave_event ev[64];
	ssize_t n, i;

	while ((n = weave_events(s->w, ev, 64, 0)) > 0) {
		for (i = 0; i < n; i++) {
			if (!ev[i].key) {
				/* The registry, not a key: weave_events(3). */
				printf("%s: registry mask %#x\n", s->name,
				       ev[i].mask);
				continue;
			}
			printf("%s: key %" PRIu64 " gen %" PRIu64
			       " size %" PRIu64 " mask %#x\n", s->name,
			       (uint64_t)ev[i].key, (uint64_t)ev[i].gen,
			       (uint64_t)ev[i].size, ev[i].mask);
			if (ev[i].mask & WEAVE_EV_DELETED)
				s->deleted = true;
		}
	}
	return (int)n;
}

/* The self-contained run's changes: each registry in turn. */
static int child(struct source *src, unsigned int nsrc)
{
	struct weave *w;
	unsigned int i;
	char val[32];

	for (i = 0; i < nsrc; i++) {
		usleep(300000);
		if (weave_open(src[i].name, 0, 0, &w))
			return 1;
		snprintf(val, sizeof(val), "value of %s", src[i].name);
		weave_set(w, i + 1, val, strlen(val));
		usleep(100000);		/* two wakeups, not one */
		weave_delete(w, i + 1);
		weave_close(w);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const own[] = {
		"uring-example-1", "uring-example-2", "uring-example-3",
	};
	struct __kernel_timespec tick = { .tv_nsec = 500000000 };
	struct source src[MAX_REGS];
	unsigned int nsrc, i, done = 0, idle = 0;
	bool forever = argc > 1, more;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	pid_t pid = 0;
	__u64 data;
	int err, res;

	nsrc = forever ? (unsigned int)argc - 1 : 3;
	if (nsrc > MAX_REGS) {
		fprintf(stderr, "uring: at most %d registries\n", MAX_REGS);
		return 2;
	}
	err = io_uring_queue_init(2 * MAX_REGS, &ring, 0);
	if (err) {
		fprintf(stderr, "uring: io_uring_queue_init: %s\n",
			strerror(-err));
		return 1;
	}
	memset(src, 0, sizeof(src));
	for (i = 0; i < nsrc; i++) {
		src[i].name = forever ? argv[i + 1] : own[i];
		src[i].multishot = true;
		err = weave_open(src[i].name, forever ? WEAVE_OPEN_RDONLY :
				 WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL, 0600,
				 &src[i].w);
		if (!err)
			err = weave_watch(src[i].w, 0, WEAVE_EV_ALL, 0);
		if (!err)
			err = arm_poll(&ring, &src[i], i);
		if (err) {
			fprintf(stderr, "uring: %s: %s\n", src[i].name,
				strerror(-err));
			return 1;
		}
	}
	if (forever)
		tick = (struct __kernel_timespec){ .tv_sec = 1 };
	arm_timer(&ring, &tick);
	io_uring_submit(&ring);

	if (!forever) {
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(child(src, nsrc));
	}

	while (forever || done < nsrc) {
		err = io_uring_submit_and_wait(&ring, 1);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "uring: wait: %s\n", strerror(-err));
			break;
		}
		if (io_uring_peek_cqe(&ring, &cqe))
			continue;
		data = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		/* Without F_MORE the request is over: queue it again. */
		more = cqe->flags & IORING_CQE_F_MORE;

		io_uring_cqe_seen(&ring, cqe);
		if (data == TIMER) {
			printf("tick\n");
			if (!forever && ++idle == IDLE_TICKS)
				break;
			arm_timer(&ring, &tick);
			fflush(stdout);
			continue;
		}
		if (data >= nsrc)
			continue;
		i = (unsigned int)data;
		if (res == -EINVAL && src[i].multishot) {
			src[i].multishot = false;	/* before 5.13 */
		} else if (res < 0) {
			fprintf(stderr, "uring: poll %s: %s\n", src[i].name,
				strerror(-res));
			break;
		} else {
			idle = 0;
			if (drain(&src[i]) < 0)
				break;
			if (!forever && src[i].deleted) {
				src[i].deleted = false;
				done++;
			}
		}
		if (!more)
			arm_poll(&ring, &src[i], i);
		fflush(stdout);
	}

	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (i = 0; i < nsrc; i++)
		weave_close(src[i].w);
	io_uring_queue_exit(&ring);
	if (!forever && done < nsrc) {
		fprintf(stderr, "uring: saw %u of %u registries change\n",
			done, nsrc);
		return 1;
	}
	return 0;
}
