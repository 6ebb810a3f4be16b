// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * producer: the first program of the demo (examples/demo). Creates the
 * registry "weave-demo", publishes four entries one by one, and reads
 * key 4 while worker-a holds its lock: the read waits for the unlock and
 * returns the value worker-a left.
 *
 * Copyright (C) 2026 The weave authors
 */
#include "demo.h"

int main(void)
{
	static char buf[JOURNAL_MAX], want[JOURNAL_MAX];
	struct weave *w, *t;
	uint64_t gen;
	size_t want_len;
	ssize_t n;
	int err, i;

	demo_who = "producer";
	/*
	 * Not persistent: both registries go away when the last of the three
	 * processes closes them. EXCL: a registry left by another run that
	 * is still in use must not be mistaken for ours.
	 */
	err = weave_open(DEMO_REG, WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL, 0600,
			 &w);
	if (err)
		die("create \"%s\": %s", DEMO_REG, strerror(-err));
	err = weave_open(DEMO_TURNS, WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL, 0600,
			 &t);
	if (err)
		die("create \"%s\": %s", DEMO_TURNS, strerror(-err));
	say("created the registry \"%s\"; the workers attach to it by name",
	    DEMO_REG);
	demo_pass(t, STEP_A_HELLO);

	for (i = 0; i < NENTRIES; i++) {
		const char *v = demo_values[i];

		demo_await(t, STEP_PUBLISH(i));
		err = weave_set_flags(w, (uint64_t)i + 1, v, strlen(v), 0, &gen);
		if (err)
			die("set key %d: %s", i + 1, strerror(-err));
		say("published key %d = \"%.*s\" (gen %" PRIu64 ")", i + 1,
		    demo_shown(v, strlen(v)), v, gen);
		demo_pass(t, STEP_A_SEE(i));
	}

	/* worker-a holds key 4 exclusively now: a plain read must wait. */
	demo_await(t, STEP_P_GET);
	say("reading key 4 with weave_get(); it waits while worker-a holds "
	    "the lock");
	demo_pass(t, STEP_A_GROW);
	n = weave_get(w, JOURNAL_KEY, buf, sizeof(buf), &gen);

	demo_await(t, STEP_P_SEE_GROW);
	want_len = demo_journal(want);
	if (n < 0)
		die("get key 4: %s", strerror((int)-n));
	if ((size_t)n != want_len || memcmp(buf, want, want_len))
		die("get key 4 gave %zd bytes, not worker-a's %zu", n,
		    want_len);
	say("weave_get() returned after the unlock: %zd bytes, gen %" PRIu64
	    ", worker-a's bytes", n, gen);
	demo_pass(t, STEP_A_SEE_B);

	demo_await(t, STEP_P_DONE);
	say("done; closing the registry");
	weave_close(t);
	weave_close(w);
	return 0;
}
