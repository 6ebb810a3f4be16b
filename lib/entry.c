// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: the map operations, one ioctl each.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <limits.h>

#include "internal.h"

/* With WEAVE_OP_IF_GEN, the gen the entry must have comes from *@gen. */
static int weave_gen_in(unsigned int flags, const uint64_t *gen, __u64 *field)
{
	if (!(flags & WEAVE_OP_IF_GEN))
		return 0;
	if (!gen)
		return -EINVAL;
	*field = *gen;
	return 0;
}

/* Pass the kernel's gen on: the new one, or the one found on -ESTALE. */
static int weave_gen_out(int err, uint64_t *gen, __u64 field)
{
	if ((!err || err == -ESTALE) && gen)
		*gen = field;
	return err;
}

int weave_set_flags(struct weave *w, uint64_t key, const void *buf,
		    size_t len, unsigned int flags, uint64_t *gen)
{
	struct weave_set_args s = {
		.key = key,
		.buf = (uintptr_t)buf,
		.len = len,
		.flags = flags,
	};
	int err;

	if (!key || (flags & ~WEAVE_SET_VALID))
		return -EINVAL;
	err = weave_gen_in(flags, gen, &s.gen);
	if (err)
		return err;
	err = weave_ioctl(w->fd, WEAVE_IOC_SET, &s);
	return weave_gen_out(err, gen, s.gen);
}

int weave_set(struct weave *w, uint64_t key, const void *buf, size_t len)
{
	return weave_set_flags(w, key, buf, len, 0, NULL);
}

static int weave_get_at(struct weave *w, uint64_t key, uint64_t offset,
			void *buf, size_t len, struct weave_get_args *g)
{
	*g = (struct weave_get_args){
		.key = key,
		.buf = (uintptr_t)buf,
		.len = len,
		.offset = offset,
	};
	if (!key)
		return -EINVAL;
	return weave_ioctl(w->fd, WEAVE_IOC_GET, g);
}

ssize_t weave_get(struct weave *w, uint64_t key, void *buf, size_t len,
		  uint64_t *gen)
{
	struct weave_get_args g;
	int err;

	err = weave_get_at(w, key, 0, buf, len, &g);
	if (err)
		return err;
	if (g.size > SSIZE_MAX)
		return -EOVERFLOW;
	if (gen)
		*gen = g.gen;
	return g.size;
}

ssize_t weave_read(struct weave *w, uint64_t key, uint64_t offset, void *buf,
		   size_t len)
{
	struct weave_get_args g;
	int err;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	err = weave_get_at(w, key, offset, buf, len, &g);
	if (err)
		return err;
	return g.copied;
}

int weave_batch(struct weave *w, struct weave_batch_op *ops, unsigned int n,
		unsigned int flags)
{
	struct weave_batch_args b = {
		.ops = (uintptr_t)ops,
		.count = n,
		.op_size = sizeof(*ops),
		.flags = flags,
	};
	int err;

	if (!ops || !n || n > INT_MAX || (flags & ~WEAVE_BATCH_VALID))
		return -EINVAL;
	err = weave_ioctl(w->fd, WEAVE_IOC_BATCH, &b);
	return err ?: (int)b.failed;
}

int weave_stat(struct weave *w, uint64_t key, struct weave_stat_args *st)
{
	struct weave_stat_args s = { .key = key };
	int err;

	if (!key || !st)
		return -EINVAL;
	err = weave_ioctl(w->fd, WEAVE_IOC_STAT, &s);
	if (!err)
		*st = s;
	return err;
}

int weave_has(struct weave *w, uint64_t key)
{
	struct weave_stat_args s = { .key = key };
	int err;

	if (!key)
		return -EINVAL;
	err = weave_ioctl(w->fd, WEAVE_IOC_STAT, &s);
	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

int weave_delete_flags(struct weave *w, uint64_t key, unsigned int flags,
		       uint64_t *gen)
{
	struct weave_delete_args d = { .key = key, .flags = flags };
	int err;

	if (!key || (flags & ~WEAVE_DELETE_VALID))
		return -EINVAL;
	err = weave_gen_in(flags, gen, &d.gen);
	if (err)
		return err;
	err = weave_ioctl(w->fd, WEAVE_IOC_DELETE, &d);
	return weave_gen_out(err, gen, d.gen);
}

int weave_delete(struct weave *w, uint64_t key)
{
	return weave_delete_flags(w, key, 0, NULL);
}

int64_t weave_clear(struct weave *w)
{
	struct weave_clear_args c = { 0 };
	int err;

	err = weave_ioctl(w->fd, WEAVE_IOC_CLEAR, &c);
	if (err)
		return err;
	return (int64_t)c.count;
}

int64_t weave_count(struct weave *w)
{
	struct weave_info_args info = { 0 };
	int err;

	err = weave_ioctl(w->fd, WEAVE_IOC_INFO, &info);
	if (err)
		return err;
	return (int64_t)info.count;
}

int weave_write(struct weave *w, uint64_t key, uint64_t offset,
		const void *buf, size_t len)
{
	struct weave_write_args wr = {
		.key = key,
		.buf = (uintptr_t)buf,
		.len = len,
		.offset = offset,
	};

	if (!key)
		return -EINVAL;
	return weave_ioctl(w->fd, WEAVE_IOC_WRITE, &wr);
}

int weave_resize(struct weave *w, uint64_t key, uint64_t size)
{
	struct weave_resize_args r = { .key = key, .size = size };

	if (!key)
		return -EINVAL;
	return weave_ioctl(w->fd, WEAVE_IOC_RESIZE, &r);
}
