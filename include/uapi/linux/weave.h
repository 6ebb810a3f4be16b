/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * weave: registries of byte buffers shared between processes through
 * /dev/weave.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _UAPI_LINUX_WEAVE_H
#define _UAPI_LINUX_WEAVE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: Overview
 *
 * A registry maps keys (__u64, never 0) to byte buffers held in kernel
 * memory. open("/dev/weave") gives a file that is bound to one registry by
 * %WEAVE_IOC_ATTACH; the open mode (O_RDONLY or O_RDWR) is the access mode
 * of that handle. Every other registry ioctl on an unattached file fails
 * with EBADFD.
 *
 * Every change of an entry (create, set, write, resize, delete) gives it a
 * generation ("gen") larger than any gen the registry handed out before.
 *
 * Every ioctl takes a pointer to a structure. The structures are versioned
 * by size: the size is the _IOC_SIZE of the command number, so a program
 * built against an older header passes a shorter structure and still works,
 * and a program built against a newer header works on an older kernel as
 * long as the fields the kernel does not know are zero (else E2BIG). Fields
 * marked "out" must be zero on input; reserved fields must be zero; unknown
 * flags give EINVAL; unknown commands give ENOTTY.
 */

/** WEAVE_API - version of this interface, for &struct weave_api_args. */
#define WEAVE_API		1

/** WEAVE_NAME_MAX - longest registry name, in bytes, without the NUL. */
#define WEAVE_NAME_MAX		255

#define WEAVE_IOC_MAGIC		0xB9

/**
 * DOC: Feature bits
 *
 * Reported by %WEAVE_IOC_API in &weave_api_args.features.
 *
 * %WEAVE_FEATURE_MAP: the index and entries can be mapped read-only.
 * %WEAVE_FEATURE_LOCKS: %WEAVE_IOC_LOCK and %WEAVE_IOC_UNLOCK.
 * %WEAVE_FEATURE_EVENTS: watches, poll/read events, %WEAVE_IOC_WAIT.
 * %WEAVE_FEATURE_NETLINK: the "weave" generic netlink family.
 * %WEAVE_FEATURE_SETATTR: %WEAVE_IOC_SETATTR.
 * %WEAVE_FEATURE_IF_GEN: %WEAVE_OP_IF_GEN, compare and set on the gen.
 * %WEAVE_FEATURE_REOPEN: %WEAVE_IOC_REOPEN.
 * %WEAVE_FEATURE_BATCH: %WEAVE_IOC_BATCH, and &weave_api_args.max_batch.
 * %WEAVE_FEATURE_SEAL: %WEAVE_SET_SEAL, %WEAVE_SLOT_SEALED and
 *	&weave_stat_args.slot_flags.
 */
#define WEAVE_FEATURE_MAP	(1ULL << 0)
#define WEAVE_FEATURE_LOCKS	(1ULL << 1)
#define WEAVE_FEATURE_EVENTS	(1ULL << 2)
#define WEAVE_FEATURE_NETLINK	(1ULL << 3)
#define WEAVE_FEATURE_SETATTR	(1ULL << 4)
#define WEAVE_FEATURE_IF_GEN	(1ULL << 5)
#define WEAVE_FEATURE_REOPEN	(1ULL << 6)
#define WEAVE_FEATURE_BATCH	(1ULL << 7)
#define WEAVE_FEATURE_SEAL	(1ULL << 8)

/**
 * struct weave_api_args - the feature handshake (%WEAVE_IOC_API)
 * @api: in: %WEAVE_API; out: the kernel's API version.
 * @features: out: %WEAVE_FEATURE_* bits this kernel implements.
 * @ioctls: out: bit N set when the command with _IOC_NR N is implemented.
 * @max_entries: out: the most entries a registry may hold.
 * @max_entry_size: out: the largest entry, in bytes.
 * @max_registry_bytes: out: the most bytes all entries of a registry may
 *	hold together.
 * @max_batch: out: the most operations one %WEAVE_IOC_BATCH may carry
 *	(%WEAVE_FEATURE_BATCH; 0 from older modules).
 * @reserved: must be 0.
 *
 * Works on attached and unattached files. An @api the kernel does not
 * speak gives EINVAL.
 */
struct weave_api_args {
	__u64 api;
	__u64 features;
	__u64 ioctls;
	__u64 max_entries;
	__u64 max_entry_size;
	__u64 max_registry_bytes;
	__u32 max_batch;
	__u32 reserved;
};

/* Flags of struct weave_attach_args. */
#define WEAVE_ATTACH_CREATE	(1U << 0)	/* create when missing */
#define WEAVE_ATTACH_EXCL	(1U << 1)	/* with CREATE: fail if it exists */
#define WEAVE_ATTACH_PERSIST	(1U << 2)	/* with CREATE: outlive its users */
#define WEAVE_ATTACH_ANON	(1U << 3)	/* a new registry with no name */
#define WEAVE_ATTACH_VALID	(WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL | \
				 WEAVE_ATTACH_PERSIST | WEAVE_ATTACH_ANON)

/* Result bits of struct weave_attach_args. */
#define WEAVE_ATTACH_CREATED	(1U << 0)	/* this call created it */

/**
 * struct weave_attach_args - bind a file to a registry (%WEAVE_IOC_ATTACH)
 * @name: pointer to a NUL-terminated name of 1 to %WEAVE_NAME_MAX bytes
 *	without '/'; must be 0 with %WEAVE_ATTACH_ANON.
 * @flags: %WEAVE_ATTACH_* flags. %WEAVE_ATTACH_EXCL and
 *	%WEAVE_ATTACH_PERSIST need %WEAVE_ATTACH_CREATE; %WEAVE_ATTACH_ANON
 *	takes none of the others.
 * @mode: permission bits (0777 at most) of a registry this call creates,
 *	checked like a file's against the caller's fsuid, fsgid and groups.
 * @max_entries: capacity of a registry this call creates; 0 means the
 *	module's limit, more than the module's limit gives EINVAL.
 * @id: out: the registry's id, unique while the module is loaded.
 * @index_size: out: size in bytes of the index map at offset 0.
 * @result: out: %WEAVE_ATTACH_CREATED when this call created the registry.
 * @reserved: must be 0.
 *
 * Names live in the caller's IPC namespace. A file attaches once (EBUSY
 * after that). Errors: ENOENT (no such name and no %WEAVE_ATTACH_CREATE),
 * EEXIST (%WEAVE_ATTACH_EXCL and the name exists), EACCES (mode bits),
 * EINVAL (bad name or flags); when creating, ENFILE (max_registries
 * reached), EMFILE (the IPC namespace's max_registries_per_ns
 * reached) or EDQUOT (the real user's max_registries_per_user
 * reached).
 */
struct weave_attach_args {
	__u64 name;
	__u32 flags;
	__u32 mode;
	__u64 max_entries;
	__u64 id;
	__u64 index_size;
	__u32 result;
	__u32 reserved;
};

/**
 * struct weave_unlink_args - remove a name (%WEAVE_IOC_UNLINK)
 * @name: pointer to the NUL-terminated name.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * Like shm_unlink(): the name goes at once, the registry lives on while
 * files or mappings use it. Works on unattached files too. Needs write
 * permission on the registry (EACCES).
 */
struct weave_unlink_args {
	__u64 name;
	__u32 flags;
	__u32 reserved;
};

/* Flags of struct weave_info_args. */
#define WEAVE_INFO_PERSIST	(1U << 0)	/* created with ATTACH_PERSIST */
#define WEAVE_INFO_ANON		(1U << 1)	/* has no name */
#define WEAVE_INFO_RDONLY	(1U << 2)	/* this handle is read-only */
#define WEAVE_INFO_UNLINKED	(1U << 3)	/* its name was removed */

/**
 * struct weave_info_args - describe the attached registry (%WEAVE_IOC_INFO)
 * @id: out: registry id.
 * @flags: out: %WEAVE_INFO_* bits.
 * @mode: out: permission bits.
 * @uid: out: owner, in the caller's user namespace.
 * @gid: out: group, in the caller's user namespace.
 * @count: out: number of entries.
 * @bytes: out: sum of the entries' sizes.
 * @gen: out: the latest gen the registry handed out.
 * @max_entries: out: capacity.
 * @max_entry_size: out: largest entry.
 * @index_size: out: size of the index map.
 * @entry_span: out: bytes of mapping offset reserved for each index slot;
 *	the view of the entry in slot S starts at index_size + (S - 1) *
 *	entry_span.
 */
struct weave_info_args {
	__u64 id;
	__u32 flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u64 count;
	__u64 bytes;
	__u64 gen;
	__u64 max_entries;
	__u64 max_entry_size;
	__u64 index_size;
	__u64 entry_span;
};

/*
 * Flags shared by the entry operations. WEAVE_OP_NONBLOCK: fail with EAGAIN
 * instead of waiting for a lock that another file holds (O_NONBLOCK on the
 * file has the same effect).
 *
 * Bits 0 and 4 are WEAVE_OP_* bits in every command's flags; the others
 * belong to each command.
 *
 * WEAVE_OP_IF_GEN (%WEAVE_FEATURE_IF_GEN): compare and set. The operation
 * happens only when the entry's gen is the @gen passed in, 0 meaning that
 * the key must not exist; otherwise nothing changes, the call fails with
 * ESTALE and the kernel writes the entry's current gen (0: no entry) to
 * @gen. Set, write, resize and delete take it.
 */
#define WEAVE_OP_NONBLOCK	(1U << 0)
#define WEAVE_OP_IF_GEN		(1U << 4)

#define WEAVE_SET_NOREPLACE	(1U << 1)	/* EEXIST if the key exists */
#define WEAVE_SET_NOCREATE	(1U << 2)	/* ENOENT if it does not */
/*
 * WEAVE_SET_SEAL (%WEAVE_FEATURE_SEAL): seal the entry with this value.
 * While it lives, a sealed entry's bytes and size never change (set,
 * write and resize fail with EPERM; delete and clear remove it), and a
 * view of it keeps showing those bytes after it is deleted, even when
 * its slot is reused: readers of sealed data never get SIGBUS. A sealed
 * entry occupies whole pages, however small its value.
 */
#define WEAVE_SET_SEAL		(1U << 3)
#define WEAVE_SET_VALID		(WEAVE_OP_NONBLOCK | WEAVE_SET_NOREPLACE | \
				 WEAVE_SET_NOCREATE | WEAVE_SET_SEAL | \
				 WEAVE_OP_IF_GEN)

/**
 * struct weave_set_args - replace an entry's bytes, creating it
 *	(%WEAVE_IOC_SET)
 * @key: the key, not 0.
 * @buf: pointer to @len bytes.
 * @len: new size; more than the entry size limit gives EFBIG.
 * @flags: %WEAVE_SET_VALID bits; %WEAVE_OP_IF_GEN with neither
 *	%WEAVE_SET_NOREPLACE nor %WEAVE_SET_NOCREATE.
 * @reserved: must be 0.
 * @gen: out: the entry's new gen; with %WEAVE_OP_IF_GEN, in: the gen
 *	the entry must have.
 */
struct weave_set_args {
	__u64 key;
	__u64 buf;
	__u64 len;
	__u32 flags;
	__u32 reserved;
	__u64 gen;
};

#define WEAVE_GET_VALID		WEAVE_OP_NONBLOCK

/**
 * struct weave_get_args - copy an entry's bytes out (%WEAVE_IOC_GET)
 * @key: the key.
 * @buf: pointer to room for @len bytes.
 * @len: room at @buf; may be smaller than the entry (or 0, to learn
 *	@size and @gen only).
 * @offset: first byte of the entry to copy.
 * @flags: %WEAVE_GET_VALID bits.
 * @reserved: must be 0.
 * @size: out: the entry's whole size.
 * @gen: out: the entry's gen.
 * @copied: out: bytes copied, min(@len, @size - @offset), or 0 when
 *	@offset is at or past @size.
 */
struct weave_get_args {
	__u64 key;
	__u64 buf;
	__u64 len;
	__u64 offset;
	__u32 flags;
	__u32 reserved;
	__u64 size;
	__u64 gen;
	__u64 copied;
};

#define WEAVE_WRITE_VALID	(WEAVE_OP_NONBLOCK | WEAVE_OP_IF_GEN)

/**
 * struct weave_write_args - write bytes in place (%WEAVE_IOC_WRITE)
 * @key: the key of an existing entry (ENOENT otherwise).
 * @buf: pointer to @len bytes.
 * @len: bytes to write.
 * @offset: where; the entry grows like a file under pwrite(), a gap
 *	reads as zeros.
 * @flags: %WEAVE_WRITE_VALID bits.
 * @reserved: must be 0.
 * @size: out: the entry's size afterwards.
 * @gen: out: the entry's new gen; with %WEAVE_OP_IF_GEN, in: the gen
 *	the entry must have.
 */
struct weave_write_args {
	__u64 key;
	__u64 buf;
	__u64 len;
	__u64 offset;
	__u32 flags;
	__u32 reserved;
	__u64 size;
	__u64 gen;
};

#define WEAVE_RESIZE_VALID	(WEAVE_OP_NONBLOCK | WEAVE_OP_IF_GEN)

/**
 * struct weave_resize_args - grow or shrink an entry in place
 *	(%WEAVE_IOC_RESIZE)
 * @key: the key of an existing entry.
 * @size: new size; new bytes read as zeros.
 * @flags: %WEAVE_RESIZE_VALID bits.
 * @reserved: must be 0.
 * @gen: out: the entry's new gen; with %WEAVE_OP_IF_GEN, in: the gen
 *	the entry must have.
 */
struct weave_resize_args {
	__u64 key;
	__u64 size;
	__u32 flags;
	__u32 reserved;
	__u64 gen;
};

#define WEAVE_DELETE_VALID	(WEAVE_OP_NONBLOCK | WEAVE_OP_IF_GEN)

/**
 * struct weave_delete_args - remove an entry (%WEAVE_IOC_DELETE)
 * @key: the key.
 * @flags: %WEAVE_DELETE_VALID bits.
 * @reserved: must be 0.
 * @gen: out: the gen of the deletion; with %WEAVE_OP_IF_GEN, in: the
 *	gen the entry must have.
 */
struct weave_delete_args {
	__u64 key;
	__u32 flags;
	__u32 reserved;
	__u64 gen;
};

#define WEAVE_CLEAR_VALID	WEAVE_OP_NONBLOCK

/**
 * struct weave_clear_args - remove every entry (%WEAVE_IOC_CLEAR)
 * @flags: %WEAVE_CLEAR_VALID bits.
 * @reserved: must be 0.
 * @count: out: entries removed.
 * @gen: out: the registry's latest gen afterwards.
 */
struct weave_clear_args {
	__u32 flags;
	__u32 reserved;
	__u64 count;
	__u64 gen;
};

/**
 * struct weave_stat_args - look an entry up (%WEAVE_IOC_STAT)
 * @key: the key (ENOENT when missing).
 * @flags: must be 0.
 * @reserved: must be 0.
 * @gen: out: gen.
 * @size: out: size in bytes.
 * @birth: out: the gen the entry was created with; names this life of
 *	the key.
 * @map_offset: out: mmap() offset of the entry's view (page aligned).
 * @map_size: out: longest view of the entry, in bytes (the slot's span).
 * @data_offset: out: offset of the entry's first byte within its view.
 * @slot: out: the entry's slot in the index (1 or more).
 * @slot_flags: out: the entry's %WEAVE_SLOT_* bits, as its slot shows them
 *	(%WEAVE_FEATURE_SEAL; not written by older modules).
 * @reserved2: must be 0.
 */
struct weave_stat_args {
	__u64 key;
	__u32 flags;
	__u32 reserved;
	__u64 gen;
	__u64 size;
	__u64 birth;
	__u64 map_offset;
	__u64 map_size;
	__u32 data_offset;
	__u32 slot;
	__u32 slot_flags;
	__u32 reserved2;
};

/**
 * struct weave_list_args - list keys in batches (%WEAVE_IOC_LIST)
 * @cursor: in: 0 to start a walk, else the value the previous call gave;
 *	out: where the next call goes on, or 0 when the walk has ended.
 * @keys: pointer to room for @count keys.
 * @count: in: room at @keys (at most 4096); out: keys stored.
 * @flags: must be 0.
 *
 * A key present for the whole walk is returned exactly once; a key
 * created or deleted during the walk may or may not be.
 */
struct weave_list_args {
	__u64 cursor;
	__u64 keys;
	__u32 count;
	__u32 flags;
};

#define WEAVE_LIST_MAX		4096

/* Flags of struct weave_lock_args. */
#define WEAVE_LOCK_SHARED	(1U << 1)	/* shared, not exclusive */
#define WEAVE_LOCK_TIMED	(1U << 2)	/* give up after timeout_ns */
#define WEAVE_LOCK_CONVERT	(1U << 3)	/* change the mode of a held lock */
#define WEAVE_LOCK_VALID	(WEAVE_OP_NONBLOCK | WEAVE_LOCK_SHARED | \
				 WEAVE_LOCK_TIMED | WEAVE_LOCK_CONVERT)

/* Result bits of struct weave_lock_args. */
#define WEAVE_LOCK_OWNER_DIED	(1U << 0)	/* previous holder died holding it */

/**
 * struct weave_lock_args - lock an entry (%WEAVE_IOC_LOCK)
 * @key: the key; it need not exist yet.
 * @timeout_ns: with %WEAVE_LOCK_TIMED, how long to wait (CLOCK_MONOTONIC).
 * @flags: %WEAVE_LOCK_VALID bits.
 * @result: out: %WEAVE_LOCK_OWNER_DIED when the lock was released by the
 *	death of its holder and not yet marked consistent.
 *
 * The lock belongs to the open file description. Errors: EDEADLK (held
 * already), EAGAIN (non-blocking), ETIMEDOUT, EINTR, EBADF (exclusive on a
 * read-only handle).
 */
struct weave_lock_args {
	__u64 key;
	__u64 timeout_ns;
	__u32 flags;
	__u32 result;
};

#define WEAVE_UNLOCK_CONSISTENT	(1U << 0)	/* clear the owner-died state */
#define WEAVE_UNLOCK_VALID	WEAVE_UNLOCK_CONSISTENT

/**
 * struct weave_unlock_args - release a lock (%WEAVE_IOC_UNLOCK)
 * @key: the key; EPERM when this file does not hold its lock.
 * @flags: %WEAVE_UNLOCK_VALID bits.
 * @reserved: must be 0.
 */
struct weave_unlock_args {
	__u64 key;
	__u32 flags;
	__u32 reserved;
};

/**
 * DOC: Events
 *
 * Bits of &weave_watch_args.events and &weave_event.mask. Events of one key
 * coalesce: a record carries the latest gen and every bit since the last
 * read. %WEAVE_EV_CLEARED and %WEAVE_EV_UNLINKED concern the whole registry,
 * come with key 0 and reach watches of key 0 only. A clear also reports
 * %WEAVE_EV_DELETED for each key it removes.
 */
#define WEAVE_EV_NEW		(1U << 0)
#define WEAVE_EV_CHANGED	(1U << 1)
#define WEAVE_EV_RESIZED	(1U << 2)
#define WEAVE_EV_DELETED	(1U << 3)
#define WEAVE_EV_UNLOCKED	(1U << 4)
#define WEAVE_EV_OWNER_DIED	(1U << 5)
#define WEAVE_EV_CLEARED	(1U << 6)
#define WEAVE_EV_UNLINKED	(1U << 7)
#define WEAVE_EV_ALL		0xffU
/*
 * Never asked for, always reported, with key 0: an event could not be
 * recorded (the watcher's memory cgroup is full). Resynchronise from the
 * index or WEAVE_IOC_LIST.
 */
#define WEAVE_EV_OVERFLOW	(1U << 8)

#define WEAVE_WATCH_NO_SELF	(1U << 0)	/* skip this file's own changes */
#define WEAVE_WATCH_VALID	WEAVE_WATCH_NO_SELF

/**
 * struct weave_watch_args - watch or unwatch a key (%WEAVE_IOC_WATCH,
 *	%WEAVE_IOC_UNWATCH)
 * @key: the key, or 0 for every present and future key.
 * @events: %WEAVE_EV_* bits to report (unused by %WEAVE_IOC_UNWATCH).
 * @flags: %WEAVE_WATCH_VALID bits (0 for %WEAVE_IOC_UNWATCH).
 */
struct weave_watch_args {
	__u64 key;
	__u32 events;
	__u32 flags;
};

#define WEAVE_WAIT_TIMED	(1U << 0)
#define WEAVE_WAIT_VALID	WEAVE_WAIT_TIMED

/**
 * struct weave_wait_args - sleep until an entry's gen differs (%WEAVE_IOC_WAIT)
 * @key: the key; it need not exist (its gen is then 0).
 * @gen: return once the entry's gen is not this.
 * @timeout_ns: with %WEAVE_WAIT_TIMED, how long to wait (ETIMEDOUT).
 * @flags: %WEAVE_WAIT_VALID bits.
 * @reserved: must be 0.
 * @cur_gen: out: the gen seen when returning.
 */
struct weave_wait_args {
	__u64 key;
	__u64 gen;
	__u64 timeout_ns;
	__u32 flags;
	__u32 reserved;
	__u64 cur_gen;
};

/**
 * struct weave_event - a record read() returns
 * @key: the key, 0 for registry-wide events.
 * @gen: the key's gen at the latest event the record holds (for
 *	%WEAVE_EV_DELETED, the gen of the deletion).
 * @size: the key's size then (0 once deleted).
 * @mask: %WEAVE_EV_* bits of what happened since the last record.
 * @reserved: 0.
 */
struct weave_event {
	__u64 key;
	__u64 gen;
	__u64 size;
	__u32 mask;
	__u32 reserved;
};

#define WEAVE_SETATTR_MODE	(1U << 0)
#define WEAVE_SETATTR_UID	(1U << 1)
#define WEAVE_SETATTR_GID	(1U << 2)
#define WEAVE_SETATTR_VALID	(WEAVE_SETATTR_MODE | WEAVE_SETATTR_UID | \
				 WEAVE_SETATTR_GID)

/**
 * struct weave_setattr_args - change owner or mode (%WEAVE_IOC_SETATTR)
 * @flags: which of the fields below to apply, %WEAVE_SETATTR_* bits.
 * @mode: new permission bits.
 * @uid: new owner, in the caller's user namespace.
 * @gid: new group, in the caller's user namespace.
 *
 * Only the owner or a holder of CAP_IPC_OWNER may (EPERM).
 */
struct weave_setattr_args {
	__u32 flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
};

#define WEAVE_REOPEN_RDONLY	(1U << 0)	/* read-only, like O_RDONLY */
#define WEAVE_REOPEN_NONBLOCK	(1U << 1)	/* like O_NONBLOCK */
#define WEAVE_REOPEN_VALID	(WEAVE_REOPEN_RDONLY | WEAVE_REOPEN_NONBLOCK)

/**
 * struct weave_reopen_args - a new open file of the attached registry
 *	(%WEAVE_IOC_REOPEN)
 * @flags: %WEAVE_REOPEN_VALID bits. Without %WEAVE_REOPEN_RDONLY the new
 *	file is writable, which needs a writable file (EACCES).
 * @reserved: must be 0.
 *
 * The ioctl returns the new file descriptor, close-on-exec. The new file
 * is attached to the same registry, with locks and events of its own.
 */
struct weave_reopen_args {
	__u32 flags;
	__u32 reserved;
};

/* Operations of struct weave_batch_op. */
#define WEAVE_BATCH_SET		1	/* as WEAVE_IOC_SET */
#define WEAVE_BATCH_GET		2	/* as WEAVE_IOC_GET from offset 0 */
#define WEAVE_BATCH_DELETE	3	/* as WEAVE_IOC_DELETE */
#define WEAVE_BATCH_STAT	4	/* the gen and size of an entry */

/**
 * struct weave_batch_op - one operation of a batch (%WEAVE_IOC_BATCH)
 * @key: the key, not 0.
 * @op: %WEAVE_BATCH_SET, %WEAVE_BATCH_GET, %WEAVE_BATCH_DELETE or
 *	%WEAVE_BATCH_STAT.
 * @flags: the flags of the single command: %WEAVE_SET_VALID,
 *	%WEAVE_GET_VALID or %WEAVE_DELETE_VALID bits; 0 for a stat.
 * @buf: set: pointer to the value; get: pointer to room for it; else 0.
 * @len: set: the value's size; get: room at @buf; else 0.
 * @gen: in: with %WEAVE_OP_IF_GEN, the gen the entry must have, else 0;
 *	out: the entry's gen after the operation (that of the deletion for
 *	a delete), or the gen found when it fails with ESTALE.
 * @size: out: the entry's size (0 after a delete); get copies
 *	min(@len, @size) bytes.
 * @result: out: 0 when the operation took effect, else a negative errno.
 *	Must be 0 on input.
 * @reserved: must be 0.
 */
struct weave_batch_op {
	__u64 key;
	__u32 op;
	__u32 flags;
	__u64 buf;
	__u64 len;
	__u64 gen;
	__u64 size;
	__s32 result;
	__u32 reserved;
};

/*
 * WEAVE_BATCH_ATOMIC: all or nothing. The operations are checked
 * together, under one hold of the registry lock, before any is applied;
 * if one would fail, none is. An atomic batch never waits for an entry
 * lock (EAGAIN instead), and may name a key once only (EINVAL).
 */
#define WEAVE_BATCH_ATOMIC	(1U << 1)
#define WEAVE_BATCH_VALID	(WEAVE_OP_NONBLOCK | WEAVE_BATCH_ATOMIC)

/**
 * struct weave_batch_args - run several operations (%WEAVE_IOC_BATCH)
 * @ops: pointer to @count operations, @op_size bytes apart.
 * @count: operations, 1 to &weave_api_args.max_batch.
 * @op_size: sizeof(struct weave_batch_op) as the caller knows it, at least
 *	%WEAVE_BATCH_OP_SIZE_VER0 and at most 4096; bytes past the kernel's
 *	structure must be 0.
 * @flags: %WEAVE_BATCH_VALID bits.
 * @failed: out: operations whose @result is not 0.
 *
 * The operations run in order, each as its single command would, and
 * each gets its result: the call succeeds when the batch itself is valid,
 * and @failed says how many operations did not. Without
 * %WEAVE_BATCH_ATOMIC an operation's failure does not stop the others;
 * an interrupted wait for an entry lock stops the batch there (EINTR,
 * then ECANCELED for the rest). With it, an operation that would fail
 * gets its errno and every other one ECANCELED, and nothing changes;
 * only ENOMEM can stop an atomic batch half way: the operations before
 * the one that got it took effect (result 0), those after it did not.
 * Other operations never see an atomic batch half done, but mapped
 * readers (views, the index) see its entries change one at a time.
 *
 * The values of a batch (set lengths and get room together) may take
 * at most &weave_info_args.max_entry_size bytes (EFBIG). The call fails
 * as a whole with EINVAL, EFBIG, EFAULT or ENOMEM before any operation
 * runs, or with EFAULT when the results cannot be written back.
 */
struct weave_batch_args {
	__u64 ops;
	__u32 count;
	__u32 op_size;
	__u32 flags;
	__u32 failed;
};

/**
 * DOC: The index map
 *
 * mmap(fd, offset 0, length index_size, PROT_READ, MAP_SHARED) maps the
 * registry's index: an array of 64-byte slots. Slot 0 is a
 * &struct weave_index_header; slots 1 .. max_entries describe entries.
 * A writable mapping of the index, or mprotect() to writable, is refused;
 * so is a writable view but for the exclusive holder of the key's lock
 * (see weave(4), "Writable views").
 *
 * Lock-free reads: the kernel makes &weave_slot.seq odd before it changes
 * an entry's bytes, size, gen or location and even again after. A reader
 * loads seq (acquire), retries while it is odd, copies what it needs
 * (from the slot and from the entry's view), issues a read barrier and
 * retries if seq changed.
 */
#define WEAVE_INDEX_MAGIC	0x57454156U	/* "WEAV" */

/**
 * struct weave_index_header - slot 0 of the index map
 * @magic: %WEAVE_INDEX_MAGIC.
 * @slot_size: size of a slot, 64.
 * @nslots: number of entry slots (max_entries).
 * @seq: odd while the kernel changes @count or @gen.
 * @pad: 0.
 * @count: number of entries.
 * @gen: latest gen handed out.
 * @entry_span: as &weave_info_args.entry_span.
 * @reserved: 0.
 */
struct weave_index_header {
	__u32 magic;
	__u32 slot_size;
	__u64 nslots;
	__u32 seq;
	__u32 pad;
	__u64 count;
	__u64 gen;
	__u64 entry_span;
	__u64 reserved[2];
};

/* Bits of struct weave_slot.flags. */
#define WEAVE_SLOT_USED		(1U << 0)	/* holds an entry */
#define WEAVE_SLOT_OWNER_DIED	(1U << 1)	/* lock holder died holding it */
#define WEAVE_SLOT_SEALED	(1U << 2)	/* set with WEAVE_SET_SEAL */

/* struct weave_slot.lock: free (0), exclusive, or a count of sharers. */
#define WEAVE_SLOT_LOCK_EXCL	(1U << 31)
#define WEAVE_SLOT_LOCK_SHARERS	0x7fffffffU

/**
 * struct weave_slot - one entry in the index map
 * @seq: sequence counter, odd while the kernel changes this entry.
 * @flags: %WEAVE_SLOT_* bits.
 * @key: the key, 0 for a free slot.
 * @gen: the entry's gen.
 * @size: the entry's size.
 * @offset: mmap() offset of the entry's first byte (map_offset +
 *	data_offset of &struct weave_stat_args).
 * @birth: the gen the entry was created with.
 * @lock: lock state: 0, %WEAVE_SLOT_LOCK_EXCL, or the number of sharers.
 * @waiters: tasks waiting for the lock.
 * @reserved: 0.
 */
struct weave_slot {
	__u32 seq;
	__u32 flags;
	__u64 key;
	__u64 gen;
	__u64 size;
	__u64 offset;
	__u64 birth;
	__u32 lock;
	__u32 waiters;
	__u64 reserved;
};

#define WEAVE_IOC_API		_IOWR(WEAVE_IOC_MAGIC, 0x00, struct weave_api_args)
#define WEAVE_IOC_ATTACH	_IOWR(WEAVE_IOC_MAGIC, 0x01, struct weave_attach_args)
#define WEAVE_IOC_UNLINK	_IOWR(WEAVE_IOC_MAGIC, 0x02, struct weave_unlink_args)
#define WEAVE_IOC_INFO		_IOWR(WEAVE_IOC_MAGIC, 0x03, struct weave_info_args)
#define WEAVE_IOC_SETATTR	_IOWR(WEAVE_IOC_MAGIC, 0x04, struct weave_setattr_args)
#define WEAVE_IOC_REOPEN	_IOWR(WEAVE_IOC_MAGIC, 0x05, struct weave_reopen_args)
#define WEAVE_IOC_SET		_IOWR(WEAVE_IOC_MAGIC, 0x10, struct weave_set_args)
#define WEAVE_IOC_GET		_IOWR(WEAVE_IOC_MAGIC, 0x11, struct weave_get_args)
#define WEAVE_IOC_WRITE		_IOWR(WEAVE_IOC_MAGIC, 0x12, struct weave_write_args)
#define WEAVE_IOC_RESIZE	_IOWR(WEAVE_IOC_MAGIC, 0x13, struct weave_resize_args)
#define WEAVE_IOC_DELETE	_IOWR(WEAVE_IOC_MAGIC, 0x14, struct weave_delete_args)
#define WEAVE_IOC_CLEAR		_IOWR(WEAVE_IOC_MAGIC, 0x15, struct weave_clear_args)
#define WEAVE_IOC_STAT		_IOWR(WEAVE_IOC_MAGIC, 0x16, struct weave_stat_args)
#define WEAVE_IOC_LIST		_IOWR(WEAVE_IOC_MAGIC, 0x17, struct weave_list_args)
#define WEAVE_IOC_BATCH		_IOWR(WEAVE_IOC_MAGIC, 0x18, struct weave_batch_args)
#define WEAVE_IOC_LOCK		_IOWR(WEAVE_IOC_MAGIC, 0x20, struct weave_lock_args)
#define WEAVE_IOC_UNLOCK	_IOWR(WEAVE_IOC_MAGIC, 0x21, struct weave_unlock_args)
#define WEAVE_IOC_WATCH		_IOWR(WEAVE_IOC_MAGIC, 0x30, struct weave_watch_args)
#define WEAVE_IOC_UNWATCH	_IOWR(WEAVE_IOC_MAGIC, 0x31, struct weave_watch_args)
#define WEAVE_IOC_WAIT		_IOWR(WEAVE_IOC_MAGIC, 0x32, struct weave_wait_args)

/*
 * First published size of each structure: the smallest the kernel
 * accepts. A later version may only append fields.
 */
#define WEAVE_API_SIZE_VER0		48
#define WEAVE_ATTACH_SIZE_VER0		48
#define WEAVE_UNLINK_SIZE_VER0		16
#define WEAVE_INFO_SIZE_VER0		80
#define WEAVE_SETATTR_SIZE_VER0		16
#define WEAVE_REOPEN_SIZE_VER0		8
#define WEAVE_SET_SIZE_VER0		40
#define WEAVE_GET_SIZE_VER0		64
#define WEAVE_WRITE_SIZE_VER0		56
#define WEAVE_RESIZE_SIZE_VER0		32
#define WEAVE_DELETE_SIZE_VER0		24
#define WEAVE_CLEAR_SIZE_VER0		24
#define WEAVE_STAT_SIZE_VER0		64
#define WEAVE_LIST_SIZE_VER0		24
#define WEAVE_BATCH_SIZE_VER0		24
#define WEAVE_BATCH_OP_SIZE_VER0	56
#define WEAVE_LOCK_SIZE_VER0		24
#define WEAVE_UNLOCK_SIZE_VER0		16
#define WEAVE_WATCH_SIZE_VER0		16
#define WEAVE_UNWATCH_SIZE_VER0		16
#define WEAVE_WAIT_SIZE_VER0		40

/**
 * DOC: Generic netlink
 *
 * The family %WEAVE_GENL_NAME, version %WEAVE_GENL_VERSION. A caller sees
 * only the registries of its IPC namespace it could attach read-only.
 * The multicast group %WEAVE_GENL_MCGRP_EVENTS needs CAP_SYS_ADMIN;
 * unprivileged programs watch their registries through their files.
 */
#define WEAVE_GENL_NAME		"weave"
#define WEAVE_GENL_VERSION	1
#define WEAVE_GENL_MCGRP_EVENTS	"events"

enum weave_genl_cmd {
	WEAVE_CMD_UNSPEC,
	WEAVE_CMD_REG_GET,	/* registry by WEAVE_A_REG_NAME, or dump all */
	WEAVE_CMD_ENTRY_GET,	/* dump entries of WEAVE_A_REG_NAME/_ID */
	WEAVE_CMD_REG_UNLINK,	/* WEAVE_A_REG_NAME */
	WEAVE_CMD_EVENT,	/* notification: entry event */
	WEAVE_CMD_REG_NEW,	/* notification: registry created */
	WEAVE_CMD_REG_DEL,	/* notification: registry destroyed */

	__WEAVE_CMD_MAX,
	WEAVE_CMD_MAX = __WEAVE_CMD_MAX - 1
};

enum weave_genl_attr {
	WEAVE_A_UNSPEC,
	WEAVE_A_PAD,
	WEAVE_A_REG_ID,		/* u64 */
	WEAVE_A_REG_NAME,	/* string, absent for anonymous */
	WEAVE_A_REG_UID,	/* u32 */
	WEAVE_A_REG_GID,	/* u32 */
	WEAVE_A_REG_MODE,	/* u32 */
	WEAVE_A_REG_FLAGS,	/* u32, WEAVE_INFO_* */
	WEAVE_A_REG_ENTRIES,	/* u64 */
	WEAVE_A_REG_BYTES,	/* u64, sum of entry sizes */
	WEAVE_A_REG_CHARGED,	/* u64, bytes of memory held */
	WEAVE_A_REG_FILES,	/* u32, attached files */
	WEAVE_A_REG_MAPPINGS,	/* u32, live mappings */
	WEAVE_A_REG_WATCHERS,	/* u32 */
	WEAVE_A_REG_MAX_ENTRIES, /* u64 */
	WEAVE_A_ENTRY_KEY,	/* u64 */
	WEAVE_A_ENTRY_GEN,	/* u64 */
	WEAVE_A_ENTRY_SIZE,	/* u64 */
	WEAVE_A_ENTRY_LOCK,	/* u32, as weave_slot.lock */
	WEAVE_A_ENTRY_HOLDER,	/* u32 pid, repeated */
	WEAVE_A_ENTRY_WAITERS,	/* u32 */
	WEAVE_A_EVENT_MASK,	/* u32, WEAVE_EV_* */
	WEAVE_A_CURSOR,		/* u64, dump position */
	/* Usage against the limits; absent from older modules: */
	WEAVE_A_REG_MAX_ENTRY_SIZE, /* u64, largest value */
	WEAVE_A_REG_MAX_BYTES,	/* u64, most value bytes (all entries) */
	WEAVE_A_REG_CREATOR,	/* u32, real uid the registry counts against */
	WEAVE_A_USER_REGISTRIES, /* u32, registries of that user */
	WEAVE_A_USER_MAX,	/* u32, most registries per user */
	WEAVE_A_NS_REGISTRIES,	/* u32, registries of the IPC namespace */
	WEAVE_A_NS_MAX,		/* u32, most registries per namespace */

	__WEAVE_A_MAX,
	WEAVE_A_MAX = __WEAVE_A_MAX - 1
};

#endif /* _UAPI_LINUX_WEAVE_H */
