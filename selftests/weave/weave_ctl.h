/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running weavectl from the weavectl and netlink selftests, next to
 * weave_util.h. weavectl runs as a child (fork + exec, standard input
 * from a pipe, output through pipes), found next to the selftests
 * directory: ../weavectl from the test program (the guest's
 * /weave/weavectl).
 */
#ifndef __WEAVE_CTL_H
#define __WEAVE_CTL_H

#include "weave_proc.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>

#define WV_CTL_OUT_MAX		(256 * 1024)

/* wv_ctl_start() flags: what the child does before it runs weavectl. */
#define WV_CTL_NOBODY		(1 << 0)	/* wv_become(WV_NOBODY) first */
#define WV_CTL_NEWIPC		(1 << 1)	/* unshare(CLONE_NEWIPC) first */
#define WV_CTL_FULL		(1 << 2)	/* standard output on /dev/full */
#define WV_CTL_NOPROC		(1 << 3)	/* RLIMIT_NPROC 0: no fork() */
#define WV_CTL_NOCHLD		(1 << 4)	/* SIGCHLD ignored */

/*
 * A name tail with what a terminal acts on or cannot show: a raw C1 byte
 * (so the name is not UTF-8), CSI encoded as UTF-8, ESC, a newline, a
 * tab, a backslash that reads like an escape, and 0xff; and its text and
 * JSON forms (U+FFFD for the two bytes that are not UTF-8).
 */
#define WV_ODD_TAIL	"-\x85\xc2\x9b\x1b[31m\n\t\\x41\xff"
#define WV_ODD_TEXT	"-\\x85\\xc2\\x9b\\x1b[31m\\x0a\\x09\\\\x41\\xff"
#define WV_ODD_JSON	\
	"-\xef\xbf\xbd\\u009b\\u001b[31m\\n\\t\\\\x41\xef\xbf\xbd"

struct wv_ctl {
	int status;		/* exit status, or 128 + signal */
	char out[WV_CTL_OUT_MAX];
	char err[8192];
};

static inline const char *wv_ctl_path(void)
{
	static char path[4096];
	char *slash;
	ssize_t n;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return "weavectl";
	path[n] = '\0';
	slash = strrchr(path, '/');		/* .../selftests/xxx_test */
	*slash = '\0';
	slash = strrchr(path, '/');		/* .../selftests */
	strcpy(slash, "/weavectl");
	return path;
}

/*
 * Start weavectl with @argv (argv[0] is ignored) and @flags: its standard
 * input is the pipe written through *@in, its output the pipes read
 * through *@out and *@err. Every end the test keeps is O_CLOEXEC, so no
 * other child holds the input pipe open.
 */
static inline pid_t wv_ctl_start(int flags, char *const argv[], int *in,
				 int *out, int *err)
{
	int pi[2], po[2], pe[2];
	pid_t pid;

	if (pipe2(pi, O_CLOEXEC) || pipe2(po, O_CLOEXEC) ||
	    pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if ((flags & WV_CTL_NEWIPC) && unshare(CLONE_NEWIPC))
			_exit(120);
		if (flags & WV_CTL_FULL) {
			int full = open("/dev/full", O_WRONLY);

			if (full < 0 || dup2(full, 1) < 0)
				_exit(123);
		}
		if ((flags & WV_CTL_NOCHLD) && signal(SIGCHLD, SIG_IGN) ==
		    SIG_ERR)
			_exit(125);
		if (flags & WV_CTL_NOPROC) {
			struct rlimit no = { 0, 0 };

			if (setrlimit(RLIMIT_NPROC, &no))
				_exit(124);
		}
		if ((flags & WV_CTL_NOBODY) && wv_become(WV_NOBODY, WV_NOBODY))
			_exit(121);
		execv(wv_ctl_path(), argv);
		_exit(122);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	*in = pi[1];
	*out = po[0];
	*err = pe[0];
	return pid;
}

/* Append what @fd has to @buf (of @size, NUL-terminated); 0 at EOF. */
static inline int wv_ctl_drain(int fd, char *buf, size_t size)
{
	size_t len = strlen(buf);
	ssize_t n;

	if (len + 1 >= size)
		return 0;
	n = read(fd, buf + len, size - len - 1);
	if (n <= 0)
		return 0;
	buf[len + n] = '\0';
	return 1;
}

/* Read @out and @err into @c until both end (or 10 s pass quietly). */
static inline void wv_ctl_collect(struct wv_ctl *c, int out, int err)
{
	struct pollfd p[2] = { { .fd = out, .events = POLLIN },
			       { .fd = err, .events = POLLIN } };
	int open_fds = 2, i;

	while (open_fds) {
		if (poll(p, 2, 10000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			char *buf = i ? c->err : c->out;
			size_t size = i ? sizeof(c->err) : sizeof(c->out);

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (!wv_ctl_drain(p[i].fd, buf, size)) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
}

/*
 * Run weavectl to completion with @flags and @input (@len bytes, less
 * than a pipe holds) on its standard input: its exit status; output in @c.
 */
static inline int wv_ctl_run(struct wv_ctl *c, int flags, const void *input,
			     size_t len, char *const argv[])
{
	int in, out, err;
	pid_t pid;

	c->out[0] = c->err[0] = '\0';
	pid = wv_ctl_start(flags, argv, &in, &out, &err);
	if (pid < 0)
		return c->status = -1;
	if (len && write(in, input, len) != (ssize_t)len)
		len = 0;	/* the status below tells */
	close(in);
	wv_ctl_collect(c, out, err);
	return c->status = wv_wait_pid(pid);
}

/* weavectl ARGS..., with nothing on its standard input. */
#define WV_CTL(c, ...) ({						\
	char *const __argv[] = { "weavectl", __VA_ARGS__, NULL };	\
	wv_ctl_run((c), 0, NULL, 0, __argv);				\
})
/* The same with @len bytes of @in on its standard input. */
#define WV_CTL_IN(c, in, len, ...) ({					\
	char *const __argv[] = { "weavectl", __VA_ARGS__, NULL };	\
	wv_ctl_run((c), 0, (in), (len), __argv);			\
})
/* The same with wv_ctl_start() flags @fl. */
#define WV_CTL_AS(c, fl, ...) ({					\
	char *const __argv[] = { "weavectl", __VA_ARGS__, NULL };	\
	wv_ctl_run((c), (fl), NULL, 0, __argv);				\
})

/* The line of `list -p` output for @name (without its newline), or NULL. */
static inline char *wv_list_line(const char *out, const char *name,
				 char *line, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = out, *eol;

	while (*p) {
		eol = strchrnul(p, '\n');
		if (!strncmp(p, name, nlen) && p[nlen] == '\t') {
			snprintf(line, size, "%.*s", (int)(eol - p), p);
			return line;
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* @s in lowercase hex, as weavectl's JSON "name_hex" has it. */
static inline const char *wv_hex(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && 2 * i + 2 < size; i++)
		snprintf(buf + 2 * i, 3, "%02x", (unsigned char)s[i]);
	buf[2 * i] = '\0';
	return buf;
}

#endif /* __WEAVE_CTL_H */
