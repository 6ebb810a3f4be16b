/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: shims for the kernel APIs that differ between the kernel lines
 * weave supports. Each shim is named after the newer API it stands in
 * for, so the rest of the module is written against the newest kernel.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_COMPAT_H
#define _WEAVE_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/sched.h>

/* The one comparison with the running kernel's version. */
#define WEAVE_KERNEL_BEFORE(major, minor)				\
	(LINUX_VERSION_CODE < KERNEL_VERSION(major, minor, 0))

#if WEAVE_KERNEL_BEFORE(6, 1)
#error "weave needs Linux 6.1 or later"
#endif

/* 6.3 made vma->vm_flags read-only behind vm_flags_{set,clear}(). */
#if WEAVE_KERNEL_BEFORE(6, 3)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * 6.2 split generic netlink operations into one entry per do and dump
 * (struct genl_split_ops); 6.1 has one struct genl_ops per command.
 */
#include <net/genetlink.h>

#if !WEAVE_KERNEL_BEFORE(6, 2)
#define WEAVE_GENL_OPS		genl_split_ops

#define WEAVE_GENL_DO(c, d, p)						\
	{ .cmd = (c), .doit = (d), .policy = (p),			\
	  .maxattr = ARRAY_SIZE(p) - 1, .flags = GENL_CMD_CAP_DO }
#define WEAVE_GENL_DUMP(c, du, p)					\
	{ .cmd = (c), .dumpit = (du), .policy = (p),			\
	  .maxattr = ARRAY_SIZE(p) - 1, .flags = GENL_CMD_CAP_DUMP }
#define WEAVE_GENL_DO_DUMP(c, d, du, p)					\
	WEAVE_GENL_DO(c, d, p), WEAVE_GENL_DUMP(c, du, p)
#define WEAVE_GENL_FAMILY_OPS(o)					\
	.split_ops = (o), .n_split_ops = ARRAY_SIZE(o)
#else
#define WEAVE_GENL_OPS		genl_ops

#define WEAVE_GENL_DO_DUMP(c, d, du, p)					\
	{ .cmd = (c), .doit = (d), .dumpit = (du), .policy = (p),	\
	  .maxattr = ARRAY_SIZE(p) - 1 }
#define WEAVE_GENL_DO(c, d, p)		WEAVE_GENL_DO_DUMP(c, d, NULL, p)
#define WEAVE_GENL_DUMP(c, du, p)	WEAVE_GENL_DO_DUMP(c, NULL, du, p)
#define WEAVE_GENL_FAMILY_OPS(o)	.ops = (o), .n_ops = ARRAY_SIZE(o)
#endif

/*
 * 6.6 put a struct genl_info into struct genl_dumpit_info and added
 * genl_info_dump(cb) to reach it; before, the dump's parsed attributes
 * were genl_dumpit_info(cb)->attrs. Both results have ->attrs, so write
 * genl_info_dump(cb)->attrs (and nothing else of it) in a dumpit.
 */
#if WEAVE_KERNEL_BEFORE(6, 6)
#define genl_info_dump(cb)	genl_dumpit_info(cb)
#endif

/*
 * set_active_memcg() is inline but names the per-CPU int_active_memcg,
 * which is not exported; weave only charges from task context, so it
 * needs just the task half.
 */
struct mem_cgroup;
static inline struct mem_cgroup *
weave_set_active_memcg(struct mem_cgroup *memcg)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *old = current->active_memcg;

	current->active_memcg = memcg;
	return old;
#else
	return NULL;
#endif
}

#endif /* _WEAVE_COMPAT_H */
