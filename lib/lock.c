// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: entry locks, one ioctl each, and weave_with_lock().
 *
 * The kernel owns all lock state; the library only translates flags and
 * the timeout, so nothing here needs a lock of its own.
 *
 * Copyright (C) 2026 The weave authors
 */
#include "internal.h"

/* What weave_lock() accepts; WEAVE_LOCK_TIMED comes from the timeout. */
#define WEAVE_LOCK_LIB_VALID	(WEAVE_LOCK_NONBLOCK | WEAVE_LOCK_SHARED | \
				 WEAVE_LOCK_CONVERT)

int weave_lock(struct weave *w, uint64_t key, unsigned int flags,
	       int64_t timeout_ns)
{
	struct weave_lock_args l = { .key = key, .flags = flags };
	int err;

	if (!key || (flags & ~WEAVE_LOCK_LIB_VALID))
		return -EINVAL;
	if (timeout_ns >= 0) {
		l.flags |= WEAVE_LOCK_TIMED;
		l.timeout_ns = (uint64_t)timeout_ns;
	}
	err = weave_ioctl(w->fd, WEAVE_IOC_LOCK, &l);
	if (err)
		return err;
	return l.result & WEAVE_LOCK_OWNER_DIED ? WEAVE_LOCK_OWNER_DIED : 0;
}

int weave_unlock(struct weave *w, uint64_t key, unsigned int flags)
{
	struct weave_unlock_args u = { .key = key, .flags = flags };

	if (!key || (flags & ~WEAVE_UNLOCK_VALID))
		return -EINVAL;
	return weave_ioctl(w->fd, WEAVE_IOC_UNLOCK, &u);
}

int weave_with_lock(struct weave *w, uint64_t key, unsigned int flags,
		    int64_t timeout_ns, weave_lock_fn fn, void *arg)
{
	unsigned int uflags = 0;
	int ret, err;

	if (!fn || (flags & WEAVE_LOCK_CONVERT))
		return -EINVAL;
	ret = weave_lock(w, key, flags & ~WEAVE_LOCK_RECOVER, timeout_ns);
	if (ret < 0)
		return ret;
	if (ret == WEAVE_LOCK_OWNER_DIED) {
		if (!(flags & WEAVE_LOCK_RECOVER)) {
			/* Leave the entry marked for a caller that can repair. */
			weave_unlock(w, key, 0);
			return -EOWNERDEAD;
		}
		uflags = WEAVE_UNLOCK_CONSISTENT;
	}
	ret = fn(w, key, arg);
	/* A failed callback did not repair anything: keep the mark. */
	err = weave_unlock(w, key, ret >= 0 ? uflags : 0);
	return ret >= 0 && err ? err : ret;
}

struct weave_rw_call {
	weave_write_fn fn;
	void *arg;
};

/* Under the lock: the writable view, valid for the callback only. */
static int weave_rw_call(struct weave *w, uint64_t key, void *arg)
{
	struct weave_rw_call *c = arg;
	struct weave_view v;
	int ret;

	ret = weave_view_map_rw(w, key, &v);
	if (ret)
		return ret;
	ret = c->fn(w, key, &v, c->arg);
	weave_view_unmap(&v);
	return ret;
}

int weave_with_lock_rw(struct weave *w, uint64_t key, unsigned int flags,
		       int64_t timeout_ns, weave_write_fn fn, void *arg)
{
	struct weave_rw_call c = { .fn = fn, .arg = arg };

	if (!fn || (flags & WEAVE_LOCK_SHARED))
		return -EINVAL;
	return weave_with_lock(w, key, flags, timeout_ns, weave_rw_call, &c);
}

/* Bounded, like the views: a key deleted and recreated in a loop. */
#define WEAVE_LOCK_INFO_TRIES	64

int weave_lock_info(struct weave *w, uint64_t key, struct weave_lock_info *li)
{
	const struct weave_slot *s;
	const unsigned char *idx;
	struct weave_lock_info n;
	struct weave_stat_args st;
	uint64_t skey, birth;
	uint32_t seq;
	int err, tries;

	if (!key || !li)
		return -EINVAL;
	err = weave_index_get(w, &idx);
	if (err)
		return err;
	for (tries = 0; tries < WEAVE_LOCK_INFO_TRIES; tries++) {
		err = weave_stat(w, key, &st);
		if (err)
			return err;
		s = weave_slot_ptr(w, st.slot);
		if (!s)
			return -EPROTO;
		do {
			err = weave_seq_begin(s, &seq);
			if (err)
				return err;
			skey = WEAVE_LOAD(s->key);
			birth = WEAVE_LOAD(s->birth);
			n.lock = WEAVE_LOAD(s->lock);
			n.waiters = WEAVE_LOAD(s->waiters);
			n.flags = WEAVE_LOAD(s->flags) & WEAVE_SLOT_OWNER_DIED;
			n.resv = 0;
		} while (weave_seq_retry(s, seq));
		/* The slot may have been emptied and reused since STAT. */
		if (skey == key && birth == st.birth) {
			*li = n;
			return 0;
		}
	}
	return -EAGAIN;
}
