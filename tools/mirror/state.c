// SPDX-License-Identifier: GPL-2.0
/*
 * What the mirror last agreed on, per key: the bucket's revision and the
 * registry's gen of the value both held. An open-addressed table; keys
 * are never 0, so 0 marks a free slot, and nothing is ever removed (a
 * deleted key keeps its tombstone's revision).
 */
#include <errno.h>
#include <stdlib.h>

#include "mirror.h"

int state_init(struct state *st)
{
	st->cap = 1024;
	st->used = 0;
	st->slots = calloc(st->cap, sizeof(*st->slots));
	return st->slots ? 0 : -ENOMEM;
}

void state_free(struct state *st)
{
	size_t i;

	for (i = 0; st->slots && i < st->cap; i++) {
		if (st->slots[i].held) {
			remote_free(st->slots[i].held);
			free(st->slots[i].held);
		}
	}
	free(st->slots);
	st->slots = NULL;
}

static size_t slot_of(const struct state *st, uint64_t key)
{
	size_t i = (key * 0x9e3779b97f4a7c15ULL) & (st->cap - 1);

	while (st->slots[i].key && st->slots[i].key != key)
		i = (i + 1) & (st->cap - 1);
	return i;
}

static int grow(struct state *st)
{
	struct state n = { .cap = st->cap * 2 };
	size_t i;

	n.slots = calloc(n.cap, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (i = 0; i < st->cap; i++)
		if (st->slots[i].key)
			n.slots[slot_of(&n, st->slots[i].key)] = st->slots[i];
	n.used = st->used;
	free(st->slots);
	*st = n;
	return 0;
}

/* The entry of @key, created (revision and gen 0) when missing; NULL
 * when out of memory. Creating one may move the others: a pointer from
 * an earlier call is stale after a call for a key not seen before.
 */
struct key_state *state_get(struct state *st, uint64_t key)
{
	size_t i = slot_of(st, key);

	if (st->slots[i].key)
		return &st->slots[i];
	if (st->used * 2 >= st->cap) {
		if (grow(st))
			return NULL;
		i = slot_of(st, key);
	}
	st->slots[i].key = key;
	st->used++;
	return &st->slots[i];
}
