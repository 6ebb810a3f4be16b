/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: a value on its way in from user space (value.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_VALUE_H
#define _WEAVE_VALUE_H

#include <linux/types.h>
#include <linux/uaccess.h>

struct page;
struct weave_entry;
struct weave_registry;

/* Values up to this size are staged on the caller's stack. */
#define WEAVE_STACK_VALUE	128

/**
 * struct weave_value - the bytes of a set or write, reachable without
 *	touching user memory
 * @buf: a kernel copy of the bytes, or NULL when they are @pages.
 * @pages: the user pages holding the bytes, pinned.
 * @nr_pages: number of @pages.
 * @offset: where the bytes start in the first of @pages.
 * @len: number of bytes.
 * @alloc: what weave_value_release() frees: @buf's allocation or @pages.
 * @stack: @buf for values of up to %WEAVE_STACK_VALUE bytes.
 */
struct weave_value {
	const void *buf;
	struct page **pages;
	unsigned int nr_pages;
	unsigned int offset;
	u64 len;
	void *alloc;
	u8 stack[WEAVE_STACK_VALUE];
};

void *weave_value_buf(u64 len, void *stack);
void weave_value_buf_free(void *buf, void *stack);
int weave_value_stage_large(struct weave_value *v, u64 ubuf, u64 len);
void weave_value_free(struct weave_value *v);
void weave_value_store_pages(const struct weave_value *v,
			     struct weave_registry *reg, struct weave_entry *e,
			     u64 off);

/**
 * weave_value_kernel() - describe bytes already in kernel memory
 * @v: the value to fill; needs no weave_value_release()
 * @buf: the bytes
 * @len: their number
 */
static inline void weave_value_kernel(struct weave_value *v, const void *buf,
				      u64 len)
{
	v->buf = buf;
	v->pages = NULL;
	v->nr_pages = 0;
	v->len = len;
	v->alloc = NULL;
}

/**
 * weave_value_stage() - make a value in user memory reachable under a lock
 * @v: the value to fill
 * @ubuf: user address of the bytes
 * @len: their number, at most the registry's max_entry_size
 *
 * Small values, the common case, are copied onto @v's stack bytes here.
 * On success weave_value_release() must follow.
 *
 * Return: 0, -EFAULT or -ENOMEM.
 */
static inline int weave_value_stage(struct weave_value *v, u64 ubuf, u64 len)
{
	if (len > WEAVE_STACK_VALUE)
		return weave_value_stage_large(v, ubuf, len);
	weave_value_kernel(v, v->stack, len);
	return copy_from_user(v->stack, u64_to_user_ptr(ubuf), len) ?
	       -EFAULT : 0;
}

/**
 * weave_value_release() - drop what weave_value_stage() took
 * @v: the staged value
 */
static inline void weave_value_release(struct weave_value *v)
{
	if (v->alloc)
		weave_value_free(v);
}

/**
 * weave_value_store() - copy a staged value into an entry's room
 * @v: the value
 * @reg: the registry, locked
 * @e: the entry, with room for @off + v->len bytes
 * @off: where
 */
static inline void weave_value_store(const struct weave_value *v,
				     struct weave_registry *reg,
				     struct weave_entry *e, u64 off)
{
	if (v->pages)
		weave_value_store_pages(v, reg, e, off);
	else
		weave_store_write(reg, e, off, v->buf, v->len);
}

#endif /* _WEAVE_VALUE_H */
