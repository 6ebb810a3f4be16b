/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libweave internals shared by the lib/ files; nothing here is exported.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef LIBWEAVE_INTERNAL_H
#define LIBWEAVE_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>

#include "weave.h"

#define WEAVE_DEV	"/dev/weave"

struct weave {
	int fd;
	bool rdonly;
	uint64_t id;
	uint64_t index_size;
	/*
	 * The index is mapped on first use by a view. Readers load @index
	 * with acquire; the first mapper publishes it under @index_lock with
	 * release, so the mapping happens once however many threads race.
	 */
	pthread_mutex_t index_lock;
	const unsigned char *index;
	/*
	 * Serialises weave_events() callers, so that a read() after poll()
	 * said "readable" cannot block because another caller drained the
	 * events in between (the fd may be in blocking mode).
	 */
	pthread_mutex_t events_lock;
};

/* Every registry ioctl: 0 or -errno (errno is not libweave's report). */
static inline int weave_ioctl(int fd, unsigned long cmd, void *arg)
{
	if (ioctl(fd, cmd, arg) < 0)
		return -errno;
	return 0;
}

int weave_index_get(struct weave *w, const unsigned char **index);
const struct weave_slot *weave_slot_ptr(struct weave *w, uint32_t slot);

static inline void weave_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * How long a reader waits for a slot the kernel holds odd. A change by
 * ioctl holds it for microseconds; a writable view
 * (weave_view_map_rw()) for its holder's whole lock period, which the
 * reader must not wait out.
 */
#define WEAVE_SEQ_WAIT_NS	10000000LL

static inline int64_t weave_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/*
 * Seqcount read side over a slot of the mapped index, as in the vDSO:
 * wait for an even seq (spin briefly, then yield), read, then re-check.
 * Returns 0 with *@seq, or -EBUSY when the slot stayed odd for
 * WEAVE_SEQ_WAIT_NS: its entry is mapped writable by its lock holder.
 */
static inline int weave_seq_begin(const struct weave_slot *s, uint32_t *seq)
{
	unsigned int spins = 0;
	int64_t since = 0;

	while ((*seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1) {
		if (++spins < 128) {
			weave_cpu_relax();
			continue;
		}
		spins = 0;
		sched_yield();
		if (!since)
			since = weave_now_ns();
		else if (weave_now_ns() - since > WEAVE_SEQ_WAIT_NS)
			return -EBUSY;
	}
	return 0;
}

static inline bool weave_seq_retry(const struct weave_slot *s, uint32_t seq)
{
	/* Order the data reads before the second load of seq (smp_rmb). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq;
}

#define WEAVE_LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

#endif /* LIBWEAVE_INTERNAL_H */
