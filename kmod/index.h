/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: the index - slots, the seq writer, the header and the map layout
 * (index.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_INDEX_H
#define _WEAVE_INDEX_H

#include <linux/gfp.h>
#include <linux/types.h>
#include <uapi/linux/weave.h>

struct page;
struct weave_registry;

struct page *weave_index_page(struct weave_registry *reg, unsigned long idx,
			      gfp_t gfp);
struct weave_slot *weave_slot(struct weave_registry *reg, u32 slot);
struct weave_slot *weave_slot_alloc(struct weave_registry *reg, u32 slot);
void weave_slot_begin(struct weave_slot *s);
void weave_slot_end(struct weave_slot *s);
void weave_slot_clear(struct weave_slot *s, u64 gen);
void weave_slot_set_lock(struct weave_slot *s, u32 state, u32 waiters,
			 bool owner_died);
bool weave_slot_read_gen(const struct weave_slot *s, u64 key, u64 *gen);
void weave_index_publish(struct weave_registry *reg);
unsigned long weave_span_pgoff(const struct weave_registry *reg, u32 slot);
u32 weave_pgoff_slot(const struct weave_registry *reg, unsigned long pgoff,
		     unsigned long npages);
int weave_index_init(struct weave_registry *reg);
void weave_index_destroy(struct weave_registry *reg);

#endif /* _WEAVE_INDEX_H */
