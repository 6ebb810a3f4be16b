// SPDX-License-Identifier: GPL-2.0
/*
 * weave: a small hash table of objects keyed by u64.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Entries, locks, watches and pending events are all found by key. Keys
 * come from user space, so buckets are chosen with siphash under a random
 * key: a caller cannot make chains long on purpose. The table doubles when
 * it holds as many objects as buckets; when that allocation fails it keeps
 * working with longer chains. Chains are singly linked, which keeps the
 * node at 16 bytes; removal walks the (short) chain.
 *
 * The table has no lock of its own: its user serialises every call, here
 * always with registry->lock.
 *
 * Not rhashtable, whose RCU lookups and deferred resizing buy nothing
 * under one mutex and whose per-table state is large for the four tables
 * of each registry and file; not <linux/hashtable.h>, which cannot grow
 * and hashes without a secret key.
 */
#include <linux/log2.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * weave_htable_init() - set up an empty table
 * @t: the table
 * @nbuckets: initial number of buckets, a power of two
 *
 * Return: 0 or -ENOMEM.
 */
int weave_htable_init(struct weave_htable *t, unsigned int nbuckets)
{
	get_random_bytes(&t->hkey, sizeof(t->hkey));
	t->count = 0;
	t->nbuckets = nbuckets;
	t->buckets = kvcalloc(nbuckets, sizeof(*t->buckets),
			      GFP_KERNEL_ACCOUNT);
	return t->buckets ? 0 : -ENOMEM;
}

/**
 * weave_htable_destroy() - free a table's buckets (not its objects)
 * @t: the table
 */
void weave_htable_destroy(struct weave_htable *t)
{
	kvfree(t->buckets);
	t->buckets = NULL;
}

/**
 * weave_htable_drain() - remove every object, passing each to @free
 * @t: the table
 * @free: called for each node, after it is unlinked
 */
void weave_htable_drain(struct weave_htable *t,
			void (*free)(struct weave_hnode *n))
{
	struct weave_hnode *n;
	unsigned int i;

	for (i = 0; i < t->nbuckets; i++) {
		while ((n = t->buckets[i])) {
			t->buckets[i] = n->next;
			t->count--;
			free(n);
		}
	}
}

static void weave_htable_grow(struct weave_htable *t)
{
	struct weave_hnode **old = t->buckets, *n, *next;
	unsigned int i, nold = t->nbuckets;
	struct weave_hnode **buckets;

	if (t->count < t->nbuckets || nold > UINT_MAX / 2)
		return;
	/* Optional: a light effort, and never the OOM killer. */
	buckets = kvcalloc(nold * 2, sizeof(*buckets),
			   GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN);
	if (!buckets)
		return;

	t->buckets = buckets;
	t->nbuckets = nold * 2;
	for (i = 0; i < nold; i++) {
		for (n = old[i]; n; n = next) {
			unsigned int b = weave_htable_bucket(t, n->key);

			next = n->next;
			n->next = buckets[b];
			buckets[b] = n;
		}
	}
	kvfree(old);
}

/**
 * weave_htable_add() - insert an object whose key is not in the table
 * @t: the table
 * @n: its node, with the key set
 */
void weave_htable_add(struct weave_htable *t, struct weave_hnode *n)
{
	unsigned int b = weave_htable_bucket(t, n->key);

	n->next = t->buckets[b];
	t->buckets[b] = n;
	t->count++;
	weave_htable_grow(t);
}

/**
 * weave_htable_del() - remove an object that is in the table
 * @t: the table
 * @n: its node
 */
void weave_htable_del(struct weave_htable *t, struct weave_hnode *n)
{
	struct weave_hnode **pp = &t->buckets[weave_htable_bucket(t, n->key)];

	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	t->count--;
}
