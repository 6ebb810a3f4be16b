// SPDX-License-Identifier: GPL-2.0
/*
 * weave: values on their way in - the bytes of a set or a write, made
 * reachable from the kernel before registry->lock is taken.
 *
 * Copyright (C) 2026 The weave authors
 *
 * User memory is never touched under registry->lock: a view's page fault
 * takes that lock under mmap_lock, so a fault under it could deadlock. A
 * value of up to a page is copied into a kernel buffer first (on the
 * caller's stack when small). A larger one is pinned where it is
 * (pin_user_pages_fast(): FOLL_PIN, since the kernel reads the pages'
 * contents) and copied from there straight into the entry's room under
 * the lock: one copy and no allocation of the value's size, where a
 * buffer costs two copies and a vmalloc(). A range that cannot be pinned
 * (an I/O mapping, memfd_secret() memory) is copied into a buffer after
 * all, so a value may be read from the same memory either way and a bad
 * address still gives EFAULT.
 *
 * Pinned pages stay the caller's: bytes it changes while the call runs
 * may or may not be stored, as with a buffer copied while it changes.
 * A set that waits for another file's lock on its key keeps its pages
 * pinned while it sleeps, as it kept its buffer before: pins that may
 * outlast a short call (they hold off migration of those pages), which
 * WEAVE_OP_NONBLOCK avoids.
 * A staged value belongs to one call of one task and needs no lock;
 * the buffer and the array of pages are charged to the caller.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "internal.h"

/**
 * weave_value_buf() - kernel room for the bytes of a value
 * @len: how many
 * @stack: the caller's %WEAVE_STACK_VALUE bytes, used when they are enough
 *
 * Larger room is allocated as kvmalloc() would, but with WEAVE_GFP_STORE
 * for the vmalloc() fallback: kvmalloc() with __GFP_RETRY_MAYFAIL would
 * also make its first, physically contiguous, try reclaim and compact.
 *
 * Return: the room, to be given back with weave_value_buf_free(), or NULL.
 */
void *weave_value_buf(u64 len, void *stack)
{
	void *buf;

	if (len <= WEAVE_STACK_VALUE)
		return stack;
	if (len <= PAGE_SIZE)
		return kmalloc(len, WEAVE_GFP_STORE);
	buf = kmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN);
	return buf ?: __vmalloc(len, WEAVE_GFP_STORE);
}

/**
 * weave_value_buf_free() - give back weave_value_buf()'s room
 * @buf: the room
 * @stack: the caller's bytes given to weave_value_buf()
 */
void weave_value_buf_free(void *buf, void *stack)
{
	if (buf != stack)
		kvfree(buf);
}

/* Copy a value into a buffer: too large for the stack, or unpinnable. */
static int weave_value_copy(struct weave_value *v, const void __user *ubuf)
{
	void *buf = weave_value_buf(v->len, v->stack);

	if (!buf)
		return -ENOMEM;
	if (buf != v->stack)
		v->alloc = buf;
	v->buf = buf;
	if (copy_from_user(buf, ubuf, v->len)) {
		weave_value_release(v);
		return -EFAULT;
	}
	return 0;
}

/*
 * Pin the pages of [@start, @start + v->len). Return: 1 when pinned, 0
 * when the range is not all pinnable (the caller copies instead), or
 * -ENOMEM.
 */
static int weave_value_pin(struct weave_value *v, unsigned long start)
{
	unsigned long nr = DIV_ROUND_UP(offset_in_page(start) + v->len,
					PAGE_SIZE);
	int pinned;

	v->pages = kvmalloc_array(nr, sizeof(*v->pages),
				  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!v->pages)
		return -ENOMEM;
	pinned = pin_user_pages_fast(start, nr, 0, v->pages);
	if (pinned != nr) {
		if (pinned > 0)
			unpin_user_pages(v->pages, pinned);
		kvfree(v->pages);
		v->pages = NULL;
		return 0;
	}
	v->nr_pages = nr;
	v->offset = offset_in_page(start);
	v->alloc = v->pages;
	return 1;
}

/**
 * weave_value_stage_large() - weave_value_stage() of more than
 *	%WEAVE_STACK_VALUE bytes
 * @v: the value to fill
 * @ubuf: user address of the bytes
 * @len: their number, at most the registry's max_entry_size
 *
 * Return: 0, -EFAULT or -ENOMEM.
 */
int weave_value_stage_large(struct weave_value *v, u64 ubuf, u64 len)
{
	int ret;

	weave_value_kernel(v, NULL, len);
	if (len > PAGE_SIZE) {
		ret = weave_value_pin(v, (unsigned long)ubuf);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return weave_value_copy(v, u64_to_user_ptr(ubuf));
}

/**
 * weave_value_free() - weave_value_release() of a value that holds
 *	pages or a buffer
 * @v: the staged value
 */
void weave_value_free(struct weave_value *v)
{
	if (v->pages) {
		unpin_user_pages(v->pages, v->nr_pages);
		v->pages = NULL;
	}
	kvfree(v->alloc);
	v->alloc = NULL;
	v->buf = NULL;
}

/**
 * weave_value_store_pages() - weave_value_store() of a pinned value
 * @v: the value
 * @reg: the registry, locked
 * @e: the entry, with room for @off + v->len bytes
 * @off: where
 */
void weave_value_store_pages(const struct weave_value *v,
			     struct weave_registry *reg, struct weave_entry *e,
			     u64 off)
{
	unsigned int poff = v->offset;
	u64 done = 0, chunk;
	unsigned int i;
	void *src;

	for (i = 0; i < v->nr_pages; i++) {
		chunk = min_t(u64, v->len - done, PAGE_SIZE - poff);
		src = kmap_local_page(v->pages[i]);
		weave_store_write(reg, e, off + done, src + poff, chunk);
		kunmap_local(src);
		done += chunk;
		poff = 0;
		cond_resched();
	}
}
