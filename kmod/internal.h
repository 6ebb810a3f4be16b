/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: objects shared by the files of the module.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Locks, and the only orders in which they nest:
 *
 *   weave_names_lock (registry.c: names, the registry list, owner and
 *   mode, registry counts; namespace.c: the namespace table) ->
 *   registry->lock (everything else of one registry: entries, slots,
 *   pages, locks, watches, pending events)
 *
 *   weave_names_lock -> the fsnotify group's lock (adding a namespace's
 *   mark)
 *
 *   mmap_lock (page faults, mmap()) -> registry->lock
 *
 *   registry->lock -> i_mmap_rwsem and page table locks (zapping views,
 *   vm_insert_page()), wait queue locks (wake-ups), netlink
 *
 *   weave_names_lock -> netlink (registry events)
 *
 * registry->lock is a mutex and is never held across copy_to_user() or
 * copy_from_user(): values are staged in a kernel buffer first, so a page
 * fault on a weave view (which takes registry->lock) can never nest inside
 * it. A task waiting for a per-key lock sleeps with it dropped (lock.c).
 */
#ifndef _WEAVE_INTERNAL_H
#define _WEAVE_INTERNAL_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/refcount.h>
#include <linux/idr.h>
#include <linux/xarray.h>
#include <linux/uidgid.h>
#include <linux/mm_types.h>
#include <linux/wait.h>
#include <linux/poll.h>
#include <linux/fsnotify_backend.h>
#include <uapi/linux/weave.h>

#include "compat.h"
#include "htable.h"
#include "index.h"

/* Values of up to 2048 bytes live in power-of-two cells of shared pages. */
#define WEAVE_CELL_MIN_SHIFT	6
#define WEAVE_CELL_MAX_SHIFT	11
#define WEAVE_NR_CELL_CLASSES	(WEAVE_CELL_MAX_SHIFT - WEAVE_CELL_MIN_SHIFT + 1)

#define WEAVE_SLOT_SIZE		sizeof(struct weave_slot)
#define WEAVE_GENWQ		16	/* wait queues of WEAVE_IOC_WAIT */

/*
 * Allocations sized by what user space stores. In a memory cgroup at its
 * limit a GFP_KERNEL_ACCOUNT charge calls the cgroup's OOM killer, which
 * kills the storing process; __GFP_RETRY_MAYFAIL makes the charge (and
 * the page allocator) fail instead, and the caller gets ENOMEM, with no
 * warning since it is told.
 */
#define WEAVE_GFP_STORE		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

/* limits.c: module parameters, read where they apply. */
extern unsigned int weave_max_registries;
extern unsigned int weave_max_registries_per_user;
extern unsigned int weave_max_registries_per_ns;
extern unsigned long weave_max_entries;
extern unsigned long weave_max_entry_size;
extern unsigned long weave_max_registry_bytes;
extern unsigned int weave_max_locks;
extern unsigned int weave_max_waiters;
extern unsigned int weave_max_watches;
extern unsigned int weave_max_batch;

struct weave_cell_page;
struct weave_value;

/**
 * struct weave_entry - kernel side of one key's value (store.c)
 * @hnode: in &weave_registry.entries, by key.
 * @ref: one for the registry's table while live, one per view (vma).
 * @slot: index slot, fixed for the entry's life.
 * @shift: cell size (log2) of a small entry, 0 for a large or sealed one.
 * @dead: removed from the registry; views of an unsealed entry fault
 *	with SIGBUS.
 * @sealed: set with WEAVE_SET_SEAL: its bytes live in @pages.
 * @cp: cell page of a small entry. A large entry's pages are in
 *	&weave_registry.pages at the page offsets of its slot's span.
 * @cell: address of a small entry's cell, in @cp's page.
 * @pages: a sealed entry's own pages, @nr_pages of them; they outlive
 *	its deletion, until the last view goes (weave_entry_put()).
 * @nr_pages: number of @pages.
 * @writer: the file whose writable mapping holds the entry's change
 *	open (grant.c), or NULL; identity only, never followed.
 * @s: the slot itself; index pages live as long as the registry. Once
 *	the entry is dead the slot may hold another entry.
 *
 * Size, gen and birth live in the entry's &struct weave_slot, which the
 * kernel owns and user space maps read-only. All fields but @ref (atomic)
 * are under the registry's lock; @slot and @s never change, nor do
 * @sealed, @pages and @nr_pages once @sealed is set.
 */
struct weave_entry {
	struct weave_hnode hnode;
	refcount_t ref;
	u32 slot;
	u8 shift;
	u8 dead;
	u8 sealed;
	struct weave_cell_page *cp;
	void *cell;
	struct page **pages;
	unsigned long nr_pages;
	struct weave_file *writer;
	struct weave_slot *s;
};

/**
 * struct weave_ns - an IPC namespace that has had registries (namespace.c)
 * @mark: fsnotify mark on the root of the namespace's mqueue file system,
 *	which tells when the namespace dies.
 * @node: in the namespace table while @listed, by @sb.
 * @listed: in the table; cleared by whoever takes it out.
 * @sb: the mqueue super block: identity only, compared, never followed.
 * @nr_registries: registries created in it that live on.
 *
 * All fields but @mark under weave_names_lock.
 */
struct weave_ns {
	struct fsnotify_mark mark;
	struct hlist_node node;
	bool listed;
	const struct super_block *sb;
	unsigned int nr_registries;
};

/* Bits of weave_registry.flags, as reported in weave_info.flags. */
#define WEAVE_REG_PERSIST	WEAVE_INFO_PERSIST
#define WEAVE_REG_ANON		WEAVE_INFO_ANON
#define WEAVE_REG_UNLINKED	WEAVE_INFO_UNLINKED

/**
 * struct weave_registry - a map from keys to buffers (registry.c)
 * @kref: the registry's memory: one reference for all its users, one for
 *	each netlink request or UNLINKED event in progress.
 * @users: attached files, plus one for the name if persistent; the
 *	registry dies when it drops to zero, which it does only under
 *	weave_names_lock (refcount_dec_and_mutex_lock()).
 * @lock: protects every field from @gen on, but those marked otherwise.
 * @node: on the registry list (weave_names_lock).
 * @hnode: in the name table (weave_names_lock).
 * @name: NUL-terminated name, NULL when anonymous (immutable).
 * @hashed: @hnode is in the name table (weave_names_lock).
 * @wns: IPC namespace the registry was created in, which scopes its name
 *	and counts it; NULL once the namespace is gone or the registry dead
 *	(weave_names_lock).
 * @user: the creator's real user, whom the registry counts against; NULL
 *	once it is dead (weave_names_lock).
 * @creator: that user's id (immutable).
 * @id: unique id (immutable).
 * @flags: WEAVE_REG_* (weave_names_lock; READ_ONCE() outside it).
 * @uid: owner (weave_names_lock; READ_ONCE() outside it).
 * @gid: group (weave_names_lock; READ_ONCE() outside it).
 * @mode: permission bits (weave_names_lock; READ_ONCE() outside it).
 * @max_entries: number of entry slots (immutable).
 * @max_entry_size: largest value (immutable).
 * @index_pages: pages of the index map (immutable).
 * @span_pages: pages of map offset per slot (immutable).
 * @gen: latest gen handed out.
 * @count: number of entries.
 * @bytes: sum of entry sizes.
 * @charged: bytes of pages allocated for values and index.
 * @slot_hwm: highest slot ever used.
 * @slots: allocator of slot numbers, lowest first.
 * @entries: the entries (&struct weave_entry), by key.
 * @locks: lock states (&struct weave_lockstate) of keys locked or waited
 *	for, present or not.
 * @watches: per key, the files watching it (&struct weave_keywatch).
 * @wide: watches of every key (&struct weave_watcher.knode).
 * @nr_watches: watches of all files.
 * @genwq: wait queues of WEAVE_IOC_WAIT, by key hash (their own locks).
 * @genseq: bumped before each wake of @genwq (READ_ONCE() outside @lock).
 * @header: the index header, at the start of the index's first page
 *	(set once, by weave_index_init()).
 * @index: page number -> page of the index map (added to under @lock,
 *	read without it: the xarray's RCU).
 * @pages: map page offset -> page of large values.
 * @partial: per cell class, cell pages with a free cell.
 * @reap: on a private list of registries whose namespace died
 *	(weave_names_lock).
 * @files: attached files (&weave_file.node), whose mappings are zapped
 *	when an entry goes away, moves or shrinks.
 * @nr_files: attached files, for statistics (atomic).
 * @nr_views: live mappings, for statistics (atomic).
 */
struct weave_registry {
	struct kref kref;
	refcount_t users;
	struct mutex lock;	/* see the comment at the top */
	struct list_head node;
	struct hlist_node hnode;
	const char *name;
	bool hashed;
	struct weave_ns *wns;
	struct weave_user *user;
	kuid_t creator;
	u64 id;
	unsigned int flags;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;

	u64 max_entries;
	u64 max_entry_size;
	unsigned long index_pages;
	unsigned long span_pages;

	u64 gen;
	u64 count;
	u64 bytes;
	u64 charged;
	u32 slot_hwm;
	struct ida slots;
	struct weave_htable entries;
	struct weave_htable locks;
	struct weave_htable watches;
	struct list_head wide;
	unsigned int nr_watches;
	wait_queue_head_t genwq[WEAVE_GENWQ];
	unsigned int genseq[WEAVE_GENWQ];
	struct weave_index_header *header;
	struct xarray index;
	struct xarray pages;
	struct list_head partial[WEAVE_NR_CELL_CLASSES];

	struct list_head reap;
	struct list_head files;
	atomic_t nr_files;
	atomic_t nr_views;
};

/**
 * struct weave_file - private data of an open /dev/weave (device.c)
 * @reg: the attached registry, NULL until WEAVE_IOC_ATTACH; set once,
 *	under weave_names_lock, and read with weave_file_reg().
 * @node: on &weave_registry.files (the registry's lock).
 * @inode: a private inode whose address_space (the file's f_mapping)
 *	lists this file's mappings, set at open so it never changes while
 *	the file is visible.
 * @holds: locks this file holds (&struct weave_hold.fnode).
 * @nr_holds: length of @holds.
 * @watches: this file's watches (&struct weave_watcher.fnode).
 * @nr_watches: length of @watches.
 * @pending: coalesced events not yet read (&struct weave_pending), by
 *	key, while @hashed.
 * @queue: the same, oldest first, for read().
 * @hashed: @queue grew long enough to be in @pending too.
 * @nr_pending: length of @queue (READ_ONCE() by poll, without the lock).
 * @spare: records already read, kept for reuse (charged to @memcg).
 * @nr_spare: length of @spare.
 * @overflow: an event could not be recorded; read() reports it.
 * @memcg: memory cgroup charged for @pending, the watcher's.
 * @wq: poll() and read() sleep here (its own lock).
 * @flush_seq: bumped by close(); with @flush_files, wakes the closer's
 *	threads sleeping on this file (no lock: WRITE_ONCE() after
 *	@flush_files, with a write barrier between).
 * @flush_files: the files_struct of the last close() (as @flush_seq).
 * @wait_slot: index slot of @reg where WEAVE_IOC_WAIT last found its
 *	key, a hint it checks (no lock: READ_ONCE()/WRITE_ONCE()).
 *
 * Fields from @holds to @memcg are under the registry's lock.
 */
struct weave_file {
	struct weave_registry *reg;
	struct list_head node;
	struct inode *inode;

	struct list_head holds;
	unsigned int nr_holds;
	struct list_head watches;
	unsigned int nr_watches;
	struct weave_htable pending;
	struct list_head queue;
	bool hashed;
	unsigned int nr_pending;
	struct list_head spare;
	unsigned int nr_spare;
	bool overflow;
	struct mem_cgroup *memcg;
	wait_queue_head_t wq;
	unsigned int flush_seq;
	const void *flush_files;
	const struct weave_slot *wait_slot;
};

/* Should an operation fail with -EAGAIN rather than wait for a lock? */
static inline bool weave_nonblock(const struct file *file, u32 flags)
{
	return flags & WEAVE_OP_NONBLOCK || file->f_flags & O_NONBLOCK;
}

static inline struct weave_registry *weave_file_reg(struct file *file)
{
	struct weave_file *wf = file->private_data;

	/* Pairs with the cmpxchg_release() in weave_ioctl_attach(). */
	return smp_load_acquire(&wf->reg);
}

/* namespace.c */
int weave_ns_init(void);
void weave_ns_quiesce(void);
void weave_ns_exit(void);
struct weave_ns *weave_ns_find(bool create);

/**
 * struct weave_usage - what a registry's creator and namespace hold
 * @user_registries: registries of the creator (real uid), all namespaces.
 * @ns_registries: registries created in the namespace.
 *
 * A snapshot for statistics (netlink).
 */
struct weave_usage {
	u32 user_registries;
	u32 ns_registries;
};

/* registry.c */
extern struct mutex weave_names_lock;
int weave_registry_init(void);
void weave_registry_exit(void);
void weave_registry_put(struct weave_registry *reg);
struct inode *weave_inode_alloc(void);
void weave_file_attach_to(struct weave_file *wf, struct weave_registry *reg);
void weave_file_detach(struct weave_file *wf);
u32 weave_registry_flags(struct weave_registry *reg);
struct weave_registry *weave_registry_find_visible(const char *name, u64 id);
struct weave_registry *weave_registry_next_visible(u64 after_id);
int weave_registry_unlink(const char *name, struct weave_file *src);
int weave_ioctl_attach(struct file *file, void *arg);
int weave_ioctl_unlink(struct file *file, void *arg);
int weave_ioctl_info(struct file *file, void *arg);
int weave_ioctl_setattr(struct file *file, void *arg);
void weave_registry_ns_dead(struct weave_ns *wns);
void weave_registry_usage(struct weave_registry *reg, struct weave_usage *u);
void __weave_registry_usage(struct weave_registry *reg, struct weave_usage *u);

/**
 * weave_entry_lookup() - find the live entry of a key
 * @reg: the registry, locked
 * @key: the key
 *
 * Every file that resolves a key to its entry shares this.
 *
 * Return: the entry or NULL.
 */
static inline struct weave_entry *weave_entry_lookup(struct weave_registry *reg,
						     u64 key)
{
	struct weave_hnode *n;

	lockdep_assert_held(&reg->lock);
	n = weave_htable_find(&reg->entries, key);
	return n ? container_of(n, struct weave_entry, hnode) : NULL;
}

/* entry.c */
int weave_entries_init(struct weave_registry *reg);
void weave_entries_release(struct weave_registry *reg);
void weave_entries_destroy(struct weave_registry *reg);
int weave_ioctl_set(struct file *file, void *arg);
int weave_ioctl_get(struct file *file, void *arg);
int weave_ioctl_write(struct file *file, void *arg);
int weave_ioctl_resize(struct file *file, void *arg);
int weave_ioctl_delete(struct file *file, void *arg);
int weave_ioctl_clear(struct file *file, void *arg);
int weave_ioctl_stat(struct file *file, void *arg);
int weave_ioctl_list(struct file *file, void *arg);
bool weave_set_invalid(u64 key, u32 flags, u64 gen);
bool weave_delete_invalid(u64 key, u32 flags, u64 gen);
int weave_set_check(const struct weave_entry *e, u32 flags, u64 *gen);
int weave_entry_set(struct weave_registry *reg, struct weave_file *wf,
		    struct weave_entry *e, u64 key, const struct weave_value *v,
		    u32 flags);
int weave_delete_check(const struct weave_entry *e, u32 flags, u64 *gen);
void weave_entry_delete(struct weave_registry *reg, struct weave_file *wf,
			struct weave_entry *e);

u64 weave_entry_offset(const struct weave_registry *reg,
		       const struct weave_entry *e);
void weave_entry_changed(struct weave_registry *reg, struct weave_file *wf,
			 struct weave_entry *e, struct weave_slot *s, u32 mask);

/* batch.c */
int weave_ioctl_batch(struct file *file, void *arg);

/* grant.c */
int weave_rw_mmap(struct file *file, struct vm_area_struct *vma);
void weave_grant_end(struct weave_registry *reg, struct weave_file *wf,
		     u64 key);

/* mmap.c */
int weave_fop_mmap(struct file *file, struct vm_area_struct *vma);
vm_fault_t weave_vm_insert(struct vm_fault *vmf, struct page *page);
void weave_zap(struct weave_registry *reg, u32 slot, unsigned long first,
	       unsigned long nr);

#include "event.h"
#include "netlink.h"
#include "lock.h"
#include "store.h"
#include "value.h"

#endif /* _WEAVE_INTERNAL_H */
