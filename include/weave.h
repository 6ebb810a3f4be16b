/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libweave: registries of byte buffers shared between processes through
 * /dev/weave. See libweave(3) and weave(4).
 *
 * Conventions: every function that can fail returns 0, a count or a size
 * on success and a negative errno value on failure; errno is not a part of
 * the interface. A struct weave may be used from many threads at once.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef LIBWEAVE_H
#define LIBWEAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The kernel ABI: struct weave_info_args, struct weave_stat_args,
 * struct weave_api_args and the WEAVE_SET_* / WEAVE_OP_* flags are used as
 * they are.
 */
#include <linux/weave.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WEAVE_EXPORT
#define WEAVE_EXPORT __attribute__((visibility("default")))
#endif

/* The handle of one attached registry; opaque. */
struct weave;

/*
 * ==== Opening, adopting and removing registries (weave_open(3)) ====
 */

/* Flags of weave_open(); the library's own, translated to the ABI's. */
#define WEAVE_OPEN_CREATE	(1U << 0)	/* create when missing */
#define WEAVE_OPEN_EXCL		(1U << 1)	/* with CREATE: fail if it exists */
#define WEAVE_OPEN_PERSIST	(1U << 2)	/* with CREATE: live until unlinked */
#define WEAVE_OPEN_RDONLY	(1U << 3)	/* read-only handle (O_RDONLY) */
/*
 * Open the file O_NONBLOCK: every operation that would wait for a lock
 * another file holds fails with -EAGAIN instead, and so do lock requests
 * that would wait; read(2) of events never sleeps (weave_events() still
 * honours its timeout).
 */
#define WEAVE_OPEN_NONBLOCK	(1U << 4)
#define WEAVE_OPEN_VALID	(WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL | \
				 WEAVE_OPEN_PERSIST | WEAVE_OPEN_RDONLY | \
				 WEAVE_OPEN_NONBLOCK)

/* Result bits of struct weave_params. */
#define WEAVE_OPEN_CREATED	(1U << 0)	/* this call created the registry */

/**
 * struct weave_params - extra arguments and results of weave_open_params()
 * @max_entries: in: capacity of a registry the call creates (the seed's
 *	"new Registry(1_000)"); 0 means the module's limit.
 * @result: out: %WEAVE_OPEN_CREATED when the call created the registry.
 * @resv: reserved, set to 0 (zero the whole structure before use).
 * @id: out: the registry's id.
 * @resv2: reserved, set to 0.
 */
struct weave_params {
	uint64_t max_entries;
	uint32_t result;
	uint32_t resv;
	uint64_t id;
	uint64_t resv2[4];
};

/*
 * Open the registry @name (1 to WEAVE_NAME_MAX bytes, no '/') or, when
 * @name is NULL, create an anonymous one (shared by fork() or SCM_RIGHTS).
 * @mode (0777 at most) applies when the call creates it. The fd is
 * O_CLOEXEC. Stores the handle in *@w.
 */
WEAVE_EXPORT int weave_open(const char *name, unsigned int flags, mode_t mode,
			    struct weave **w);
/* weave_open() with a capacity and a "created" result; @p may be NULL. */
WEAVE_EXPORT int weave_open_params(const char *name, unsigned int flags,
				   mode_t mode, struct weave_params *p,
				   struct weave **w);
/*
 * Adopt @fd, an attached /dev/weave file inherited or received by
 * SCM_RIGHTS. On success the handle owns @fd (weave_close() closes it);
 * on failure @fd is left alone.
 */
WEAVE_EXPORT int weave_from_fd(int fd, struct weave **w);
/*
 * Another handle of the same registry, with its own open file description
 * (WEAVE_IOC_REOPEN), hence its own locks and events: @flags 0 (the same
 * access, which must be read-write), WEAVE_OPEN_RDONLY, WEAVE_OPEN_NONBLOCK.
 * Its descriptor is close-on-exec.
 */
WEAVE_EXPORT int weave_reopen(struct weave *w, unsigned int flags,
			      struct weave **w2);
/* The file descriptor, for poll(2), fork() or SCM_RIGHTS. Never fails. */
WEAVE_EXPORT int weave_fd(const struct weave *w);
/* Unmap the index, close the fd and free @w; NULL is ignored. */
WEAVE_EXPORT void weave_close(struct weave *w);
/* Remove the name @name, like shm_unlink(); users keep the registry. */
WEAVE_EXPORT int weave_unlink(const char *name);
/* Describe the attached registry (WEAVE_IOC_INFO). */
WEAVE_EXPORT int weave_info(struct weave *w, struct weave_info_args *info);
/* Change mode, owner or group (attr->flags says which), as fchmod/fchown. */
WEAVE_EXPORT int weave_setattr(struct weave *w,
			       const struct weave_setattr_args *attr);
/*
 * The kernel's handshake (WEAVE_IOC_API): API version, WEAVE_FEATURE_*
 * bits and limits. Needs no registry; opens /dev/weave for the call.
 */
WEAVE_EXPORT int weave_probe(struct weave_api_args *api);

/*
 * ==== Map operations (weave_set(3)) ====
 */

/* Replace the whole value of @key (creating the entry) with @len bytes. */
WEAVE_EXPORT int weave_set(struct weave *w, uint64_t key, const void *buf,
			   size_t len);
/*
 * weave_set() with flags: WEAVE_SET_NOREPLACE (-EEXIST if @key exists),
 * WEAVE_SET_NOCREATE (-ENOENT if it does not), WEAVE_OP_NONBLOCK,
 * WEAVE_OP_IF_GEN (only if the entry's gen is *@gen, 0: if @key does not
 * exist; else -ESTALE and *@gen is the gen found). *@gen (may be NULL
 * without WEAVE_OP_IF_GEN) receives the entry's new gen.
 */
WEAVE_EXPORT int weave_set_flags(struct weave *w, uint64_t key,
				 const void *buf, size_t len,
				 unsigned int flags, uint64_t *gen);
/*
 * Copy up to @len bytes of @key's value into @buf. Returns the value's
 * whole size, which may be more than @len (then the copy is truncated);
 * *@gen (may be NULL) receives its gen.
 */
WEAVE_EXPORT ssize_t weave_get(struct weave *w, uint64_t key, void *buf,
			       size_t len, uint64_t *gen);
/* 1 when @key exists, 0 when it does not, or -errno. */
WEAVE_EXPORT int weave_has(struct weave *w, uint64_t key);
WEAVE_EXPORT int weave_delete(struct weave *w, uint64_t key);
/*
 * weave_delete() with flags: WEAVE_OP_NONBLOCK, WEAVE_OP_IF_GEN (as for
 * weave_set_flags()). *@gen (may be NULL without WEAVE_OP_IF_GEN)
 * receives the gen of the deletion.
 */
WEAVE_EXPORT int weave_delete_flags(struct weave *w, uint64_t key,
				    unsigned int flags, uint64_t *gen);
/*
 * Computes the new value of a key from its current one, for
 * weave_update(): @cur holds the current @cur_size bytes (NULL when the
 * key does not exist); the new value goes to @out, which has room for
 * @out_size bytes. Returns the new value's length, or a negative errno to
 * give up. A length larger than @out_size asks to be called again with
 * that much room, as snprintf(3).
 */
typedef ssize_t (*weave_update_fn)(const void *cur, size_t cur_size,
				   void *out, size_t out_size, void *arg);
/*
 * Replace @key's value with @fn's result without a lock: read the value
 * and its gen, compute, store with WEAVE_OP_IF_GEN, and start again when
 * another writer came first. *@gen (may be NULL) receives the new gen.
 */
WEAVE_EXPORT int weave_update(struct weave *w, uint64_t key,
			      weave_update_fn fn, void *arg, uint64_t *gen);
/* Remove every entry; returns how many were removed. */
WEAVE_EXPORT int64_t weave_clear(struct weave *w);
/* Number of entries (the JS Map's size). */
WEAVE_EXPORT int64_t weave_count(struct weave *w);
/*
 * Run @n operations in one call (WEAVE_IOC_BATCH): sets, gets, deletes
 * and stats, each with its result in ops[i].result. @flags:
 * WEAVE_OP_NONBLOCK, WEAVE_BATCH_ATOMIC (all or nothing). Returns the
 * number of operations that failed, or -errno when the batch as a whole
 * could not run (nothing happened then, but for -EFAULT on the results).
 */
WEAVE_EXPORT int weave_batch(struct weave *w, struct weave_batch_op *ops,
			     unsigned int n, unsigned int flags);
/* Size, gen, birth and view location of @key (WEAVE_IOC_STAT). */
WEAVE_EXPORT int weave_stat(struct weave *w, uint64_t key,
			    struct weave_stat_args *st);

/*
 * ==== In-place access (weave_write(3)) ====
 */

/*
 * Write @len bytes at @offset of an existing entry; it grows like a file
 * under pwrite(2) and a gap reads as zeros.
 */
WEAVE_EXPORT int weave_write(struct weave *w, uint64_t key, uint64_t offset,
			     const void *buf, size_t len);
/* Copy bytes from @offset of @key; returns the number copied. */
WEAVE_EXPORT ssize_t weave_read(struct weave *w, uint64_t key,
				uint64_t offset, void *buf, size_t len);
/* Grow (new bytes read as zeros) or shrink @key's value in place. */
WEAVE_EXPORT int weave_resize(struct weave *w, uint64_t key, uint64_t size);

/*
 * ==== Iteration (weave_list(3)) ====
 */

/*
 * One batch of at most @n keys (WEAVE_LIST_MAX at most). Start with
 * *@cursor = 0; the walk has ended when *@cursor comes back 0, with the
 * last batch (use its keys, then stop: a call with 0 starts again).
 * Returns the number of keys stored: at least 1 before the end, 0 at it.
 * Loop with do { n = weave_list(); ... } while (cursor).
 */
WEAVE_EXPORT int weave_list(struct weave *w, uint64_t *cursor, uint64_t *keys,
			    unsigned int n);

/* Return non-zero to stop the walk; that value is then returned. */
typedef int (*weave_key_fn)(uint64_t key, void *arg);
typedef int (*weave_entry_fn)(uint64_t key, const void *buf, size_t size,
			      uint64_t gen, void *arg);

/* Call @fn for every key (the JS Map's keys()). */
WEAVE_EXPORT int weave_foreach_key(struct weave *w, weave_key_fn fn,
				   void *arg);
/*
 * Call @fn with every entry's key, bytes, size and gen (values() and
 * entries()). Keys deleted during the walk are skipped; @buf is valid
 * only during the call.
 */
WEAVE_EXPORT int weave_foreach_entry(struct weave *w, weave_entry_fn fn,
				     void *arg);

/*
 * ==== Entry locks (weave_lock(3)) ====
 *
 * A lock belongs to the handle's open file description (shared by fork()
 * and by fds passed with SCM_RIGHTS), not to a thread, and is released
 * when its last fd closes, also when the process dies. Reads through views
 * are never blocked by locks.
 */

/*
 * Flags of weave_lock(): WEAVE_LOCK_SHARED and WEAVE_LOCK_CONVERT are the
 * ABI's; WEAVE_LOCK_NONBLOCK is WEAVE_OP_NONBLOCK under the name this
 * call reads best with. WEAVE_LOCK_TIMED is not taken: @timeout_ns says
 * whether the call is timed.
 */
#define WEAVE_LOCK_NONBLOCK	WEAVE_OP_NONBLOCK
/*
 * weave_with_lock() only: run the callback even when the previous holder
 * died holding the lock, and mark the entry consistent when the callback
 * returns >= 0 (the callback is trusted to check and repair the value).
 */
#define WEAVE_LOCK_RECOVER	(1U << 16)

/*
 * Lock @key (which need not exist) exclusively, or shared with
 * WEAVE_LOCK_SHARED. @timeout_ns < 0 waits for as long as it takes;
 * >= 0 gives up with -ETIMEDOUT after that many nanoseconds
 * (CLOCK_MONOTONIC). Returns 0, or WEAVE_LOCK_OWNER_DIED (positive, like
 * EOWNERDEAD of robust mutexes: the lock is held, but its previous holder
 * died holding it; unlock with WEAVE_UNLOCK_CONSISTENT once the value is
 * repaired), or -errno: -EAGAIN (WEAVE_LOCK_NONBLOCK or
 * WEAVE_OPEN_NONBLOCK and busy), -EDEADLK (held already), -EINTR, -EBADF
 * (exclusive on a read-only handle), -ENOLCK.
 */
WEAVE_EXPORT int weave_lock(struct weave *w, uint64_t key, unsigned int flags,
			    int64_t timeout_ns);
/* Release @key's lock (-EPERM if this file does not hold it). */
WEAVE_EXPORT int weave_unlock(struct weave *w, uint64_t key,
			      unsigned int flags);

typedef int (*weave_lock_fn)(struct weave *w, uint64_t key, void *arg);
struct weave_view;
typedef int (*weave_write_fn)(struct weave *w, uint64_t key,
			      struct weave_view *v, void *arg);
/*
 * Lock @key as weave_lock() does, call @fn(@w, @key, @arg), unlock
 * whatever @fn returns, and return what @fn returned. A failed lock
 * returns its -errno without calling @fn; so does an owner-died lock
 * without WEAVE_LOCK_RECOVER in @flags (-EOWNERDEAD, the entry stays
 * marked). An unlock failure is returned when @fn returned >= 0.
 */
WEAVE_EXPORT int weave_with_lock(struct weave *w, uint64_t key,
				 unsigned int flags, int64_t timeout_ns,
				 weave_lock_fn fn, void *arg);
/*
 * weave_with_lock() with an exclusive lock and a writable view of @key
 * for @fn (weave_view_data_rw()): valid inside the callback only, since
 * it is unmapped, then revoked by the kernel, when the lock goes. The
 * entry must exist (-ENOENT).
 */
WEAVE_EXPORT int weave_with_lock_rw(struct weave *w, uint64_t key,
				    unsigned int flags, int64_t timeout_ns,
				    weave_write_fn fn, void *arg);

/**
 * struct weave_lock_info - the lock state of an entry, from the index
 * @lock: 0 (free), %WEAVE_SLOT_LOCK_EXCL, or the number of sharers.
 * @waiters: tasks waiting for the lock, including operations of other
 *	files that wait for it (a weave_get() behind an exclusive holder).
 * @flags: %WEAVE_SLOT_OWNER_DIED while the entry is marked owner-died.
 * @resv: 0.
 */
struct weave_lock_info {
	uint32_t lock;
	uint32_t waiters;
	uint32_t flags;
	uint32_t resv;
};

/*
 * Read @key's lock state from the mapped index (what weavectl and
 * monitors show). A snapshot: it may change at once. -ENOENT when the
 * entry does not exist (a lock on a missing key is not in the index).
 */
WEAVE_EXPORT int weave_lock_info(struct weave *w, uint64_t key,
				 struct weave_lock_info *li);

/*
 * ==== Change events (weave_watch(3)) ====
 */

/*
 * Report the WEAVE_EV_* @events of @key, or of every present and future
 * key when @key is 0, to this handle; WEAVE_WATCH_NO_SELF in @flags
 * skips this file's own changes. Watching a key again replaces its mask.
 */
WEAVE_EXPORT int weave_watch(struct weave *w, uint64_t key,
			     unsigned int events, unsigned int flags);
/* Stop watching @key (-ENOENT if not watched); pending events stay. */
WEAVE_EXPORT int weave_unwatch(struct weave *w, uint64_t key);
/*
 * Wait up to @timeout_ms (-1: no limit, 0: do not wait) for events, then
 * read at most @n records into @ev. Returns the number of records, 0 on
 * timeout, or -errno (-EINTR on a signal: the call is not restarted).
 * Works whether or not the fd is O_NONBLOCK; the fd may also be polled
 * by the caller (weave_fd()), then call with @timeout_ms 0. A record with
 * key 0 is about the registry: WEAVE_EV_OVERFLOW (records were lost: walk
 * the registry again), WEAVE_EV_CLEARED (every key is gone) or
 * WEAVE_EV_UNLINKED (the name is gone); see weave_events(3).
 */
WEAVE_EXPORT ssize_t weave_events(struct weave *w, struct weave_event *ev,
				  size_t n, int timeout_ms);
/*
 * Sleep until @key's gen is not @gen (a missing key has gen 0), like
 * futex(2) on the gen; returns 0 at once when it differs already.
 * @timeout_ns < 0 waits for as long as it takes, else -ETIMEDOUT after
 * it. *@cur_gen (may be NULL) receives the gen seen on return. -EINTR on
 * a signal.
 */
WEAVE_EXPORT int weave_wait(struct weave *w, uint64_t key, uint64_t gen,
			    int64_t timeout_ns, uint64_t *cur_gen);

/*
 * ==== Views: read-only zero-copy mappings (weave_view_map(3)) ====
 */

/**
 * struct weave_view - a read-only mapping of one entry
 *
 * Public so that it can live on the stack; every field is private to
 * libweave and may change between versions. Use the weave_view_*
 * functions. A view may be read from many threads; weave_view_refresh()
 * and weave_view_unmap() need the caller to exclude other users of the
 * same view.
 */
struct weave_view {
	struct weave *_w;
	const unsigned char *_map;	/* mapping start */
	size_t _map_len;		/* mapped bytes */
	uint64_t _map_offset;		/* mmap() offset of the slot's span */
	uint64_t _key;
	uint64_t _birth;		/* names this life of the key */
	uint64_t _size;			/* size at map/refresh time */
	uint64_t _data_offset;		/* first byte within the mapping */
	uint64_t _map_size;		/* longest mapping of the span */
	uint32_t _slot;
	uint32_t _resv;
	uint64_t _resv2;
};

/* Map @key's bytes read-only into *@v. */
WEAVE_EXPORT int weave_view_map(struct weave *w, uint64_t key,
				struct weave_view *v);
/*
 * Map @key's bytes writable into *@v: the caller must hold @key's lock
 * exclusively (-EPERM otherwise). The view works while this handle holds
 * that lock exclusively, now or later; touching it at other times raises
 * SIGBUS.
 */
WEAVE_EXPORT int weave_view_map_rw(struct weave *w, uint64_t key,
				   struct weave_view *v);
/*
 * True when the view no longer matches its entry: deleted, recreated,
 * resized or moved. Makes no system call.
 */
WEAVE_EXPORT bool weave_view_stale(const struct weave_view *v);
/*
 * Consistent copy of the entry's current bytes (seqcount protocol, no
 * system call). Returns the whole size like weave_get(); -ENOENT when the
 * entry was deleted, -ESTALE when its bytes left the mapping (call
 * weave_view_refresh()).
 */
WEAVE_EXPORT ssize_t weave_view_read(const struct weave_view *v, void *buf,
				     size_t len);
/*
 * The entry's current gen, read from the index without a system call; 0
 * when the entry the view was mapped from was deleted (even if its key
 * was created again) or the view is unmapped. Equal gens before and after
 * weave_view_read() mean the copy is of that gen.
 */
WEAVE_EXPORT uint64_t weave_view_gen(const struct weave_view *v);
/* Zero-copy access: the bytes and the size as of the last map/refresh. */
WEAVE_EXPORT const void *weave_view_data(const struct weave_view *v);
/* The bytes of a weave_view_map_rw() view, writable; NULL for others. */
WEAVE_EXPORT void *weave_view_data_rw(const struct weave_view *v);
WEAVE_EXPORT size_t weave_view_size(const struct weave_view *v);
/* Follow a resize, move or recreation of the key; may move the mapping. */
WEAVE_EXPORT int weave_view_refresh(struct weave_view *v);
WEAVE_EXPORT void weave_view_unmap(struct weave_view *v);

#ifdef __cplusplus
}
#endif

#endif /* LIBWEAVE_H */
