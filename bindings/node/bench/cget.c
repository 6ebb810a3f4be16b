// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The C side of the Node.js binding's bench: nanoseconds per weave_get()
 * of a SIZE-byte value, the median of REPS runs of N gets each.
 *
 * Usage: cget SIZE N REPS
 *
 * Copyright (C) 2026 The weave authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <weave.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t size;
	long n, reps, i, r;
	double *t, t0;
	struct weave *w;
	char *buf;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: cget SIZE N REPS\n");
		return 2;
	}
	size = strtoul(argv[1], NULL, 0);
	n = strtol(argv[2], NULL, 0);
	reps = strtol(argv[3], NULL, 0);
	buf = calloc(1, size + 1);
	t = calloc((size_t)reps, sizeof(*t));
	if (!buf || !t || n <= 0 || reps <= 0)
		return 1;
	err = weave_open(NULL, 0, 0, &w);
	if (!err)
		err = weave_set(w, 1, buf, size);
	if (err) {
		fprintf(stderr, "cget: %s\n", strerror(-err));
		return 1;
	}
	for (r = 0; r < reps; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (weave_get(w, 1, buf, size, NULL) != (ssize_t)size)
				return 1;
		}
		t[r] = (now_ns() - t0) / (double)n;
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp);
	printf("%.0f\n", t[reps / 2]);
	weave_close(w);
	free(t);
	free(buf);
	return 0;
}
