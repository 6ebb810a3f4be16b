// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: views, read-only mappings of one entry's bytes.
 *
 * A view maps the span of the entry's index slot from its map_offset, as
 * long as the entry's bytes need (PAGE_ALIGN(data_offset + size), at
 * least a page). The kernel binds a view to the life of the key that
 * held the slot at mmap() time, so after every mmap() the slot is read
 * back: when it no longer names the same key and birth gen, the mapping
 * may belong to another life and is dropped.
 *
 * Reads go through the mapped index slot with the seqcount protocol, so
 * they need no system call.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Bounded, so that a key deleted and recreated in a loop cannot hang us. */
#define WEAVE_VIEW_TRIES	64

struct weave_snap {
	uint64_t key;
	uint64_t birth;
	uint64_t size;
	uint64_t offset;
};

/* 0, or -EBUSY while the entry is mapped writable by its holder. */
static int weave_slot_snap(const struct weave_slot *s, struct weave_snap *sn)
{
	uint32_t seq;
	int err;

	do {
		err = weave_seq_begin(s, &seq);
		if (err)
			return err;
		sn->key = WEAVE_LOAD(s->key);
		sn->birth = WEAVE_LOAD(s->birth);
		sn->size = WEAVE_LOAD(s->size);
		sn->offset = WEAVE_LOAD(s->offset);
	} while (weave_seq_retry(s, seq));
	return 0;
}

/* Bit of weave_view._resv: mapped writable by weave_view_map_rw(). */
#define WEAVE_VIEW_RW	1U

static bool weave_view_rw(const struct weave_view *v)
{
	return v->_resv & WEAVE_VIEW_RW;
}

/* Bytes to map for @size bytes at @doff: whole pages, at least one. */
static size_t weave_view_len(uint64_t doff, uint64_t size, uint64_t map_size)
{
	uint64_t ps = (uint64_t)getpagesize();
	uint64_t len = (doff + size + ps - 1) & ~(ps - 1);

	if (!len)
		len = ps;
	return len > map_size ? map_size : len;
}

/* Whether the bytes the slot describes lie inside the view's mapping. */
static bool weave_view_fits(const struct weave_view *v,
			    const struct weave_snap *sn)
{
	uint64_t doff = sn->offset - v->_map_offset;

	return sn->offset >= v->_map_offset && doff <= v->_map_len &&
	       sn->size <= v->_map_len - doff;
}

int weave_view_map(struct weave *w, uint64_t key, struct weave_view *v)
{
	const unsigned char *idx;
	const struct weave_slot *s;
	struct weave_stat_args st;
	struct weave_snap sn;
	struct weave_view nv;
	size_t len;
	void *m;
	int err, tries;

	if (!key || !v)
		return -EINVAL;
	err = weave_index_get(w, &idx);
	if (err)
		return err;

	for (tries = 0; tries < WEAVE_VIEW_TRIES; tries++) {
		err = weave_stat(w, key, &st);
		if (err)
			return err;
		s = weave_slot_ptr(w, st.slot);
		if (!s)
			return -EPROTO;
		len = weave_view_len(st.data_offset, st.size, st.map_size);
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, w->fd,
			 st.map_offset);
		if (m == MAP_FAILED) {
			if (errno == ENXIO)	/* slot emptied since STAT */
				continue;
			return -errno;
		}
		memset(&nv, 0, sizeof(nv));
		nv._w = w;
		nv._map = m;
		nv._map_len = len;
		nv._map_offset = st.map_offset;
		nv._map_size = st.map_size;
		nv._key = key;
		nv._birth = st.birth;
		nv._slot = st.slot;

		err = weave_slot_snap(s, &sn);
		if (err) {
			munmap(m, len);
			return err;
		}
		/* A grow since STAT may also have outrun the mapping. */
		if (sn.key == key && sn.birth == st.birth &&
		    weave_view_fits(&nv, &sn)) {
			nv._size = sn.size;
			nv._data_offset = sn.offset - st.map_offset;
			*v = nv;
			return 0;
		}
		munmap(m, len);
	}
	return -EAGAIN;
}

bool weave_view_stale(const struct weave_view *v)
{
	const struct weave_slot *s;
	struct weave_snap sn;

	if (!v->_map)
		return true;
	if (weave_view_rw(v)) {
		struct weave_stat_args st;

		return weave_stat(v->_w, v->_key, &st) ||
		       st.birth != v->_birth || st.size != v->_size;
	}
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s || weave_slot_snap(s, &sn))
		return true;
	return sn.key != v->_key || sn.birth != v->_birth ||
	       sn.offset != v->_map_offset + v->_data_offset ||
	       sn.size != v->_size || !weave_view_fits(v, &sn);
}

/*
 * The holder's own writable view: the slot stays odd while it writes,
 * so the size comes from the kernel.
 */
static ssize_t weave_view_read_rw(const struct weave_view *v, void *buf,
				  size_t len)
{
	struct weave_stat_args st;
	int err = weave_stat(v->_w, v->_key, &st);

	if (err)
		return err;
	if (st.birth != v->_birth)
		return -ENOENT;
	if (st.size > v->_map_len)
		return -EPROTO;
	memcpy(buf, v->_map, len < st.size ? len : st.size);
	return st.size > SSIZE_MAX ? -EOVERFLOW : (ssize_t)st.size;
}

ssize_t weave_view_read(const struct weave_view *v, void *buf, size_t len)
{
	const struct weave_slot *s;
	uint64_t key, birth, size, offset;
	uint32_t seq;
	size_t n;
	int err;

	if (!v->_map)
		return -EINVAL;
	if (weave_view_rw(v))
		return weave_view_read_rw(v, buf, len);
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return -EINVAL;
	for (;;) {
		err = weave_seq_begin(s, &seq);
		if (err)
			return err;
		key = WEAVE_LOAD(s->key);
		birth = WEAVE_LOAD(s->birth);
		size = WEAVE_LOAD(s->size);
		offset = WEAVE_LOAD(s->offset);
		if (key != v->_key || birth != v->_birth) {
			/* Never touch the mapping of a deleted entry: SIGBUS. */
			if (weave_seq_retry(s, seq))
				continue;
			return -ENOENT;
		}
		if (!weave_view_fits(v, &(struct weave_snap){
				.size = size, .offset = offset })) {
			if (weave_seq_retry(s, seq))
				continue;
			return -ESTALE;
		}
		/*
		 * A small value that moved to another cell of the first page
		 * is read at its new place: the slot says where it is now.
		 */
		n = len < size ? len : size;
		if (n)
			memcpy(buf, v->_map + (offset - v->_map_offset), n);
		if (!weave_seq_retry(s, seq))
			break;
	}
	return size > SSIZE_MAX ? -EOVERFLOW : (ssize_t)size;
}

/*
 * The gen from the slot, read under its seq like weave_view_read(): two
 * equal reads around a copy mean the copy is of that gen, since gens
 * only grow. A writable view's is its last published gen.
 */
uint64_t weave_view_gen(const struct weave_view *v)
{
	const struct weave_slot *s;
	uint64_t key, birth, gen;
	uint32_t seq;

	if (!v->_map)
		return 0;
	if (weave_view_rw(v)) {
		struct weave_stat_args st;

		return weave_stat(v->_w, v->_key, &st) ||
		       st.birth != v->_birth ? 0 : st.gen;
	}
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return 0;
	do {
		if (weave_seq_begin(s, &seq))
			return 0;
		key = WEAVE_LOAD(s->key);
		birth = WEAVE_LOAD(s->birth);
		gen = WEAVE_LOAD(s->gen);
	} while (weave_seq_retry(s, seq));
	return key == v->_key && birth == v->_birth ? gen : 0;
}

const void *weave_view_data(const struct weave_view *v)
{
	return v->_map ? v->_map + v->_data_offset : NULL;
}

void *weave_view_data_rw(const struct weave_view *v)
{
	return v->_map && weave_view_rw(v) ?
	       (void *)(v->_map + v->_data_offset) : NULL;
}

int weave_view_map_rw(struct weave *w, uint64_t key, struct weave_view *v)
{
	struct weave_stat_args st, now;
	void *m;
	int err;

	if (!key || !v)
		return -EINVAL;
	err = weave_stat(w, key, &st);
	if (err)
		return err;
	/* The whole span: a resize by the holder needs no new mapping. */
	m = mmap(NULL, st.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		 st.map_offset);
	if (m == MAP_FAILED)
		return errno == ENXIO ? -ENOENT : -errno;
	/* The kernel may have moved a small value to pages of its own. */
	err = weave_stat(w, key, &now);
	if (!err && (now.map_offset != st.map_offset ||
		     now.map_size != st.map_size))
		err = -EAGAIN;
	if (err) {
		munmap(m, st.map_size);
		return err;
	}
	memset(v, 0, sizeof(*v));
	v->_w = w;
	v->_map = m;
	v->_map_len = st.map_size;
	v->_map_offset = now.map_offset;
	v->_map_size = now.map_size;
	v->_key = key;
	v->_birth = now.birth;
	v->_size = now.size;
	v->_data_offset = now.data_offset;
	v->_slot = now.slot;
	v->_resv = WEAVE_VIEW_RW;
	return 0;
}

size_t weave_view_size(const struct weave_view *v)
{
	return v->_size;
}

/*
 * Grow the mapping to @len: the kernel refuses to expand its mappings
 * (mremap() fails with EFAULT), so map the span anew; the caller verifies
 * the new mapping against the slot like weave_view_map() does.
 */
static int weave_view_grow(struct weave_view *v, size_t len)
{
	void *m;

	m = mmap(NULL, len, PROT_READ, MAP_SHARED, v->_w->fd, v->_map_offset);
	if (m == MAP_FAILED)
		return errno == ENXIO ? -ENOENT : -errno;
	munmap((void *)v->_map, v->_map_len);
	v->_map = m;
	v->_map_len = len;
	return 0;
}

int weave_view_refresh(struct weave_view *v)
{
	const struct weave_slot *s;
	struct weave_snap sn;
	struct weave_view nv;
	size_t len;
	int err, tries;

	if (!v->_map)
		return -EINVAL;
	if (weave_view_rw(v)) {
		struct weave_stat_args st;

		err = weave_stat(v->_w, v->_key, &st);
		if (err)
			return err;
		if (st.birth != v->_birth)
			return -ENOENT;	/* no longer this mapping's entry */
		v->_size = st.size;
		return 0;
	}
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return -EINVAL;

	for (tries = 0; tries < WEAVE_VIEW_TRIES; tries++) {
		err = weave_slot_snap(s, &sn);
		if (err)
			return err;
		if (sn.key != v->_key || sn.birth != v->_birth) {
			/* Deleted, maybe recreated: map the key's new life. */
			err = weave_view_map(v->_w, v->_key, &nv);
			if (err)
				return err;
			weave_view_unmap(v);
			*v = nv;
			return 0;
		}
		if (weave_view_fits(v, &sn)) {
			v->_size = sn.size;
			v->_data_offset = sn.offset - v->_map_offset;
			return 0;
		}
		len = weave_view_len(sn.offset - v->_map_offset, sn.size,
				     v->_map_size);
		if (len <= v->_map_len)
			return -EPROTO;	/* the slot points outside its span */
		err = weave_view_grow(v, len);
		if (err)
			return err;
		/* Loop: re-check the slot against the grown mapping. */
	}
	return -EAGAIN;
}

void weave_view_unmap(struct weave_view *v)
{
	if (v->_map)
		munmap((void *)v->_map, v->_map_len);
	memset(v, 0, sizeof(*v));
}
