/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: a hash table of objects keyed by u64 (htable.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_HTABLE_H
#define _WEAVE_HTABLE_H

#include <linux/siphash.h>
#include <linux/types.h>

/**
 * struct weave_hnode - link of an object in a &struct weave_htable
 * @next: next in the chain.
 * @key: the object's key.
 */
struct weave_hnode {
	struct weave_hnode *next;
	u64 key;
};

/**
 * struct weave_htable - objects found by u64 key (htable.c)
 * @buckets: @nbuckets chains.
 * @nbuckets: a power of two.
 * @count: objects in the table.
 * @hkey: siphash key choosing the bucket.
 */
struct weave_htable {
	struct weave_hnode **buckets;
	unsigned int nbuckets;
	unsigned int count;
	siphash_key_t hkey;
};

int weave_htable_init(struct weave_htable *t, unsigned int nbuckets);
void weave_htable_destroy(struct weave_htable *t);
void weave_htable_drain(struct weave_htable *t,
			void (*free)(struct weave_hnode *n));

/* The bucket of @key: siphash, so that keys cannot be chosen to collide. */
static inline unsigned int weave_htable_bucket(const struct weave_htable *t,
					       u64 key)
{
	return siphash_1u64(key, &t->hkey) & (t->nbuckets - 1);
}

/**
 * weave_htable_find() - the object of a key
 * @t: the table
 * @key: the key
 *
 * Inline: every operation looks up its entry, and a change its watches.
 *
 * Return: its node, or NULL.
 */
static inline struct weave_hnode *weave_htable_find(const struct weave_htable *t,
						    u64 key)
{
	struct weave_hnode *n;

	for (n = t->buckets[weave_htable_bucket(t, key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

void weave_htable_add(struct weave_htable *t, struct weave_hnode *n);
void weave_htable_del(struct weave_htable *t, struct weave_hnode *n);

#endif /* _WEAVE_HTABLE_H */
