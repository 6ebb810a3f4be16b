/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * demo.h: what examples/producer.c and examples/worker.c share.
 *
 * The processes of the demo run at once, so that their lines come out in
 * the same order every run they take turns at printing: the registry
 * DEMO_TURNS holds, under TURN_KEY, the number of the step whose turn it
 * is. A process sleeps in weave_wait() until that number is its step,
 * prints, and hands the turn on with weave_set(). The steps:
 *
 *   1, 2        worker-a, worker-b: attached and watching
 *   3 + 3i      producer: publishes entry i + 1 (i = 0..3)
 *   4 + 3i,
 *   5 + 3i      worker-a, worker-b: were told of it, read it by view
 *   15..22      the lock hand-off (see STEP_* below)
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVE_DEMO_H
#define WEAVE_DEMO_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <weave.h>

#define DEMO_REG	"weave-demo"
#define DEMO_TURNS	"weave-demo-turns"
#define TURN_KEY	1
#define NENTRIES	4
#define JOURNAL_KEY	4
#define JOURNAL_MAX	8192

#define STEP_A_HELLO	1
#define STEP_B_HELLO	2
#define STEP_PUBLISH(i)	(3 + 3 * (i))
#define STEP_A_SEE(i)	(4 + 3 * (i))
#define STEP_B_SEE(i)	(5 + 3 * (i))
#define STEP_A_LOCK	15	/* worker-a takes key 4 exclusively */
#define STEP_B_TRY	16	/* worker-b: try-lock fails, then blocks */
#define STEP_P_GET	17	/* producer: weave_get() blocks */
#define STEP_A_GROW	18	/* worker-a grows key 4, unlocks */
#define STEP_B_SEE_GROW	19	/* worker-b: got the lock, sees the bytes */
#define STEP_P_SEE_GROW	20	/* producer: its weave_get() returned */
#define STEP_A_SEE_B	21	/* worker-a: told of worker-b's unlock */
#define STEP_P_DONE	22

/* How long any one step may take before the demo calls it a failure. */
#define DEMO_TIMEOUT_NS	(15 * 1000000000LL)

static const char *demo_who;

static const char *const demo_values[NENTRIES] = {
	"hello from the producer",
	"interval=100ms",
	"temperature=21.5C",
	"0000 producer started\n",
};

__attribute__((format(printf, 1, 2)))
static inline void say(const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", demo_who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* An expectation failed: say so and stop; the demo script reports it. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void die(const char *fmt, ...)
{
	va_list ap;

	printf("%s: FAILED: ", demo_who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

/* Wait for a registry another process creates. */
static inline struct weave *demo_attach(const char *name, unsigned int flags)
{
	struct timespec ms = { 0, 10 * 1000000 };
	struct weave *w;
	int err, tries;

	for (tries = 0; tries < 1500; tries++) {
		err = weave_open(name, flags, 0, &w);
		if (!err)
			return w;
		if (err != -ENOENT)
			break;
		nanosleep(&ms, NULL);
	}
	die("attach \"%s\": %s", name, strerror(-err));
}

/* Sleep until it is step @step's turn. */
static inline void demo_await(struct weave *t, uint64_t step)
{
	uint64_t cur = 0, gen = 0;
	ssize_t n;
	int err;

	for (;;) {
		n = weave_get(t, TURN_KEY, &cur, sizeof(cur), &gen);
		if (n == -ENOENT)
			cur = gen = 0;
		else if (n != sizeof(cur))
			die("reading the turn: %s", n < 0 ? strerror((int)-n) :
			    "bad size");
		if (cur == step)
			return;
		if (cur > step)
			die("step %" PRIu64 " is gone (at %" PRIu64 ")", step,
			    cur);
		err = weave_wait(t, TURN_KEY, gen, DEMO_TIMEOUT_NS, NULL);
		if (err)
			die("waiting for step %" PRIu64 " (at %" PRIu64 "): %s",
			    step, cur, strerror(-err));
	}
}

static inline void demo_pass(struct weave *t, uint64_t next)
{
	int err;

	fflush(stdout);
	err = weave_set(t, TURN_KEY, &next, sizeof(next));
	if (err)
		die("handing the turn on: %s", strerror(-err));
}

/*
 * Key 4's value after worker-a has appended to it: the first line is the
 * producer's, then lines until the value is past a page.
 */
static inline size_t demo_journal(char *buf)
{
	size_t len = strlen(demo_values[JOURNAL_KEY - 1]);
	int i;

	memcpy(buf, demo_values[JOURNAL_KEY - 1], len);
	for (i = 1; len < 6000; i++)
		len += (size_t)sprintf(buf + len, "%04d worker-a was here\n", i);
	return len;
}

/* "changed+resized+unlocked" */
static inline const char *demo_mask(uint32_t mask, char *buf, size_t len)
{
	static const char *const names[] = {
		"new", "changed", "resized", "deleted", "unlocked",
		"owner-died", "cleared", "unlinked", "overflow",
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mask & (1U << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "+" : "", names[i]);
	return buf;
}

/* Length of @s without one trailing newline, for printing values. */
static inline int demo_shown(const char *s, size_t len)
{
	if (len && s[len - 1] == '\n')
		len--;
	return (int)len;
}

#endif /* WEAVE_DEMO_H */
