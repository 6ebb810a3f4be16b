/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: entries and where their values live (store.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_STORE_H
#define _WEAVE_STORE_H

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/types.h>

struct weave_entry;
struct weave_registry;

int weave_store_alloc(struct weave_registry *reg, struct weave_entry *e,
		      u64 size, bool seal);
void weave_store_free(struct weave_registry *reg, struct weave_entry *e,
		      u64 size);
int weave_store_resize(struct weave_registry *reg, struct weave_entry *e,
		       u64 old_size, u64 new_size);
int weave_store_seal(struct weave_registry *reg, struct weave_entry *e,
		     u64 old_size, u64 new_size);
int weave_store_unshare(struct weave_registry *reg, struct weave_entry *e,
			u64 size);
void weave_store_write_pages(struct weave_registry *reg, struct weave_entry *e,
			     u64 off, const void *src, u64 len);

/**
 * weave_store_write() - copy bytes into an entry's room
 * @reg: the registry
 * @e: the entry, with room for @off + @len bytes
 * @off: where
 * @src: kernel buffer
 * @len: bytes
 *
 * A small value is one copy into its cell, inline on the path of every
 * set.
 */
static inline void weave_store_write(struct weave_registry *reg,
				     struct weave_entry *e, u64 off,
				     const void *src, u64 len)
{
	if (e->shift)
		memcpy(e->cell + off, src, len);
	else
		weave_store_write_pages(reg, e, off, src, len);
}

/**
 * weave_page_alloc() - a zeroed page of a registry, counted in its charge
 * @reg: the registry, locked
 * @gfp: how to allocate it
 *
 * For values (store.c) and the index (index.c) alike.
 *
 * Return: the page or NULL.
 */
static inline struct page *weave_page_alloc(struct weave_registry *reg,
					    gfp_t gfp)
{
	struct page *page = alloc_page(gfp | __GFP_ZERO);

	if (page)
		reg->charged += PAGE_SIZE;
	return page;
}

/**
 * weave_page_free() - give back a page of weave_page_alloc()
 * @reg: the registry, locked
 * @page: the page
 *
 * put_page(): a page still mapped by a view lives until it is zapped.
 */
static inline void weave_page_free(struct weave_registry *reg,
				   struct page *page)
{
	reg->charged -= PAGE_SIZE;
	put_page(page);
}

void weave_store_read(struct weave_registry *reg, struct weave_entry *e,
		      u64 off, void *dst, u64 len);
u32 weave_store_data_offset(const struct weave_entry *e);
struct page *weave_store_page(struct weave_registry *reg,
			      struct weave_entry *e, u64 size,
			      unsigned long idx);
void weave_store_destroy(struct weave_registry *reg);
struct weave_entry *weave_entry_alloc(void);
void weave_entry_put(struct weave_entry *e);
int weave_entry_cache_init(void);
void weave_entry_cache_exit(void);

#endif /* _WEAVE_STORE_H */
