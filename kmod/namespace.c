// SPDX-License-Identifier: GPL-2.0
/*
 * weave: IPC namespaces - what scopes registry names, and when it dies.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Registry names are per IPC namespace, and a namespace's named
 * registries must go with it, as its SysV objects do. A module can
 * neither take a reference on an IPC namespace (put_ipc_ns() is not
 * exported) nor hook its teardown, but each IPC namespace owns exactly
 * one POSIX message queue file system, made with the namespace and
 * unmounted by free_ipc_ns(). A &struct weave_ns is an fsnotify mark on
 * that file system's root inode, with an empty event mask: it pins
 * neither the namespace nor the file system, and when the super block is
 * shut down fsnotify destroys the mark and tells us (freeing_mark), which
 * unlinks the namespace's registries.
 *
 * The super block is the namespace's identity: a live namespace has one,
 * no other namespace can share it, and its weave_ns leaves the table before
 * the super block can be freed, so a new namespace at a recycled address
 * never inherits names.
 *
 * Locking: the table and each weave_ns's fields are under weave_names_lock,
 * which is taken before the fsnotify group's lock (adding a mark), never
 * after: fsnotify calls freeing_mark with no lock of its own held. A
 * weave_ns stays in the table until its namespace dies or the module
 * unloads, even without registries: one small object per namespace that
 * ever had one, freed with it.
 *
 * The mark's first reference belongs to whoever takes it out of the table
 * (clears @listed): freeing_mark when the namespace dies, weave_ns_quiesce()
 * at unload.
 *
 * freeing_mark runs in whatever task tears the file system down, with no
 * reference on the module, and unnames registries with weave_names_lock
 * dropped in between. So unload first empties the table, which stops new
 * owners, and waits for the owners already at work (weave_ns_dying)
 * before the registries are freed.
 */
#include <linux/fsnotify_backend.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/mount.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "internal.h"

#if !IS_ENABLED(CONFIG_POSIX_MQUEUE) || !IS_ENABLED(CONFIG_FSNOTIFY)
#error "weave needs CONFIG_POSIX_MQUEUE and CONFIG_FSNOTIFY"
#endif

#define WEAVE_NS_HASH_BITS	6

static struct fsnotify_group *weave_ns_group;
/* Found by super block on every name lookup: hashed, not listed. */
static DEFINE_HASHTABLE(weave_namespaces, WEAVE_NS_HASH_BITS);
/*
 * Namespaces whose registries freeing_mark is unnaming: raised under
 * weave_names_lock with the owner's claim, read by the unload's wait.
 */
static atomic_t weave_ns_dying = ATOMIC_INIT(0);
/* Taken off the table at unload, to be put by weave_ns_exit(). */
static HLIST_HEAD(weave_ns_unloading);

static struct super_block *weave_ns_sb(const struct ipc_namespace *ns)
{
	return ns->mq_mnt->mnt_sb;
}

/**
 * weave_ns_find() - the caller's IPC namespace, as weave knows it
 * @create: make one if the namespace has none yet
 *
 * Called with weave_names_lock held.
 *
 * Return: the namespace, NULL when it has none and @create is false, or
 * an ERR_PTR() (-ENOMEM).
 */
struct weave_ns *weave_ns_find(bool create)
{
	struct ipc_namespace *ipc = current->nsproxy->ipc_ns;
	struct super_block *sb = weave_ns_sb(ipc);
	struct weave_ns *wns;
	int ret;

	lockdep_assert_held(&weave_names_lock);
	hash_for_each_possible(weave_namespaces, wns, node, (unsigned long)sb) {
		if (wns->sb == sb)
			return wns;
	}
	if (!create)
		return NULL;

	wns = kzalloc(sizeof(*wns), GFP_KERNEL_ACCOUNT);
	if (!wns)
		return ERR_PTR(-ENOMEM);
	wns->sb = sb;
	fsnotify_init_mark(&wns->mark, weave_ns_group);
	ret = fsnotify_add_inode_mark(&wns->mark, d_inode(ipc->mq_mnt->mnt_root),
				      0);
	if (ret) {
		fsnotify_put_mark(&wns->mark);	/* frees it */
		return ERR_PTR(ret);
	}
	wns->listed = true;
	hash_add(weave_namespaces, &wns->node, (unsigned long)sb);
	return wns;
}

/* The namespace's message queue file system is going: so is it. */
static void weave_ns_freeing_mark(struct fsnotify_mark *mark,
				  struct fsnotify_group *group)
{
	struct weave_ns *wns = container_of(mark, struct weave_ns, mark);
	bool owner = false;

	mutex_lock(&weave_names_lock);
	if (wns->listed) {
		wns->listed = false;
		hash_del(&wns->node);
		atomic_inc(&weave_ns_dying);
		owner = true;
	}
	mutex_unlock(&weave_names_lock);

	if (owner) {
		weave_registry_ns_dead(wns);
		fsnotify_put_mark(mark);
		if (atomic_dec_and_test(&weave_ns_dying))
			wake_up_var(&weave_ns_dying);
	}
}

static void weave_ns_free_mark(struct fsnotify_mark *mark)
{
	kfree(container_of(mark, struct weave_ns, mark));
}

static int weave_ns_handle_event(struct fsnotify_mark *mark, u32 mask,
				 struct inode *inode, struct inode *dir,
				 const struct qstr *name, u32 cookie)
{
	return 0;	/* the mask is empty: never called */
}

static const struct fsnotify_ops weave_ns_ops = {
	.handle_inode_event	= weave_ns_handle_event,
	.freeing_mark		= weave_ns_freeing_mark,
	.free_mark		= weave_ns_free_mark,
};

/**
 * weave_ns_init() - set up namespace tracking
 *
 * Return: 0 or a negative errno.
 */
int weave_ns_init(void)
{
	weave_ns_group = fsnotify_alloc_group(&weave_ns_ops, 0);
	return PTR_ERR_OR_ZERO(weave_ns_group);
}

/**
 * weave_ns_quiesce() - stop namespace deaths from unnaming, at unload
 *
 * Takes every namespace off the table, so that a namespace dying from now
 * on leaves its registries to the unload, and waits for those already
 * being unnamed. Called before the registries are freed.
 */
void weave_ns_quiesce(void)
{
	struct hlist_node *tmp;
	struct weave_ns *wns;
	int bkt;

	mutex_lock(&weave_names_lock);
	hash_for_each_safe(weave_namespaces, bkt, tmp, wns, node) {
		wns->listed = false;
		hash_del(&wns->node);
		hlist_add_head(&wns->node, &weave_ns_unloading);
	}
	mutex_unlock(&weave_names_lock);
	/* No mutex in the condition: it runs with the task asleep. */
	wait_var_event(&weave_ns_dying, !atomic_read(&weave_ns_dying));
}

/**
 * weave_ns_exit() - forget every namespace, at module unload
 *
 * After weave_ns_quiesce(), and after every registry is gone. A namespace
 * dying meanwhile is fine: fsnotify calls freeing_mark once per mark, and
 * the marks taken off the table at quiesce are ours to put.
 */
void weave_ns_exit(void)
{
	struct hlist_node *tmp;
	struct weave_ns *wns;

	hlist_for_each_entry_safe(wns, tmp, &weave_ns_unloading, node) {
		fsnotify_destroy_mark(&wns->mark, weave_ns_group);
		fsnotify_put_mark(&wns->mark);
	}
	fsnotify_put_group(weave_ns_group);
	/* free_mark runs from a work item: let it finish before unload. */
	fsnotify_wait_marks_destroyed();
}
