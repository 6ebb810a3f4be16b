// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl: inspect and change weave registries.
 *
 * Each subcommand is a row of the command table with its own option
 * parser and --help; the netlink commands (list, show, monitor) are meant
 * to slot in as more rows.
 *
 * Exit status: 0 success, 1 failure, 2 usage error; "lock" exits with the
 * status of the command it runs.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_nl.h"
#include "escape.h"
#include "weave.h"

#define EXIT_USAGE	2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;	/* synopsis after the command name */
	const char *help;	/* one line for the overview */
	const char *options;	/* option lines for "CMD --help", or NULL */
};

static const struct cmd *cur_cmd;

/*
 * "weavectl: get demo 1: No such file or directory"; escaped like a
 * listed name, as arguments may hold any byte.
 */
__attribute__((format(printf, 2, 3)))
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "weavectl: ");
	va_start(ap, fmt);
	escape_vprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static void cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: weavectl %s %s\n", c->name, c->args);
	if (f == stdout) {
		fprintf(f, "\n%s\n", c->help);
		fprintf(f, "\noptions:\n%s  -h, --help          show this help\n",
			c->options ? c->options : "");
	}
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "weavectl: ");
	va_start(ap, fmt);
	escape_vprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cur_cmd)
		cmd_usage(stderr, cur_cmd);
	return EXIT_USAGE;
}

/* Keys are decimal, or hexadecimal with 0x; never 0. */
static int parse_key(const char *s, uint64_t *key)
{
	char *end;
	int base = 10;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		base = 16;
	if (*s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*key = strtoull(s, &end, base);
	if (errno || end == s || *end || !*key)
		return -1;
	return 0;
}

/*
 * Parse the options every command has (-h) plus @longopts; returns the
 * index of the first operand, or -1 after printing help (exit 0) and -2
 * on a usage error. @optfn handles the command's own options.
 */
static int parse_opts(int argc, char **argv, const struct option *extra,
		      const char *shortopts, int (*optfn)(int c, void *ctx),
		      void *ctx)
{
	struct option opts[8];
	char sopts[16] = "+h";
	int n = 0, c;

	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	while (extra && extra->name && n < 7)
		opts[n++] = *extra++;
	opts[n] = (struct option){ 0 };
	if (shortopts)
		strncat(sopts, shortopts, sizeof(sopts) - strlen(sopts) - 1);

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, sopts, opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_usage(stdout, cur_cmd);
			return -1;
		}
		if (c == '?' || c == ':' || !optfn || optfn(c, ctx)) {
			usage_error("%s: bad option or value '%s'", cur_cmd->name,
				    argv[optind - 1]);
			return -2;
		}
	}
	return optind;
}

#define PARSE_OR_RETURN(idx)				\
	do {						\
		if ((idx) == -1)			\
			return EXIT_SUCCESS;		\
		if ((idx) == -2)			\
			return EXIT_USAGE;		\
	} while (0)

/* Read all of @fd; *@len gets the size. */
static int slurp(int fd, unsigned char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap), *nbuf;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (!r)
			break;
		n += r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = write(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		len -= r;
	}
	return 0;
}

/* Like hexdump -C, without folding repeated lines into '*'. */
static void hexdump(const unsigned char *buf, size_t len)
{
	size_t off, i;

	if (!len)
		return;

	for (off = 0; off < len; off += 16) {
		printf("%08zx ", off);
		for (i = 0; i < 16; i++) {
			if (i == 8)
				putchar(' ');
			if (off + i < len)
				printf(" %02x", buf[off + i]);
			else
				printf("   ");
		}
		printf("  |");
		for (i = 0; i < 16 && off + i < len; i++)
			putchar(buf[off + i] >= 0x20 && buf[off + i] < 0x7f ?
				buf[off + i] : '.');
		printf("|\n");
	}
	printf("%08zx\n", len);
}

/* ---- set ---- */

struct set_opts {
	mode_t mode;
	uint64_t size;		/* capacity of a registry set creates; 0: default */
};

static int set_opt(int c, void *ctx)
{
	struct set_opts *o = ctx;
	unsigned long long n;
	unsigned long m;
	char *end;

	switch (c) {
	case 'm':
		errno = 0;
		m = strtoul(optarg, &end, 8);
		if (errno || end == optarg || *end || m > 0777)
			return -1;
		o->mode = (mode_t)m;
		return 0;
	case 's':
		/* A positive decimal number of entries. */
		if (*optarg < '0' || *optarg > '9')
			return -1;
		errno = 0;
		n = strtoull(optarg, &end, 10);
		if (errno || *end || !n)
			return -1;
		o->size = n;
		return 0;
	}
	return -1;
}

static int cmd_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ 0 }
	};
	struct set_opts o = { .mode = 0644 };
	struct weave_params params;
	const char *name, *file = "-";
	unsigned char *buf = NULL;
	struct weave_api_args api;
	struct weave *w;
	uint64_t key;
	size_t len = 0;
	int i, fd, err;

	i = parse_opts(argc, argv, opts, "m:s:", set_opt, &o);
	PARSE_OR_RETURN(i);
	if (argc - i < 2 || argc - i > 3)
		return usage_error("set: expected NAME KEY [FILE|-]");
	name = argv[i];
	if (parse_key(argv[i + 1], &key))
		return usage_error("set: bad key '%s'", argv[i + 1]);
	if (argc - i == 3)
		file = argv[i + 2];

	if (!strcmp(file, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(errno, "set %s %s: %s", name, argv[i + 1],
				    file);
	}
	err = slurp(fd, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (err)
		return fail(err, "set %s %s: %s", name, argv[i + 1], file);

	/*
	 * Created persistent, so the value outlives this command; --mode and
	 * --size apply only when this call creates it.
	 */
	memset(&params, 0, sizeof(params));
	params.max_entries = o.size;
	err = weave_open_params(name, WEAVE_OPEN_CREATE | WEAVE_OPEN_PERSIST,
				o.mode, &params, &w);
	if (!err) {
		err = weave_set(w, key, buf, len);
		weave_close(w);
	}
	free(buf);
	/* The kernel refuses a capacity above its limit with EINVAL. */
	if (err == -EINVAL && o.size && !weave_probe(&api) &&
	    o.size > api.max_entries)
		return fail(0, "set %s %s: --size %" PRIu64 " is more than "
			    "the limit of %" PRIu64 " entries", name,
			    argv[i + 1], o.size, (uint64_t)api.max_entries);
	if (err)
		return fail(err, "set %s %s", name, argv[i + 1]);
	return EXIT_SUCCESS;
}

/* ---- get ---- */

static int get_opt(int c, void *ctx)
{
	if (c != 'x')
		return -1;
	*(int *)ctx = 1;
	return 0;
}

static int cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ 0 }
	};
	unsigned char *buf = NULL, *nbuf;
	struct weave *w;
	size_t cap = 0;
	ssize_t size;
	uint64_t key;
	int i, hex = 0, err;

	i = parse_opts(argc, argv, opts, "x", get_opt, &hex);
	PARSE_OR_RETURN(i);
	if (argc - i != 2)
		return usage_error("get: expected NAME KEY");
	if (parse_key(argv[i + 1], &key))
		return usage_error("get: bad key '%s'", argv[i + 1]);

	err = weave_open(argv[i], WEAVE_OPEN_RDONLY, 0, &w);
	if (err)
		return fail(err, "get %s %s", argv[i], argv[i + 1]);
	/* The value may grow between two calls: retry with its new size. */
	for (;;) {
		size = weave_get(w, key, buf, cap, NULL);
		if (size < 0 || (size_t)size <= cap)
			break;
		nbuf = realloc(buf, size);
		if (!nbuf) {
			size = -ENOMEM;
			break;
		}
		buf = nbuf;
		cap = size;
	}
	weave_close(w);
	if (size < 0) {
		free(buf);
		return fail((int)size, "get %s %s", argv[i], argv[i + 1]);
	}
	if (hex) {
		hexdump(buf, size);
		err = fflush(stdout) ? -errno : 0;
	} else {
		err = write_all(STDOUT_FILENO, buf, size);
	}
	free(buf);
	if (err)
		return fail(err, "get %s %s: write", argv[i], argv[i + 1]);
	return EXIT_SUCCESS;
}

/* ---- keys ---- */

struct key_vec {
	uint64_t *v;
	size_t n, cap;
};

static int collect_key(uint64_t key, void *arg)
{
	struct key_vec *kv = arg;
	uint64_t *nv;

	if (kv->n == kv->cap) {
		nv = realloc(kv->v, (kv->cap ? kv->cap * 2 : 64) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		kv->v = nv;
		kv->cap = kv->cap ? kv->cap * 2 : 64;
	}
	kv->v[kv->n++] = key;
	return 0;
}

static int keys_opt(int c, void *ctx)
{
	if (c != 'j')
		return -1;
	*(int *)ctx = 1;
	return 0;
}

static int cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct key_vec kv = { 0 };
	struct weave *w;
	int i, json = 0, err;
	size_t k;

	i = parse_opts(argc, argv, opts, "j", keys_opt, &json);
	PARSE_OR_RETURN(i);
	if (argc - i != 1)
		return usage_error("keys: expected NAME");
	err = weave_open(argv[i], WEAVE_OPEN_RDONLY, 0, &w);
	if (!err) {
		/* All of them first: an error leaves no partial listing. */
		err = weave_foreach_key(w, collect_key, &kv);
		weave_close(w);
	}
	if (err) {
		free(kv.v);
		return fail(err, "keys %s", argv[i]);
	}
	if (json) {
		/* One JSON document: an array of numbers. */
		putchar('[');
		for (k = 0; k < kv.n; k++)
			printf("%s%" PRIu64, k ? "," : "", kv.v[k]);
		printf("]\n");
	} else {
		for (k = 0; k < kv.n; k++)
			printf("%" PRIu64 "\n", kv.v[k]);
	}
	free(kv.v);
	if (fflush(stdout))
		return fail(errno, "keys %s: write", argv[i]);
	return EXIT_SUCCESS;
}

/* ---- del ---- */

static int cmd_del(int argc, char **argv)
{
	struct weave *w;
	uint64_t key;
	int i, err;

	i = parse_opts(argc, argv, NULL, NULL, NULL, NULL);
	PARSE_OR_RETURN(i);
	if (argc - i != 2)
		return usage_error("del: expected NAME KEY");
	if (parse_key(argv[i + 1], &key))
		return usage_error("del: bad key '%s'", argv[i + 1]);
	err = weave_open(argv[i], 0, 0, &w);
	if (!err) {
		err = weave_delete(w, key);
		weave_close(w);
	}
	if (err)
		return fail(err, "del %s %s", argv[i], argv[i + 1]);
	return EXIT_SUCCESS;
}

/* ---- rm ---- */

static int cmd_rm(int argc, char **argv)
{
	int i, err;

	i = parse_opts(argc, argv, NULL, NULL, NULL, NULL);
	PARSE_OR_RETURN(i);
	if (argc - i != 1)
		return usage_error("rm: expected NAME");
	err = weave_unlink(argv[i]);
	if (err)
		return fail(err, "rm %s", argv[i]);
	return EXIT_SUCCESS;
}

/* ---- lock ---- */

struct lock_opts {
	unsigned int flags;
	int64_t timeout_ns;	/* -1: wait for as long as it takes */
};

static int lock_opt(int c, void *ctx)
{
	struct lock_opts *o = ctx;
	double secs;
	char *end;

	switch (c) {
	case 's':
		o->flags |= WEAVE_LOCK_SHARED;
		return 0;
	case 'n':
		o->flags |= WEAVE_LOCK_NONBLOCK;
		return 0;
	case 'w':
		errno = 0;
		secs = strtod(optarg, &end);
		if (errno || end == optarg || *end || !(secs >= 0) ||
		    secs > 1e9)
			return -1;
		o->timeout_ns = (int64_t)(secs * 1e9);
		return 0;
	}
	return -1;
}

/* Exit status of a finished child, as a shell reports it. */
static int child_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAILURE;
}

static int cmd_lock(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shared", no_argument, NULL, 's' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'w' },
		{ 0 }
	};
	struct lock_opts o = { .timeout_ns = -1 };
	const char *name, *keystr;
	struct weave *w;
	uint64_t key;
	int i, err, ret, status, died;
	pid_t pid;

	i = parse_opts(argc, argv, opts, "snw:", lock_opt, &o);
	PARSE_OR_RETURN(i);
	if (argc - i >= 3 && !strcmp(argv[i + 2], "--"))
		argv[i + 2] = NULL;	/* "NAME KEY -- COMMAND" */
	if (argc - i < 3 || (!argv[i + 2] && argc - i < 4))
		return usage_error("lock: expected NAME KEY -- COMMAND [ARG...]");
	name = argv[i];
	keystr = argv[i + 1];
	if (parse_key(keystr, &key))
		return usage_error("lock: bad key '%s'", keystr);
	argv += i + (argv[i + 2] ? 2 : 3);

	/*
	 * Like flock(1) creating its lock file, a missing registry is made,
	 * not persistent: it lives while someone locks in it. A shared lock
	 * works on a registry this user may only read.
	 */
	err = weave_open(name, WEAVE_OPEN_CREATE, 0600, &w);
	if (err == -EACCES && (o.flags & WEAVE_LOCK_SHARED))
		err = weave_open(name, WEAVE_OPEN_RDONLY, 0, &w);
	if (err)
		return fail(err, "lock %s", name);

	ret = weave_lock(w, key, o.flags, o.timeout_ns);
	if (ret < 0) {
		weave_close(w);
		if (ret == -EAGAIN || ret == -ETIMEDOUT)
			return fail(0, "lock %s %s: %s", name, keystr,
				    ret == -EAGAIN ? "held by another process" :
				    "timed out");
		return fail(ret, "lock %s %s", name, keystr);
	}
	died = ret == WEAVE_LOCK_OWNER_DIED;
	if (died)
		fail(0, "lock %s %s: the previous holder died holding it",
		     name, keystr);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		weave_unlock(w, key, 0);
		weave_close(w);
		return fail(err, "lock %s: fork", name);
	}
	if (pid == 0) {
		/* The weave fd is O_CLOEXEC: the lock stays with weavectl. */
		if (died)
			setenv("WEAVE_LOCK_OWNER_DIED", "1", 1);
		execvp(argv[0], argv);
		err = errno;
		fail(err, "lock: %s", argv[0]);
		_exit(err == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = EXIT_FAILURE << 8;
			break;
		}
	}
	ret = child_status(status);
	/* A command that succeeded after an owner death repaired the value. */
	err = weave_unlock(w, key, died && ret == 0 ?
			   WEAVE_UNLOCK_CONSISTENT : 0);
	weave_close(w);
	if (err)
		fail(err, "unlock %s %s", name, keystr);
	return ret;
}

static const struct cmd cmds[] = {
	{ "set", cmd_set, "[--mode OCTAL] [--size N] NAME KEY [FILE|-]",
	  "Set KEY of registry NAME to the contents of FILE (default: standard\n"
	  "input), creating the registry, persistent, when it does not exist.",
	  "  -m, --mode OCTAL    permissions of a registry set creates (0644)\n"
	  "  -s, --size N        capacity (most entries) of a registry set\n"
	  "                      creates (default: the module's max_entries)\n" },
	{ "get", cmd_get, "[--hex] NAME KEY",
	  "Write the value of KEY in registry NAME to standard output.",
	  "  -x, --hex           print a hex dump instead of the raw bytes\n" },
	{ "keys", cmd_keys, "[--json] NAME",
	  "Print the keys of registry NAME, one per line.",
	  "  -j, --json          one JSON document: an array of the keys\n" },
	{ "del", cmd_del, "NAME KEY",
	  "Delete KEY from registry NAME.", NULL },
	{ "rm", cmd_rm, "NAME",
	  "Remove the name NAME; the registry lives on while it is in use.",
	  NULL },
	{ "lock", cmd_lock, "[-s] [-n] [-w SECONDS] NAME KEY -- COMMAND [ARG...]",
	  "Run COMMAND while holding the lock of KEY in registry NAME, like\n"
	  "flock(1); the exit status is COMMAND's. A missing registry is\n"
	  "created (not persistent). When the previous holder died holding\n"
	  "the lock, COMMAND runs with WEAVE_LOCK_OWNER_DIED=1 and the entry is\n"
	  "marked consistent again if it exits 0.",
	  "  -s, --shared        a shared lock instead of an exclusive one\n"
	  "  -n, --nonblock      fail (exit 1) instead of waiting when it is held\n"
	  "  -w, --timeout SECONDS\n"
	  "                      fail (exit 1) after waiting SECONDS\n" },
	{ "list", cmd_list, CMD_LIST_ARGS, CMD_LIST_HELP, CMD_LIST_OPTS },
	{ "show", cmd_show, CMD_SHOW_ARGS, CMD_SHOW_HELP, CMD_SHOW_OPTS },
	{ "monitor", cmd_monitor, CMD_MONITOR_ARGS, CMD_MONITOR_HELP,
	  CMD_MONITOR_OPTS },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	size_t i, len, width = 0;

	/* The synopses in one column, after the longest command name. */
	for (i = 0; i < NCMDS; i++) {
		len = strlen(cmds[i].name);
		if (len > width)
			width = len;
	}
	fprintf(f, "usage: weavectl COMMAND [OPTIONS] [ARGS]\n"
		   "       weavectl COMMAND --help\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-*s %s\n", (int)width, cmds[i].name,
			cmds[i].args);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2) {
			for (i = 0; i < NCMDS; i++)
				if (!strcmp(argv[2], cmds[i].name)) {
					cur_cmd = &cmds[i];
					cmd_usage(stdout, cur_cmd);
					return EXIT_SUCCESS;
				}
			return usage_error("unknown command '%s'", argv[2]);
		}
		usage(stdout);
		return EXIT_SUCCESS;
	}
	for (i = 0; i < NCMDS; i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			cur_cmd = &cmds[i];
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	usage_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
