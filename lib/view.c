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

static void weave_slot_snap(const struct weave_slot *s, struct weave_snap *sn)
{
	uint32_t seq;

	do {
		seq = weave_seq_begin(s);
		sn->key = WEAVE_LOAD(s->key);
		sn->birth = WEAVE_LOAD(s->birth);
		sn->size = WEAVE_LOAD(s->size);
		sn->offset = WEAVE_LOAD(s->offset);
	} while (weave_seq_retry(s, seq));
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

		weave_slot_snap(s, &sn);
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
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return true;
	weave_slot_snap(s, &sn);
	return sn.key != v->_key || sn.birth != v->_birth ||
	       sn.offset != v->_map_offset + v->_data_offset ||
	       sn.size != v->_size || !weave_view_fits(v, &sn);
}

ssize_t weave_view_read(const struct weave_view *v, void *buf, size_t len)
{
	const struct weave_slot *s;
	uint64_t key, birth, size, offset;
	uint32_t seq;
	size_t n;

	if (!v->_map)
		return -EINVAL;
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return -EINVAL;
	for (;;) {
		seq = weave_seq_begin(s);
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
 * only grow.
 */
uint64_t weave_view_gen(const struct weave_view *v)
{
	const struct weave_slot *s;
	uint64_t key, birth, gen;
	uint32_t seq;

	if (!v->_map)
		return 0;
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return 0;
	do {
		seq = weave_seq_begin(s);
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
	s = weave_slot_ptr(v->_w, v->_slot);
	if (!s)
		return -EINVAL;

	for (tries = 0; tries < WEAVE_VIEW_TRIES; tries++) {
		weave_slot_snap(s, &sn);
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
