// SPDX-License-Identifier: GPL-2.0
/*
 * weave: where values live - entries, their cells and pages.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Pages are allocated with WEAVE_GFP_STORE, so they are charged to the
 * memory cgroup of the task whose operation needed them (which gets
 * ENOMEM when that cgroup is full), and never come from highmem, so
 * page_address() is always valid.
 *
 * A value of up to 2048 bytes ("small") lives in a cell of a page shared
 * with other values of the same cell size (64, 128, ... 2048 bytes), so a
 * million 64-byte values take a million 64-byte cells, not a million pages.
 * A small value that outgrows its cell moves to a larger cell, or becomes
 * large; it never moves down.
 *
 * A larger value owns whole pages, kept in registry->pages at the map page
 * offsets of its slot's span, so growing and shrinking happen in place:
 * existing pages never move.
 *
 * A sealed value, whatever its size, owns whole pages too, but keeps them
 * in an array of its entry: its bytes never change, and views of it keep
 * showing them after it is deleted, while its slot's span may show
 * another entry. The registry counts them in its charge until the entry
 * is deleted; then they belong to the entry, freed with its last
 * reference.
 *
 * Bytes past a value's size inside its cell or last page are always zero,
 * so growing needs no clearing.
 *
 * An entry (&struct weave_entry) is the handle of a stored value: the
 * registry's table holds a reference while it lives and each view of it
 * one more, so a view can tell that its entry is gone (weave_entry.dead).
 *
 * The store's operations run under registry->lock; entry references are
 * atomic, and the cache and a registry's teardown need no lock.
 */
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

#define WEAVE_SMALL_MAX		BIT(WEAVE_CELL_MAX_SHIFT)
#define WEAVE_CELLS_MAX		(PAGE_SIZE >> WEAVE_CELL_MIN_SHIFT)

static struct kmem_cache *weave_entry_cache;

/**
 * struct weave_cell_page - a page cut into cells of one size
 * @page: the page.
 * @node: on &weave_registry.partial[class] while it has a free cell.
 * @used: bitmap of cells in use.
 * @nr_used: number of bits set in @used.
 * @shift: log2 of the cell size.
 */
struct weave_cell_page {
	struct page *page;
	struct list_head node;
	DECLARE_BITMAP(used, WEAVE_CELLS_MAX);
	unsigned int nr_used;
	unsigned int shift;
};

static unsigned int weave_cell_shift(u64 size)
{
	if (size <= (1U << WEAVE_CELL_MIN_SHIFT))
		return WEAVE_CELL_MIN_SHIFT;
	return order_base_2(size);
}

static int weave_cell_alloc(struct weave_registry *reg, struct weave_entry *e,
			    unsigned int shift)
{
	struct list_head *partial = &reg->partial[shift - WEAVE_CELL_MIN_SHIFT];
	unsigned int ncells = PAGE_SIZE >> shift;
	struct weave_cell_page *cp;
	unsigned int cell;

	cp = list_first_entry_or_null(partial, struct weave_cell_page, node);
	if (!cp) {
		cp = kzalloc(sizeof(*cp), WEAVE_GFP_STORE);
		if (!cp)
			return -ENOMEM;
		cp->page = weave_page_alloc(reg, WEAVE_GFP_STORE);
		if (!cp->page) {
			kfree(cp);
			return -ENOMEM;
		}
		cp->shift = shift;
		list_add(&cp->node, partial);
	}

	cell = find_first_zero_bit(cp->used, ncells);
	__set_bit(cell, cp->used);
	if (++cp->nr_used == ncells)
		list_del_init(&cp->node);

	e->cp = cp;
	e->cell = page_address(cp->page) + ((size_t)cell << shift);
	e->shift = shift;
	return 0;
}

static void weave_cell_free(struct weave_registry *reg, struct weave_entry *e,
			    u64 size)
{
	struct weave_cell_page *cp = e->cp;
	unsigned int ncells = PAGE_SIZE >> cp->shift;

	memset(e->cell, 0, size);
	__clear_bit(offset_in_page(e->cell) >> cp->shift, cp->used);
	if (cp->nr_used-- == ncells)
		list_add(&cp->node, &reg->partial[cp->shift -
						  WEAVE_CELL_MIN_SHIFT]);
	if (!cp->nr_used) {
		list_del(&cp->node);
		weave_page_free(reg, cp->page);
		kfree(cp);
	}
	e->cp = NULL;
	e->cell = NULL;
}

/* Free the pages [from, to) of a large value. */
static void weave_pages_free(struct weave_registry *reg, struct weave_entry *e,
			     unsigned long from, unsigned long to)
{
	unsigned long base = weave_span_pgoff(reg, e->slot);
	struct page *page;

	for (; from < to; from++) {
		page = xa_erase(&reg->pages, base + from);
		if (page)
			weave_page_free(reg, page);
	}
}

/* Allocate zeroed pages [from, to) of a large value; all or none. */
static int weave_pages_alloc(struct weave_registry *reg, struct weave_entry *e,
			     unsigned long from, unsigned long to)
{
	unsigned long base = weave_span_pgoff(reg, e->slot);
	struct page *page;
	unsigned long i;
	int ret;

	for (i = from; i < to; i++) {
		page = weave_page_alloc(reg, WEAVE_GFP_STORE);
		if (!page) {
			ret = -ENOMEM;
			goto undo;
		}
		ret = xa_err(xa_store(&reg->pages, base + i, page,
				      WEAVE_GFP_STORE));
		if (ret) {
			weave_page_free(reg, page);
			goto undo;
		}
		cond_resched();
	}
	return 0;

undo:
	weave_pages_free(reg, e, from, i);
	return ret;
}

/* Page @idx of a large or sealed value. */
static struct page *weave_room_page(struct weave_registry *reg,
				    const struct weave_entry *e,
				    unsigned long idx)
{
	if (e->sealed)
		return e->pages[idx];
	return xa_load(&reg->pages, weave_span_pgoff(reg, e->slot) + idx);
}

/* Give @e @nr zeroed pages of its own, and seal it; all or none. */
static int weave_sealed_alloc(struct weave_registry *reg,
			      struct weave_entry *e, unsigned long nr)
{
	struct page **pages = NULL;
	unsigned long i;

	if (nr) {
		pages = kvmalloc_array(nr, sizeof(*pages), WEAVE_GFP_STORE);
		if (!pages)
			return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		pages[i] = weave_page_alloc(reg, WEAVE_GFP_STORE);
		if (!pages[i])
			goto undo;
		cond_resched();
	}
	e->shift = 0;
	e->pages = pages;
	e->nr_pages = nr;
	e->sealed = 1;
	return 0;

undo:
	while (i--)
		weave_page_free(reg, pages[i]);
	kvfree(pages);
	return -ENOMEM;
}

/* Free the pages of @pages, which no registry counts any more. */
static void weave_sealed_free(struct page **pages, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		put_page(pages[i]);
	kvfree(pages);
}

/**
 * weave_store_alloc() - give a new entry room for @size zero bytes
 * @reg: the registry
 * @e: the entry, with its slot set
 * @size: bytes
 * @seal: seal the entry (WEAVE_SET_SEAL): pages of its own
 *
 * Return: 0 or -ENOMEM.
 */
int weave_store_alloc(struct weave_registry *reg, struct weave_entry *e,
		      u64 size, bool seal)
{
	if (seal)
		return weave_sealed_alloc(reg, e, DIV_ROUND_UP(size, PAGE_SIZE));
	if (size <= WEAVE_SMALL_MAX)
		return weave_cell_alloc(reg, e, weave_cell_shift(size));
	e->shift = 0;
	return weave_pages_alloc(reg, e, 0, DIV_ROUND_UP(size, PAGE_SIZE));
}

/**
 * weave_store_free() - release an entry's room
 * @reg: the registry
 * @e: the entry
 * @size: its size
 *
 * A sealed entry keeps its pages for its views; the registry stops
 * counting them.
 */
void weave_store_free(struct weave_registry *reg, struct weave_entry *e,
		      u64 size)
{
	if (e->sealed)
		reg->charged -= (u64)e->nr_pages << PAGE_SHIFT;
	else if (e->shift)
		weave_cell_free(reg, e, size);
	else
		weave_pages_free(reg, e, 0, DIV_ROUND_UP(size, PAGE_SIZE));
}

/*
 * Move a small value out of its cell: into a larger cell, or into pages
 * of its own when it outgrows cells or @own_pages asks for them. Views
 * of the old cell are zapped. Only the room fields of @e change: its
 * reference count belongs to views that come and go without
 * registry->lock.
 */
static int weave_cell_leave(struct weave_registry *reg, struct weave_entry *e,
			    u64 old_size, u64 new_size, bool own_pages)
{
	struct weave_entry old = {
		.cp = e->cp, .cell = e->cell, .shift = e->shift,
	};
	int ret;

	if (own_pages || new_size > WEAVE_SMALL_MAX) {
		e->shift = 0;
		ret = weave_pages_alloc(reg, e, 0,
					DIV_ROUND_UP(new_size, PAGE_SIZE));
	} else {
		ret = weave_cell_alloc(reg, e, weave_cell_shift(new_size));
	}
	if (ret) {
		e->shift = old.shift;
		return ret;
	}
	if (!e->shift) {
		e->cp = NULL;
		e->cell = NULL;
	}
	weave_store_write(reg, e, 0, old.cell, old_size);
	weave_cell_free(reg, &old, old_size);
	weave_zap(reg, e->slot, 0, 1);
	return 0;
}

/**
 * weave_store_seal() - give a live entry sealed room for @new_size bytes
 * @reg: the registry
 * @e: the entry, not sealed
 * @old_size: its size now
 * @new_size: its size to be
 *
 * For a set that seals an existing entry: its old bytes go, its views
 * are zapped and refault from the new pages, which the caller fills.
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int weave_store_seal(struct weave_registry *reg, struct weave_entry *e,
		     u64 old_size, u64 new_size)
{
	struct weave_entry old = {
		.cp = e->cp, .cell = e->cell, .shift = e->shift,
		.slot = e->slot,
	};
	int ret;

	ret = weave_sealed_alloc(reg, e, DIV_ROUND_UP(new_size, PAGE_SIZE));
	if (ret)
		return ret;
	weave_store_free(reg, &old, old_size);
	e->cp = NULL;
	e->cell = NULL;
	weave_zap(reg, e->slot, 0, reg->span_pages);
	return 0;
}

/**
 * weave_store_unshare() - give a small entry pages of its own
 * @reg: the registry
 * @e: the entry, not sealed
 * @size: its size
 *
 * For a writable mapping, which must not show other entries' cells: the
 * value moves to the layout of a large one (which it keeps: values never
 * move down), its old cell's views are zapped.
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int weave_store_unshare(struct weave_registry *reg, struct weave_entry *e,
			u64 size)
{
	if (!e->shift)
		return 0;
	return weave_cell_leave(reg, e, size, size, true);
}

/**
 * weave_store_resize() - change the room of an entry
 * @reg: the registry
 * @e: the entry
 * @old_size: its size now
 * @new_size: its size to be; new bytes read as zeros
 *
 * Large values and small values that fit their cell change in place; a
 * small value that outgrows its cell moves. Views of pages that go away
 * are zapped, so touching them again gives SIGBUS.
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int weave_store_resize(struct weave_registry *reg, struct weave_entry *e,
		       u64 old_size, u64 new_size)
{
	unsigned long old_pages, new_pages;
	size_t tail;

	if (e->shift) {
		if (new_size > (1ULL << e->shift))
			return weave_cell_leave(reg, e, old_size, new_size,
						false);
		if (new_size < old_size)
			memset(e->cell + new_size, 0,
			       old_size - new_size);
		return 0;
	}

	old_pages = DIV_ROUND_UP(old_size, PAGE_SIZE);
	new_pages = DIV_ROUND_UP(new_size, PAGE_SIZE);
	if (new_size >= old_size)
		return weave_pages_alloc(reg, e, old_pages, new_pages);

	/* Shrink: clear the kept part of the last page, drop the rest. */
	tail = offset_in_page(new_size);
	if (tail) {
		struct page *page = weave_room_page(reg, e, new_pages - 1);
		size_t end = min_t(u64, old_size - (u64)(new_pages - 1) *
				   PAGE_SIZE, PAGE_SIZE);

		memset(page_address(page) + tail, 0, end - tail);
	}
	if (new_pages < old_pages) {
		weave_zap(reg, e->slot, new_pages, old_pages - new_pages);
		weave_pages_free(reg, e, new_pages, old_pages);
	}
	return 0;
}

/**
 * weave_store_write_pages() - copy bytes into a large or sealed entry's pages
 * @reg: the registry
 * @e: the entry, large or sealed, with room for @off + @len bytes
 * @off: where
 * @src: kernel buffer
 * @len: bytes
 */
void weave_store_write_pages(struct weave_registry *reg, struct weave_entry *e,
			     u64 off, const void *src, u64 len)
{
	size_t chunk;

	while (len) {
		struct page *page = weave_room_page(reg, e, off >> PAGE_SHIFT);

		chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(off));
		memcpy(page_address(page) + offset_in_page(off), src, chunk);
		src += chunk;
		off += chunk;
		len -= chunk;
	}
}

/**
 * weave_store_read() - copy bytes out of an entry
 * @reg: the registry
 * @e: the entry, holding at least @off + @len bytes
 * @off: where
 * @dst: kernel buffer
 * @len: bytes
 */
void weave_store_read(struct weave_registry *reg, struct weave_entry *e,
		      u64 off, void *dst, u64 len)
{
	size_t chunk;

	if (e->shift) {
		memcpy(dst, e->cell + off, len);
		return;
	}
	while (len) {
		struct page *page = weave_room_page(reg, e, off >> PAGE_SHIFT);

		chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(off));
		memcpy(dst, page_address(page) + offset_in_page(off), chunk);
		dst += chunk;
		off += chunk;
		len -= chunk;
	}
}

/**
 * weave_store_data_offset() - where an entry's bytes start in its view
 * @e: the entry
 *
 * Return: the offset of its cell in the cell's page, 0 for large values.
 */
u32 weave_store_data_offset(const struct weave_entry *e)
{
	return e->shift ? offset_in_page(e->cell) : 0;
}

/**
 * weave_store_page() - the page a view shows at page @idx of an entry
 * @reg: the registry
 * @e: a live entry, or a sealed one
 * @size: its size (unused for a sealed entry, which may be dead)
 * @idx: page number within the entry's span
 *
 * A small value's view shows its cell's page; a large or sealed value's
 * view shows its pages up to its size.
 *
 * Return: the page, or NULL when the view has nothing there (SIGBUS).
 */
struct page *weave_store_page(struct weave_registry *reg,
			      struct weave_entry *e, u64 size,
			      unsigned long idx)
{
	if (e->sealed)
		return idx < e->nr_pages ? e->pages[idx] : NULL;
	if (e->shift)
		return idx ? NULL : e->cp->page;
	if (idx >= DIV_ROUND_UP(size, PAGE_SIZE))
		return NULL;
	return weave_room_page(reg, e, idx);
}

/**
 * weave_store_destroy() - free what is left of a registry's store
 * @reg: the registry, without entries, about to be freed
 */
void weave_store_destroy(struct weave_registry *reg)
{
	xa_destroy(&reg->pages);
}

/**
 * weave_entry_alloc() - a new entry, with one reference
 *
 * Return: the zeroed entry, charged to the caller, or NULL.
 */
struct weave_entry *weave_entry_alloc(void)
{
	struct weave_entry *e;

	e = kmem_cache_zalloc(weave_entry_cache, WEAVE_GFP_STORE);
	if (e)
		refcount_set(&e->ref, 1);
	return e;
}

/**
 * weave_entry_put() - drop a reference to an entry
 * @e: the entry
 *
 * The registry's table holds one while the entry lives, each view one.
 * The last one frees a sealed entry's pages.
 */
void weave_entry_put(struct weave_entry *e)
{
	if (!refcount_dec_and_test(&e->ref))
		return;
	if (e->sealed)
		weave_sealed_free(e->pages, e->nr_pages);
	kmem_cache_free(weave_entry_cache, e);
}

/**
 * weave_entry_cache_init() - create the slab cache of entries
 *
 * Return: 0 or -ENOMEM.
 */
int weave_entry_cache_init(void)
{
	weave_entry_cache = KMEM_CACHE(weave_entry, SLAB_ACCOUNT);
	return weave_entry_cache ? 0 : -ENOMEM;
}

/**
 * weave_entry_cache_exit() - destroy the slab cache of entries
 */
void weave_entry_cache_exit(void)
{
	kmem_cache_destroy(weave_entry_cache);
}
