// SPDX-License-Identifier: GPL-2.0
/*
 * weave: the index - the slots user space maps read-only, and the map
 * layout around them.
 *
 * Copyright (C) 2026 The weave authors
 *
 * A registry's map is laid out as:
 *
 *   [0, index_pages)			the index: the header, then slot 1 ..
 *					max_entries, 64 bytes each
 *   index_pages + (S - 1) * span_pages	the span of the entry in slot S,
 *					span_pages = max_entry_size in pages
 *
 * This file owns the index pages (registry->index: the header's page when
 * the registry is made, the others on first use, all freed with the
 * registry), slot addressing, the layout arithmetic and its inverse, and
 * the seq protocol: every change of an entry's key, bytes, size, gen or
 * place happens between weave_slot_begin() and weave_slot_end(), which
 * make its seq odd and then even again, with write barriers that pair
 * with the read barriers of a lock-free reader (the DOC in the uapi
 * header; weave_slot_read_gen() is the kernel's own such reader). The
 * lock state mirrored in a slot is advisory and written without a seq
 * change (weave_slot_set_lock()).
 *
 * Slots and the header are written under registry->lock. Index pages are
 * only ever added while the registry lives, so a slot found once stays
 * readable, without the lock, for as long as its registry.
 */
#include <linux/mm.h>
#include <linux/xarray.h>

#include "internal.h"

#define WEAVE_SLOTS_PER_PAGE	(PAGE_SIZE / WEAVE_SLOT_SIZE)

/**
 * weave_index_page() - a page of the index
 * @reg: the registry
 * @idx: page number in the index
 * @gfp: how to allocate it (zeroed) when missing; 0: do not
 *
 * Return: the page, or NULL when missing and not allocated.
 */
struct page *weave_index_page(struct weave_registry *reg, unsigned long idx,
			      gfp_t gfp)
{
	struct page *page = xa_load(&reg->index, idx);

	if (page || !gfp)
		return page;
	page = weave_page_alloc(reg, gfp);
	if (!page)
		return NULL;
	if (xa_err(xa_store(&reg->index, idx, page, gfp))) {
		weave_page_free(reg, page);
		return NULL;
	}
	return page;
}

/**
 * weave_slot() - a slot of the index
 * @reg: the registry
 * @slot: slot number, 1 .. max_entries
 *
 * Return: the slot, or NULL when its index page was never allocated
 * (then it is free).
 */
struct weave_slot *weave_slot(struct weave_registry *reg, u32 slot)
{
	struct page *page = weave_index_page(reg, slot / WEAVE_SLOTS_PER_PAGE,
					     0);

	if (!page)
		return NULL;
	return page_address(page) +
	       (slot % WEAVE_SLOTS_PER_PAGE) * WEAVE_SLOT_SIZE;
}

/**
 * weave_slot_alloc() - make room in the index for a slot
 * @reg: the registry
 * @slot: slot number
 *
 * Return: the slot, or NULL when its index page could not be allocated.
 */
struct weave_slot *weave_slot_alloc(struct weave_registry *reg, u32 slot)
{
	if (!weave_index_page(reg, slot / WEAVE_SLOTS_PER_PAGE,
			      WEAVE_GFP_STORE))
		return NULL;
	return weave_slot(reg, slot);
}

static void weave_seq_begin(__u32 *seq)
{
	WRITE_ONCE(*seq, *seq + 1);
	/* Odd seq before the change; pairs with the reader's smp_rmb(). */
	smp_wmb();
}

static void weave_seq_end(__u32 *seq)
{
	/* The change before even seq; pairs with the reader's acquire. */
	smp_wmb();
	WRITE_ONCE(*seq, *seq + 1);
}

/**
 * weave_slot_begin() - open a change of a slot: its seq turns odd
 * @s: the slot, its registry locked
 */
void weave_slot_begin(struct weave_slot *s)
{
	weave_seq_begin(&s->seq);
}

/**
 * weave_slot_end() - close a change of a slot: its seq turns even
 * @s: the slot, its registry locked
 */
void weave_slot_end(struct weave_slot *s)
{
	weave_seq_end(&s->seq);
}

/**
 * weave_slot_clear() - show a slot as free, as of gen @gen
 * @s: the slot, between weave_slot_begin() and weave_slot_end()
 * @gen: the gen of the deletion
 */
void weave_slot_clear(struct weave_slot *s, u64 gen)
{
	WRITE_ONCE(s->key, 0);
	WRITE_ONCE(s->flags, 0);
	WRITE_ONCE(s->size, 0);
	WRITE_ONCE(s->offset, 0);
	WRITE_ONCE(s->birth, 0);
	WRITE_ONCE(s->gen, gen);
	WRITE_ONCE(s->lock, 0);
	WRITE_ONCE(s->waiters, 0);
}

/**
 * weave_slot_set_lock() - show a key's lock state in its entry's slot
 * @s: the slot of a live entry, its registry locked
 * @state: 0, WEAVE_SLOT_LOCK_EXCL or the number of sharers
 * @waiters: tasks waiting for the lock
 * @owner_died: an exclusive holder closed while holding it
 *
 * Lock state is advisory and read as it is: no seq change.
 */
void weave_slot_set_lock(struct weave_slot *s, u32 state, u32 waiters,
			 bool owner_died)
{
	u32 flags = WEAVE_SLOT_USED | (s->flags & WEAVE_SLOT_SEALED);

	if (owner_died)
		flags |= WEAVE_SLOT_OWNER_DIED;
	WRITE_ONCE(s->lock, state);
	WRITE_ONCE(s->waiters, waiters);
	WRITE_ONCE(s->flags, flags);
}

/**
 * weave_slot_read_gen() - the gen of a key, read from a slot without lock
 * @s: a slot, or NULL
 * @key: the key it is expected to hold
 * @gen: set to the gen when it does
 *
 * Reads under the slot's seq, as a mapped reader does.
 *
 * Return: true when @s holds @key and *@gen was set.
 */
bool weave_slot_read_gen(const struct weave_slot *s, u64 key, u64 *gen)
{
	bool ours;
	u32 seq;
	u64 g;

	if (!s)
		return false;
	seq = READ_ONCE(s->seq);
	smp_rmb();	/* pairs with the smp_wmb()s around a slot change */
	ours = READ_ONCE(s->key) == key &&
	       READ_ONCE(s->flags) & WEAVE_SLOT_USED;
	g = READ_ONCE(s->gen);
	smp_rmb();	/* the fields, then the seq again */
	if ((seq & 1) || READ_ONCE(s->seq) != seq || !ours)
		return false;
	*gen = g;
	return true;
}

/**
 * weave_index_publish() - show the registry's count and latest gen
 * @reg: the registry, locked
 */
void weave_index_publish(struct weave_registry *reg)
{
	struct weave_index_header *h = reg->header;

	weave_seq_begin(&h->seq);
	WRITE_ONCE(h->count, reg->count);
	WRITE_ONCE(h->gen, reg->gen);
	weave_seq_end(&h->seq);
}

/**
 * weave_span_pgoff() - first map page of a slot's span
 * @reg: the registry
 * @slot: slot number
 *
 * Return: the page offset, in the file's map, where the view of the
 * entry in @slot starts.
 */
unsigned long weave_span_pgoff(const struct weave_registry *reg, u32 slot)
{
	return reg->index_pages + (unsigned long)(slot - 1) * reg->span_pages;
}

/**
 * weave_pgoff_slot() - the slot whose span a view starts at
 * @reg: the registry
 * @pgoff: first map page of the view, past the index
 * @npages: its length in pages
 *
 * Return: the slot number, or 0 when the view does not start a span or
 * is longer than one.
 */
u32 weave_pgoff_slot(const struct weave_registry *reg, unsigned long pgoff,
		     unsigned long npages)
{
	unsigned long rel = pgoff - reg->index_pages;
	u64 slot;

	if (pgoff < reg->index_pages || rel % reg->span_pages ||
	    npages > reg->span_pages)
		return 0;
	slot = rel / reg->span_pages + 1;
	return slot <= reg->max_entries ? slot : 0;
}

/**
 * weave_index_init() - the first index page and its header
 * @reg: a new registry, its limits set
 *
 * Return: 0 or -ENOMEM; weave_index_destroy() cleans up either way.
 */
int weave_index_init(struct weave_registry *reg)
{
	struct weave_index_header *h;
	struct page *page;

	page = weave_index_page(reg, 0, WEAVE_GFP_STORE);
	if (!page)
		return -ENOMEM;
	h = page_address(page);
	h->magic = WEAVE_INDEX_MAGIC;
	h->slot_size = WEAVE_SLOT_SIZE;
	h->nslots = reg->max_entries;
	h->entry_span = (u64)reg->span_pages << PAGE_SHIFT;
	reg->header = h;
	return 0;
}

/**
 * weave_index_destroy() - free the index of a registry
 * @reg: the registry, about to be freed
 */
void weave_index_destroy(struct weave_registry *reg)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&reg->index, idx, page)
		weave_page_free(reg, page);
	xa_destroy(&reg->index);
}
