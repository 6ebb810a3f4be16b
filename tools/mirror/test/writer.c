// SPDX-License-Identifier: GPL-2.0
/*
 * writer: the load of weave-mirror's tests, in one process a writer
 * rather than a weavectl a set (which would time process start-up under
 * TCG, not the mirror).
 *
 * Usage: writer REGISTRY TAG SETS FIRST KEYS
 * Sets key FIRST + i % KEYS to "TAG-i" for i = 0 .. SETS - 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weave.h>

int main(int argc, char **argv)
{
	unsigned long sets, first, keys, i;
	struct weave *w;
	char val[64];
	int len, err;

	if (argc != 6) {
		fputs("usage: writer REGISTRY TAG SETS FIRST KEYS\n", stderr);
		return 2;
	}
	sets = strtoul(argv[3], NULL, 10);
	first = strtoul(argv[4], NULL, 10);
	keys = strtoul(argv[5], NULL, 10);
	if (!first || !keys) {
		fputs("writer: FIRST and KEYS must be positive\n", stderr);
		return 2;
	}
	err = weave_open(argv[1], 0, 0, &w);
	if (err) {
		fprintf(stderr, "writer: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	for (i = 0; i < sets && !err; i++) {
		len = snprintf(val, sizeof(val), "%s-%lu", argv[2], i);
		err = weave_set(w, first + i % keys, val, len);
	}
	if (err)
		fprintf(stderr, "writer: set: %s\n", strerror(-err));
	weave_close(w);
	return err ? 1 : 0;
}
