// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave against answers weave(4) rules out, from a fake device
 * (fake_weave.h): an index too small or with the wrong magic, a slot
 * outside the index, a slot that never settles on the key STAT named, a
 * mapping that keeps failing or keeps outgrowing its view, a size above
 * SSIZE_MAX, poll() saying "readable" before read() finds nothing; and
 * two threads that map the index at once (the second finds it mapped
 * once it has the lock). The
 * library must answer -EPROTO, -EOVERFLOW, or -EAGAIN after its bounded
 * retries, never read outside a mapping or loop forever. The module
 * never gives these answers, so only a fake can test them. KTAP output;
 * exit 1 on a failure.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "ktap.h"
#include "fake_weave.h"

#define KEY	5
#define SLOT	3
#define PAGE	((uint64_t)getpagesize())

static struct weave_stat_args st_ans;	/* what STAT answers */
static uint64_t moved_offset;		/* 0, or STAT's map_offset after one */
static unsigned int stats;
static uint64_t get_size;
static unsigned int polls, reads;
static int read_errno;

static int answer(unsigned long req, void *arg)
{
	if (req == WEAVE_IOC_STAT) {
		struct weave_stat_args *st = arg;

		if (st->key != st_ans.key)
			return -ENOENT;
		*st = st_ans;
		if (stats++ && moved_offset)
			st->map_offset = moved_offset;
		return 0;
	}
	if (req == WEAVE_IOC_GET) {
		struct weave_get_args *g = arg;

		g->size = get_size;
		g->gen = 1;
		g->copied = 0;
		return 0;
	}
	return -ENOTTY;
}

/* KEY in SLOT, its @size bytes at the start of a span of @span pages. */
static void entry(uint64_t size, uint64_t span)
{
	struct weave_slot *s = fake_slot(SLOT);

	memset(&st_ans, 0, sizeof(st_ans));
	st_ans.key = KEY;
	st_ans.gen = 1;
	st_ans.size = size;
	st_ans.birth = 9;
	st_ans.map_offset = 64 * PAGE;
	st_ans.map_size = span * PAGE;
	st_ans.slot = SLOT;
	s->key = KEY;
	s->gen = 1;
	s->birth = 9;
	s->size = size;
	s->offset = st_ans.map_offset;
	moved_offset = 0;
	stats = 0;
}

static int setup(struct weave **w)
{
	if (fake_setup(answer))
		return -1;
	entry(100, 1);
	return fake_handle(w);
}

static int mmap_enxio(size_t len, off_t off)
{
	(void)len;
	(void)off;
	return ENXIO;
}

/* Each view mmap() finds the value one byte longer than it maps. */
static int mmap_outgrown(size_t len, off_t off)
{
	(void)off;
	fake_slot(SLOT)->size = len + 1;
	return 0;
}

static int poll_ready(struct pollfd *p)
{
	polls++;
	p->revents = POLLIN;
	return 1;
}

/* Nothing the first time, as if another reader came first; then one. */
static ssize_t read_late(void *buf, size_t len)
{
	if (reads++ == 0 || read_errno) {
		errno = read_errno ? read_errno : EAGAIN;
		return -1;
	}
	memset(buf, 0, sizeof(struct weave_event));
	((struct weave_event *)buf)->key = KEY;
	return len < sizeof(struct weave_event) ? 0 :
	       (ssize_t)sizeof(struct weave_event);
}

static void index_checks(void)
{
	struct weave_index_header *hdr;
	struct weave_lock_info li;
	struct weave_view v;
	struct weave *w = NULL;

	/* An index smaller than its header and one slot: not mapped. */
	if (fake_setup(answer))
		return;
	fake.index_size = sizeof(struct weave_slot);
	entry(100, 1);
	check(fake_handle(&w) == 0 && weave_view_map(w, KEY, &v) == -EPROTO &&
	      weave_lock_info(w, KEY, &li) == -EPROTO && fake.index_maps == 0,
	      "index_too_small");
	weave_close(w);

	/* The wrong magic: mapped, unmapped, -EPROTO; mapped again later. */
	w = NULL;
	check(setup(&w) == 0, "fake_handle");
	hdr = (struct weave_index_header *)fake.index;
	hdr->magic = 0;
	check(weave_view_map(w, KEY, &v) == -EPROTO && fake.index_maps == 1 &&
	      fake.unmaps == 1, "index_bad_magic");
	hdr->magic = WEAVE_INDEX_MAGIC;
	hdr->slot_size = 32;
	check(weave_lock_info(w, KEY, &li) == -EPROTO && fake.index_maps == 2,
	      "index_bad_slot_size");
	hdr->slot_size = sizeof(struct weave_slot);
	check(weave_lock_info(w, KEY, &li) == 0 && fake.index_maps == 3 &&
	      li.lock == 0, "index_good_again");
	weave_close(w);
}

static void slot_checks(void)
{
	struct weave_lock_info li;
	struct weave_view v;
	struct weave *w = NULL;

	if (setup(&w))
		return;
	/* STAT names a slot past the index's end. */
	st_ans.slot = FAKE_SLOTS;
	check(weave_view_map(w, KEY, &v) == -EPROTO &&
	      weave_lock_info(w, KEY, &li) == -EPROTO, "slot_outside_index");

	/* The slot never holds the life of the key STAT named. */
	entry(100, 1);
	fake_slot(SLOT)->birth = 10;
	memset(&li, 0x5a, sizeof(li));
	check(weave_lock_info(w, KEY, &li) == -EAGAIN && stats == 64 &&
	      li.lock == 0x5a5a5a5a, "lock_info_gives_up");
	stats = 0;
	fake.unmaps = 0;
	check(weave_view_map(w, KEY, &v) == -EAGAIN && stats == 64 &&
	      fake.view_maps == 64 && fake.unmaps == 64, "view_map_gives_up");

	/* Every mmap() fails ENXIO, as for an entry deleted since STAT. */
	entry(100, 1);
	fake.view_maps = 0;
	fake.mmap_hook = mmap_enxio;
	check(weave_view_map(w, KEY, &v) == -EAGAIN && fake.view_maps == 64,
	      "view_map_enxio_gives_up");
	fake.mmap_hook = NULL;

	/* An empty value at its span's start: one page is mapped. */
	entry(0, 1);
	check(weave_view_map(w, KEY, &v) == 0 && weave_view_size(&v) == 0 &&
	      v._map_len == PAGE, "view_of_nothing");
	weave_view_unmap(&v);
	weave_close(w);
}

static void refresh_checks(void)
{
	struct weave_view v;
	struct weave *w = NULL;

	if (setup(&w))
		return;
	/* The slot points before its span: -EPROTO, nothing mapped anew. */
	entry(PAGE, 1);
	if (weave_view_map(w, KEY, &v))
		return;
	fake_slot(SLOT)->offset -= PAGE;
	fake.view_maps = 0;
	check(weave_view_refresh(&v) == -EPROTO && fake.view_maps == 0,
	      "refresh_outside_span");
	weave_view_unmap(&v);

	/* The value grows past each new mapping: it gives up. */
	entry(100, 100);
	if (weave_view_map(w, KEY, &v))
		return;
	fake_slot(SLOT)->size = PAGE + 1;
	fake.view_maps = 0;
	fake.mmap_hook = mmap_outgrown;
	check(weave_view_refresh(&v) == -EAGAIN && fake.view_maps == 64 &&
	      v._map_len == 65 * PAGE, "refresh_gives_up");
	weave_view_unmap(&v);

	/* Gone while it grew: -ENOENT. */
	entry(100, 100);
	fake.mmap_hook = NULL;
	if (weave_view_map(w, KEY, &v))
		return;
	fake_slot(SLOT)->size = 2 * PAGE;
	fake.view_maps = 0;
	fake.mmap_hook = mmap_enxio;
	check(weave_view_refresh(&v) == -ENOENT && v._map_len == PAGE,
	      "refresh_grow_enxio");
	fake.mmap_hook = NULL;
	weave_view_unmap(&v);
	weave_close(w);
}

static void writable_checks(void)
{
	struct weave_view v;
	struct weave *w = NULL;
	char buf[16];

	if (setup(&w))
		return;
	/* The value moved between the two STATs. */
	entry(100, 1);
	moved_offset = 128 * PAGE;
	fake.unmaps = 0;
	check(weave_view_map_rw(w, KEY, &v) == -EAGAIN && fake.unmaps == 1,
	      "map_rw_moved");

	/* STAT says the value is larger than the span it lives in. */
	entry(100, 1);
	if (weave_view_map_rw(w, KEY, &v))
		return;
	st_ans.size = PAGE + 1;
	check(weave_view_read(&v, buf, sizeof(buf)) == -EPROTO,
	      "read_rw_larger_than_span");
	weave_view_unmap(&v);

	fake.mmap_hook = mmap_enxio;
	check(weave_view_map_rw(w, KEY, &v) == -ENOENT, "map_rw_enxio");
	fake.mmap_hook = NULL;
	weave_close(w);
}

static void size_checks(void)
{
	struct weave *w = NULL;
	char buf[8];

	if (setup(&w))
		return;
	get_size = (uint64_t)SSIZE_MAX + 1;
	check(weave_get(w, KEY, buf, sizeof(buf), NULL) == -EOVERFLOW,
	      "get_size_above_ssize_max");
	get_size = 0;
	weave_close(w);
}

static volatile int first_in_mmap, second_started;

/*
 * The first mapper, in mmap() under the library's lock, lets the second
 * start and gives it time to find no index and wait for that lock.
 */
static void index_slow(void)
{
	first_in_mmap = 1;
	while (!second_started)
		usleep(1000);
	usleep(50000);
}

static void *second_mapper(void *arg)
{
	struct weave_lock_info li;

	while (!first_in_mmap)
		usleep(1000);
	second_started = 1;
	return (void *)(intptr_t)weave_lock_info(arg, KEY, &li);
}

static void index_race_checks(void)
{
	struct weave_lock_info li;
	struct weave *w = NULL;
	pthread_t th;
	void *ret = (void *)1;
	int err;

	if (setup(&w))
		return;
	fake.index_hook = index_slow;
	/* The second thread starts while this one is in the index's mmap(). */
	err = pthread_create(&th, NULL, second_mapper, w);
	if (!err) {
		err = weave_lock_info(w, KEY, &li);
		pthread_join(th, &ret);
	}
	check(!err && !ret && fake.index_maps == 1, "index_mapped_once");
	weave_close(w);
}

static void event_checks(void)
{
	struct weave_event ev[2];
	struct weave *w = NULL;

	if (setup(&w))
		return;
	fake.poll = poll_ready;
	fake.read = read_late;
	check(weave_events(w, ev, 2, 1000) == 1 && ev[0].key == KEY &&
	      polls == 2 && reads == 2, "events_poll_again_after_eagain");
	read_errno = EIO;
	check(weave_events(w, ev, 2, 1000) == -EIO, "events_read_error");
	read_errno = 0;
	weave_close(w);
}

int main(void)
{
	printf("KTAP version 1\n1..20\n");
	index_checks();
	slot_checks();
	refresh_checks();
	writable_checks();
	size_checks();
	index_race_checks();
	event_checks();
	return ktap_done();
}
