// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl: inspect and change weave registries.
 *
 * Each command is one row of the command table: its name, handler,
 * synopsis, number of operands, help and options. One parser reads the
 * options of every command (ioctl ones here, netlink ones in cmd_nl.c)
 * into a struct ctl_opts and checks the operands; one function prints
 * every usage and help text.
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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"
#include "weave.h"
#include "weavectl.h"

enum ctl_opt_id {
	OPT_NONE,		/* ends a command's option list */
	OPT_MODE, OPT_SIZE, OPT_HEX, OPT_JSON, OPT_PARSABLE, OPT_SHARED,
	OPT_NONBLOCK, OPT_TIMEOUT,
};

/*
 * Every option by its id: the letter, the long name, and the name of its
 * value or, for an option without one, its bit in ctl_opts.flags.
 */
static const struct {
	char letter;
	const char *name;
	const char *arg;
	unsigned int flag;
} ctl_opt_names[] = {
	[OPT_MODE] = { 'm', "mode", "OCTAL", 0 },
	[OPT_SIZE] = { 's', "size", "N", 0 },
	[OPT_HEX] = { 'x', "hex", NULL, CTL_HEX },
	[OPT_JSON] = { 'j', "json", NULL, CTL_JSON },
	[OPT_PARSABLE] = { 'p', "parsable", NULL, CTL_PARSABLE },
	[OPT_SHARED] = { 's', "shared", NULL, CTL_SHARED },
	[OPT_NONBLOCK] = { 'n', "nonblock", NULL, CTL_NONBLOCK },
	[OPT_TIMEOUT] = { 'w', "timeout", "SECONDS", 0 },
};

#define CMD_MAX_OPTS	3

struct cmd {
	const char *name;
	int (*fn)(const struct ctl_opts *o, int argc, char **argv);
	const char *args;	/* synopsis after the command name */
	int min_args, max_args;	/* operands; max -1: any number */
	const char *help;	/* the paragraph of "CMD --help" */
	struct {
		enum ctl_opt_id id;
		const char *help;	/* lines after the first are indented */
	} opts[CMD_MAX_OPTS + 1];
};

static const struct cmd *cur_cmd;

/* The option help's second column, as in "  -x, --hex           ...". */
#define OPT_HELP_COL	22

static void cmd_usage(FILE *f, const struct cmd *c)
{
	const char *h, *nl;
	int i, n;

	fprintf(f, "usage: weavectl %s %s\n", c->name, c->args);
	if (f != stdout)
		return;
	fprintf(f, "\n%s\n\noptions:\n", c->help);
	for (i = 0; c->opts[i].id != OPT_NONE; i++) {
		enum ctl_opt_id id = c->opts[i].id;

		n = fprintf(f, "  -%c, --%s%s%s", ctl_opt_names[id].letter,
			    ctl_opt_names[id].name,
			    ctl_opt_names[id].arg ? " " : "",
			    ctl_opt_names[id].arg ? ctl_opt_names[id].arg : "");
		if (n >= OPT_HELP_COL)
			n = fprintf(f, "\n") - 1;
		for (h = c->opts[i].help; h; h = nl ? nl + 1 : NULL) {
			nl = strchr(h, '\n');
			fprintf(f, "%*s%.*s\n", OPT_HELP_COL - n, "",
				nl ? (int)(nl - h) : (int)strlen(h), h);
			n = 0;
		}
	}
	fprintf(f, "  -h, --help          show this help\n");
}

int ctl_fail(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "weavectl: ");
	va_start(ap, fmt);
	escape_vprintf(stderr, fmt, ap);
	va_end(ap);
	if (err == -EBADMSG)
		fprintf(stderr, ": Malformed netlink message from the kernel");
	else if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "weavectl: ");
	if (cur_cmd)
		fprintf(stderr, "%s: ", cur_cmd->name);
	va_start(ap, fmt);
	escape_vprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cur_cmd)
		cmd_usage(stderr, cur_cmd);
	return EXIT_USAGE;
}

/* The operands part of a synopsis: after its "[-x ...]" options. */
static const char *operands(const char *args)
{
	while (args[0] == '[' && args[1] == '-') {
		args = strchr(args, ']');
		if (!args)
			return "";
		args += strspn(args + 1, " ") + 1;
	}
	return args;
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

/* The value of option @id, in @arg when it takes one, into @o. */
static int set_opt(struct ctl_opts *o, enum ctl_opt_id id, const char *arg)
{
	unsigned long long n;
	unsigned long m;
	double secs;
	char *end;

	if (!ctl_opt_names[id].arg) {
		o->flags |= ctl_opt_names[id].flag;
		return 0;
	}
	switch (id) {
	case OPT_MODE:
		errno = 0;
		m = strtoul(arg, &end, 8);
		if (errno || end == arg || *end || m > 0777)
			return -1;
		o->mode = (mode_t)m;
		return 0;
	case OPT_SIZE:
		/* A positive decimal number of entries. */
		if (*arg < '0' || *arg > '9')
			return -1;
		errno = 0;
		n = strtoull(arg, &end, 10);
		if (errno || *end || !n)
			return -1;
		o->size = n;
		return 0;
	case OPT_TIMEOUT:
		errno = 0;
		secs = strtod(arg, &end);
		if (errno || end == arg || *end || !(secs >= 0) || secs > 1e9)
			return -1;
		o->timeout_ns = (int64_t)(secs * 1e9);
		return 0;
	default:
		break;
	}
	return -1;
}

/*
 * Run command @c: parse its options (-h and those of its row) from
 * @argv (argv[0] is the command's name), check the number of operands,
 * call its handler.
 */
static int run_cmd(const struct cmd *c, int argc, char **argv)
{
	struct option lopts[CMD_MAX_OPTS + 2] = {
		{ "help", no_argument, NULL, 'h' },
	};
	struct ctl_opts o = { .mode = 0644, .timeout_ns = -1 };
	char sopts[2 * CMD_MAX_OPTS + 3] = "+h";
	size_t len = strlen(sopts);
	int i, ch, nargs;

	cur_cmd = c;
	for (i = 0; c->opts[i].id != OPT_NONE; i++) {
		enum ctl_opt_id id = c->opts[i].id;
		bool has_arg = ctl_opt_names[id].arg;

		lopts[i + 1] = (struct option){ ctl_opt_names[id].name,
			has_arg ? required_argument : no_argument, NULL,
			ctl_opt_names[id].letter };
		sopts[len++] = ctl_opt_names[id].letter;
		if (has_arg)
			sopts[len++] = ':';
	}
	sopts[len] = '\0';

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (ch == 'h') {
			cmd_usage(stdout, c);
			return EXIT_SUCCESS;
		}
		for (i = 0; c->opts[i].id != OPT_NONE; i++)
			if (ctl_opt_names[c->opts[i].id].letter == ch)
				break;
		if (c->opts[i].id == OPT_NONE ||
		    set_opt(&o, c->opts[i].id, optarg))
			return ctl_usage_error("bad option or value '%s'",
					       argv[optind - 1]);
	}
	nargs = argc - optind;
	if (nargs < c->min_args)
		return ctl_usage_error("expected %s", operands(c->args));
	if (c->max_args >= 0 && nargs > c->max_args)
		return ctl_usage_error("unexpected argument '%s'",
				       argv[optind + c->max_args]);
	return c->fn(&o, nargs, argv + optind);
}

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

static int cmd_set(const struct ctl_opts *o, int argc, char **argv)
{
	struct weave_params params;
	const char *name, *file = "-";
	unsigned char *buf = NULL;
	struct weave_api_args api;
	struct weave *w;
	uint64_t key;
	size_t len = 0;
	int fd, err;

	name = argv[0];
	if (parse_key(argv[1], &key))
		return ctl_usage_error("bad key '%s'", argv[1]);
	if (argc == 3)
		file = argv[2];

	if (!strcmp(file, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ctl_fail(errno, "set %s %s: %s", name, argv[1],
					file);
	}
	err = slurp(fd, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (err)
		return ctl_fail(err, "set %s %s: %s", name, argv[1], file);

	/*
	 * Created persistent, so the value outlives this command; --mode and
	 * --size apply only when this call creates it.
	 */
	memset(&params, 0, sizeof(params));
	params.max_entries = o->size;
	err = weave_open_params(name, WEAVE_OPEN_CREATE | WEAVE_OPEN_PERSIST,
				o->mode, &params, &w);
	if (!err) {
		err = weave_set(w, key, buf, len);
		weave_close(w);
	}
	free(buf);
	/* The kernel refuses a capacity above its limit with EINVAL. */
	if (err == -EINVAL && o->size && !weave_probe(&api) &&
	    o->size > api.max_entries)
		return ctl_fail(0, "set %s %s: --size %" PRIu64 " is more than "
				"the limit of %" PRIu64 " entries", name,
				argv[1], o->size, (uint64_t)api.max_entries);
	if (err)
		return ctl_fail(err, "set %s %s", name, argv[1]);
	return EXIT_SUCCESS;
}

/* ---- get ---- */

static int cmd_get(const struct ctl_opts *o, int argc, char **argv)
{
	unsigned char *buf = NULL, *nbuf;
	struct weave *w;
	size_t cap = 0;
	ssize_t size;
	uint64_t key;
	int err;

	(void)argc;
	if (parse_key(argv[1], &key))
		return ctl_usage_error("bad key '%s'", argv[1]);

	err = weave_open(argv[0], WEAVE_OPEN_RDONLY, 0, &w);
	if (err)
		return ctl_fail(err, "get %s %s", argv[0], argv[1]);
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
		return ctl_fail((int)size, "get %s %s", argv[0], argv[1]);
	}
	if (o->flags & CTL_HEX) {
		hexdump(buf, size);
		err = fflush(stdout) ? -errno : 0;
	} else {
		err = write_all(STDOUT_FILENO, buf, size);
	}
	free(buf);
	if (err)
		return ctl_fail(err, "get %s %s: write", argv[0], argv[1]);
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

static int cmd_keys(const struct ctl_opts *o, int argc, char **argv)
{
	struct key_vec kv = { 0 };
	struct weave *w;
	size_t k;
	int err;

	(void)argc;
	err = weave_open(argv[0], WEAVE_OPEN_RDONLY, 0, &w);
	if (!err) {
		/* All of them first: an error leaves no partial listing. */
		err = weave_foreach_key(w, collect_key, &kv);
		weave_close(w);
	}
	if (err) {
		free(kv.v);
		return ctl_fail(err, "keys %s", argv[0]);
	}
	if (o->flags & CTL_JSON) {
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
		return ctl_fail(errno, "keys %s: write", argv[0]);
	return EXIT_SUCCESS;
}

/* ---- del ---- */

static int cmd_del(const struct ctl_opts *o, int argc, char **argv)
{
	struct weave *w;
	uint64_t key;
	int err;

	(void)o;
	(void)argc;
	if (parse_key(argv[1], &key))
		return ctl_usage_error("bad key '%s'", argv[1]);
	err = weave_open(argv[0], 0, 0, &w);
	if (!err) {
		err = weave_delete(w, key);
		weave_close(w);
	}
	if (err)
		return ctl_fail(err, "del %s %s", argv[0], argv[1]);
	return EXIT_SUCCESS;
}

/* ---- rm ---- */

static int cmd_rm(const struct ctl_opts *o, int argc, char **argv)
{
	int err;

	(void)o;
	(void)argc;
	err = weave_unlink(argv[0]);
	if (err)
		return ctl_fail(err, "rm %s", argv[0]);
	return EXIT_SUCCESS;
}

/* ---- lock ---- */

/* Exit status of a finished child, as a shell reports it. */
static int child_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAILURE;
}

static int cmd_lock(const struct ctl_opts *o, int argc, char **argv)
{
	unsigned int flags = (o->flags & CTL_SHARED ? WEAVE_LOCK_SHARED : 0) |
			     (o->flags & CTL_NONBLOCK ? WEAVE_LOCK_NONBLOCK : 0);
	const char *name, *keystr;
	struct weave *w;
	uint64_t key;
	int err, ret, status, died;
	pid_t pid;

	if (!strcmp(argv[2], "--"))
		argv[2] = NULL;		/* "NAME KEY -- COMMAND" */
	if (!argv[2] && argc < 4)
		return ctl_usage_error("expected NAME KEY -- COMMAND [ARG...]");
	name = argv[0];
	keystr = argv[1];
	if (parse_key(keystr, &key))
		return ctl_usage_error("bad key '%s'", keystr);
	argv += argv[2] ? 2 : 3;

	/*
	 * Like flock(1) creating its lock file, a missing registry is made,
	 * not persistent: it lives while someone locks in it. A shared lock
	 * works on a registry this user may only read.
	 */
	err = weave_open(name, WEAVE_OPEN_CREATE, 0600, &w);
	if (err == -EACCES && (flags & WEAVE_LOCK_SHARED))
		err = weave_open(name, WEAVE_OPEN_RDONLY, 0, &w);
	if (err)
		return ctl_fail(err, "lock %s", name);

	ret = weave_lock(w, key, flags, o->timeout_ns);
	if (ret < 0) {
		weave_close(w);
		if (ret == -EAGAIN || ret == -ETIMEDOUT)
			return ctl_fail(0, "lock %s %s: %s", name, keystr,
					ret == -EAGAIN ? "held by another process" :
					"timed out");
		return ctl_fail(ret, "lock %s %s", name, keystr);
	}
	died = ret == WEAVE_LOCK_OWNER_DIED;
	if (died)
		ctl_fail(0, "lock %s %s: the previous holder died holding it",
			 name, keystr);

	/*
	 * Started with SIGCHLD ignored (inherited across exec), the
	 * command would be reaped unseen and waitpid() fail with ECHILD:
	 * its exit status would be lost.
	 */
	signal(SIGCHLD, SIG_DFL);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		weave_unlock(w, key, 0);
		weave_close(w);
		return ctl_fail(err, "lock %s: fork", name);
	}
	if (pid == 0) {
		/* The weave fd is O_CLOEXEC: the lock stays with weavectl. */
		if (died)
			setenv("WEAVE_LOCK_OWNER_DIED", "1", 1);
		execvp(argv[0], argv);
		err = errno;
		ctl_fail(err, "lock: %s", argv[0]);
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
		ctl_fail(err, "unlock %s %s", name, keystr);
	return ret;
}

static const struct cmd cmds[] = {
	{ "set", cmd_set, "[--mode OCTAL] [--size N] NAME KEY [FILE|-]", 2, 3,
	  "Set KEY of registry NAME to the contents of FILE (default: standard\n"
	  "input), creating the registry, persistent, when it does not exist.",
	  { { OPT_MODE, "permissions of a registry set creates (0644)" },
	    { OPT_SIZE, "capacity (most entries) of a registry set\n"
			"creates (default: the module's max_entries)" } } },
	{ "get", cmd_get, "[--hex] NAME KEY", 2, 2,
	  "Write the value of KEY in registry NAME to standard output.",
	  { { OPT_HEX, "print a hex dump instead of the raw bytes" } } },
	{ "keys", cmd_keys, "[--json] NAME", 1, 1,
	  "Print the keys of registry NAME, one per line.",
	  { { OPT_JSON, "one JSON document: an array of the keys" } } },
	{ "del", cmd_del, "NAME KEY", 2, 2,
	  "Delete KEY from registry NAME.", { { OPT_NONE } } },
	{ "rm", cmd_rm, "NAME", 1, 1,
	  "Remove the name NAME; the registry lives on while it is in use.",
	  { { OPT_NONE } } },
	{ "lock", cmd_lock,
	  "[-s] [-n] [-w SECONDS] NAME KEY -- COMMAND [ARG...]", 3, -1,
	  "Run COMMAND while holding the lock of KEY in registry NAME, like\n"
	  "flock(1); the exit status is COMMAND's. A missing registry is\n"
	  "created (not persistent). When the previous holder died holding\n"
	  "the lock, COMMAND runs with WEAVE_LOCK_OWNER_DIED=1 and the entry is\n"
	  "marked consistent again if it exits 0.",
	  { { OPT_SHARED, "a shared lock instead of an exclusive one" },
	    { OPT_NONBLOCK, "fail (exit 1) instead of waiting when it is held" },
	    { OPT_TIMEOUT, "fail (exit 1) after waiting SECONDS" } } },
	{ "list", cmd_list, "[--json] [--parsable]", 0, 0,
	  "List the registries you may read: name, id, owner, mode, flags,\n"
	  "entries, bytes used and charged, attached files, mappings and\n"
	  "watchers.",
	  { { OPT_JSON, "one JSON document" },
	    { OPT_PARSABLE, "exact numbers, tab-separated, no header" } } },
	{ "show", cmd_show, "[--json] [--parsable] NAME", 1, 1,
	  "Show registry NAME and its entries: key, gen, size, lock state,\n"
	  "lock holders and waiters.",
	  { { OPT_JSON, "one JSON document" },
	    { OPT_PARSABLE, "exact numbers, tab-separated, no header" } } },
	{ "monitor", cmd_monitor, "[--json] [NAME]", 0, 1,
	  "Print registry changes (of NAME only, if given) as they happen,\n"
	  "one line each, until interrupted. Needs CAP_SYS_ADMIN.",
	  { { OPT_JSON, "one JSON object per line" } } },
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
					cmd_usage(stdout, &cmds[i]);
					return EXIT_SUCCESS;
				}
			return ctl_usage_error("unknown command '%s'", argv[2]);
		}
		usage(stdout);
		return EXIT_SUCCESS;
	}
	for (i = 0; i < NCMDS; i++) {
		if (!strcmp(argv[1], cmds[i].name))
			return run_cmd(&cmds[i], argc - 1, argv + 1);
	}
	ctl_usage_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
