// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * epoll: the event-loop pattern. The registry's fd goes into an epoll set,
 * edge-triggered; on each wakeup the loop reads event records until
 * read() says EAGAIN (the fd is non-blocking), since an edge-triggered fd
 * wakes again only for new events.
 *
 *   epoll          a child process makes changes, the loop prints them
 *   epoll NAME     print the events of registry NAME until interrupted
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weave.h>

static void print_event(const struct weave_event *ev)
{
	static const char *const names[] = {
		"new", "changed", "resized", "deleted", "unlocked",
		"owner-died", "cleared", "unlinked", "overflow",
	};
	unsigned int i;

	printf("key %" PRIu64 " gen %" PRIu64 " size %" PRIu64 ":",
	       (uint64_t)ev->key, (uint64_t)ev->gen, (uint64_t)ev->size);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ev->mask & (1U << i))
			printf(" %s", names[i]);
	putchar('\n');
}

/* The changes the loop watches in the self-contained run. */
static int child(const char *name)
{
	struct weave *w;
	uint64_t big[1024] = { 0 };

	if (weave_open(name, 0, 0, &w))
		return 1;
	weave_set(w, 1, "one", 3);
	weave_set(w, 2, "two", 3);
	usleep(100000);			/* two batches, two wakeups */
	weave_write(w, 1, 3, big, sizeof(big));
	weave_delete(w, 2);
	weave_close(w);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "epoll-example";
	struct epoll_event ee = { .events = EPOLLIN | EPOLLET };
	struct weave_event evs[64];
	struct weave *w;
	int ep, err, deleted = 0;
	ssize_t n, i;
	pid_t pid = 0;

	/* O_NONBLOCK: read() gives EAGAIN when drained, never sleeps. */
	err = weave_open(name, WEAVE_OPEN_NONBLOCK |
			 (argc > 1 ? 0 : WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL),
			 0600, &w);
	if (err) {
		fprintf(stderr, "epoll: open %s: %s\n", name, strerror(-err));
		return 1;
	}
	err = weave_watch(w, 0, WEAVE_EV_ALL, 0);	/* every key */
	if (err) {
		fprintf(stderr, "epoll: watch: %s\n", strerror(-err));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, weave_fd(w), &ee)) {
		perror("epoll");
		return 1;
	}
	if (argc == 1) {
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(child(name));
	}

	while (argc > 1 || !deleted) {
		if (epoll_wait(ep, &ee, 1, argc > 1 ? -1 : 5000) <= 0) {
			fprintf(stderr, "epoll: no events\n");
			break;
		}
		printf("wakeup\n");
		for (;;) {
			n = read(weave_fd(w), evs, sizeof(evs));
			if (n < 0) {
				if (errno != EAGAIN)
					perror("epoll: read");
				break;		/* drained: back to epoll_wait */
			}
			for (i = 0; i < n / (ssize_t)sizeof(evs[0]); i++) {
				print_event(&evs[i]);
				if (evs[i].key == 2 &&
				    evs[i].mask & WEAVE_EV_DELETED)
					deleted = 1;
			}
		}
		fflush(stdout);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	weave_close(w);
	return deleted || argc > 1 ? 0 : 1;
}
