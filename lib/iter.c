// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: key iteration and the values/entries walk.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <stdlib.h>

#include "internal.h"

#define WEAVE_BATCH	256

/*
 * The ABI lets WEAVE_IOC_LIST return a batch with fewer keys than asked
 * for, even none, before the end of a walk (a kernel may bound the slots
 * it scans under the registry lock). The library asks again until it has
 * a key or the walk ends, so that 0 keys means the end whatever loop the
 * caller wrote. The cursor only moves forward, so this ends.
 */
int weave_list(struct weave *w, uint64_t *cursor, uint64_t *keys,
	       unsigned int n)
{
	struct weave_list_args l = { 0 };
	int err;

	if (!cursor || !n || n > WEAVE_LIST_MAX)
		return -EINVAL;
	l.cursor = *cursor;
	do {
		l.keys = (uintptr_t)keys;
		l.count = n;
		err = weave_ioctl(w->fd, WEAVE_IOC_LIST, &l);
		if (err)
			return err;
		/* Progress so far is kept: a retry goes on from here. */
		*cursor = l.cursor;
	} while (!l.count && l.cursor);
	return l.count;
}

int weave_foreach_key(struct weave *w, weave_key_fn fn, void *arg)
{
	uint64_t keys[WEAVE_BATCH];
	uint64_t cursor = 0;
	int i, n, ret;

	if (!fn)
		return -EINVAL;
	do {
		n = weave_list(w, &cursor, keys, WEAVE_BATCH);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			ret = fn(keys[i], arg);
			if (ret)
				return ret;
		}
	} while (cursor);
	return 0;
}

/*
 * Copy one value with a buffer that grows to the size GET reports; the
 * entry may grow again between two calls, hence the loop.
 */
static ssize_t weave_get_grow(struct weave *w, uint64_t key,
			      unsigned char **buf, size_t *cap, uint64_t *gen)
{
	unsigned char *nbuf;
	ssize_t size;

	for (;;) {
		size = weave_get(w, key, *buf, *cap, gen);
		if (size < 0 || (size_t)size <= *cap)
			return size;
		nbuf = realloc(*buf, size);
		if (!nbuf)
			return -ENOMEM;
		*buf = nbuf;
		*cap = size;
	}
}

int weave_foreach_entry(struct weave *w, weave_entry_fn fn, void *arg)
{
	uint64_t keys[WEAVE_BATCH];
	uint64_t cursor = 0, gen;
	size_t cap = 4096;
	unsigned char *buf;
	ssize_t size;
	int i, n, ret = 0;

	if (!fn)
		return -EINVAL;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	do {
		n = weave_list(w, &cursor, keys, WEAVE_BATCH);
		if (n < 0) {
			ret = n;
			break;
		}
		for (i = 0; i < n && !ret; i++) {
			size = weave_get_grow(w, keys[i], &buf, &cap, &gen);
			if (size == -ENOENT)	/* deleted since LIST */
				continue;
			if (size < 0)
				ret = (int)size;
			else
				ret = fn(keys[i], buf, size, gen, arg);
		}
	} while (!ret && cursor);
	free(buf);
	return ret;
}
