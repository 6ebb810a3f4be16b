// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * weave_list() against a kernel that returns empty batches before the end
 * of a walk, which weave(4) allows (WEAVE_IOC_LIST "may hold fewer keys
 * than asked for before the end") but this module never does: it scans
 * until a batch is full. The test defines ioctl(2), which libweave.a's
 * calls bind to, with a WEAVE_IOC_LIST that looks at no more than
 * SCAN_MAX slots a call, as a kernel that bounds its time under the
 * registry lock would. KTAP output; exit 1 on a failure.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ktap.h"
#include "weave.h"

#define NSLOTS		1024
#define SCAN_MAX	16	/* slots the fake LIST looks at per call */
#define BATCH		64

static uint64_t slot_key[NSLOTS + 1];	/* 0: an empty slot */
static uint32_t slot_hwm;
static unsigned int list_calls;

/* WEAVE_IOC_LIST as kmod/entry.c has it, but giving up after SCAN_MAX. */
static int fake_list(struct weave_list_args *a)
{
	uint64_t *keys = (uint64_t *)(uintptr_t)a->keys;
	uint64_t slot = a->cursor > 1 ? a->cursor : 1;
	uint32_t n = 0, scanned = 0;

	list_calls++;
	if (!a->count || a->count > WEAVE_LIST_MAX || a->flags) {
		errno = EINVAL;
		return -1;
	}
	if (a->cursor > slot_hwm)
		slot = slot_hwm + 1;
	for (; slot <= slot_hwm && n < a->count && scanned < SCAN_MAX;
	     slot++, scanned++)
		if (slot_key[slot])
			keys[n++] = slot_key[slot];
	a->cursor = slot <= slot_hwm ? slot : 0;
	a->count = n;
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	(void)fd;
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == WEAVE_IOC_INFO) {
		memset(arg, 0, sizeof(struct weave_info_args));
		((struct weave_info_args *)arg)->id = 1;
		return 0;
	}
	if (req == WEAVE_IOC_LIST)
		return fake_list(arg);
	errno = ENOTTY;
	return -1;
}

/* Slots 1..NSLOTS hold key slot * 7, but for long runs of emptied ones. */
static unsigned int fill_sparse(void)
{
	unsigned int slot, kept = 0;

	slot_hwm = NSLOTS;
	for (slot = 1; slot <= NSLOTS; slot++) {
		bool gone = slot <= 256 || (slot > 384 && slot <= 640) ||
			    slot > 960;

		slot_key[slot] = gone ? 0 : (uint64_t)slot * 7;
		kept += !gone;
	}
	return kept;
}

/* Every kept key met exactly once, no other key met. */
static bool seen_once(const unsigned char *seen)
{
	unsigned int slot;

	for (slot = 1; slot <= NSLOTS; slot++)
		if (seen[slot] != (slot_key[slot] ? 1 : 0))
			return false;
	return true;
}

static bool mark(unsigned char *seen, uint64_t key)
{
	if (!key || key % 7 || key / 7 > NSLOTS)
		return false;
	seen[key / 7]++;
	return true;
}

static int count_key(uint64_t key, void *arg)
{
	return mark(arg, key) ? 0 : 1;
}

int main(void)
{
	static unsigned char seen[NSLOTS + 1];
	uint64_t keys[BATCH], cursor;
	unsigned int kept, calls;
	bool empty_mid = false, bad_key = false, ok;
	struct weave *w;
	int fd, i, n;

	printf("KTAP version 1\n1..7\n");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || weave_from_fd(fd, &w)) {
		printf("Bail out! no handle over the fake ioctl\n");
		return 1;
	}
	kept = fill_sparse();

	/* The premise: the fake kernel's first batch is empty, not the end. */
	{
		struct weave_list_args a = {
			.keys = (uintptr_t)keys, .count = BATCH,
		};

		check(!ioctl(fd, WEAVE_IOC_LIST, &a) && !a.count && a.cursor,
		      "fake_list_empty_batch_mid_walk");
	}

	/* The man page's loop: every batch has keys, each key once. */
	cursor = 0;
	calls = 0;
	do {
		n = weave_list(w, &cursor, keys, BATCH);
		if (n < 0)
			break;
		calls++;
		if (!n && cursor)
			empty_mid = true;
		for (i = 0; i < n; i++)
			bad_key |= !mark(seen, keys[i]);
	} while (cursor && calls <= NSLOTS);
	check(n >= 0 && !cursor && !empty_mid, "list_no_empty_batch_mid_walk");
	check(!bad_key && seen_once(seen), "list_each_key_once");

	/* A loop on the count alone (and the cursor) cannot stop early. */
	memset(seen, 0, sizeof(seen));
	cursor = 0;
	ok = true;
	while ((n = weave_list(w, &cursor, keys, BATCH)) > 0) {
		for (i = 0; i < n; i++)
			ok &= mark(seen, keys[i]);
		if (!cursor)
			break;
	}
	check(n >= 0 && ok && !cursor && seen_once(seen),
	      "list_count_loop_each_key_once");

	memset(seen, 0, sizeof(seen));
	check(weave_foreach_key(w, count_key, seen) == 0 && seen_once(seen) &&
	      kept > 0, "foreach_key_each_key_once");

	/* Only emptied slots: one weave_list() call, 0 keys, the end. */
	memset(slot_key, 0, sizeof(slot_key));
	cursor = 0;
	list_calls = 0;
	n = weave_list(w, &cursor, keys, BATCH);
	check(n == 0 && cursor == 0 && list_calls == NSLOTS / SCAN_MAX,
	      "list_all_empty_ends_in_one_call");

	/* An empty registry. */
	slot_hwm = 0;
	cursor = 0;
	check(weave_list(w, &cursor, keys, 1) == 0 && cursor == 0,
	      "list_empty_registry");

	weave_close(w);
	return ktap_done();
}
