// SPDX-License-Identifier: GPL-2.0
/*
 * weave: registries - creation, names, attach, unlink and lifetime.
 *
 * Copyright (C) 2026 The weave authors
 *
 * A registry has users and references, counted apart:
 *
 * - Its users are the files attached to it, plus its name if it is
 *   persistent (mappings hold their file, so they count through it). The
 *   name (unless unlinked or its namespace died first), the registry's
 *   place on the registry list and its count against its user (and its
 *   namespace, while that lives) last no longer than its last user: when
 *   that one goes the registry dies, at once and whoever else still looks
 *   at it. Its name is unhashed and its entries freed, so that a new
 *   attach of the same name always creates a new, empty registry.
 * - Its references (kref) keep its memory: the users hold one between
 *   them, and netlink requests hold one each while they build a reply
 *   (weave_registry_find_visible(), weave_registry_next_visible()), as
 *   does the sender of an UNLINKED event. A dead registry can no longer
 *   be found and has no entries left to show (a reply built as it dies may
 *   still carry its name); the last reference frees the rest.
 *
 * weave_names_lock protects the name table, the list of all registries,
 * their number, the user table, the namespace table (namespace.c), and
 * each registry's hashed, flags, wns, user, uid, gid and mode fields;
 * readers outside it (statistics) take a READ_ONCE() snapshot. It is
 * taken before registry->lock, never after. A registry's users count
 * reaches 0 only under it (refcount_dec_and_mutex_lock()), and only
 * registries with users are on the list and in the name table, so
 * whatever a lookup finds under the lock is alive and may gain a user.
 *
 * Names are scoped by IPC namespace (namespace.c), and a namespace's
 * names die with it. Each registry counts against its creator's real user
 * until it dies, and against its namespace until either dies: the limits
 * on those counts are checked when one is created.
 */
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/mount.h>
#include <linux/nsproxy.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

#define WEAVE_FS_MAGIC		0x57454156
#define WEAVE_NAME_HASH_BITS	8
#define WEAVE_USER_HASH_BITS	6

/* See the comment at the top. */
DEFINE_MUTEX(weave_names_lock);
static DEFINE_HASHTABLE(weave_names, WEAVE_NAME_HASH_BITS);
static DEFINE_HASHTABLE(weave_users, WEAVE_USER_HASH_BITS);
static LIST_HEAD(weave_registries);
static unsigned int weave_nr_registries;
static u64 weave_last_id;

static struct vfsmount *weave_mnt;

/**
 * struct weave_user - registries a user has created
 * @node: in the user table, by @uid.
 * @uid: the real user id of the creators.
 * @nr_registries: registries they created that live on; the object is
 *	freed when it drops to zero.
 *
 * Under weave_names_lock.
 */
struct weave_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int nr_registries;
};

/*
 * Each open file gets an inode of this pseudo file system, whose
 * address_space lists the file's mappings, so views can be zapped with
 * unmap_mapping_range(). The file system has no owner module: the module
 * unmounts it on exit, after the last file is gone.
 */
static int weave_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, WEAVE_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type weave_fs_type = {
	.name			= "weave",
	.init_fs_context	= weave_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/**
 * weave_inode_alloc() - an inode to carry a file's mappings
 *
 * Return: the inode or an ERR_PTR().
 */
struct inode *weave_inode_alloc(void)
{
	return alloc_anon_inode(weave_mnt->mnt_sb);
}

static struct weave_registry *weave_registry_alloc(u64 max_entries,
						   umode_t mode)
{
	struct weave_registry *reg;
	int i;

	reg = kzalloc(sizeof(*reg), GFP_KERNEL_ACCOUNT);
	if (!reg)
		return NULL;

	kref_init(&reg->kref);
	mutex_init(&reg->lock);
	INIT_LIST_HEAD(&reg->node);
	INIT_LIST_HEAD(&reg->files);
	for (i = 0; i < WEAVE_NR_CELL_CLASSES; i++)
		INIT_LIST_HEAD(&reg->partial[i]);
	ida_init(&reg->slots);
	xa_init(&reg->index);
	xa_init(&reg->pages);
	weave_events_init(reg);

	reg->uid = current_fsuid();
	reg->gid = current_fsgid();
	reg->mode = mode;
	reg->max_entries = max_entries;
	reg->max_entry_size = READ_ONCE(weave_max_entry_size);
	reg->index_pages = DIV_ROUND_UP((max_entries + 1) * WEAVE_SLOT_SIZE,
					PAGE_SIZE);
	reg->span_pages = DIV_ROUND_UP(reg->max_entry_size, PAGE_SIZE);

	if (weave_entries_init(reg)) {
		weave_entries_destroy(reg);
		kfree(reg);
		return NULL;
	}
	return reg;
}

/* The creator's count, found or made. Under weave_names_lock. */
static struct weave_user *weave_user_get(kuid_t uid)
{
	struct weave_user *u;

	hash_for_each_possible(weave_users, u, node, __kuid_val(uid)) {
		if (uid_eq(u->uid, uid))
			return u;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return NULL;
	u->uid = uid;
	hash_add(weave_users, &u->node, __kuid_val(uid));
	return u;
}

/* A user with no registry left is forgotten. Under weave_names_lock. */
static void weave_user_forget(struct weave_user *u)
{
	if (!u->nr_registries) {
		hash_del(&u->node);
		kfree(u);
	}
}

/* Take @reg off every list and count. Under weave_names_lock. */
static void weave_registry_unlist(struct weave_registry *reg)
{
	lockdep_assert_held(&weave_names_lock);
	if (reg->hashed) {
		hash_del(&reg->hnode);
		reg->hashed = false;
	}
	list_del_init(&reg->node);
	weave_nr_registries--;
	if (reg->wns)
		reg->wns->nr_registries--;
	reg->wns = NULL;
	reg->user->nr_registries--;
	weave_user_forget(reg->user);
	reg->user = NULL;
}

static void weave_registry_free(struct weave_registry *reg)
{
	weave_entries_destroy(reg);
	kfree(reg->name);
	kfree(reg);
}

static void weave_registry_release(struct kref *kref)
{
	weave_registry_free(container_of(kref, struct weave_registry, kref));
}

/**
 * weave_registry_put() - drop a reference to a registry
 * @reg: the registry
 *
 * Frees it with the last reference. May sleep.
 */
void weave_registry_put(struct weave_registry *reg)
{
	kref_put(&reg->kref, weave_registry_release);
}

/*
 * Drop a user of @reg. The last one takes the registry's name, its place
 * and its counts at once, frees its entries and drops the users'
 * reference; a netlink request may still hold another.
 */
static void weave_registry_unuse(struct weave_registry *reg)
{
	/* Only the last user takes weave_names_lock, as lookups need it. */
	if (!refcount_dec_and_mutex_lock(&reg->users, &weave_names_lock))
		return;
	/* Before the counts drop, which may free reg->user. */
	weave_nl_reg_event(reg, WEAVE_CMD_REG_DEL);
	weave_registry_unlist(reg);
	mutex_unlock(&weave_names_lock);

	weave_entries_release(reg);
	weave_registry_put(reg);
}

static u32 weave_name_hash(const struct weave_ns *wns, const char *name)
{
	return full_name_hash(wns, name, strlen(name));
}

/* @name in namespace @wns (may be NULL). Under weave_names_lock. */
static struct weave_registry *weave_name_find(const struct weave_ns *wns,
					      const char *name)
{
	struct weave_registry *reg;

	lockdep_assert_held(&weave_names_lock);
	if (!wns)
		return NULL;
	hash_for_each_possible(weave_names, reg, hnode,
			       weave_name_hash(wns, name)) {
		if (reg->wns == wns && !strcmp(reg->name, name))
			return reg;
	}
	return NULL;
}

/*
 * Take @reg's name away, keeping a reference for the UNLINKED event.
 * Under weave_names_lock. Returns whether the name was a user that must be
 * dropped too (a persistent registry).
 */
static bool weave_registry_unname(struct weave_registry *reg)
{
	lockdep_assert_held(&weave_names_lock);
	hash_del(&reg->hnode);
	reg->hashed = false;
	WRITE_ONCE(reg->flags, reg->flags | WEAVE_REG_UNLINKED);
	kref_get(&reg->kref);
	return reg->flags & WEAVE_REG_PERSIST;
}

/* After weave_registry_unname(): tell the watchers, drop the name. */
static void weave_registry_unnamed(struct weave_registry *reg,
				   struct weave_file *src, bool drop)
{
	mutex_lock(&reg->lock);
	weave_event(reg, src, 0, WEAVE_EV_UNLINKED, NULL);
	mutex_unlock(&reg->lock);
	if (drop)
		weave_registry_unuse(reg);
	weave_registry_put(reg);
}

/*
 * Like a file's permission bits against the caller's fs credentials and
 * groups; CAP_IPC_OWNER in the namespace's user namespace overrides, as
 * for SysV IPC objects.
 */
static bool weave_may_access(const struct weave_registry *reg, int mask)
{
	umode_t mode = reg->mode;

	if (uid_eq(current_fsuid(), reg->uid))
		mode >>= 6;
	else if (in_group_p(reg->gid))
		mode >>= 3;
	if (!(mask & ~mode & (MAY_READ | MAY_WRITE)))
		return true;
	return ns_capable(current->nsproxy->ipc_ns->user_ns, CAP_IPC_OWNER);
}

static char *weave_name_from_user(u64 uname)
{
	char *name;

	name = strndup_user(u64_to_user_ptr(uname), WEAVE_NAME_MAX + 1);
	if (IS_ERR(name))
		return name;
	if (!name[0] || strchr(name, '/')) {
		kfree(name);
		return ERR_PTR(-EINVAL);
	}
	return name;
}

static int weave_attach_check(const struct weave_attach_args *a)
{
	if (a->flags & ~WEAVE_ATTACH_VALID || a->mode & ~0777 ||
	    a->reserved || a->id || a->index_size || a->result)
		return -EINVAL;
	if (a->flags & WEAVE_ATTACH_ANON) {
		if (a->flags != WEAVE_ATTACH_ANON || a->name)
			return -EINVAL;
	} else {
		if (!a->name)
			return -EINVAL;
		if (a->flags & (WEAVE_ATTACH_EXCL | WEAVE_ATTACH_PERSIST) &&
		    !(a->flags & WEAVE_ATTACH_CREATE))
			return -EINVAL;
	}
	if (a->max_entries > READ_ONCE(weave_max_entries))
		return -EINVAL;
	return 0;
}

/*
 * Find or create the registry that @a names, with a reference for the
 * caller. Called with weave_names_lock held.
 */
static struct weave_registry *weave_attach_lookup(struct file *file,
						  struct weave_attach_args *a,
						  char *name)
{
	struct weave_ns *wns = weave_ns_find(false);
	struct weave_registry *reg;
	struct weave_user *user;
	int mask = MAY_READ;
	u64 max_entries;

	lockdep_assert_held(&weave_names_lock);

	if (file->f_mode & FMODE_WRITE)
		mask |= MAY_WRITE;

	if (name) {
		reg = weave_name_find(wns, name);
		if (reg) {
			if (a->flags & WEAVE_ATTACH_EXCL)
				return ERR_PTR(-EEXIST);
			if (!weave_may_access(reg, mask))
				return ERR_PTR(-EACCES);
			refcount_inc(&reg->users);
			return reg;
		}
		if (!(a->flags & WEAVE_ATTACH_CREATE))
			return ERR_PTR(-ENOENT);
	}

	/* The whole machine, then the namespace, then the user. */
	if (weave_nr_registries >= READ_ONCE(weave_max_registries))
		return ERR_PTR(-ENFILE);
	if (!wns)
		wns = weave_ns_find(true);
	if (IS_ERR(wns))
		return ERR_CAST(wns);
	if (wns->nr_registries >= READ_ONCE(weave_max_registries_per_ns))
		return ERR_PTR(-EMFILE);
	user = weave_user_get(current_uid());
	if (!user)
		return ERR_PTR(-ENOMEM);
	if (user->nr_registries >= READ_ONCE(weave_max_registries_per_user)) {
		weave_user_forget(user);
		return ERR_PTR(-EDQUOT);
	}

	max_entries = a->max_entries ?: READ_ONCE(weave_max_entries);
	reg = weave_registry_alloc(max_entries, a->mode);
	if (!reg) {
		weave_user_forget(user);
		return ERR_PTR(-ENOMEM);
	}

	reg->id = ++weave_last_id;
	reg->wns = wns;
	reg->user = user;
	reg->creator = user->uid;
	refcount_set(&reg->users, 1);
	if (name) {
		reg->name = name;
		reg->hashed = true;
		hash_add(weave_names, &reg->hnode, weave_name_hash(wns, name));
		if (a->flags & WEAVE_ATTACH_PERSIST) {
			reg->flags |= WEAVE_REG_PERSIST;
			refcount_inc(&reg->users);	/* the name */
		}
	} else {
		reg->flags |= WEAVE_REG_ANON;
	}
	list_add_tail(&reg->node, &weave_registries);
	weave_nr_registries++;
	wns->nr_registries++;
	user->nr_registries++;
	a->result = WEAVE_ATTACH_CREATED;
	weave_nl_reg_event(reg, WEAVE_CMD_REG_NEW);
	return reg;
}

/* Bind @wf to @reg, of which it is a user now. */
static void weave_file_bind(struct weave_file *wf, struct weave_registry *reg)
{
	mutex_lock(&reg->lock);
	list_add(&wf->node, &reg->files);
	mutex_unlock(&reg->lock);
	atomic_inc(&reg->nr_files);
	/* Pairs with smp_load_acquire() in weave_file_reg(). */
	smp_store_release(&wf->reg, reg);
}

/**
 * weave_file_attach_to() - attach a new file to a registry in use
 * @wf: the new file's private data, not yet visible
 * @reg: a registry that an attached file of the caller holds
 */
void weave_file_attach_to(struct weave_file *wf, struct weave_registry *reg)
{
	/* The caller's file is a user, so @reg has one to add to. */
	refcount_inc(&reg->users);
	weave_file_bind(wf, reg);
}

/**
 * weave_ioctl_attach() - WEAVE_IOC_ATTACH: bind a file to a registry
 * @file: an unattached /dev/weave file
 * @arg: &struct weave_attach_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_attach(struct file *file, void *arg)
{
	struct weave_file *wf = file->private_data;
	struct weave_attach_args *a = arg;
	struct weave_registry *reg;
	char *name = NULL;
	int ret;

	ret = weave_attach_check(a);
	if (ret)
		return ret;

	if (a->name) {
		name = weave_name_from_user(a->name);
		if (IS_ERR(name))
			return PTR_ERR(name);
	}

	mutex_lock(&weave_names_lock);
	if (wf->reg) {
		ret = -EBUSY;
		goto out_unlock;
	}
	reg = weave_attach_lookup(file, a, name);
	if (IS_ERR(reg)) {
		ret = PTR_ERR(reg);
		goto out_unlock;
	}
	if (a->result & WEAVE_ATTACH_CREATED)
		name = NULL;	/* the registry owns it now */

	a->id = reg->id;
	a->index_size = (u64)reg->index_pages << PAGE_SHIFT;
	weave_file_bind(wf, reg);
	ret = 0;

out_unlock:
	mutex_unlock(&weave_names_lock);
	kfree(name);
	return ret;
}

/**
 * weave_file_detach() - the last close of an attached file
 * @wf: the file's private data
 */
void weave_file_detach(struct weave_file *wf)
{
	struct weave_registry *reg = wf->reg;

	mutex_lock(&reg->lock);
	list_del(&wf->node);
	weave_watches_release(reg, wf);
	weave_locks_release(reg, wf);
	mutex_unlock(&reg->lock);
	atomic_dec(&reg->nr_files);
	weave_registry_unuse(reg);
}

/**
 * weave_registry_unlink() - remove a registry's name
 * @name: the name, in the caller's IPC namespace
 * @src: the file asking, for WEAVE_WATCH_NO_SELF, or NULL
 *
 * Return: 0, -ENOENT or -EACCES (no write permission).
 */
int weave_registry_unlink(const char *name, struct weave_file *src)
{
	struct weave_registry *reg;
	bool drop;

	mutex_lock(&weave_names_lock);
	reg = weave_name_find(weave_ns_find(false), name);
	if (!reg) {
		mutex_unlock(&weave_names_lock);
		return -ENOENT;
	}
	if (!weave_may_access(reg, MAY_WRITE)) {
		mutex_unlock(&weave_names_lock);
		return -EACCES;
	}
	drop = weave_registry_unname(reg);
	mutex_unlock(&weave_names_lock);

	weave_registry_unnamed(reg, src, drop);
	return 0;
}

/**
 * weave_registry_ns_dead() - an IPC namespace has died
 * @wns: the namespace, already out of the namespace table
 *
 * Its names go, as if unlinked (persistent registries are freed unless a
 * file still holds them), and its registries count against no namespace.
 * Called from the namespace's teardown, in any task.
 */
void weave_registry_ns_dead(struct weave_ns *wns)
{
	struct weave_registry *reg, *tmp;
	LIST_HEAD(reap);

	mutex_lock(&weave_names_lock);
	list_for_each_entry(reg, &weave_registries, node) {
		if (reg->wns != wns)
			continue;
		reg->wns = NULL;
		if (reg->hashed)
			list_add_tail(&reg->reap, &reap);
	}
	wns->nr_registries = 0;
	/* Unnamed here, so that no lookup can find them after the unlock. */
	list_for_each_entry(reg, &reap, reap)
		weave_registry_unname(reg);
	mutex_unlock(&weave_names_lock);

	/* WEAVE_REG_PERSIST never changes once the registry exists. */
	list_for_each_entry_safe(reg, tmp, &reap, reap) {
		list_del(&reg->reap);
		weave_registry_unnamed(reg, NULL,
				       READ_ONCE(reg->flags) & WEAVE_REG_PERSIST);
	}
}

/**
 * weave_ioctl_unlink() - WEAVE_IOC_UNLINK: remove a registry's name
 * @file: any /dev/weave file
 * @arg: &struct weave_unlink_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_unlink(struct file *file, void *arg)
{
	struct weave_unlink_args *u = arg;
	char *name;
	int ret;

	if (u->flags || u->reserved || !u->name)
		return -EINVAL;
	name = weave_name_from_user(u->name);
	if (IS_ERR(name))
		return PTR_ERR(name);
	ret = weave_registry_unlink(name, file->private_data);
	kfree(name);
	return ret;
}

/**
 * weave_ioctl_setattr() - WEAVE_IOC_SETATTR: change owner, group or mode
 * @file: an attached file
 * @arg: &struct weave_setattr_args
 *
 * Like fchmod() and fchown() on the registry, allowed to its owner and to
 * CAP_IPC_OWNER in its IPC namespace's user namespace, as SysV IPC_SET is.
 * Files already attached keep the access they were given.
 *
 * Return: 0, -EPERM, or -EINVAL (bad flags, mode, or an id that does not
 * map into the caller's user namespace).
 */
int weave_ioctl_setattr(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct user_namespace *ns = current_user_ns();
	struct weave_setattr_args *a = arg;
	kuid_t uid = INVALID_UID;
	kgid_t gid = INVALID_GID;
	int ret = 0;

	if (!a->flags || a->flags & ~WEAVE_SETATTR_VALID || a->mode & ~0777)
		return -EINVAL;
	if (a->flags & WEAVE_SETATTR_UID) {
		uid = make_kuid(ns, a->uid);
		if (!uid_valid(uid))
			return -EINVAL;
	}
	if (a->flags & WEAVE_SETATTR_GID) {
		gid = make_kgid(ns, a->gid);
		if (!gid_valid(gid))
			return -EINVAL;
	}

	mutex_lock(&weave_names_lock);
	if (!uid_eq(current_fsuid(), reg->uid) &&
	    !ns_capable(current->nsproxy->ipc_ns->user_ns, CAP_IPC_OWNER)) {
		ret = -EPERM;
	} else {
		if (a->flags & WEAVE_SETATTR_MODE)
			WRITE_ONCE(reg->mode, a->mode);
		if (a->flags & WEAVE_SETATTR_UID)
			WRITE_ONCE(reg->uid, uid);
		if (a->flags & WEAVE_SETATTR_GID)
			WRITE_ONCE(reg->gid, gid);
	}
	mutex_unlock(&weave_names_lock);
	return ret;
}

/**
 * weave_registry_flags() - WEAVE_INFO_* bits of a registry
 * @reg: the registry
 *
 * Return: the bits, a snapshot.
 */
u32 weave_registry_flags(struct weave_registry *reg)
{
	return READ_ONCE(reg->flags);
}

/* Could the caller attach @reg read-only? Under weave_names_lock. */
static bool weave_registry_visible(struct weave_registry *reg,
				   const struct weave_ns *wns)
{
	return wns && reg->wns == wns && weave_may_access(reg, MAY_READ);
}

/**
 * weave_registry_find_visible() - a registry the caller may see
 * @name: its name, or NULL to find it by @id
 * @id: its id, when @name is NULL
 *
 * As for a file in a directory anyone may search, a caller learns that a
 * registry of its IPC namespace exists (WEAVE_IOC_ATTACH tells it too),
 * but nothing about it unless it could attach it read-only. Registries of
 * other namespaces do not exist for it.
 *
 * Return: the registry with a reference, ERR_PTR(-ENOENT) or
 * ERR_PTR(-EACCES).
 */
struct weave_registry *weave_registry_find_visible(const char *name, u64 id)
{
	struct weave_registry *reg = NULL, *r;
	struct weave_ns *wns;

	mutex_lock(&weave_names_lock);
	wns = weave_ns_find(false);
	if (name) {
		reg = weave_name_find(wns, name);
	} else {
		list_for_each_entry(r, &weave_registries, node) {
			if (r->id == id) {
				reg = r;
				break;
			}
		}
	}
	if (!reg || !wns || reg->wns != wns)
		reg = ERR_PTR(-ENOENT);
	else if (!weave_may_access(reg, MAY_READ))
		reg = ERR_PTR(-EACCES);
	else
		kref_get(&reg->kref);
	mutex_unlock(&weave_names_lock);
	return reg;
}

/**
 * weave_registry_next_visible() - walk the registries the caller may see
 * @after_id: the id of the last one seen, 0 to start
 *
 * Registries are listed in id order, so a walk meets each registry that
 * lives throughout exactly once.
 *
 * Return: the next one with a reference, or NULL at the end.
 */
struct weave_registry *weave_registry_next_visible(u64 after_id)
{
	struct weave_registry *reg, *found = NULL;
	struct weave_ns *wns;

	mutex_lock(&weave_names_lock);
	wns = weave_ns_find(false);
	list_for_each_entry(reg, &weave_registries, node) {
		if (reg->id > after_id && weave_registry_visible(reg, wns)) {
			kref_get(&reg->kref);
			found = reg;
			break;
		}
	}
	mutex_unlock(&weave_names_lock);
	return found;
}

/**
 * weave_ioctl_info() - WEAVE_IOC_INFO: describe the attached registry
 * @file: an attached file
 * @arg: &struct weave_info_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_info(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_info_args *info = arg;

	if (memchr_inv(info, 0, sizeof(*info)))
		return -EINVAL;

	mutex_lock(&weave_names_lock);
	info->flags = reg->flags;
	info->uid = from_kuid_munged(current_user_ns(), reg->uid);
	info->gid = from_kgid_munged(current_user_ns(), reg->gid);
	info->mode = reg->mode;
	mutex_unlock(&weave_names_lock);
	if (!(file->f_mode & FMODE_WRITE))
		info->flags |= WEAVE_INFO_RDONLY;

	info->id = reg->id;
	info->max_entries = reg->max_entries;
	info->max_entry_size = reg->max_entry_size;
	info->index_size = (u64)reg->index_pages << PAGE_SHIFT;
	info->entry_span = (u64)reg->span_pages << PAGE_SHIFT;

	mutex_lock(&reg->lock);
	info->count = reg->count;
	info->bytes = reg->bytes;
	info->gen = reg->gen;
	mutex_unlock(&reg->lock);
	return 0;
}

/**
 * weave_registry_usage() - the counts a registry's creation was held to
 * @reg: the registry
 * @u: filled in
 */
void weave_registry_usage(struct weave_registry *reg, struct weave_usage *u)
{
	mutex_lock(&weave_names_lock);
	__weave_registry_usage(reg, u);
	mutex_unlock(&weave_names_lock);
}

/**
 * __weave_registry_usage() - weave_registry_usage() under weave_names_lock
 * @reg: the registry
 * @u: filled in
 */
void __weave_registry_usage(struct weave_registry *reg, struct weave_usage *u)
{
	lockdep_assert_held(&weave_names_lock);
	u->user_registries = reg->user ? reg->user->nr_registries : 0;
	u->ns_registries = reg->wns ? reg->wns->nr_registries : 0;
}

/**
 * weave_registry_init() - set up the module's registry state
 *
 * Return: 0 or a negative errno.
 */
int weave_registry_init(void)
{
	weave_mnt = kern_mount(&weave_fs_type);
	return PTR_ERR_OR_ZERO(weave_mnt);
}

/**
 * weave_registry_exit() - free persistent registries at module unload
 *
 * No file is open (each holds a module reference), the netlink family is
 * gone and no namespace is unnaming (weave_ns_quiesce()), so every
 * registry left is persistent, its name its only user and the users' its
 * only reference.
 */
void weave_registry_exit(void)
{
	struct weave_registry *reg, *tmp;

	mutex_lock(&weave_names_lock);
	list_for_each_entry_safe(reg, tmp, &weave_registries, node) {
		weave_registry_unlist(reg);
		weave_registry_free(reg);
	}
	mutex_unlock(&weave_names_lock);
	kern_unmount(weave_mnt);
}
