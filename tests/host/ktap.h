/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KTAP for the library's host tests: check() prints one result line,
 * ktap_done() the totals and returns the exit status (1 on a failure).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVE_HOST_KTAP_H
#define WEAVE_HOST_KTAP_H

#include <stdio.h>

static int ktap_tests, ktap_failed;

static void check(int cond, const char *name)
{
	ktap_tests++;
	if (!cond)
		ktap_failed++;
	printf("%sok %d %s\n", cond ? "" : "not ", ktap_tests, name);
}

static int ktap_done(void)
{
	printf("# %d passed, %d failed\n", ktap_tests - ktap_failed,
	       ktap_failed);
	return ktap_failed ? 1 : 0;
}

#endif /* WEAVE_HOST_KTAP_H */
