// SPDX-License-Identifier: GPL-2.0
/*
 * weave: entries - the map operations: set, get, write, resize, delete,
 * clear, stat and list.
 *
 * Copyright (C) 2026 The weave authors
 *
 * registry->lock (a mutex) serialises every operation on a registry's
 * entries. User memory is never touched under it: a value to store is
 * staged before the lock is taken (value.c: copied into a kernel buffer,
 * or its pages pinned), and a value to return is copied into a buffer
 * under the lock and to user space after it is dropped. Kernel buffers
 * are bounded by the registry's max_entry_size (or WEAVE_LIST_MAX keys)
 * and charged to the caller.
 *
 * An entry (&struct weave_entry, store.c) is found by key in
 * registry->entries and shows in its slot of the index (index.c); every
 * change of an entry happens between weave_entry_begin() and
 * weave_entry_end(), so a lock-free reader of the slot sees all of it or
 * none. While the entry is mapped writable (grant.c) its slot's seq stays
 * odd throughout, and the changes its writer makes meanwhile nest inside.
 * Its bytes live in cells or pages (store.c).
 *
 * Before it touches an entry, an operation waits until no other file
 * holds a conflicting lock on the key (weave_op_begin(), lock.c); after
 * a change it reports an event to watchers and gen waiters (event.c).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "internal.h"

#define WEAVE_MIN_BUCKETS	64

/**
 * weave_entry_offset() - the map offset of an entry's first byte
 * @reg: the registry
 * @e: the entry
 *
 * Return: the offset weave_slot.offset shows.
 */
u64 weave_entry_offset(const struct weave_registry *reg,
		       const struct weave_entry *e)
{
	return ((u64)weave_span_pgoff(reg, e->slot) << PAGE_SHIFT) +
	       weave_store_data_offset(e);
}

/* Open a change of @e's slot, unless a writable mapping holds it open. */
static inline void weave_entry_begin(struct weave_entry *e)
{
	if (!e->writer)
		weave_slot_begin(e->s);
}

static inline void weave_entry_end(struct weave_entry *e)
{
	if (!e->writer)
		weave_slot_end(e->s);
}

/*
 * Create @key with @size zero bytes and open its slot's seq; the caller
 * fills it and finishes with weave_entry_changed().
 */
static struct weave_entry *weave_entry_create(struct weave_registry *reg,
					      u64 key, u64 size, bool seal)
{
	u64 max = READ_ONCE(weave_max_registry_bytes);
	struct weave_entry *e;
	struct weave_slot *s;
	int slot, ret;

	if (reg->count >= reg->max_entries || size > max ||
	    reg->bytes > max - size)
		return ERR_PTR(-ENOSPC);

	e = weave_entry_alloc();
	if (!e)
		return ERR_PTR(-ENOMEM);

	slot = ida_alloc_range(&reg->slots, 1, reg->max_entries,
			       WEAVE_GFP_STORE);
	if (slot < 0) {
		ret = slot;
		goto err_free;
	}
	s = weave_slot_alloc(reg, slot);
	if (!s) {
		ret = -ENOMEM;
		goto err_slot;
	}

	e->hnode.key = key;
	e->slot = slot;
	ret = weave_store_alloc(reg, e, size, seal);
	if (ret)
		goto err_slot;

	e->s = s;
	weave_slot_begin(s);
	WRITE_ONCE(s->key, key);
	WRITE_ONCE(s->flags, seal ? WEAVE_SLOT_USED | WEAVE_SLOT_SEALED :
			     WEAVE_SLOT_USED);
	WRITE_ONCE(s->size, size);
	WRITE_ONCE(s->offset, weave_entry_offset(reg, e));

	weave_htable_add(&reg->entries, &e->hnode);
	reg->count++;
	reg->bytes += size;
	reg->slot_hwm = max_t(u32, reg->slot_hwm, slot);
	return e;

err_slot:
	ida_free(&reg->slots, slot);
err_free:
	weave_entry_put(e);
	return ERR_PTR(ret);
}

/*
 * Give @e (whose slot @s has an odd seq) room for @size bytes, within
 * the registry's byte limit, and show the new size and place in @s.
 * With @seal, the room is sealed pages of its own (WEAVE_SET_SEAL).
 */
static int weave_entry_resize(struct weave_registry *reg,
			      struct weave_entry *e, struct weave_slot *s,
			      u64 size, bool seal)
{
	u64 old = s->size;
	int ret;

	if (size > old && reg->bytes + (size - old) >
	    READ_ONCE(weave_max_registry_bytes))
		return -ENOSPC;
	if (seal)
		ret = weave_store_seal(reg, e, old, size);
	else
		ret = weave_store_resize(reg, e, old, size);
	if (ret)
		return ret;
	reg->bytes = reg->bytes - old + size;
	WRITE_ONCE(s->size, size);
	WRITE_ONCE(s->offset, weave_entry_offset(reg, e));
	if (seal)
		WRITE_ONCE(s->flags, READ_ONCE(s->flags) | WEAVE_SLOT_SEALED);
	return 0;
}

/**
 * weave_entry_changed() - finish a change of an entry
 * @reg: the registry, locked
 * @wf: the file that made it, for watchers
 * @e: the entry, its change opened by weave_entry_begin() or a grant
 * @s: its slot
 * @mask: WEAVE_EV_* bits of what changed
 *
 * Hands out the entry's new gen (also its birth when @mask has
 * WEAVE_EV_NEW), closes the seq, and tells the index header, watchers
 * and waiters.
 */
void weave_entry_changed(struct weave_registry *reg, struct weave_file *wf,
			 struct weave_entry *e, struct weave_slot *s, u32 mask)
{
	reg->gen++;
	WRITE_ONCE(s->gen, reg->gen);
	if (mask & WEAVE_EV_NEW)
		WRITE_ONCE(s->birth, reg->gen);
	weave_entry_end(e);
	weave_index_publish(reg);
	if (mask & WEAVE_EV_NEW)
		weave_lock_mirror(reg, e->hnode.key);
	weave_event(reg, wf, e->hnode.key, mask, s);
}

/*
 * Remove a live entry; views of it fault from now on, but for a sealed
 * entry's, which keep its pages.
 */
static void weave_entry_remove(struct weave_registry *reg,
			       struct weave_entry *e)
{
	struct weave_slot *s = e->s;
	u64 size = s->size;

	/* Its writable mappings, zapped below, fault from now on. */
	weave_entry_begin(e);
	e->writer = NULL;
	weave_htable_del(&reg->entries, &e->hnode);
	e->dead = 1;
	if (!e->sealed)
		weave_zap(reg, e->slot, 0, reg->span_pages);
	weave_store_free(reg, e, size);
	reg->count--;
	reg->bytes -= size;
	reg->gen++;
	weave_slot_clear(s, reg->gen);
	weave_slot_end(s);
	ida_free(&reg->slots, e->slot);
	weave_entry_put(e);
}

/*
 * With WEAVE_OP_IF_GEN in @flags, an operation on @e (NULL: no entry)
 * goes ahead only when its gen is *@gen; otherwise *@gen is set to the
 * gen found and the operation fails with -ESTALE.
 */
static int weave_check_gen(const struct weave_entry *e, u32 flags, u64 *gen)
{
	u64 cur = e ? e->s->gen : 0;

	if (!(flags & WEAVE_OP_IF_GEN) || cur == *gen)
		return 0;
	*gen = cur;
	return -ESTALE;
}

/* The gen field is input only with WEAVE_OP_IF_GEN. */
static bool weave_gen_invalid(u32 flags, u64 gen)
{
	return gen && !(flags & WEAVE_OP_IF_GEN);
}

/*
 * Take registry->lock and wait until no other file holds a lock on @key
 * that conflicts with reading (or, with @write, changing) it. On success
 * the lock is held and weave_op_end() must follow.
 */
static inline int weave_op_begin(struct file *file, u64 key, bool write,
				 u32 flags, struct weave_hold **tmp)
{
	struct weave_registry *reg = weave_file_reg(file);
	int ret;

	mutex_lock(&reg->lock);
	/* No key is locked (the common case): nothing to wait for. */
	if (!reg->locks.count) {
		*tmp = NULL;
		return 0;
	}
	ret = weave_lock_access(reg, file->private_data, key, write,
				weave_nonblock(file, flags), tmp);
	if (ret)
		mutex_unlock(&reg->lock);
	return ret;
}

static inline void weave_op_end(struct weave_registry *reg,
				struct weave_hold *tmp)
{
	if (tmp)
		weave_lock_access_end(reg, tmp);
	mutex_unlock(&reg->lock);
}

/**
 * weave_set_invalid() - whether the arguments of a set are malformed
 * @key: the key
 * @flags: WEAVE_SET_* flags
 * @gen: the gen passed in
 *
 * Return: true for EINVAL.
 */
bool weave_set_invalid(u64 key, u32 flags, u64 gen)
{
	const u32 both = WEAVE_SET_NOREPLACE | WEAVE_SET_NOCREATE;

	return !key || flags & ~WEAVE_SET_VALID || (flags & both) == both ||
	       (flags & WEAVE_OP_IF_GEN && flags & both) ||
	       weave_gen_invalid(flags, gen);
}

/**
 * weave_delete_invalid() - whether the arguments of a delete are malformed
 * @key: the key
 * @flags: WEAVE_DELETE_* flags
 * @gen: the gen passed in
 *
 * Return: true for EINVAL.
 */
bool weave_delete_invalid(u64 key, u32 flags, u64 gen)
{
	return !key || flags & ~WEAVE_DELETE_VALID ||
	       weave_gen_invalid(flags, gen);
}

/**
 * weave_set_check() - whether a set may replace or create an entry
 * @e: the entry of the key, or NULL
 * @flags: valid WEAVE_SET_* flags
 * @gen: in: the gen expected with WEAVE_OP_IF_GEN; out: the gen found
 *	when that fails
 *
 * Everything a set checks but room: it changes nothing.
 *
 * Return: 0, -ESTALE, -EEXIST, -ENOENT, -EPERM (sealed) or -EBUSY
 * (sealing an entry mapped writable).
 */
int weave_set_check(const struct weave_entry *e, u32 flags, u64 *gen)
{
	int ret = weave_check_gen(e, flags, gen);

	if (ret)
		return ret;
	if (!e)
		return flags & WEAVE_SET_NOCREATE ? -ENOENT : 0;
	if (flags & WEAVE_SET_NOREPLACE)
		return -EEXIST;
	if (e->sealed)
		return -EPERM;
	/* Its writable mapping would write to the sealed pages. */
	return flags & WEAVE_SET_SEAL && e->writer ? -EBUSY : 0;
}

/**
 * weave_entry_set() - replace or create an entry, once weave_set_check()
 *	let it
 * @reg: the registry, locked
 * @wf: the file doing it, for watchers
 * @e: the entry of @key, or NULL to create it
 * @key: the key
 * @v: the value, staged; its size at most the registry's max_entry_size
 * @flags: valid WEAVE_SET_* flags
 *
 * Return: 0 (the entry's new gen is then @reg's latest), or -ENOSPC or
 * -ENOMEM with nothing changed.
 */
int weave_entry_set(struct weave_registry *reg, struct weave_file *wf,
		    struct weave_entry *e, u64 key, const struct weave_value *v,
		    u32 flags)
{
	bool seal = flags & WEAVE_SET_SEAL;
	u64 len = v->len;
	struct weave_slot *s;
	u32 mask;
	int ret;

	if (e) {
		s = e->s;
		mask = WEAVE_EV_CHANGED;
		weave_entry_begin(e);
		if (len != s->size)
			mask |= WEAVE_EV_RESIZED;
		/* The same size (the common case) needs no room or limits. */
		if (seal || len != s->size)
			ret = weave_entry_resize(reg, e, s, len, seal);
		else
			ret = 0;
		if (ret) {
			weave_entry_end(e);
			return ret;
		}
	} else {
		e = weave_entry_create(reg, key, len, seal);
		if (IS_ERR(e))
			return PTR_ERR(e);
		s = e->s;
		mask = WEAVE_EV_NEW;
	}
	weave_value_store(v, reg, e, 0);
	weave_entry_changed(reg, wf, e, s, mask);
	return 0;
}

/**
 * weave_ioctl_set() - WEAVE_IOC_SET: replace a value, creating the entry
 * @file: an attached, writable file
 * @arg: &struct weave_set_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_set(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_set_args *a = arg;
	struct weave_value v;
	struct weave_hold *tmp;
	struct weave_entry *e;
	int ret;

	if (weave_set_invalid(a->key, a->flags, a->gen) || a->reserved)
		return -EINVAL;
	if (a->len > reg->max_entry_size)
		return -EFBIG;

	ret = weave_value_stage(&v, a->buf, a->len);
	if (ret)
		return ret;

	ret = weave_op_begin(file, a->key, true, a->flags, &tmp);
	if (ret)
		goto out_release;
	e = weave_entry_lookup(reg, a->key);
	ret = weave_set_check(e, a->flags, &a->gen);
	if (!ret)
		ret = weave_entry_set(reg, file->private_data, e, a->key, &v,
				      a->flags);
	if (!ret)
		a->gen = reg->gen;
	weave_op_end(reg, tmp);
out_release:
	weave_value_release(&v);
	return ret;
}

/**
 * weave_ioctl_get() - WEAVE_IOC_GET: copy a value out
 * @file: an attached file
 * @arg: &struct weave_get_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_get(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_get_args *a = arg;
	u8 stack[WEAVE_STACK_VALUE];
	struct weave_hold *tmp;
	struct weave_entry *e;
	struct weave_slot *s;
	void *buf = NULL;
	u64 n = 0;
	int ret;

	if (!a->key || a->flags & ~WEAVE_GET_VALID || a->reserved ||
	    a->size || a->gen || a->copied)
		return -EINVAL;

	ret = weave_op_begin(file, a->key, false, a->flags, &tmp);
	if (ret)
		return ret;
	e = weave_entry_lookup(reg, a->key);
	if (!e) {
		ret = -ENOENT;
		goto out_end;
	}
	s = e->s;
	a->size = s->size;
	a->gen = s->gen;
	if (a->offset < a->size)
		n = min(a->len, a->size - a->offset);
	if (n) {
		buf = weave_value_buf(n, stack);
		if (!buf) {
			ret = -ENOMEM;
			goto out_end;
		}
		weave_store_read(reg, e, a->offset, buf, n);
	}
out_end:
	weave_op_end(reg, tmp);

	if (!ret && n && copy_to_user(u64_to_user_ptr(a->buf), buf, n))
		ret = -EFAULT;
	if (buf)
		weave_value_buf_free(buf, stack);
	a->copied = n;
	return ret;
}

/*
 * Look @key up for a write or resize: checks the gen, then that the
 * entry exists and is not sealed.
 */
static struct weave_entry *weave_entry_modify(struct weave_registry *reg,
					      u64 key, u32 flags, u64 *gen)
{
	struct weave_entry *e = weave_entry_lookup(reg, key);
	int ret = weave_check_gen(e, flags, gen);

	if (!ret && !e)
		ret = -ENOENT;
	if (!ret && e->sealed)
		ret = -EPERM;
	return ret ? ERR_PTR(ret) : e;
}

/**
 * weave_ioctl_write() - WEAVE_IOC_WRITE: write bytes in place
 * @file: an attached, writable file
 * @arg: &struct weave_write_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_write(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_write_args *a = arg;
	u32 mask = WEAVE_EV_CHANGED;
	struct weave_hold *tmp;
	struct weave_entry *e;
	struct weave_value v;
	struct weave_slot *s;
	u64 end;
	int ret;

	if (!a->key || a->flags & ~WEAVE_WRITE_VALID || a->reserved ||
	    a->size || weave_gen_invalid(a->flags, a->gen))
		return -EINVAL;
	if (check_add_overflow(a->offset, a->len, &end) ||
	    end > reg->max_entry_size)
		return -EFBIG;

	ret = weave_value_stage(&v, a->buf, a->len);
	if (ret)
		return ret;

	ret = weave_op_begin(file, a->key, true, a->flags, &tmp);
	if (ret)
		goto out_release;
	e = weave_entry_modify(reg, a->key, a->flags, &a->gen);
	if (IS_ERR(e)) {
		ret = PTR_ERR(e);
		goto out_end;
	}
	s = e->s;
	weave_entry_begin(e);
	if (a->len && end > s->size) {
		ret = weave_entry_resize(reg, e, s, end, false);
		if (ret) {
			weave_entry_end(e);
			goto out_end;
		}
		mask |= WEAVE_EV_RESIZED;
	}
	weave_value_store(&v, reg, e, a->offset);
	a->size = s->size;
	weave_entry_changed(reg, file->private_data, e, s, mask);
	a->gen = reg->gen;

out_end:
	weave_op_end(reg, tmp);
out_release:
	weave_value_release(&v);
	return ret;
}

/**
 * weave_ioctl_resize() - WEAVE_IOC_RESIZE: grow or shrink in place
 * @file: an attached, writable file
 * @arg: &struct weave_resize_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_resize(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_resize_args *a = arg;
	struct weave_hold *tmp;
	struct weave_entry *e;
	struct weave_slot *s;
	int ret;

	if (!a->key || a->flags & ~WEAVE_RESIZE_VALID || a->reserved ||
	    weave_gen_invalid(a->flags, a->gen))
		return -EINVAL;
	if (a->size > reg->max_entry_size)
		return -EFBIG;

	ret = weave_op_begin(file, a->key, true, a->flags, &tmp);
	if (ret)
		return ret;
	e = weave_entry_modify(reg, a->key, a->flags, &a->gen);
	if (IS_ERR(e)) {
		ret = PTR_ERR(e);
		goto out_end;
	}
	s = e->s;
	weave_entry_begin(e);
	ret = weave_entry_resize(reg, e, s, a->size, false);
	if (ret) {
		weave_entry_end(e);
		goto out_end;
	}
	weave_entry_changed(reg, file->private_data, e, s, WEAVE_EV_RESIZED);
	a->gen = reg->gen;

out_end:
	weave_op_end(reg, tmp);
	return ret;
}

/**
 * weave_delete_check() - whether a delete may remove an entry
 * @e: the entry of the key, or NULL
 * @flags: valid WEAVE_DELETE_* flags
 * @gen: as for weave_set_check()
 *
 * Return: 0, -ESTALE or -ENOENT.
 */
int weave_delete_check(const struct weave_entry *e, u32 flags, u64 *gen)
{
	int ret = weave_check_gen(e, flags, gen);

	return ret ?: e ? 0 : -ENOENT;
}

/**
 * weave_entry_delete() - remove an entry and tell watchers
 * @reg: the registry, locked
 * @wf: the file doing it
 * @e: the entry, live
 *
 * The gen of the deletion is then @reg's latest.
 */
void weave_entry_delete(struct weave_registry *reg, struct weave_file *wf,
			struct weave_entry *e)
{
	u64 key = e->hnode.key;

	weave_entry_remove(reg, e);
	weave_index_publish(reg);
	weave_event(reg, wf, key, WEAVE_EV_DELETED, NULL);
}

/**
 * weave_ioctl_delete() - WEAVE_IOC_DELETE: remove an entry
 * @file: an attached, writable file
 * @arg: &struct weave_delete_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_delete(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_delete_args *a = arg;
	struct weave_hold *tmp;
	struct weave_entry *e;
	int ret;

	if (weave_delete_invalid(a->key, a->flags, a->gen) || a->reserved)
		return -EINVAL;

	ret = weave_op_begin(file, a->key, true, a->flags, &tmp);
	if (ret)
		return ret;
	e = weave_entry_lookup(reg, a->key);
	ret = weave_delete_check(e, a->flags, &a->gen);
	if (!ret) {
		weave_entry_delete(reg, file->private_data, e);
		a->gen = reg->gen;
	}
	weave_op_end(reg, tmp);
	return ret;
}

/*
 * Remove every entry; returns how many. With @src, report each deletion
 * as done by that file (NULL: the registry is being freed, nobody
 * watches).
 */
static u64 weave_entries_clear(struct weave_registry *reg,
			       struct weave_file *src)
{
	struct weave_entry *e;
	struct weave_slot *s;
	u64 key, n = 0;
	u32 slot;

	for (slot = 1; slot <= reg->slot_hwm; slot++) {
		s = weave_slot(reg, slot);
		if (!s || !s->key)
			continue;
		key = s->key;
		e = weave_entry_lookup(reg, key);
		weave_entry_remove(reg, e);
		if (src)
			weave_event(reg, src, key, WEAVE_EV_DELETED, NULL);
		n++;
		cond_resched();
	}
	return n;
}

/**
 * weave_ioctl_clear() - WEAVE_IOC_CLEAR: remove every entry
 * @file: an attached, writable file
 * @arg: &struct weave_clear_args
 *
 * Entries locked by other files are removed too: clearing is an
 * operation on the registry, not on keys.
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_clear(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_clear_args *a = arg;

	if (a->flags & ~WEAVE_CLEAR_VALID || a->reserved || a->count || a->gen)
		return -EINVAL;

	mutex_lock(&reg->lock);
	a->count = weave_entries_clear(reg, file->private_data);
	weave_index_publish(reg);
	weave_event(reg, file->private_data, 0, WEAVE_EV_CLEARED, NULL);
	a->gen = reg->gen;
	mutex_unlock(&reg->lock);
	return 0;
}

/**
 * weave_ioctl_stat() - WEAVE_IOC_STAT: look an entry up
 * @file: an attached file
 * @arg: &struct weave_stat_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_stat(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_stat_args *a = arg;
	struct weave_entry *e;
	struct weave_slot *s;
	int ret = 0;

	if (!a->key || a->flags || a->reserved ||
	    memchr_inv(&a->gen, 0,
		       sizeof(*a) - offsetof(struct weave_stat_args, gen)))
		return -EINVAL;

	mutex_lock(&reg->lock);
	e = weave_entry_lookup(reg, a->key);
	if (e) {
		s = e->s;
		a->gen = s->gen;
		a->size = s->size;
		a->birth = s->birth;
		a->map_offset = (u64)weave_span_pgoff(reg, e->slot) << PAGE_SHIFT;
		a->map_size = (u64)reg->span_pages << PAGE_SHIFT;
		a->data_offset = weave_store_data_offset(e);
		a->slot = e->slot;
		a->slot_flags = READ_ONCE(s->flags);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&reg->lock);
	return ret;
}

/**
 * weave_ioctl_list() - WEAVE_IOC_LIST: the next batch of keys
 * @file: an attached file
 * @arg: &struct weave_list_args
 *
 * The cursor is a slot number. An entry keeps its slot for its life, so
 * a key present for the whole walk is met exactly once.
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_list(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_list_args *a = arg;
	struct weave_slot *s;
	u32 n = 0, slot;
	u64 *keys;
	int ret = 0;

	if (!a->count || a->count > WEAVE_LIST_MAX || a->flags)
		return -EINVAL;

	keys = kvmalloc_array(a->count, sizeof(*keys),
			      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!keys)
		return -ENOMEM;

	mutex_lock(&reg->lock);
	slot = max_t(u64, a->cursor, 1);
	if (a->cursor > reg->slot_hwm)
		slot = reg->slot_hwm + 1;
	for (; slot <= reg->slot_hwm && n < a->count; slot++) {
		s = weave_slot(reg, slot);
		if (s && s->key)
			keys[n++] = s->key;
	}
	a->cursor = slot <= reg->slot_hwm ? slot : 0;
	mutex_unlock(&reg->lock);

	if (n && copy_to_user(u64_to_user_ptr(a->keys), keys,
			      n * sizeof(*keys)))
		ret = -EFAULT;
	a->count = n;
	kvfree(keys);
	return ret;
}

/**
 * weave_entries_init() - set up the entries of a new registry
 * @reg: the registry
 *
 * Return: 0 or -ENOMEM; on error weave_entries_destroy() cleans up.
 */
int weave_entries_init(struct weave_registry *reg)
{
	if (weave_htable_init(&reg->entries, WEAVE_MIN_BUCKETS) ||
	    weave_htable_init(&reg->locks, WEAVE_MIN_BUCKETS) ||
	    weave_htable_init(&reg->watches, WEAVE_MIN_BUCKETS))
		return -ENOMEM;
	return weave_index_init(reg);
}

/**
 * weave_entries_release() - free every entry of a registry that died
 * @reg: the registry, without files or views
 *
 * A netlink request may still look at @reg: it finds no entry.
 */
void weave_entries_release(struct weave_registry *reg)
{
	mutex_lock(&reg->lock);
	weave_entries_clear(reg, NULL);
	mutex_unlock(&reg->lock);
}

/**
 * weave_entries_destroy() - free every entry and the index of a registry
 * @reg: the registry, unreachable and without files or views
 */
void weave_entries_destroy(struct weave_registry *reg)
{
	/* Unreachable now, but for a failed registry's setup: no entries. */
	if (reg->entries.buckets)
		weave_entries_release(reg);
	weave_htable_destroy(&reg->entries);
	weave_locks_destroy(reg);
	weave_htable_destroy(&reg->locks);
	weave_htable_destroy(&reg->watches);
	ida_destroy(&reg->slots);
	weave_store_destroy(reg);
	weave_index_destroy(reg);
}
