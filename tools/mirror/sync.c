// SPDX-License-Identifier: GPL-2.0
/*
 * The rules that keep a registry and the bucket in step (weave-mirror(8),
 * "Consistency"). Per key the mirror remembers the bucket revision and
 * the local gen of the value both last held (state.c). A local change is
 * written to the bucket only if the bucket is still at that revision; a
 * bucket change is written to the registry only if the key is still at
 * that gen. Whichever check fails, the change already in the bucket wins
 * and the other one is reported as a conflict: the bucket is the order of
 * record.
 *
 * Writes to the bucket are asynchronous, one at a time per key: while a
 * key's write awaits its acknowledgement, a newer local change waits for
 * it (it needs the revision the acknowledgement brings), and so does an
 * entry of the bucket's for that key, which may be the write itself
 * coming back through the watcher. Other keys go on meanwhile.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <weave.h>

#include "mirror.h"

/* A gen no entry has: the key is out of step and must be pushed. */
#define GEN_UNKNOWN UINT64_MAX

/* Read @key's value into m->buf. -ENOENT (gen 0) when it does not exist. */
static int read_local(struct mirror *m, uint64_t key, size_t *len,
		      uint64_t *gen)
{
	unsigned char *nb;
	ssize_t n;

	for (;;) {
		n = weave_get(m->w, key, m->buf, m->buf_size, gen);
		if (n == -ENOENT) {
			*gen = 0;
			*len = 0;
			return -ENOENT;
		}
		if (n < 0)
			return (int)n;
		if ((size_t)n <= m->buf_size) {
			*len = n;
			return 0;
		}
		nb = realloc(m->buf, n);
		if (!nb)
			return -ENOMEM;
		m->buf = nb;
		m->buf_size = n;
	}
}

static void conflict(struct mirror *m, uint64_t key, uint64_t gen,
		     uint64_t rev)
{
	m->conflicts++;
	if (rev)
		mlog("conflict: key %" PRIu64 ": local change (gen %" PRIu64
		     ") lost to bucket revision %" PRIu64, key, gen, rev);
	else
		mlog("conflict: key %" PRIu64 ": local change (gen %" PRIu64
		     ") lost to a newer bucket revision", key, gen);
}

static bool same_value(struct mirror *m, const struct remote *r,
		       uint64_t *gen, int *err)
{
	size_t len;

	*err = read_local(m, r->key, &len, gen);
	if (*err == -ENOENT) {
		*err = 0;
		return r->deleted;
	}
	return !*err && !r->deleted && len == r->len &&
	       !memcmp(m->buf, r->data, len);
}

/* Put the bucket's entry @r into the registry if the key is still at the
 * gen the mirror last saw. Otherwise a local change came meanwhile: if
 * its value is the entry's already (a write of the mirror's own whose
 * acknowledgement was lost, or two hosts writing the same bytes), nothing
 * is lost; if not, the entry replaces it and it is reported.
 */
static int apply(struct mirror *m, struct key_state *ks,
		 const struct remote *r)
{
	uint64_t gen = ks->gen;
	int err;

	for (;;) {
		if (r->deleted) {
			if (gen == 0)
				break;
			err = weave_delete_flags(m->w, r->key, WEAVE_OP_IF_GEN,
						 &gen);
			if (!err || err == -ENOENT) {
				gen = 0;
				break;
			}
		} else {
			err = weave_set_flags(m->w, r->key, r->data, r->len,
					      WEAVE_OP_IF_GEN, &gen);
			if (!err)
				break;
		}
		if (err != -ESTALE) {
			mlog("key %" PRIu64 ": cannot apply bucket revision %"
			     PRIu64 ": %s", r->key, r->rev, strerror(-err));
			m->refused++;
			ks->rev = r->rev;
			return 0;
		}
		if (same_value(m, r, &gen, &err))
			break;
		if (err)
			return err;
		conflict(m, r->key, gen, r->rev);
	}
	ks->rev = r->rev;
	ks->gen = gen;
	m->pulled++;
	return 0;
}

/* A bucket entry from the watcher; a held one is taken over (r->entry
 * becomes NULL).
 */
int mirror_remote(struct mirror *m, struct remote *r)
{
	struct key_state *ks = state_get(&m->st, r->key);

	if (!ks)
		return -ENOMEM;
	/* Seen already: the mirror's own write, or an older entry given
	 * again after a reconnect.
	 */
	if (r->rev <= ks->rev)
		return 0;
	if (ks->inflight) {
		if (ks->held && ks->held->rev >= r->rev)
			return 0;
		if (!ks->held) {
			ks->held = malloc(sizeof(*ks->held));
			if (!ks->held)
				return -ENOMEM;
		} else {
			remote_free(ks->held);
		}
		*ks->held = *r;
		r->entry = NULL;
		return 0;
	}
	if (!m->o->pull) {
		/* Push only: a local change that lost goes again. */
		ks->rev = r->rev;
		return mirror_push_local(m, r->key);
	}
	return apply(m, ks, r);
}

/* The entry that came while @ks's write was in flight, now that it is not. */
static int release_held(struct mirror *m, struct key_state *ks)
{
	struct remote *h = ks->held;
	int err;

	if (!h)
		return 0;
	ks->held = NULL;
	err = mirror_remote(m, h);
	remote_free(h);
	free(h);
	return err;
}

int mirror_push_local(struct mirror *m, uint64_t key)
{
	struct key_state *ks = state_get(&m->st, key);
	uint64_t gen;
	size_t len;
	bool gone;
	int err;

	if (!ks)
		return -ENOMEM;
	if (ks->inflight) {
		ks->again = true;
		return 0;
	}
	err = read_local(m, key, &len, &gen);
	if (err && err != -ENOENT) {
		mlog("key %" PRIu64 ": cannot read it: %s", key,
		     strerror(-err));
		return err;
	}
	gone = err == -ENOENT;
	if (gen == ks->gen)
		return 0;
	if (gone && !ks->rev) {
		ks->gen = 0;
		return 0;
	}
	err = bucket_write(&m->b, key, m->buf, len, gone, ks->rev);
	switch (err) {
	case 0:
		ks->inflight = true;
		ks->sent_gen = gen;
		m->inflight++;
		break;
	case -EFBIG:
		mlog("key %" PRIu64 ": value of %zu bytes refused: larger than "
		     "the bucket's max value size (%zu bytes with headers); "
		     "not mirrored", key, len, m->b.max_value);
		m->refused++;
		ks->gen = gen;
		break;
	default:
		/* Not connected, or logged: the resync pushes it later. */
		m->dirty = true;
	}
	return 0;
}

/* A write's acknowledgement, or its failure. */
int mirror_ack(struct mirror *m, const struct inbox_msg *msg)
{
	struct key_state *ks = msg->key ? state_get(&m->st, msg->key) : NULL;
	bool again;
	int err;

	/* An acknowledgement of a write mirror_forget_inflight() forgot. */
	if (!ks || !ks->inflight)
		return ks || !msg->key ? 0 : -ENOMEM;
	ks->inflight = false;
	m->inflight--;
	again = ks->again;
	ks->again = false;
	switch (msg->err) {
	case 0:
		if (msg->seq > ks->rev)
			ks->rev = msg->seq;
		ks->gen = ks->sent_gen;
		m->pushed++;
		break;
	case -ESTALE:
		/* Another change got to the bucket first. The watcher brings
		 * it, apply() replaces this value with it and reports the
		 * loss; unless nothing will apply it here.
		 */
		if (!m->o->pull || m->o->once) {
			conflict(m, msg->key, ks->sent_gen, 0);
			ks->gen = ks->sent_gen;
		}
		again = false;
		break;
	case -EFBIG:
		mlog("key %" PRIu64 ": value refused by the bucket: larger "
		     "than its max value size; not mirrored", msg->key);
		m->refused++;
		ks->gen = ks->sent_gen;
		break;
	default:
		mlog("key %" PRIu64 ": writing to the bucket: %s (JetStream "
		     "error %d); pushed again later", msg->key,
		     natsStatus_GetText(msg->status), (int)msg->code);
		m->dirty = true;
		again = false;
	}
	err = release_held(m, ks);
	if (!err && again)
		err = mirror_push_local(m, msg->key);
	return err;
}

/* The acknowledgements in flight will not come (they were lost): every
 * key is looked at again by the resync.
 */
void mirror_forget_inflight(struct mirror *m)
{
	struct key_state *ks;
	size_t i;

	for (i = 0; i < m->st.cap; i++) {
		ks = &m->st.slots[i];
		if (!ks->key || !ks->inflight)
			continue;
		ks->inflight = false;
		ks->again = false;
		if (ks->held) {
			remote_free(ks->held);
			free(ks->held);
			ks->held = NULL;
		}
	}
	m->inflight = 0;
	m->dirty = true;
}

/* Every key either side knows of locally: the registry's and the state's. */
static int collect_keys(struct mirror *m, uint64_t **keys, size_t *n)
{
	size_t cap = m->st.used + 256, i;
	uint64_t cursor = 0, *k, *nk;
	int got;

	k = malloc(cap * sizeof(*k));
	if (!k)
		return -ENOMEM;
	*n = 0;
	for (i = 0; i < m->st.cap; i++)
		if (m->st.slots[i].key)
			k[(*n)++] = m->st.slots[i].key;
	for (;;) {
		if (cap - *n < 256) {
			cap *= 2;
			nk = realloc(k, cap * sizeof(*k));
			if (!nk) {
				free(k);
				return -ENOMEM;
			}
			k = nk;
		}
		got = weave_list(m->w, &cursor, k + *n, 256);
		if (got < 0) {
			free(k);
			return got;
		}
		*n += got;
		if (!cursor)
			break;
	}
	*keys = k;
	return 0;
}

/* Push what changed locally while the mirror was away or disconnected.
 * A key listed twice is in step after the first push.
 */
int mirror_resync_local(struct mirror *m)
{
	uint64_t *keys;
	size_t n, i;
	int err;

	if (!m->o->push)
		return 0;
	m->dirty = false;
	err = collect_keys(m, &keys, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = mirror_push_local(m, keys[i]);
	free(keys);
	return err;
}

/* Whether the state file said what @ks was last in step with. */
static bool known(const struct key_state *ks)
{
	return ks->rev || ks->gen;
}

/* Settle the keys whose value differs between the registry and the
 * bucket: those the state file knows by the per-key rule, as if the
 * mirror had never stopped (changed only locally: pushed by the resync
 * that follows; changed in the bucket: applied, a local change too being
 * a conflict); the others by the initial sync policy.
 */
static int settle(struct mirror *m, struct remote *rs, size_t n)
{
	enum mirror_init init = m->o->init;
	struct key_state *ks;
	size_t i, differ = 0;
	uint64_t gen;
	int err = 0;

	for (i = 0; i < n; i++) {
		ks = state_get(&m->st, rs[i].key);
		if (!ks)
			return -ENOMEM;
		if (same_value(m, &rs[i], &gen, &err)) {
			ks->rev = rs[i].rev;
			ks->gen = gen;
			rs[i].key = 0;
			continue;
		}
		if (err)
			return err;
		if (known(ks))
			continue;
		differ++;
		if (init == INIT_FAIL)
			mlog("initial sync: key %" PRIu64 " differs between "
			     "the registry and the bucket", rs[i].key);
	}
	if (differ && init == INIT_FAIL)
		return -EEXIST;
	for (i = 0; i < n && !err; i++) {
		if (!rs[i].key)
			continue;
		ks = state_get(&m->st, rs[i].key);
		if (known(ks)) {
			if (rs[i].rev != ks->rev)
				err = apply(m, ks, &rs[i]);
			continue;
		}
		if (init == INIT_LOCAL_WINS) {
			ks->rev = rs[i].rev;
			ks->gen = GEN_UNKNOWN;
			continue;
		}
		/* Bucket wins: a deliberate overwrite, logged. */
		mlog("initial sync: key %" PRIu64 ": the bucket's revision %"
		     PRIu64 " replaces the local value", rs[i].key, rs[i].rev);
		read_local(m, rs[i].key, &(size_t){0}, &ks->gen);
		err = apply(m, ks, &rs[i]);
	}
	return err;
}

/* Read the bucket's latest entry of every key, settle each key that
 * differs (settle()), then push local keys the bucket does not have and
 * those settle() left to push.
 */
int mirror_initial_sync(struct mirror *m)
{
	struct remote *rs = NULL, *nrs;
	size_t n = 0, cap = 0, i;
	int err;

	err = bucket_watch(&m->b);
	for (;;) {
		if (err)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nrs = realloc(rs, cap * sizeof(*rs));
			if (!nrs) {
				err = -ENOMEM;
				break;
			}
			rs = nrs;
		}
		err = bucket_next(&m->b, &rs[n], 10000);
		if (err == 2) {
			err = 0;
			break;
		}
		if (err == 0) {
			mlog("the bucket did not give its keys within 10 s");
			err = -ETIMEDOUT;
			break;
		}
		if (err == 1) {
			n++;
			err = 0;
		}
	}
	if (!err)
		err = settle(m, rs, n);
	for (i = 0; i < n; i++)
		remote_free(&rs[i]);
	free(rs);
	if (!err)
		err = mirror_resync_local(m);
	return err;
}

void mirror_log_stats(const struct mirror *m)
{
	mlog("stats: pushed %" PRIu64 " pulled %" PRIu64 " conflicts %"
	     PRIu64 " refused %" PRIu64 " keys %zu", m->pushed, m->pulled,
	     m->conflicts, m->refused, m->st.used);
}
