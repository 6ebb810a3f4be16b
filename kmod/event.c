// SPDX-License-Identifier: GPL-2.0
/*
 * weave: change notification - watches, events, poll/read, gen waits.
 *
 * Copyright (C) 2026 The weave authors
 *
 * A file watches keys (&struct weave_watcher on the key's
 * &struct weave_keywatch) or the whole registry (on registry->wide). A
 * change of key K visits the watches of K and the wide watches only, so a
 * wakeup costs O(watchers of K), not O(files of the registry).
 *
 * Events coalesce per file and key in a &struct weave_pending: the record
 * keeps the latest gen and size and the union of what happened, so a
 * file's backlog is bounded by the number of keys it watches (or that
 * exist, for a wide watch) and nothing is dropped silently. Records are
 * charged to the watcher's memory cgroup; if one cannot be allocated (a
 * file's first event as much as any) the file is told with a
 * WEAVE_EV_OVERFLOW record and must resynchronise.
 * A read record is kept for reuse, up to WEAVE_PENDING_SPARE a file
 * (still charged), so a steady stream of events allocates nothing. A
 * short queue is searched by walking it; records go into the hash table
 * only once a queue reaches WEAVE_PENDING_LINEAR, until it drains.
 *
 * WEAVE_IOC_WAIT sleeps on one of WEAVE_GENWQ wait queues chosen by key
 * hash, until the bucket's sequence number moves; it then rechecks the
 * key's gen. It reads the gen from the key's index slot under the slot's
 * seq, without registry->lock, when the slot it last found the key in
 * still holds it; otherwise it looks the key up under the lock.
 *
 * Watches, pending records and the queue are under registry->lock; read()
 * copies records out under it and to user space after dropping it.
 */
#include <linux/file.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

#define WEAVE_PENDING_BUCKETS	16
#define WEAVE_PENDING_SPARE	16	/* read records kept for reuse */
#define WEAVE_PENDING_LINEAR	8	/* fewer pending: found by a list walk */
#define WEAVE_READ_MAX		256	/* records per read() */
#define WEAVE_READ_STACK	8	/* records a read() stages on the stack */

/**
 * struct weave_pending - a coalesced event not yet read
 * @hnode: the key; in &weave_file.pending while &weave_file.hashed.
 * @node: on &weave_file.queue, or &weave_file.spare once read.
 * @gen: latest gen.
 * @size: latest size.
 * @mask: WEAVE_EV_* bits since the last read.
 */
struct weave_pending {
	struct weave_hnode hnode;
	struct list_head node;
	u64 gen;
	u64 size;
	u32 mask;
};

/**
 * struct weave_keywatch - the watches of one key
 * @hnode: in &weave_registry.watches, by key.
 * @watches: &struct weave_watcher.knode.
 */
struct weave_keywatch {
	struct weave_hnode hnode;
	struct list_head watches;
};

/**
 * struct weave_watcher - one file watching one key, or every key
 * @fnode: on &weave_file.watches.
 * @knode: on &weave_keywatch.watches, or &weave_registry.wide.
 * @kw: the key's watches; NULL for a wide watch.
 * @wf: the watching file.
 * @events: WEAVE_EV_* bits wanted.
 * @flags: WEAVE_WATCH_* flags.
 */
struct weave_watcher {
	struct list_head fnode;
	struct list_head knode;
	struct weave_keywatch *kw;
	struct weave_file *wf;
	u32 events;
	u32 flags;
};

static unsigned int weave_genwq_of(u64 key)
{
	return hash_64(key, ilog2(WEAVE_GENWQ));
}

/* A new record for @wf, charged to its memcg. */
static struct weave_pending *weave_pending_alloc(struct weave_file *wf)
{
	struct weave_pending *p;
	struct mem_cgroup *old;

	old = weave_set_active_memcg(wf->memcg);
	p = kmalloc(sizeof(*p), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	weave_set_active_memcg(old);
	return p;
}

/* A record for @wf: a spare one, or a new one. */
static inline struct weave_pending *weave_pending_get(struct weave_file *wf)
{
	struct weave_pending *p;

	p = list_first_entry_or_null(&wf->spare, struct weave_pending, node);
	if (!p)
		return weave_pending_alloc(wf);
	list_del(&p->node);
	wf->nr_spare--;
	return p;
}

/* Done with a read record: keep it for the next event, or free it. */
static void weave_pending_put(struct weave_file *wf, struct weave_pending *p)
{
	if (wf->nr_spare < WEAVE_PENDING_SPARE) {
		list_add(&p->node, &wf->spare);
		wf->nr_spare++;
		return;
	}
	kfree(p);
}

/* The pending record of @key, if any. */
static struct weave_pending *weave_pending_find(struct weave_file *wf,
						u64 key)
{
	struct weave_pending *p;
	struct weave_hnode *n;

	if (wf->hashed) {
		n = weave_htable_find(&wf->pending, key);
		return n ? container_of(n, struct weave_pending, hnode) : NULL;
	}
	list_for_each_entry(p, &wf->queue, node)
		if (p->hnode.key == key)
			return p;
	return NULL;
}

/* Hash @p, or the whole queue once it is long enough to search by hash. */
static void weave_pending_hash(struct weave_file *wf, struct weave_pending *p)
{
	struct weave_pending *q;

	if (wf->hashed) {
		weave_htable_add(&wf->pending, &p->hnode);
		return;
	}
	list_for_each_entry(q, &wf->queue, node)
		weave_htable_add(&wf->pending, &q->hnode);
	wf->hashed = true;
}

/* Queue @p; a queue grown long enough to search by hash gets hashed. */
static inline void weave_pending_queue(struct weave_file *wf,
				       struct weave_pending *p)
{
	list_add_tail(&p->node, &wf->queue);
	WRITE_ONCE(wf->nr_pending, wf->nr_pending + 1);
	if (wf->hashed || wf->nr_pending >= WEAVE_PENDING_LINEAR)
		weave_pending_hash(wf, p);
}

/* Record @mask for @wf; inline, as it runs for every watcher of a change. */
static inline void weave_pending_add(struct weave_file *wf, u64 key,
				     u32 mask, u64 gen, u64 size)
{
	struct weave_pending *p;

	p = weave_pending_find(wf, key);
	if (!p) {
		p = weave_pending_get(wf);
		if (!p) {
			wf->overflow = true;
			goto wake;
		}
		p->hnode.key = key;
		p->mask = 0;
		weave_pending_queue(wf, p);
	}
	p->mask |= mask;
	p->gen = gen;
	p->size = size;
wake:
	wake_up_interruptible_poll(&wf->wq, EPOLLIN | EPOLLRDNORM);
}

static void weave_watch_deliver(struct weave_watcher *w, struct weave_file *src,
				u64 key, u32 mask, u64 gen, u64 size)
{
	mask &= w->events;
	if (!mask || (w->flags & WEAVE_WATCH_NO_SELF && w->wf == src))
		return;
	weave_pending_add(w->wf, key, mask, gen, size);
}

/**
 * weave_event() - report a change of a key, or of the whole registry
 * @reg: the registry, locked
 * @src: the file that made the change
 * @key: the key, or 0 for an event of the whole registry
 * @mask: WEAVE_EV_* bits
 * @s: the key's slot, with its new gen and size, when the caller has it;
 *	NULL to look it up
 *
 * Wakes WEAVE_IOC_WAIT sleepers of the key and records the event for its
 * watchers and the registry's wide watchers, with the key's gen and size
 * as they are now.
 */
void weave_event(struct weave_registry *reg, struct weave_file *src,
		 u64 key, u32 mask, const struct weave_slot *s)
{
	unsigned int b = weave_genwq_of(key);
	struct weave_hnode *n = NULL;
	struct weave_watcher *w;
	u64 gen = reg->gen, size = 0;
	bool nl = weave_nl_listening();

	lockdep_assert_held(&reg->lock);

	if (key) {
		WRITE_ONCE(reg->genseq[b], reg->genseq[b] + 1);
		/* Its barrier pairs with the one in prepare_to_wait(). */
		if (wq_has_sleeper(&reg->genwq[b]))
			wake_up_all(&reg->genwq[b]);
	}
	if (!reg->nr_watches && !nl)
		return;

	if (key) {
		if (!s) {
			struct weave_entry *e = weave_entry_lookup(reg, key);

			if (e)
				s = e->s;
		}
		if (s) {
			gen = s->gen;
			size = s->size;
		}
		n = weave_htable_find(&reg->watches, key);
	}
	if (n) {
		struct weave_keywatch *kw =
			container_of(n, struct weave_keywatch, hnode);

		list_for_each_entry(w, &kw->watches, knode)
			weave_watch_deliver(w, src, key, mask, gen, size);
	}
	list_for_each_entry(w, &reg->wide, knode)
		weave_watch_deliver(w, src, key, mask, gen, size);
	if (nl)
		weave_nl_event(reg, key, mask, gen, size);
}

static struct weave_watcher *weave_watch_find(struct weave_file *wf, u64 key)
{
	struct weave_watcher *w;

	list_for_each_entry(w, &wf->watches, fnode)
		if (w->kw ? w->kw->hnode.key == key : !key)
			return w;
	return NULL;
}

static void weave_watch_free(struct weave_registry *reg, struct weave_watcher *w)
{
	list_del(&w->knode);
	list_del(&w->fnode);
	w->wf->nr_watches--;
	reg->nr_watches--;
	if (w->kw && list_empty(&w->kw->watches)) {
		weave_htable_del(&reg->watches, &w->kw->hnode);
		kfree(w->kw);
	}
	kfree(w);
}

/**
 * weave_ioctl_watch() - WEAVE_IOC_WATCH: watch a key or every key
 * @file: an attached file
 * @arg: &struct weave_watch_args
 *
 * Watching a key again replaces its event mask and flags.
 *
 * Return: 0 or a negative errno.
 */
int weave_ioctl_watch(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	struct weave_watch_args *a = arg;
	struct weave_keywatch *kw = NULL;
	struct weave_hnode *n;
	struct weave_watcher *w;
	int ret = 0;

	if (!a->events || a->events & ~WEAVE_EV_ALL ||
	    a->flags & ~WEAVE_WATCH_VALID)
		return -EINVAL;

	mutex_lock(&reg->lock);
	w = weave_watch_find(wf, a->key);
	if (w) {
		w->events = a->events;
		w->flags = a->flags;
		goto out_unlock;
	}
	ret = -ENOSPC;
	if (wf->nr_watches >= READ_ONCE(weave_max_watches))
		goto out_unlock;
	ret = -ENOMEM;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		goto out_unlock;
	if (a->key) {
		n = weave_htable_find(&reg->watches, a->key);
		if (n) {
			kw = container_of(n, struct weave_keywatch, hnode);
		} else {
			kw = kzalloc(sizeof(*kw), GFP_KERNEL_ACCOUNT);
			if (!kw) {
				kfree(w);
				goto out_unlock;
			}
			kw->hnode.key = a->key;
			INIT_LIST_HEAD(&kw->watches);
			weave_htable_add(&reg->watches, &kw->hnode);
		}
		list_add_tail(&w->knode, &kw->watches);
	} else {
		list_add_tail(&w->knode, &reg->wide);
	}
	if (!wf->memcg)
		wf->memcg = get_mem_cgroup_from_mm(current->mm);
	w->kw = kw;
	w->wf = wf;
	w->events = a->events;
	w->flags = a->flags;
	list_add_tail(&w->fnode, &wf->watches);
	wf->nr_watches++;
	reg->nr_watches++;
	ret = 0;

out_unlock:
	mutex_unlock(&reg->lock);
	return ret;
}

/**
 * weave_ioctl_unwatch() - WEAVE_IOC_UNWATCH: stop watching
 * @file: an attached file
 * @arg: &struct weave_watch_args, events and flags 0
 *
 * Events already pending stay readable.
 *
 * Return: 0, or -ENOENT when the file does not watch @key.
 */
int weave_ioctl_unwatch(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_watch_args *a = arg;
	struct weave_watcher *w;
	int ret = 0;

	if (a->events || a->flags)
		return -EINVAL;

	mutex_lock(&reg->lock);
	w = weave_watch_find(file->private_data, a->key);
	if (w)
		weave_watch_free(reg, w);
	else
		ret = -ENOENT;
	mutex_unlock(&reg->lock);
	return ret;
}

/**
 * weave_watches_release() - drop a closing file's watches and events
 * @reg: the registry, locked
 * @wf: the file
 */
void weave_watches_release(struct weave_registry *reg, struct weave_file *wf)
{
	struct weave_watcher *w, *next;

	list_for_each_entry_safe(w, next, &wf->watches, fnode)
		weave_watch_free(reg, w);
}

/* Has a close() by our own process come since @seq? See weave_fop_flush(). */
static bool weave_flushed(struct weave_file *wf, unsigned int seq)
{
	return READ_ONCE(wf->flush_seq) != seq &&
	       READ_ONCE(wf->flush_files) == current->files;
}

/* Wake condition of WEAVE_IOC_WAIT: the bucket moved, or we closed. */
static bool weave_gen_moved(struct weave_registry *reg, struct weave_file *wf,
			    unsigned int b, unsigned int bseq,
			    unsigned int fseq)
{
	return READ_ONCE(reg->genseq[b]) != bseq || weave_flushed(wf, fseq);
}

/* Sleep until weave_gen_moved(), for at most @left (KTIME_MAX: ever). */
static long weave_gen_sleep(struct weave_registry *reg, struct weave_file *wf,
			    unsigned int b, unsigned int bseq,
			    unsigned int fseq, ktime_t left)
{
	wait_queue_head_t *wq = &reg->genwq[b];

	if (left == KTIME_MAX)
		return wait_event_interruptible(*wq, weave_gen_moved(reg, wf, b,
								     bseq, fseq));
	return wait_event_interruptible_hrtimeout(*wq,
						  weave_gen_moved(reg, wf, b, bseq,
								  fseq), left);
}

/*
 * The gen of @key and the seq of its wait queue, read in that order, or
 * the wake-up that follows a change could be missed: a change writes the
 * gen before it bumps the seq (weave_event()), so a gen read after
 * the seq is at least as new as the seq says. @slot is where the key was
 * last found (NULL: nowhere) and is updated.
 */
static u64 weave_wait_gen(struct weave_registry *reg, struct weave_file *wf,
			  u64 key, unsigned int b,
			  const struct weave_slot **slot, unsigned int *bseq)
{
	struct weave_entry *e;
	u64 gen;

	*bseq = READ_ONCE(reg->genseq[b]);
	smp_rmb();	/* the seq, then the gen */
	if (weave_slot_read_gen(*slot, key, &gen))
		return gen;

	mutex_lock(&reg->lock);
	e = weave_entry_lookup(reg, key);
	*slot = e ? e->s : NULL;
	gen = *slot ? (*slot)->gen : 0;
	*bseq = READ_ONCE(reg->genseq[b]);
	mutex_unlock(&reg->lock);
	if (*slot)
		WRITE_ONCE(wf->wait_slot, *slot);
	return gen;
}

/**
 * weave_ioctl_wait() - WEAVE_IOC_WAIT: sleep until a key's gen differs
 * @file: an attached file
 * @arg: &struct weave_wait_args
 *
 * A key without an entry has gen 0, so waiting for gen 0 waits for its
 * creation.
 *
 * Return: 0, -ETIMEDOUT, -EINTR (timed) or -ERESTARTSYS, or -EBADF when
 * the process closed the file meanwhile.
 */
int weave_ioctl_wait(struct file *file, void *arg)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	struct weave_wait_args *a = arg;
	unsigned int b = weave_genwq_of(a->key);
	unsigned int bseq, fseq = READ_ONCE(wf->flush_seq);
	/* Where this file's last wait found its key: a hint, checked. */
	const struct weave_slot *slot = READ_ONCE(wf->wait_slot);
	ktime_t deadline = 0;
	long ret;

	if (!a->key || a->flags & ~WEAVE_WAIT_VALID || a->reserved ||
	    a->cur_gen || (!(a->flags & WEAVE_WAIT_TIMED) && a->timeout_ns))
		return -EINVAL;
	if (a->flags & WEAVE_WAIT_TIMED)
		deadline = ktime_add_ns(ktime_get(),
					min_t(u64, a->timeout_ns, KTIME_MAX / 2));

	for (;;) {
		a->cur_gen = weave_wait_gen(reg, wf, a->key, b, &slot, &bseq);
		if (a->cur_gen != a->gen)
			return 0;

		if (!(a->flags & WEAVE_WAIT_TIMED)) {
			ret = weave_gen_sleep(reg, wf, b, bseq, fseq, KTIME_MAX);
		} else {
			ktime_t left = ktime_sub(deadline, ktime_get());

			if (left <= 0)
				return -ETIMEDOUT;
			ret = weave_gen_sleep(reg, wf, b, bseq, fseq, left);
			if (ret == -ETIME)
				return -ETIMEDOUT;
			if (ret == -ERESTARTSYS)
				ret = -EINTR;
		}
		if (ret)
			return ret;
		if (weave_flushed(wf, fseq))
			return -EBADF;
	}
}

/* Move up to @max pending records into @ev. */
static unsigned int weave_pending_pop(struct weave_file *wf,
				      struct weave_event *ev, unsigned int max)
{
	struct weave_pending *p, *next;
	unsigned int n = 0;

	if (wf->overflow && max) {
		ev[n++] = (struct weave_event){ .mask = WEAVE_EV_OVERFLOW };
		wf->overflow = false;
	}
	list_for_each_entry_safe(p, next, &wf->queue, node) {
		if (n == max)
			break;
		ev[n++] = (struct weave_event){
			.key = p->hnode.key, .gen = p->gen,
			.size = p->size, .mask = p->mask,
		};
		list_del(&p->node);
		if (wf->hashed)
			weave_htable_del(&wf->pending, &p->hnode);
		weave_pending_put(wf, p);
		WRITE_ONCE(wf->nr_pending, wf->nr_pending - 1);
	}
	/* Drained: the next records are few again. */
	if (!wf->nr_pending)
		wf->hashed = false;
	return n;
}

static bool weave_readable(struct weave_file *wf)
{
	return READ_ONCE(wf->nr_pending) || READ_ONCE(wf->overflow);
}

/**
 * weave_fop_read() - read pending events as &struct weave_event records
 * @file: an attached file
 * @buf: user buffer
 * @count: its size; smaller than one record gives -EINVAL
 * @ppos: unused
 *
 * Return: bytes read (whole records), or -EAGAIN, -ERESTARTSYS, -EBADF
 * (the process closed the file meanwhile), -EFAULT.
 */
ssize_t weave_fop_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	unsigned int fseq = READ_ONCE(wf->flush_seq);
	struct weave_event stack[WEAVE_READ_STACK], *ev = stack;
	unsigned int max, room = WEAVE_READ_STACK, n;
	int ret;

	if (!reg)
		return -EBADFD;
	if (count < sizeof(*ev))
		return -EINVAL;
	max = min_t(size_t, count / sizeof(*ev), WEAVE_READ_MAX);

	for (;;) {
		mutex_lock(&reg->lock);
		/*
		 * More pending than the stack holds, and room for them: take
		 * a buffer (outside the lock) and look again. One pop under
		 * the lock keeps a read's records a snapshot, a key at most
		 * once.
		 */
		if (room < max && wf->nr_pending + wf->overflow > room) {
			mutex_unlock(&reg->lock);
			ev = kmalloc_array(max, sizeof(*ev),
					   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
			if (!ev)
				return -ENOMEM;
			room = max;
			continue;
		}
		n = weave_pending_pop(wf, ev, min(max, room));
		mutex_unlock(&reg->lock);
		if (n)
			break;
		ret = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			goto out_free;
		ret = wait_event_interruptible(wf->wq, weave_readable(wf) ||
					       weave_flushed(wf, fseq));
		if (ret)
			goto out_free;
		ret = -EBADF;
		if (weave_flushed(wf, fseq))
			goto out_free;
	}

	/*
	 * Records popped are gone even if the copy faults, as in inotify.
	 * One record, the common case, is a copy of constant size, which
	 * needs no hardened-usercopy walk of the object.
	 */
	ret = n * sizeof(*ev);
	if (n == 1 ? copy_to_user(buf, ev, sizeof(*ev)) :
	    copy_to_user(buf, ev, n * sizeof(*ev)))
		ret = -EFAULT;
out_free:
	if (ev != stack)
		kfree(ev);
	return ret;
}

/**
 * weave_fop_poll() - readable while events are pending
 * @file: the file
 * @pt: poll table
 *
 * Return: the poll mask; EPOLLERR for an unattached file.
 */
__poll_t weave_fop_poll(struct file *file, struct poll_table_struct *pt)
{
	struct weave_file *wf = file->private_data;

	if (!weave_file_reg(file))
		return EPOLLERR;
	poll_wait(file, &wf->wq, pt);
	/* The waker adds a record before waking; the wq lock orders them. */
	return weave_readable(wf) ? EPOLLIN | EPOLLRDNORM : 0;
}

/**
 * weave_fop_flush() - a close() of a descriptor of this file
 * @file: the file
 * @id: the closing process's files_struct
 *
 * Threads of the closing process that sleep in read() or WEAVE_IOC_WAIT
 * on this file wake and fail with EBADF, so closing a descriptor never
 * leaves one of its own threads asleep on it. Other processes sharing the
 * file keep sleeping.
 *
 * Return: 0.
 */
int weave_fop_flush(struct file *file, fl_owner_t id)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	unsigned int b;

	if (!reg)
		return 0;
	WRITE_ONCE(wf->flush_files, id);
	smp_wmb();	/* a waker of the new seq sees the new owner */
	WRITE_ONCE(wf->flush_seq, wf->flush_seq + 1);
	wake_up_interruptible_all(&wf->wq);
	for (b = 0; b < WEAVE_GENWQ; b++)
		wake_up_all(&reg->genwq[b]);
	return 0;
}

/**
 * weave_events_init() - set up the event state of a new registry
 * @reg: the registry
 */
void weave_events_init(struct weave_registry *reg)
{
	unsigned int b;

	INIT_LIST_HEAD(&reg->wide);
	for (b = 0; b < WEAVE_GENWQ; b++)
		init_waitqueue_head(&reg->genwq[b]);
}

/**
 * weave_file_events_init() - set up the event state of a new file
 * @wf: the file
 *
 * Return: 0 or -ENOMEM.
 */
int weave_file_events_init(struct weave_file *wf)
{
	INIT_LIST_HEAD(&wf->holds);
	INIT_LIST_HEAD(&wf->watches);
	INIT_LIST_HEAD(&wf->queue);
	INIT_LIST_HEAD(&wf->spare);
	init_waitqueue_head(&wf->wq);
	return weave_htable_init(&wf->pending, WEAVE_PENDING_BUCKETS);
}

/**
 * weave_file_events_destroy() - free what is left of a file's events
 * @wf: the file, no longer attached or reachable
 */
void weave_file_events_destroy(struct weave_file *wf)
{
	struct weave_pending *p, *next;

	list_for_each_entry_safe(p, next, &wf->queue, node)
		kfree(p);
	list_for_each_entry_safe(p, next, &wf->spare, node)
		kfree(p);
	weave_htable_destroy(&wf->pending);
	if (wf->memcg)
		mem_cgroup_put(wf->memcg);
}
