// SPDX-License-Identifier: GPL-2.0
/*
 * weave: the /dev/weave device - files, ioctl dispatch, module init.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Every ioctl takes a structure whose size is the _IOC_SIZE of its command,
 * read with copy_struct_from_user() so older (shorter) and newer (longer,
 * zero-tailed) callers both work. What a handler writes is copied back
 * from the command's first out field to the end of the shorter of the two
 * sizes, on success and on a failed compare and set; a command with no
 * out field copies nothing back.
 * Dispatch is by table, indexed by _IOC_NR under array_index_nospec().
 *
 * A file holds no lock of its own: its registry pointer is set once under
 * weave_names_lock and read with acquire semantics (weave_file_reg()).
 *
 * Files come from open() of the device, or from WEAVE_IOC_REOPEN, which
 * makes an anonymous-inode file with the same operations; either way the
 * file's f_mapping is its private inode's, set before it is visible.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

/* What this build implements, reported by WEAVE_IOC_API. */
#define WEAVE_FEATURES	(WEAVE_FEATURE_MAP | WEAVE_FEATURE_LOCKS | \
			 WEAVE_FEATURE_EVENTS | WEAVE_FEATURE_NETLINK | \
			 WEAVE_FEATURE_SETATTR | WEAVE_FEATURE_IF_GEN | \
			 WEAVE_FEATURE_REOPEN | WEAVE_FEATURE_BATCH | \
			 WEAVE_FEATURE_SEAL)

static int weave_ioctl_api(struct file *file, void *arg);
static int weave_ioctl_reopen(struct file *file, void *arg);

/*
 * The ioctl needs an attached file, and a writable one; it can fail a
 * compare and set, after which it writes its out fields back too.
 */
#define WEAVE_IOCTL_ATTACHED	BIT(0)
#define WEAVE_IOCTL_WRITE	BIT(1)
#define WEAVE_IOCTL_CAS		BIT(2)

/**
 * struct weave_ioctl_desc - one entry of the dispatch table
 * @fn: handler, called with the structure in kernel memory
 * @ver0: smallest structure size accepted
 * @size: the kernel's structure size
 * @out: offset of the first field the handler may write; the structure
 *	is copied back from there, as the fields before it are the caller's
 * @flags: WEAVE_IOCTL_* requirements
 */
struct weave_ioctl_desc {
	int (*fn)(struct file *file, void *arg);
	unsigned int ver0;
	unsigned int size;
	unsigned int out;
	unsigned int flags;
};

/* Names are pasted here, not in a nested macro: WRITE is a macro too. */
#define WEAVE_IOCTL_DESC(nr, v0, type, func, out_off, fl)		\
	[nr] = {							\
		.fn = func,						\
		.ver0 = v0,						\
		.size = sizeof(type),					\
		.out = out_off,						\
		.flags = fl,						\
	}

/* @out_field: the first field written back (the first field: all of it). */
#define WEAVE_IOCTL(cmd, name, func, out_field, fl)			\
	WEAVE_IOCTL_DESC(_IOC_NR(WEAVE_IOC_##cmd), WEAVE_##cmd##_SIZE_VER0, \
			 struct weave_##name##_args, func,		\
			 offsetof(struct weave_##name##_args, out_field), fl)

/* A command that writes nothing back. */
#define WEAVE_IOCTL_IN(cmd, name, func, fl)				\
	WEAVE_IOCTL_DESC(_IOC_NR(WEAVE_IOC_##cmd), WEAVE_##cmd##_SIZE_VER0, \
			 struct weave_##name##_args, func,		\
			 sizeof(struct weave_##name##_args), fl)

static const struct weave_ioctl_desc weave_ioctls[] = {
	WEAVE_IOCTL(API, api, weave_ioctl_api, api, 0),
	WEAVE_IOCTL(ATTACH, attach, weave_ioctl_attach, name, 0),
	WEAVE_IOCTL_IN(UNLINK, unlink, weave_ioctl_unlink, 0),
	WEAVE_IOCTL(INFO, info, weave_ioctl_info, id, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL_IN(REOPEN, reopen, weave_ioctl_reopen, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL_IN(SETATTR, setattr, weave_ioctl_setattr,
		       WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(SET, set, weave_ioctl_set, gen,
		    WEAVE_IOCTL_ATTACHED | WEAVE_IOCTL_WRITE | WEAVE_IOCTL_CAS),
	WEAVE_IOCTL(GET, get, weave_ioctl_get, size, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(WRITE, write, weave_ioctl_write, size,
		    WEAVE_IOCTL_ATTACHED | WEAVE_IOCTL_WRITE | WEAVE_IOCTL_CAS),
	WEAVE_IOCTL(RESIZE, resize, weave_ioctl_resize, gen,
		    WEAVE_IOCTL_ATTACHED | WEAVE_IOCTL_WRITE | WEAVE_IOCTL_CAS),
	WEAVE_IOCTL(DELETE, delete, weave_ioctl_delete, gen,
		    WEAVE_IOCTL_ATTACHED | WEAVE_IOCTL_WRITE | WEAVE_IOCTL_CAS),
	WEAVE_IOCTL(CLEAR, clear, weave_ioctl_clear, count,
		    WEAVE_IOCTL_ATTACHED | WEAVE_IOCTL_WRITE),
	WEAVE_IOCTL(STAT, stat, weave_ioctl_stat, gen, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(LIST, list, weave_ioctl_list, cursor,
		    WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(BATCH, batch, weave_ioctl_batch, failed,
		    WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(LOCK, lock, weave_ioctl_lock, result,
		    WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL_IN(UNLOCK, unlock, weave_ioctl_unlock, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL_IN(WATCH, watch, weave_ioctl_watch, WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL_IN(UNWATCH, watch, weave_ioctl_unwatch,
		       WEAVE_IOCTL_ATTACHED),
	WEAVE_IOCTL(WAIT, wait, weave_ioctl_wait, cur_gen,
		    WEAVE_IOCTL_ATTACHED),
};

/* Every structure fits; the largest is checked at build time below. */
union weave_ioctl_arg {
	struct weave_api_args api;
	struct weave_attach_args attach;
	struct weave_unlink_args unlink;
	struct weave_info_args info;
	struct weave_setattr_args setattr;
	struct weave_reopen_args reopen;
	struct weave_set_args set;
	struct weave_get_args get;
	struct weave_write_args write;
	struct weave_resize_args resize;
	struct weave_delete_args delete;
	struct weave_clear_args clear;
	struct weave_stat_args stat;
	struct weave_list_args list;
	struct weave_batch_args batch;
	struct weave_lock_args lock;
	struct weave_unlock_args unlock;
	struct weave_watch_args watch;
	struct weave_wait_args wait;
};

static int weave_ioctl_api(struct file *file, void *arg)
{
	struct weave_api_args *a = arg;
	unsigned int i;

	if (a->api != WEAVE_API ||
	    memchr_inv(&a->features, 0, sizeof(*a) -
		       offsetof(struct weave_api_args, features)))
		return -EINVAL;

	a->features = WEAVE_FEATURES;
	for (i = 0; i < ARRAY_SIZE(weave_ioctls); i++)
		if (weave_ioctls[i].fn)
			a->ioctls |= BIT_ULL(i);
	a->max_entries = READ_ONCE(weave_max_entries);
	a->max_entry_size = READ_ONCE(weave_max_entry_size);
	a->max_registry_bytes = READ_ONCE(weave_max_registry_bytes);
	a->max_batch = READ_ONCE(weave_max_batch);
	return 0;
}

static long weave_fop_ioctl(struct file *file, unsigned int cmd,
			    unsigned long uarg)
{
	void __user *argp = (void __user *)uarg;
	const struct weave_ioctl_desc *d;
	union weave_ioctl_arg arg;
	unsigned int nr, usize, n;
	int ret;

	if (_IOC_TYPE(cmd) != WEAVE_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;
	nr = _IOC_NR(cmd);
	if (nr >= ARRAY_SIZE(weave_ioctls))
		return -ENOTTY;
	d = &weave_ioctls[array_index_nospec(nr, ARRAY_SIZE(weave_ioctls))];
	if (!d->fn)
		return -ENOTTY;

	usize = _IOC_SIZE(cmd);
	if (usize < d->ver0)
		return -EINVAL;
	ret = copy_struct_from_user(&arg, d->size, argp, usize);
	if (ret)
		return ret;

	if (d->flags & WEAVE_IOCTL_ATTACHED && !weave_file_reg(file))
		return -EBADFD;
	if (d->flags & WEAVE_IOCTL_WRITE && !(file->f_mode & FMODE_WRITE))
		return -EBADF;

	/* 0, a new file descriptor, or a negative errno. */
	ret = d->fn(file, &arg);
	/* A failed compare and set reports the gen it found. */
	if (ret < 0 && !(ret == -ESTALE && d->flags & WEAVE_IOCTL_CAS))
		return ret;
	/*
	 * Only the fields the handler writes: a set copies back its gen,
	 * not the 40 bytes the caller passed.
	 */
	n = min(usize, d->size);
	if (n > d->out &&
	    copy_to_user(argp + d->out, (u8 *)&arg + d->out, n - d->out))
		return -EFAULT;
	return ret;
}

/* The private data of a new file, unattached. */
static struct weave_file *weave_file_alloc(void)
{
	struct weave_file *wf;
	int ret;

	wf = kzalloc(sizeof(*wf), GFP_KERNEL_ACCOUNT);
	if (!wf)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&wf->node);
	ret = weave_file_events_init(wf);
	if (ret)
		goto err_free;
	wf->inode = weave_inode_alloc();
	if (IS_ERR(wf->inode)) {
		ret = PTR_ERR(wf->inode);
		goto err_events;
	}
	return wf;

err_events:
	weave_file_events_destroy(wf);
err_free:
	kfree(wf);
	return ERR_PTR(ret);
}

static void weave_file_free(struct weave_file *wf)
{
	if (wf->reg)
		weave_file_detach(wf);
	weave_file_events_destroy(wf);
	iput(wf->inode);
	kfree(wf);
}

static int weave_fop_open(struct inode *inode, struct file *file)
{
	struct weave_file *wf = weave_file_alloc();

	if (IS_ERR(wf))
		return PTR_ERR(wf);
	/* Before the file is visible, so f_mapping never changes under mmap. */
	file->f_mapping = wf->inode->i_mapping;
	file->private_data = wf;
	return 0;
}

static int weave_fop_release(struct inode *inode, struct file *file)
{
	weave_file_free(file->private_data);
	return 0;
}

static void weave_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct weave_registry *reg = weave_file_reg(file);

	if (!reg)
		return;
	seq_printf(m, "weave-id:\t%llu\n", reg->id);
	seq_printf(m, "weave-name:\t%s\n", reg->name ?: "");
}

static const struct file_operations weave_fops = {
	.owner		= THIS_MODULE,
	.open		= weave_fop_open,
	.release	= weave_fop_release,
	.read		= weave_fop_read,
	.poll		= weave_fop_poll,
	.flush		= weave_fop_flush,
	.unlocked_ioctl	= weave_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= weave_fop_mmap,
	.show_fdinfo	= weave_fop_show_fdinfo,
	.llseek		= noop_llseek,
};

/**
 * weave_ioctl_reopen() - WEAVE_IOC_REOPEN: another file of the registry
 * @file: an attached file
 * @arg: &struct weave_reopen_args
 *
 * The new open file description has the calling file's access or less
 * (the registry's permissions are not checked again), and
 * locks and an event queue of its own, as if the registry had been
 * attached again, which an anonymous one cannot be.
 *
 * Return: the new file descriptor, or a negative errno.
 */
static int weave_ioctl_reopen(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_reopen_args *a = arg;
	struct weave_file *wf;
	struct file *nf;
	int oflags, fd;

	if (a->flags & ~WEAVE_REOPEN_VALID || a->reserved)
		return -EINVAL;
	oflags = a->flags & WEAVE_REOPEN_RDONLY ? O_RDONLY : O_RDWR;
	if (oflags == O_RDWR && !(file->f_mode & FMODE_WRITE))
		return -EACCES;
	if (a->flags & WEAVE_REOPEN_NONBLOCK)
		oflags |= O_NONBLOCK;

	wf = weave_file_alloc();
	if (IS_ERR(wf))
		return PTR_ERR(wf);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free;
	nf = anon_inode_getfile("[weave]", &weave_fops, wf, oflags);
	if (IS_ERR(nf)) {
		put_unused_fd(fd);
		fd = PTR_ERR(nf);
		goto err_free;
	}
	/* Before the file is visible, as in weave_fop_open(). */
	nf->f_mapping = wf->inode->i_mapping;
	weave_file_attach_to(wf, reg);
	fd_install(fd, nf);
	return fd;

err_free:
	weave_file_free(wf);
	return fd;
}

/* Permission is per registry, so the device itself is open to all. */
static struct miscdevice weave_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "weave",
	.fops	= &weave_fops,
	.mode	= 0666,
};

static int __init weave_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct weave_slot) != 64);
	BUILD_BUG_ON(sizeof(struct weave_index_header) != 64);
	BUILD_BUG_ON(sizeof(union weave_ioctl_arg) > 128);
	BUILD_BUG_ON(ARRAY_SIZE(weave_ioctls) > 64);

	ret = weave_ns_init();
	if (ret)
		return ret;
	ret = weave_entry_cache_init();
	if (ret)
		goto err_ns;
	ret = weave_lock_cache_init();
	if (ret)
		goto err_entry_cache;
	ret = weave_registry_init();
	if (ret)
		goto err_lock_cache;
	ret = weave_nl_init();
	if (ret)
		goto err_registry;
	ret = misc_register(&weave_misc);
	if (ret)
		goto err_nl;
	return 0;

err_nl:
	weave_nl_exit();
err_registry:
	weave_ns_quiesce();
	weave_registry_exit();
err_lock_cache:
	weave_lock_cache_exit();
err_entry_cache:
	weave_entry_cache_exit();
err_ns:
	weave_ns_exit();
	return ret;
}

static void __exit weave_exit(void)
{
	misc_deregister(&weave_misc);
	weave_nl_exit();
	/* No namespace may be unnaming a registry while they are freed. */
	weave_ns_quiesce();
	weave_registry_exit();
	weave_lock_cache_exit();
	weave_entry_cache_exit();
	weave_ns_exit();
}

module_init(weave_init);
module_exit(weave_exit);

MODULE_DESCRIPTION("Registries of byte buffers shared between processes");
MODULE_AUTHOR("The weave authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(WEAVE_VERSION_STRING);
