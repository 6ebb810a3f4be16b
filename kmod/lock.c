// SPDX-License-Identifier: GPL-2.0
/*
 * weave: per-key locks, owned by open files.
 *
 * Copyright (C) 2026 The weave authors
 *
 * A key's lock (&struct weave_lockstate) exists while it is held, waited
 * for, or marked owner-died; the key need not have an entry, so a process
 * can lock a key and then create it. A lock is exclusive or shared and is
 * owned by an open file description, like an OFD lock: every holder is a
 * &struct weave_hold on both the lock and the file, and the last close of
 * the file releases them all (weave_locks_release()).
 *
 * Waiters queue in arrival order and are granted in that order by whoever
 * releases (hand-off): a grant stops at the first waiter that cannot be
 * granted, so a writer waiting behind readers is not overtaken by readers
 * that come after it. An upgrade (shared to exclusive) waits at the head,
 * since its holder already owns part of the lock.
 *
 * Other files' operations honour the locks: an operation that conflicts
 * with another file's hold queues like a lock request and, once granted,
 * holds a transient hold (no file) for the span of the operation.
 *
 * Everything here runs under registry->lock. A waiter sleeps with it
 * dropped; the granter sets &weave_lock_waiter.granted under the lock
 * before waking it, so a waiter that wakes for a signal or a timeout can
 * tell, under the lock, whether it got the lock after all.
 */
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * struct weave_lockstate - the lock of one key
 * @hnode: in &weave_registry.locks, by key.
 * @state: 0, WEAVE_SLOT_LOCK_EXCL or the number of sharers.
 * @nr_waiters: length of @waiters.
 * @owner_died: an exclusive holder closed while holding it; cleared by
 *	WEAVE_UNLOCK_CONSISTENT.
 * @holds: holders (&struct weave_hold.lnode).
 * @waiters: tasks waiting, in arrival order (an upgrade goes first).
 */
struct weave_lockstate {
	struct weave_hnode hnode;
	u32 state;
	u32 nr_waiters;
	bool owner_died;
	struct list_head holds;
	struct list_head waiters;
};

/**
 * struct weave_hold - one holder of a lock
 * @lnode: on &weave_lockstate.holds.
 * @fnode: on &weave_file.holds; unused for a transient hold.
 * @ls: the lock.
 * @wf: the holding file; NULL for a transient hold, taken for the span
 *	of one operation that had to wait for another file's lock.
 * @pid: process (tgid, in the initial pid namespace) that took it.
 * @excl: exclusive, else shared.
 */
struct weave_hold {
	struct list_head lnode;
	struct list_head fnode;
	struct weave_lockstate *ls;
	struct weave_file *wf;
	pid_t pid;
	bool excl;
};

/**
 * struct weave_lock_waiter - a task waiting for a lock, on its stack
 * @node: on &weave_lockstate.waiters.
 * @task: the task.
 * @hold: its holder record, allocated before it sleeps.
 * @excl: wants exclusive.
 * @upgrade: holds @hold shared and wants it exclusive.
 * @granted: set by the granter.
 */
struct weave_lock_waiter {
	struct list_head node;
	struct task_struct *task;
	struct weave_hold *hold;
	bool excl;
	bool upgrade;
	bool granted;
};

static struct kmem_cache *weave_hold_cache;

static struct weave_lockstate *weave_lock_find(struct weave_registry *reg,
					       u64 key)
{
	struct weave_hnode *n = weave_htable_find(&reg->locks, key);

	return n ? container_of(n, struct weave_lockstate, hnode) : NULL;
}

static struct weave_lockstate *weave_lock_get(struct weave_registry *reg,
					      u64 key)
{
	struct weave_lockstate *ls = weave_lock_find(reg, key);

	if (ls)
		return ls;
	ls = kzalloc(sizeof(*ls), GFP_KERNEL_ACCOUNT);
	if (!ls)
		return NULL;
	ls->hnode.key = key;
	INIT_LIST_HEAD(&ls->holds);
	INIT_LIST_HEAD(&ls->waiters);
	weave_htable_add(&reg->locks, &ls->hnode);
	return ls;
}

/* Free a lock nobody holds, waits for or needs to be told about. */
static void weave_lock_put(struct weave_registry *reg,
			   struct weave_lockstate *ls)
{
	if (ls->state || ls->nr_waiters || ls->owner_died)
		return;
	weave_htable_del(&reg->locks, &ls->hnode);
	kfree(ls);
}

static void weave_lock_mirror_state(struct weave_registry *reg,
				    const struct weave_lockstate *ls, u64 key)
{
	struct weave_entry *e = weave_entry_lookup(reg, key);

	if (!e)
		return;
	if (ls)
		weave_slot_set_lock(e->s, ls->state, ls->nr_waiters,
				    ls->owner_died);
	else
		weave_slot_set_lock(e->s, 0, 0, false);
}

/**
 * weave_lock_mirror() - show a key's lock state in its index slot
 * @reg: the registry, locked
 * @key: the key, which may have no entry
 */
void weave_lock_mirror(struct weave_registry *reg, u64 key)
{
	if (reg->locks.count)
		weave_lock_mirror_state(reg, weave_lock_find(reg, key), key);
}

static struct weave_hold *weave_hold_of(struct weave_lockstate *ls,
					struct weave_file *wf)
{
	struct weave_hold *h;

	list_for_each_entry(h, &ls->holds, lnode)
		if (h->wf == wf)
			return h;
	return NULL;
}

static void weave_hold_link(struct weave_lockstate *ls, struct weave_hold *h,
			    struct weave_file *wf, bool excl)
{
	h->ls = ls;
	h->wf = wf;
	h->excl = excl;
	list_add_tail(&h->lnode, &ls->holds);
	if (wf) {
		list_add_tail(&h->fnode, &wf->holds);
		wf->nr_holds++;
	}
	if (excl)
		ls->state = WEAVE_SLOT_LOCK_EXCL;
	else
		ls->state++;
}

static bool weave_lock_free_for(const struct weave_lockstate *ls, bool excl)
{
	return excl ? !ls->state : !(ls->state & WEAVE_SLOT_LOCK_EXCL);
}

/* Hand the lock to waiters, oldest first, as far as they fit. */
static void weave_lock_grant(struct weave_registry *reg,
			     struct weave_lockstate *ls)
{
	struct weave_lock_waiter *w, *next;

	list_for_each_entry_safe(w, next, &ls->waiters, node) {
		if (w->upgrade) {
			if (ls->state != 1)
				break;
			w->hold->excl = true;
			ls->state = WEAVE_SLOT_LOCK_EXCL;
		} else {
			if (!weave_lock_free_for(ls, w->excl))
				break;
			weave_hold_link(ls, w->hold, w->hold->wf, w->excl);
		}
		list_del_init(&w->node);
		ls->nr_waiters--;
		w->granted = true;
		wake_up_process(w->task);
		if (ls->state & WEAVE_SLOT_LOCK_EXCL)
			break;
	}
}

static ktime_t weave_deadline(u64 timeout_ns)
{
	ktime_t now = ktime_get();

	if (timeout_ns > (u64)(KTIME_MAX - now))
		return KTIME_MAX;
	return ktime_add_ns(now, timeout_ns);
}

/*
 * Queue @w and sleep until it is granted, a signal comes or @deadline
 * passes (KTIME_MAX: never). Called and returns with registry->lock held.
 */
static int weave_lock_wait(struct weave_registry *reg,
			   struct weave_lockstate *ls,
			   struct weave_lock_waiter *w, ktime_t deadline)
{
	int ret = 0;

	w->task = current;
	if (w->upgrade)
		list_add(&w->node, &ls->waiters);
	else
		list_add_tail(&w->node, &ls->waiters);
	ls->nr_waiters++;
	weave_lock_mirror_state(reg, ls, ls->hnode.key);

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (w->granted)
			break;
		if (signal_pending(current)) {
			ret = deadline == KTIME_MAX ? -ERESTARTSYS : -EINTR;
			break;
		}
		if (deadline != KTIME_MAX && ktime_after(ktime_get(), deadline)) {
			ret = -ETIMEDOUT;
			break;
		}
		mutex_unlock(&reg->lock);
		if (deadline == KTIME_MAX)
			schedule();
		else
			schedule_hrtimeout_range(&deadline, 0, HRTIMER_MODE_ABS);
		mutex_lock(&reg->lock);
	}
	__set_current_state(TASK_RUNNING);

	if (w->granted)
		return 0;
	/* Leaving may let the waiters behind us in. */
	list_del(&w->node);
	ls->nr_waiters--;
	weave_lock_grant(reg, ls);
	weave_lock_mirror_state(reg, ls, ls->hnode.key);
	return ret;
}

/*
 * Acquire @key's lock for @wf (NULL: a transient hold for an operation).
 * Return: 0 with *@holdp set, or a negative errno.
 */
static int weave_lock_acquire(struct weave_registry *reg,
			      struct weave_file *wf, u64 key, bool excl,
			      bool nonblock, ktime_t deadline,
			      struct weave_hold **holdp)
{
	struct weave_lock_waiter w = { .excl = excl };
	struct weave_lockstate *ls;
	struct weave_hold *h;
	int ret;

	if (wf && wf->nr_holds >= READ_ONCE(weave_max_locks))
		return -ENOLCK;
	h = kmem_cache_zalloc(weave_hold_cache, GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	h->pid = task_tgid_nr(current);
	ls = weave_lock_get(reg, key);
	if (!ls) {
		ret = -ENOMEM;
		goto err_free;
	}

	if (list_empty(&ls->waiters) && weave_lock_free_for(ls, excl)) {
		weave_hold_link(ls, h, wf, excl);
		goto granted;
	}
	ret = -EAGAIN;
	if (nonblock)
		goto err_put;
	ret = -ENOLCK;
	if (ls->nr_waiters >= READ_ONCE(weave_max_waiters))
		goto err_put;

	h->wf = wf;
	w.hold = h;
	ret = weave_lock_wait(reg, ls, &w, deadline);
	if (ret)
		goto err_put;
granted:
	weave_lock_mirror_state(reg, ls, key);
	*holdp = h;
	return 0;

err_put:
	weave_lock_put(reg, ls);
err_free:
	kmem_cache_free(weave_hold_cache, h);
	return ret;
}

static void weave_hold_release(struct weave_registry *reg,
			       struct weave_hold *h)
{
	struct weave_lockstate *ls = h->ls;
	u64 key = ls->hnode.key;

	/* Its writer's change is published before the next holder runs. */
	if (h->excl && h->wf)
		weave_grant_end(reg, h->wf, key);
	if (h->excl)
		ls->state = 0;
	else
		ls->state--;
	list_del(&h->lnode);
	if (h->wf) {
		list_del(&h->fnode);
		h->wf->nr_holds--;
	}
	kmem_cache_free(weave_hold_cache, h);

	weave_lock_grant(reg, ls);
	weave_lock_mirror_state(reg, ls, key);
	weave_lock_put(reg, ls);
}

/**
 * weave_lock_excl_holder() - the file holding a key's lock exclusively
 * @reg: the registry, locked
 * @key: the key
 *
 * Return: the file, or NULL when nobody holds the lock exclusively.
 */
struct weave_file *weave_lock_excl_holder(struct weave_registry *reg, u64 key)
{
	struct weave_lockstate *ls = weave_lock_find(reg, key);
	struct weave_hold *h;

	if (!ls || ls->state != WEAVE_SLOT_LOCK_EXCL)
		return NULL;
	h = list_first_entry_or_null(&ls->holds, struct weave_hold, lnode);
	return h ? h->wf : NULL;
}

/**
 * weave_lock_holders() - the processes holding a key's lock
 * @reg: the registry, locked
 * @key: the key
 * @pids: room for @max pids (tgids)
 * @max: room at @pids
 *
 * Return: the number of pids stored.
 */
int weave_lock_holders(struct weave_registry *reg, u64 key, pid_t *pids,
		       int max)
{
	struct weave_lockstate *ls = weave_lock_find(reg, key);
	struct weave_hold *h;
	int n = 0;

	if (!ls)
		return 0;
	list_for_each_entry(h, &ls->holds, lnode) {
		if (n == max)
			break;
		pids[n++] = h->pid;
	}
	return n;
}

/* Does another file's hold keep @wf from reading (or changing) @ls? */
static bool weave_lock_conflict(struct weave_lockstate *ls,
				struct weave_file *wf, bool write)
{
	struct weave_hold *mine;

	if (!ls->state)
		return false;
	mine = weave_hold_of(ls, wf);
	if (ls->state & WEAVE_SLOT_LOCK_EXCL)
		return !mine;
	/* Shared: readers pass; a writer must be the only sharer. */
	return write && !(mine && ls->state == 1);
}

/**
 * weave_lock_access() - wait until @wf may use @key
 * @reg: the registry, locked (dropped and retaken while waiting)
 * @wf: the file doing the operation
 * @key: the key
 * @write: the operation changes the key
 * @nonblock: fail with -EAGAIN instead of waiting
 * @tmp: set to a transient hold to release after the operation, or NULL
 *
 * Return: 0, or -EAGAIN, -EDEADLK (a writer that shares the lock with
 * others), -EINTR/-ERESTARTSYS, -ENOLCK or -ENOMEM.
 */
int weave_lock_access(struct weave_registry *reg, struct weave_file *wf,
		      u64 key, bool write, bool nonblock,
		      struct weave_hold **tmp)
{
	struct weave_lockstate *ls;

	*tmp = NULL;
	if (!reg->locks.count)
		return 0;
	ls = weave_lock_find(reg, key);
	if (!ls || !weave_lock_conflict(ls, wf, write))
		return 0;
	if (weave_hold_of(ls, wf))
		return -EDEADLK;
	if (nonblock)
		return -EAGAIN;
	return weave_lock_acquire(reg, NULL, key, write, false, KTIME_MAX,
				  tmp);
}

/**
 * weave_lock_access_end() - release what weave_lock_access() took
 * @reg: the registry, locked
 * @tmp: the transient hold, or NULL
 */
void weave_lock_access_end(struct weave_registry *reg, struct weave_hold *tmp)
{
	if (tmp)
		weave_hold_release(reg, tmp);
}

/* Change the mode of a hold @wf has; see WEAVE_LOCK_CONVERT. */
static int weave_lock_convert(struct weave_registry *reg,
			      struct weave_lockstate *ls, struct weave_hold *h,
			      bool excl, bool nonblock, ktime_t deadline)
{
	struct weave_lock_waiter w = { .upgrade = true, .hold = h };
	struct weave_lock_waiter *other;

	if (h->excl == excl)
		return 0;
	if (!excl) {
		/* Downgrade: no moment without a lock for others to take. */
		weave_grant_end(reg, h->wf, ls->hnode.key);
		h->excl = false;
		ls->state = 1;
		weave_lock_grant(reg, ls);
		weave_lock_mirror_state(reg, ls, ls->hnode.key);
		return 0;
	}
	if (ls->state == 1) {
		h->excl = true;
		ls->state = WEAVE_SLOT_LOCK_EXCL;
		weave_lock_mirror_state(reg, ls, ls->hnode.key);
		return 0;
	}
	/* Two sharers both waiting to upgrade would wait forever. */
	list_for_each_entry(other, &ls->waiters, node)
		if (other->upgrade)
			return -EDEADLK;
	if (nonblock)
		return -EAGAIN;
	return weave_lock_wait(reg, ls, &w, deadline);
}

/**
 * weave_ioctl_lock() - WEAVE_IOC_LOCK: lock a key
 * @file: an attached file; exclusive locks need a writable one
 * @arg: &struct weave_lock_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_lock(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	struct weave_lock_args *a = arg;
	bool excl = !(a->flags & WEAVE_LOCK_SHARED);
	bool nonblock = weave_nonblock(file, a->flags);
	ktime_t deadline = KTIME_MAX;
	struct weave_lockstate *ls;
	struct weave_hold *h;
	int ret;

	if (!a->key || a->flags & ~WEAVE_LOCK_VALID || a->result ||
	    (!(a->flags & WEAVE_LOCK_TIMED) && a->timeout_ns))
		return -EINVAL;
	if (excl && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (a->flags & WEAVE_LOCK_TIMED)
		deadline = weave_deadline(a->timeout_ns);

	mutex_lock(&reg->lock);
	ls = weave_lock_find(reg, a->key);
	h = ls ? weave_hold_of(ls, wf) : NULL;
	if (a->flags & WEAVE_LOCK_CONVERT)
		ret = h ? weave_lock_convert(reg, ls, h, excl, nonblock,
					     deadline) : -EPERM;
	else if (h)
		ret = -EDEADLK;
	else
		ret = weave_lock_acquire(reg, wf, a->key, excl, nonblock,
					 deadline, &h);
	if (!ret && h->ls->owner_died)
		a->result = WEAVE_LOCK_OWNER_DIED;
	mutex_unlock(&reg->lock);
	return ret;
}

/**
 * weave_ioctl_unlock() - WEAVE_IOC_UNLOCK: release a lock
 * @file: an attached file
 * @arg: &struct weave_unlock_args
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_unlock(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_unlock_args *a = arg;
	struct weave_lockstate *ls;
	struct weave_hold *h = NULL;
	int ret = 0;

	if (!a->key || a->flags & ~WEAVE_UNLOCK_VALID || a->reserved)
		return -EINVAL;

	mutex_lock(&reg->lock);
	ls = weave_lock_find(reg, a->key);
	if (ls)
		h = weave_hold_of(ls, file->private_data);
	if (h) {
		if (a->flags & WEAVE_UNLOCK_CONSISTENT)
			ls->owner_died = false;
		weave_hold_release(reg, h);
		weave_event(reg, file->private_data, a->key, WEAVE_EV_UNLOCKED,
			    NULL);
	} else {
		ret = -EPERM;
	}
	mutex_unlock(&reg->lock);
	return ret;
}

/**
 * weave_locks_release() - release every lock of a file being closed
 * @reg: the registry, locked
 * @wf: the file
 *
 * An exclusive lock released this way is marked owner-died: its holder
 * may have left the value half-changed.
 */
void weave_locks_release(struct weave_registry *reg, struct weave_file *wf)
{
	struct weave_hold *h, *next;
	u32 mask;
	u64 key;

	list_for_each_entry_safe(h, next, &wf->holds, fnode) {
		key = h->ls->hnode.key;
		mask = WEAVE_EV_UNLOCKED;
		if (h->excl) {
			h->ls->owner_died = true;
			mask |= WEAVE_EV_OWNER_DIED;
		}
		weave_hold_release(reg, h);
		weave_event(reg, wf, key, mask, NULL);
	}
}

static void weave_lockstate_free(struct weave_hnode *n)
{
	kfree(container_of(n, struct weave_lockstate, hnode));
}

/**
 * weave_locks_destroy() - free the locks of a registry being freed
 * @reg: the registry, without files
 *
 * With no files there are no holders or waiters; what is left are keys
 * marked owner-died that nobody locked again.
 */
void weave_locks_destroy(struct weave_registry *reg)
{
	if (reg->locks.buckets)
		weave_htable_drain(&reg->locks, weave_lockstate_free);
}

/**
 * weave_lock_cache_init() - create the slab cache of holders
 *
 * Return: 0 or -ENOMEM.
 */
int weave_lock_cache_init(void)
{
	weave_hold_cache = KMEM_CACHE(weave_hold, SLAB_ACCOUNT);
	return weave_hold_cache ? 0 : -ENOMEM;
}

/**
 * weave_lock_cache_exit() - destroy the slab cache of holders
 */
void weave_lock_cache_exit(void)
{
	kmem_cache_destroy(weave_hold_cache);
}
