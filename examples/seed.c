// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * seed: the example of the JavaScript weave README, ported.
 *
 *	const registry = new Registry(1_000)
 *	await map.set(1, ...)		// main thread
 *	await map.get(1)		// worker
 *
 * The parent creates the registry "seed" with a capacity of 1,000 entries
 * and sets key 1 to "suh". A forked child then opens it by name, as any
 * separately started process could ("seed get" does just that), gets key
 * 1 and walks keys, values and entries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weave.h>

#define NAME	"seed"

static int die(const char *what, int err)
{
	fprintf(stderr, "seed: %s: %s\n", what, strerror(-err));
	return 1;
}

static int print_key(uint64_t key, void *arg)
{
	(void)arg;
	printf(" %" PRIu64, key);
	return 0;
}

static int print_value(uint64_t key, const void *buf, size_t size,
		       uint64_t gen, void *arg)
{
	(void)key;
	(void)gen;
	(void)arg;
	printf(" \"%.*s\"", (int)size, (const char *)buf);
	return 0;
}

static int print_entry(uint64_t key, const void *buf, size_t size,
		       uint64_t gen, void *arg)
{
	(void)arg;
	printf(" [%" PRIu64 ", \"%.*s\" (gen %" PRIu64 ")]", key, (int)size,
	       (const char *)buf, gen);
	return 0;
}

/* The worker's side: open by name, get(1), then iterate. */
static int worker(void)
{
	struct weave *w;
	char buf[64];
	ssize_t n;
	int err;

	err = weave_open(NAME, WEAVE_OPEN_RDONLY, 0, &w);
	if (err)
		return die("open " NAME, err);
	n = weave_get(w, 1, buf, sizeof(buf), NULL);
	if (n < 0)
		return die("get 1", (int)n);
	printf("get(1) = \"%.*s\"\n", (int)(n < 64 ? n : 64), buf);

	printf("size = %" PRId64 "\n", weave_count(w));
	printf("keys():");
	err = weave_foreach_key(w, print_key, NULL);
	printf("\nvalues():");
	if (!err)
		err = weave_foreach_entry(w, print_value, NULL);
	printf("\nentries():");
	if (!err)
		err = weave_foreach_entry(w, print_entry, NULL);
	printf("\n");
	weave_close(w);
	return err ? die("iterate", err) : 0;
}

int main(int argc, char **argv)
{
	struct weave_params p = { .max_entries = 1000 };
	struct weave *w;
	int err, status;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "get"))
		return worker();

	err = weave_open_params(NAME, WEAVE_OPEN_CREATE, 0600, &p, &w);
	if (err)
		return die("open " NAME, err);
	err = weave_set(w, 1, "suh", 3);
	if (!err)
		err = weave_set(w, 2, "dude", 4);
	if (!err)
		err = weave_set(w, 1000, "last", 4);
	if (err)
		return die("set", err);
	printf("parent set 1, 2 and 1000%s\n",
	       p.result & WEAVE_OPEN_CREATED ? " in a new registry" : "");
	fflush(stdout);

	pid = fork();
	if (pid < 0)
		return die("fork", -errno);
	if (pid == 0)
		_exit(worker());
	waitpid(pid, &status, 0);

	/* The registry is not persistent: it goes when the last user does. */
	weave_close(w);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
