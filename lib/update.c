// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: weave_update(), read-compute-set on the gen, without locks.
 *
 * Copyright (C) 2026 The weave authors
 *
 * The value and its gen are read together (one WEAVE_IOC_GET), the
 * caller's function computes the new value, and WEAVE_IOC_SET with
 * WEAVE_OP_IF_GEN stores it only if nobody changed the entry meanwhile;
 * otherwise the loop starts again from the value that won.
 */
#include <stdlib.h>

#include "internal.h"

/* Grow *@buf to @len bytes, more than its *@room; 0 or -ENOMEM. */
static int weave_update_room(void **buf, size_t *room, size_t len)
{
	void *p;

	p = realloc(*buf, len);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*room = len;
	return 0;
}

/* The current value of @key into *@cur, and its gen (0: no entry). */
static ssize_t weave_update_read(struct weave *w, uint64_t key, void **cur,
				 size_t *room, uint64_t *gen)
{
	ssize_t n;
	int err;

	for (;;) {
		n = weave_get(w, key, *cur, *room, gen);
		if (n == -ENOENT) {
			*gen = 0;
			return 0;
		}
		if (n < 0 || (size_t)n <= *room)
			return n;
		/* It grew past the buffer: make room and read it again. */
		err = weave_update_room(cur, room, (size_t)n);
		if (err)
			return err;
	}
}

int weave_update(struct weave *w, uint64_t key, weave_update_fn fn,
		 void *arg, uint64_t *gen)
{
	size_t cur_room = 0, out_room = 0;
	void *cur = NULL, *out = NULL;
	uint64_t g;
	ssize_t n, len;
	int err;

	if (!key || !fn)
		return -EINVAL;
	for (;;) {
		n = weave_update_read(w, key, &cur, &cur_room, &g);
		if (n < 0) {
			err = (int)n;
			break;
		}
		/* As snprintf(): a result longer than the room is computed again. */
		for (;;) {
			len = fn(g ? cur : NULL, (size_t)n, out, out_room, arg);
			if (len < 0 || (size_t)len <= out_room)
				break;
			err = weave_update_room(&out, &out_room, (size_t)len);
			if (err)
				goto out;
		}
		if (len < 0) {
			err = (int)len;
			break;
		}
		err = weave_set_flags(w, key, out, (size_t)len, WEAVE_OP_IF_GEN,
				      &g);
		if (err != -ESTALE)
			break;
	}
out:
	if (!err && gen)
		*gen = g;
	free(cur);
	free(out);
	return err;
}
