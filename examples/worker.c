// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * worker: a worker of the demo (examples/demo), started once per role:
 *
 *   worker a   attaches read-write; told of each new entry, reads it
 *              through a read-only view; then locks key 4 exclusively,
 *              grows it past a page in place and unlocks.
 *   worker b   attaches read-only; told of each new entry, reads it
 *              through a view; finds key 4 locked (EAGAIN), waits for a
 *              shared lock and then sees worker-a's bytes through its
 *              view, refreshed after the grow.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <time.h>

#include "demo.h"

static struct weave *w, *t;
static struct weave_view views[NENTRIES];

/* Expect exactly one pending record: @key with @mask. */
static void expect_event(uint64_t key, uint32_t mask, struct weave_event *ev)
{
	struct weave_event evs[8];
	char got[96], want[96];
	ssize_t n;

	n = weave_events(w, evs, 8, (int)(DEMO_TIMEOUT_NS / 1000000));
	if (n < 0)
		die("weave_events: %s", strerror((int)-n));
	if (n == 0)
		die("no event for key %" PRIu64 " in time", key);
	if (n != 1 || evs[0].key != key || evs[0].mask != mask)
		die("expected one event, key %" PRIu64 " %s; got %zd, the "
		    "first key %" PRIu64 " %s", key,
		    demo_mask(mask, want, sizeof(want)), n, (uint64_t)evs[0].key,
		    demo_mask(evs[0].mask, got, sizeof(got)));
	*ev = evs[0];
}

/* Told of entry @i + 1: map it and read it through the view. */
static void see_entry(int i)
{
	const char *v = demo_values[i];
	struct weave_view *view = &views[i];
	struct weave_event ev;
	char buf[64];
	ssize_t n;
	int err;

	expect_event((uint64_t)i + 1, WEAVE_EV_NEW, &ev);
	err = weave_view_map(w, ev.key, view);
	if (err)
		die("map key %d: %s", i + 1, strerror(-err));
	/* Through the mapping: no system call, consistent by seqcount. */
	n = weave_view_read(view, buf, sizeof(buf));
	if (n != (ssize_t)strlen(v) || memcmp(buf, v, strlen(v)))
		die("view of key %d does not show \"%s\"", i + 1, v);
	say("told: new key %" PRIu64 " (gen %" PRIu64 ", %" PRIu64
	    " bytes); my read-only view shows \"%.*s\"", (uint64_t)ev.key,
	    (uint64_t)ev.gen,
	    (uint64_t)ev.size, demo_shown(buf, (size_t)n), buf);
}

/* The view of key 4 is stale after the grow; refresh and compare. */
static void see_journal(const char *who)
{
	static char want[JOURNAL_MAX];
	struct weave_view *view = &views[JOURNAL_KEY - 1];
	size_t old = weave_view_size(view), len;
	const char *data, *last;
	int err;

	len = demo_journal(want);
	if (!weave_view_stale(view))
		die("the view of key 4 is not stale after %s's grow", who);
	err = weave_view_refresh(view);
	if (err)
		die("refresh the view of key 4: %s", strerror(-err));
	data = weave_view_data(view);
	if (weave_view_size(view) != len || memcmp(data, want, len))
		die("the view of key 4 does not show %s's %zu bytes", who, len);
	for (last = data + len - 1; last > data && last[-1] != '\n'; last--)
		;
	say("my view of key 4 was stale (%zu bytes); refreshed, it shows "
	    "all %zu, ending \"%.*s\"", old, len,
	    demo_shown(last, (size_t)(data + len - last)), last);
}

static void worker_a(void)
{
	static char buf[JOURNAL_MAX];
	struct timespec ms = { 0, 1000000 };
	struct weave_lock_info li;
	struct weave_event ev;
	size_t old, len;
	int i, err, tries;

	demo_await(t, STEP_A_HELLO);
	say("attached to \"%s\" by name (read-write), watching every key",
	    DEMO_REG);
	demo_pass(t, STEP_B_HELLO);

	for (i = 0; i < NENTRIES; i++) {
		demo_await(t, STEP_A_SEE(i));
		see_entry(i);
		demo_pass(t, STEP_B_SEE(i));
	}

	demo_await(t, STEP_A_LOCK);
	err = weave_lock(w, JOURNAL_KEY, 0, -1);
	if (err)
		die("lock key 4: %s", err < 0 ? strerror(-err) : "owner died");
	say("locked key 4 exclusively");
	demo_pass(t, STEP_B_TRY);

	/* Both others queue behind the lock; the index shows it. */
	demo_await(t, STEP_A_GROW);
	for (tries = 0;; tries++) {
		err = weave_lock_info(w, JOURNAL_KEY, &li);
		if (err)
			die("lock info of key 4: %s", strerror(-err));
		if (li.waiters == 2)
			break;
		if (tries == 10000)
			die("key 4 has %u waiters, not 2", li.waiters);
		nanosleep(&ms, NULL);
	}
	say("the index shows key 4 %s with %u waiters: worker-b and the "
	    "producer", li.lock == WEAVE_SLOT_LOCK_EXCL ? "held exclusively" :
	    "NOT exclusive", li.waiters);

	old = strlen(demo_values[JOURNAL_KEY - 1]);
	len = demo_journal(buf);
	err = weave_write(w, JOURNAL_KEY, old, buf + old, len - old);
	if (err)
		die("write key 4: %s", strerror(-err));
	say("appended to key 4 in place: %zu -> %zu bytes, past a page", old,
	    len);
	err = weave_unlock(w, JOURNAL_KEY, 0);
	if (err)
		die("unlock key 4: %s", strerror(-err));
	say("unlocked key 4");
	demo_pass(t, STEP_B_SEE_GROW);

	/* Watched with NO_SELF: only worker-b's unlock is news. */
	demo_await(t, STEP_A_SEE_B);
	expect_event(JOURNAL_KEY, WEAVE_EV_UNLOCKED, &ev);
	say("told: key 4 unlocked again (worker-b is done with it)");
	see_journal("my");
	demo_pass(t, STEP_P_DONE);
}

static void worker_b(void)
{
	char mask[96];
	struct weave_event ev;
	int i, err;

	demo_await(t, STEP_B_HELLO);
	say("attached to \"%s\" by name (read-only), watching every key",
	    DEMO_REG);
	demo_pass(t, STEP_PUBLISH(0));

	for (i = 0; i < NENTRIES; i++) {
		demo_await(t, STEP_B_SEE(i));
		see_entry(i);
		if (i + 1 < NENTRIES)
			demo_pass(t, STEP_PUBLISH(i + 1));
		else
			demo_pass(t, STEP_A_LOCK);
	}

	demo_await(t, STEP_B_TRY);
	err = weave_lock(w, JOURNAL_KEY, WEAVE_LOCK_SHARED | WEAVE_LOCK_NONBLOCK,
			 -1);
	if (err != -EAGAIN)
		die("try-lock of key 4 gave %d, not -EAGAIN", err);
	say("try-lock of key 4 (shared, non-blocking): EAGAIN, someone holds "
	    "it; now waiting for it");
	demo_pass(t, STEP_P_GET);
	err = weave_lock(w, JOURNAL_KEY, WEAVE_LOCK_SHARED, DEMO_TIMEOUT_NS);
	if (err)
		die("lock key 4 (shared): %s", err < 0 ? strerror(-err) :
		    "owner died");

	demo_await(t, STEP_B_SEE_GROW);
	expect_event(JOURNAL_KEY, WEAVE_EV_CHANGED | WEAVE_EV_RESIZED |
		     WEAVE_EV_UNLOCKED, &ev);
	say("got the shared lock; told: key 4 %s (gen %" PRIu64 ", %" PRIu64
	    " bytes)", demo_mask(ev.mask, mask, sizeof(mask)), (uint64_t)ev.gen,
	    (uint64_t)ev.size);
	see_journal("worker-a");
	err = weave_unlock(w, JOURNAL_KEY, 0);
	if (err)
		die("unlock key 4: %s", strerror(-err));
	demo_pass(t, STEP_P_SEE_GROW);
}

int main(int argc, char **argv)
{
	bool a;
	int err;

	if (argc != 2 || (strcmp(argv[1], "a") && strcmp(argv[1], "b"))) {
		fprintf(stderr, "usage: worker a|b\n");
		return 2;
	}
	a = !strcmp(argv[1], "a");
	demo_who = a ? "worker-a" : "worker-b";

	w = demo_attach(DEMO_REG, a ? 0 : WEAVE_OPEN_RDONLY);
	/* Every key, present and future; worker-a skips its own changes. */
	err = weave_watch(w, 0, WEAVE_EV_ALL, a ? WEAVE_WATCH_NO_SELF : 0);
	if (err)
		die("watch: %s", strerror(-err));
	t = demo_attach(DEMO_TURNS, 0);

	if (a)
		worker_a();
	else
		worker_b();
	for (int i = 0; i < NENTRIES; i++)
		weave_view_unmap(&views[i]);
	weave_close(t);
	weave_close(w);
	return 0;
}
