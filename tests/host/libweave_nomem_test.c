// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave when memory runs out: each allocation the library makes
 * (calloc, malloc, realloc) and each pthread_mutex_init() fails in turn,
 * over a fake device (fake_weave.h). The call must return -ENOMEM and
 * leave things as they were: a descriptor it opened is closed, one it was
 * given stays open, a callback is not called, nothing is stored. The test
 * is linked with -Wl,--wrap for those functions too (tests/host/Makefile);
 * an allocation fails only while a test arms it. KTAP output; exit 1 on a
 * failure.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ktap.h"
#include "fake_weave.h"

#define KEY	5

void *__real_calloc(size_t n, size_t size);
void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
int __real_pthread_mutex_init(pthread_mutex_t *m,
			      const pthread_mutexattr_t *attr);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);
int __wrap_pthread_mutex_init(pthread_mutex_t *m,
			      const pthread_mutexattr_t *attr);

/* The Nth call from now fails (1: the next); 0: none. */
static unsigned int fail_calloc, fail_malloc, fail_realloc, fail_mutex;

static bool due(unsigned int *n)
{
	return *n && --*n == 0;
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (due(&fail_calloc)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

void *__wrap_malloc(size_t size)
{
	if (due(&fail_malloc)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
	if (due(&fail_realloc)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, size);
}

int __wrap_pthread_mutex_init(pthread_mutex_t *m,
			      const pthread_mutexattr_t *attr)
{
	if (due(&fail_mutex))
		return ENOMEM;
	return __real_pthread_mutex_init(m, attr);
}

static unsigned int sets, callbacks;
static uint64_t value_size = 10;
static int reopen_fd = -1;

static int answer(unsigned long req, void *arg)
{
	if (req == WEAVE_IOC_ATTACH) {
		struct weave_attach_args *at = arg;

		at->id = 1;
		at->index_size = fake.index_size;
		return 0;
	}
	if (req == WEAVE_IOC_REOPEN) {
		reopen_fd = fcntl(fake.fd, F_DUPFD_CLOEXEC, 3);
		return reopen_fd < 0 ? -errno : reopen_fd;
	}
	if (req == WEAVE_IOC_LIST) {
		struct weave_list_args *l = arg;

		*(uint64_t *)(uintptr_t)l->keys = KEY;
		l->count = 1;
		l->cursor = 0;
		return 0;
	}
	if (req == WEAVE_IOC_GET) {
		struct weave_get_args *g = arg;

		g->size = value_size;
		g->copied = g->len < value_size ? g->len : value_size;
		memset((void *)(uintptr_t)g->buf, 'v', g->copied);
		g->gen = 1;
		return 0;
	}
	if (req == WEAVE_IOC_SET) {
		sets++;
		return 0;
	}
	return -ENOTTY;
}

static bool is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

static int entry_fn(uint64_t key, const void *buf, size_t size, uint64_t gen,
		    void *arg)
{
	(void)key;
	(void)buf;
	(void)size;
	(void)gen;
	(void)arg;
	callbacks++;
	return 0;
}

static ssize_t longer(const void *cur, size_t cur_size, void *out,
		      size_t out_size, void *arg)
{
	(void)cur;
	(void)arg;
	if (out_size > cur_size)
		memset(out, 'w', cur_size + 1);
	return (ssize_t)cur_size + 1;
}

static void handle_checks(void)
{
	struct weave *w = NULL, *w2 = NULL;
	int fd, i;

	/* weave_open(): the handle, then each of its two mutexes. */
	fail_calloc = 1;
	check(weave_open(NULL, 0, 0600, &w) == -ENOMEM && !w &&
	      fake.last_fd >= 0 && !is_open(fake.last_fd), "open_no_handle");
	fail_calloc = 0;
	for (i = 1; i <= 2; i++) {
		fail_mutex = (unsigned int)i;
		check(weave_open("name", WEAVE_OPEN_CREATE, 0600, &w) ==
		      -ENOMEM && !w && !is_open(fake.last_fd),
		      i == 1 ? "open_no_index_lock" : "open_no_events_lock");
	}
	fail_mutex = 0;

	/* weave_from_fd(): the descriptor stays the caller's. */
	fd = fcntl(fake.fd, F_DUPFD_CLOEXEC, 3);
	fail_calloc = 1;
	check(weave_from_fd(fd, &w) == -ENOMEM && !w && is_open(fd),
	      "from_fd_no_handle");
	fail_calloc = 0;

	/* weave_reopen(): the new descriptor is closed again. */
	if (weave_from_fd(fd, &w))
		return;
	fail_calloc = 1;
	check(weave_reopen(w, 0, &w2) == -ENOMEM && !w2 && reopen_fd >= 0 &&
	      !is_open(reopen_fd) && is_open(fd), "reopen_no_handle");
	fail_calloc = 0;
	weave_close(w);
}

static void buffer_checks(void)
{
	struct weave *w = NULL;
	uint64_t gen = 77;

	if (fake_handle(&w))
		return;
	/* weave_foreach_entry(): its first buffer, then a larger one. */
	fail_malloc = 1;
	check(weave_foreach_entry(w, entry_fn, NULL) == -ENOMEM &&
	      callbacks == 0, "foreach_entry_no_buffer");
	fail_malloc = 0;
	value_size = 5000;
	fail_realloc = 1;
	check(weave_foreach_entry(w, entry_fn, NULL) == -ENOMEM &&
	      callbacks == 0, "foreach_entry_no_larger_buffer");
	fail_realloc = 0;
	check(weave_foreach_entry(w, entry_fn, NULL) == 0 && callbacks == 1,
	      "foreach_entry_with_memory");

	/* weave_update(): room for the current value, then for the new. */
	value_size = 10;
	fail_realloc = 1;
	check(weave_update(w, KEY, longer, NULL, &gen) == -ENOMEM &&
	      sets == 0 && gen == 77, "update_no_room_to_read");
	fail_realloc = 2;
	check(weave_update(w, KEY, longer, NULL, &gen) == -ENOMEM &&
	      sets == 0 && gen == 77, "update_no_room_for_result");
	fail_realloc = 0;
	check(weave_update(w, KEY, longer, NULL, &gen) == 0 && sets == 1,
	      "update_with_memory");
	weave_close(w);
}

int main(void)
{
	printf("KTAP version 1\n1..11\n");
	if (fake_setup(answer)) {
		printf("Bail out! no fake device: %s\n", strerror(errno));
		return 1;
	}
	handle_checks();
	buffer_checks();
	return ktap_done();
}
