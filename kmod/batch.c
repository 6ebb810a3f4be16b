// SPDX-License-Identifier: GPL-2.0
/*
 * weave: batches - several entry operations in one call (WEAVE_IOC_BATCH).
 *
 * Copyright (C) 2026 The weave authors
 *
 * A batch is brought into the kernel whole before registry->lock is
 * taken: its operations, and one buffer, charged to the caller, holding
 * every set's value and room for every get's. Then, under one hold of
 * registry->lock, each operation runs as its single command would
 * (entry.c) and keeps its result; once the lock is dropped, the bytes of
 * the gets and every result go back to user space. So, as for the single
 * commands, user memory is never touched under the lock.
 *
 * An atomic batch (WEAVE_BATCH_ATOMIC) is checked as a whole before any
 * of it is applied, without dropping the lock in between: each operation
 * against the entry of its key (the keys are distinct, so no operation
 * of the batch changes what another one finds) and against the entry
 * locks of other files (it never waits for one), and all of them against
 * the registry's limits, counted in order. What is left to fail is
 * memory, and the documented partial batch with it.
 */
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "internal.h"

/**
 * struct weave_batch - a batch in kernel memory
 * @ops: the operations, with results as they come.
 * @offs: where each valid set's value or get's room is in @data; in the
 *	same allocation as @ops.
 * @count: number of @ops.
 * @data: the values of the sets and room for the gets, in the order of
 *	their operations; NULL when there are none.
 * @bytes: size of @data.
 */
struct weave_batch {
	struct weave_batch_op *ops;
	u64 *offs;
	u32 count;
	u8 *data;
	u64 bytes;
};

/* Bytes of @data an operation takes: a set's value or a get's room. */
static u64 weave_batch_op_bytes(const struct weave_batch_op *op)
{
	return op->op == WEAVE_BATCH_SET || op->op == WEAVE_BATCH_GET ?
	       op->len : 0;
}

static bool weave_batch_op_writes(const struct weave_batch_op *op)
{
	return op->op == WEAVE_BATCH_SET || op->op == WEAVE_BATCH_DELETE;
}

/*
 * Wait (or, @nonblock, fail with -EAGAIN) until no other file holds a
 * lock on the operation's key that conflicts with it. A stat, like
 * WEAVE_IOC_STAT, heeds no entry lock.
 */
static int weave_batch_lock_access(struct weave_registry *reg,
				   struct weave_file *wf,
				   const struct weave_batch_op *op,
				   bool nonblock, struct weave_hold **tmp)
{
	*tmp = NULL;
	if (op->op == WEAVE_BATCH_STAT)
		return 0;
	return weave_lock_access(reg, wf, op->key, weave_batch_op_writes(op),
				 nonblock, tmp);
}

/* The checks of the operation's single command that need no entry. */
static int weave_batch_op_check(const struct weave_registry *reg,
				const struct weave_batch_op *op)
{
	if (op->result || op->reserved)
		return -EINVAL;
	switch (op->op) {
	case WEAVE_BATCH_SET:
		if (weave_set_invalid(op->key, op->flags, op->gen) || op->size)
			return -EINVAL;
		return op->len > reg->max_entry_size ? -EFBIG : 0;
	case WEAVE_BATCH_GET:
		return !op->key || op->flags & ~WEAVE_GET_VALID || op->gen ||
		       op->size ? -EINVAL : 0;
	case WEAVE_BATCH_DELETE:
		return weave_delete_invalid(op->key, op->flags, op->gen) ||
		       op->buf || op->len || op->size ? -EINVAL : 0;
	case WEAVE_BATCH_STAT:
		return !op->key || op->flags || op->buf || op->len ||
		       op->gen || op->size ? -EINVAL : 0;
	}
	return -EINVAL;
}

struct weave_batch_key {
	u64 key;
	u32 idx;
};

static int weave_batch_cmp_key(const void *a, const void *b)
{
	const struct weave_batch_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * An atomic batch names each key once: an operation whose key an
 * earlier one names gets EINVAL.
 */
static int weave_batch_check_keys(struct weave_batch *b)
{
	struct weave_batch_key *keys;
	u32 i;

	keys = kvmalloc_array(b->count, sizeof(*keys),
			      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < b->count; i++) {
		keys[i].key = b->ops[i].key;
		keys[i].idx = i;
	}
	sort(keys, b->count, sizeof(*keys), weave_batch_cmp_key, NULL);
	for (i = 1; i < b->count; i++)
		if (keys[i].key == keys[i - 1].key)
			b->ops[keys[i].idx].result = -EINVAL;
	kvfree(keys);
	return 0;
}

/* Every operation whose result is still 0 gets -ECANCELED. */
static void weave_batch_cancel(struct weave_batch *b, u32 from)
{
	for (; from < b->count; from++)
		if (!b->ops[from].result)
			b->ops[from].result = -ECANCELED;
}

/* A validation failure cancels an atomic batch: all of it. */
static bool weave_batch_failed(struct weave_batch *b)
{
	u32 i;

	for (i = 0; i < b->count; i++)
		if (b->ops[i].result)
			return true;
	return false;
}

/* Copy the operations in; bytes past the kernel's structure must be 0. */
static int weave_batch_copy_ops(struct weave_batch *b, u64 uops, u32 op_size)
{
	const u8 __user *p = u64_to_user_ptr(uops);
	size_t size = sizeof(*b->ops);
	int ret;
	u32 i;

	if (op_size == size)
		return copy_from_user(b->ops, p, (size_t)b->count * size) ?
		       -EFAULT : 0;
	for (i = 0; i < b->count; i++) {
		ret = copy_struct_from_user(&b->ops[i], size,
					    p + (size_t)i * op_size, op_size);
		if (ret)
			return ret;
	}
	return 0;
}

static int weave_batch_copy_results(struct weave_batch *b, u64 uops,
				    u32 op_size)
{
	u8 __user *p = u64_to_user_ptr(uops);
	size_t size = sizeof(*b->ops);
	u32 i;

	if (op_size == size)
		return copy_to_user(p, b->ops, (size_t)b->count * size) ?
		       -EFAULT : 0;
	for (i = 0; i < b->count; i++)
		if (copy_to_user(p + (size_t)i * op_size, &b->ops[i],
				 min_t(size_t, op_size, size)))
			return -EFAULT;
	return 0;
}

/* Stage every valid set's value (WEAVE_GFP_STORE: ENOMEM, not OOM). */
static int weave_batch_copy_values(struct weave_batch *b)
{
	const struct weave_batch_op *op;
	u32 i;

	if (!b->bytes)
		return 0;
	b->data = kvmalloc(b->bytes, WEAVE_GFP_STORE);
	if (!b->data)
		return -ENOMEM;
	for (i = 0; i < b->count; i++) {
		op = &b->ops[i];
		if (op->op == WEAVE_BATCH_SET && !op->result && op->len &&
		    copy_from_user(b->data + b->offs[i],
				   u64_to_user_ptr(op->buf), op->len))
			return -EFAULT;
	}
	return 0;
}

/* Hand the gets' bytes out; a get that cannot gets -EFAULT. */
static void weave_batch_copy_gets(struct weave_batch *b)
{
	struct weave_batch_op *op;
	u64 n;
	u32 i;

	for (i = 0; i < b->count; i++) {
		op = &b->ops[i];
		if (op->op != WEAVE_BATCH_GET || op->result)
			continue;
		n = min(op->len, op->size);
		if (n && copy_to_user(u64_to_user_ptr(op->buf),
				      b->data + b->offs[i], n))
			op->result = -EFAULT;
	}
}

/*
 * Run one valid operation, registry->lock held, its entry lock cleared;
 * @data is its value or room.
 */
static int weave_batch_run(struct weave_registry *reg, struct weave_file *wf,
			   struct weave_batch_op *op, void *data)
{
	struct weave_entry *e = weave_entry_lookup(reg, op->key);
	struct weave_value v;
	int ret;

	switch (op->op) {
	case WEAVE_BATCH_SET:
		weave_value_kernel(&v, data, op->len);
		ret = weave_set_check(e, op->flags, &op->gen) ?:
		      weave_entry_set(reg, wf, e, op->key, &v, op->flags);
		if (ret)
			return ret;
		op->gen = reg->gen;
		op->size = op->len;
		return 0;
	case WEAVE_BATCH_DELETE:
		ret = weave_delete_check(e, op->flags, &op->gen);
		if (ret)
			return ret;
		weave_entry_delete(reg, wf, e);
		op->gen = reg->gen;
		return 0;
	}
	/* Get and stat. */
	if (!e)
		return -ENOENT;
	op->gen = e->s->gen;
	op->size = e->s->size;
	if (op->op == WEAVE_BATCH_GET)
		weave_store_read(reg, e, 0, data, min(op->len, op->size));
	return 0;
}

/* Each operation in turn, waiting for entry locks as its command would. */
static void weave_batch_run_all(struct file *file, struct weave_batch *b,
				u32 flags)
{
	struct weave_registry *reg = weave_file_reg(file);
	bool nonblock = weave_nonblock(file, flags);
	struct weave_batch_op *op;
	struct weave_hold *tmp;
	int ret;
	u32 i;

	mutex_lock(&reg->lock);
	for (i = 0; i < b->count; i++) {
		op = &b->ops[i];
		if (op->result)
			continue;
		ret = weave_batch_lock_access(reg, file->private_data, op,
					      nonblock ||
					      op->flags & WEAVE_OP_NONBLOCK,
					      &tmp);
		if (ret == -EINTR || ret == -ERESTARTSYS) {
			/* Earlier operations took effect: no restart. */
			op->result = -EINTR;
			weave_batch_cancel(b, i + 1);
			break;
		}
		if (!ret)
			ret = weave_batch_run(reg, file->private_data, op,
					      b->data + b->offs[i]);
		weave_lock_access_end(reg, tmp);
		op->result = ret;
	}
	mutex_unlock(&reg->lock);
}

/*
 * Whether an atomic batch's operation @op may run, given the entry
 * count and bytes the operations before it leave (*@count, *@bytes),
 * which it updates. Changes nothing but @op's gen on -ESTALE.
 */
static int weave_batch_check_op(struct weave_registry *reg,
				struct weave_file *wf,
				struct weave_batch_op *op, u64 *count,
				u64 *bytes)
{
	struct weave_entry *e = weave_entry_lookup(reg, op->key);
	u64 max = READ_ONCE(weave_max_registry_bytes);
	u64 size = e ? e->s->size : 0;
	struct weave_hold *tmp;
	int ret;

	ret = weave_batch_lock_access(reg, wf, op, true, &tmp);
	if (ret)
		return ret;
	switch (op->op) {
	case WEAVE_BATCH_SET:
		ret = weave_set_check(e, op->flags, &op->gen);
		if (ret)
			return ret;
		if ((!e && *count >= reg->max_entries) ||
		    (op->len > size && *bytes + (op->len - size) > max))
			return -ENOSPC;
		*count += !e;
		*bytes = *bytes - size + op->len;
		return 0;
	case WEAVE_BATCH_DELETE:
		ret = weave_delete_check(e, op->flags, &op->gen);
		if (ret)
			return ret;
		*count -= 1;
		*bytes -= size;
		return 0;
	}
	return e ? 0 : -ENOENT;
}

/*
 * All or nothing: check every operation, then apply them all without
 * dropping the lock in between.
 */
static void weave_batch_run_atomic(struct file *file, struct weave_batch *b)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_batch_op *op;
	u64 count, bytes;
	int ret = 0;
	u32 i;

	mutex_lock(&reg->lock);
	count = reg->count;
	bytes = reg->bytes;
	for (i = 0; i < b->count && !ret; i++) {
		ret = weave_batch_check_op(reg, file->private_data,
					   &b->ops[i], &count, &bytes);
		b->ops[i].result = ret;
	}
	if (ret) {
		weave_batch_cancel(b, 0);
		goto out;
	}
	for (i = 0; i < b->count; i++) {
		op = &b->ops[i];
		/*
		 * What the checks cannot rule out: memory, or a limit
		 * lowered by root since they ran.
		 */
		ret = weave_batch_run(reg, file->private_data, op,
				      b->data + b->offs[i]);
		if (ret) {
			op->result = ret;
			weave_batch_cancel(b, i + 1);
			break;
		}
	}
out:
	mutex_unlock(&reg->lock);
}

/**
 * weave_ioctl_batch() - WEAVE_IOC_BATCH: run several operations
 * @file: an attached file; writable for sets and deletes (EBADF each)
 * @arg: &struct weave_batch_args
 *
 * Return: 0 when the batch ran (its results say how each operation
 * fared), or a negative errno.
 */
int weave_ioctl_batch(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_batch_args *a = arg;
	bool atomic = a->flags & WEAVE_BATCH_ATOMIC;
	bool writable = file->f_mode & FMODE_WRITE;
	struct weave_batch b = { .count = a->count };
	struct weave_batch_op *op;
	int ret;
	u32 i;

	if (!a->count || a->count > READ_ONCE(weave_max_batch) ||
	    a->op_size < WEAVE_BATCH_OP_SIZE_VER0 || a->op_size > PAGE_SIZE ||
	    a->flags & ~WEAVE_BATCH_VALID || a->failed)
		return -EINVAL;

	b.ops = kvmalloc_array(b.count, sizeof(*b.ops) + sizeof(*b.offs),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!b.ops)
		return -ENOMEM;
	b.offs = (u64 *)(b.ops + b.count);
	ret = weave_batch_copy_ops(&b, a->ops, a->op_size);
	if (ret)
		goto out;

	for (i = 0; i < b.count; i++) {
		op = &b.ops[i];
		op->result = weave_batch_op_check(reg, op);
		if (!op->result && !writable && weave_batch_op_writes(op))
			op->result = -EBADF;
		b.offs[i] = b.bytes;
		if (!op->result &&
		    check_add_overflow(b.bytes, weave_batch_op_bytes(op),
				       &b.bytes)) {
			ret = -EFBIG;
			goto out;
		}
	}
	if (b.bytes > reg->max_entry_size) {
		ret = -EFBIG;
		goto out;
	}
	if (atomic) {
		ret = weave_batch_check_keys(&b);
		if (ret)
			goto out;
	}
	if (atomic && weave_batch_failed(&b)) {
		weave_batch_cancel(&b, 0);
	} else {
		ret = weave_batch_copy_values(&b);
		if (ret)
			goto out;
		if (atomic)
			weave_batch_run_atomic(file, &b);
		else
			weave_batch_run_all(file, &b, a->flags);
		weave_batch_copy_gets(&b);
	}
	for (i = 0; i < b.count; i++)
		a->failed += !!b.ops[i].result;
	ret = weave_batch_copy_results(&b, a->ops, a->op_size);
out:
	kvfree(b.data);
	kvfree(b.ops);
	return ret;
}
