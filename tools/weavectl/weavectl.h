/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weavectl: what the command table (weavectl.c) and the commands share.
 * weavectl.c parses the options of every command into one struct
 * ctl_opts and checks the number of operands; a command's handler gets
 * the options and its operands (argv[0] is the first), and reports
 * through ctl_fail() and ctl_usage_error().
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVECTL_H
#define WEAVECTL_H

#include <stdint.h>
#include <sys/types.h>

/* Exit status: 0 success, 1 failure, 2 usage error. */
#define EXIT_USAGE	2

/* The options that take no value, as bits of ctl_opts.flags. */
enum {
	CTL_HEX		= 1 << 0,	/* get --hex */
	CTL_JSON	= 1 << 1,	/* keys, list, show, monitor --json */
	CTL_PARSABLE	= 1 << 2,	/* list, show --parsable */
	CTL_SHARED	= 1 << 3,	/* lock --shared */
	CTL_NONBLOCK	= 1 << 4,	/* lock --nonblock */
};

/* The options of all commands; each command's row says which it takes. */
struct ctl_opts {
	unsigned int flags;	/* CTL_* */
	mode_t mode;		/* set --mode */
	uint64_t size;		/* set --size; 0: the module's default */
	int64_t timeout_ns;	/* lock --timeout; -1: as long as it takes */
};

/*
 * "weavectl: get demo 1: No such file or directory" (no ": ..." when
 * @err is 0); escaped like a listed name, as arguments may hold any
 * byte. Returns 1, the failure exit status.
 */
__attribute__((format(printf, 2, 3)))
int ctl_fail(int err, const char *fmt, ...);

/*
 * "weavectl: CMD: MESSAGE" and CMD's usage line on stderr; returns
 * EXIT_USAGE.
 */
__attribute__((format(printf, 1, 2)))
int ctl_usage_error(const char *fmt, ...);

/* The netlink commands (cmd_nl.c); the ioctl ones are in weavectl.c. */
int cmd_list(const struct ctl_opts *o, int argc, char **argv);
int cmd_show(const struct ctl_opts *o, int argc, char **argv);
int cmd_monitor(const struct ctl_opts *o, int argc, char **argv);

#endif /* WEAVECTL_H */
