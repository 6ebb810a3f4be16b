/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weavectl: the commands built on the "weave" generic netlink family
 * (cmd_nl.c). Each comes with the strings of its row in the command
 * table, so that "weavectl CMD --help" and "weavectl help CMD" agree.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVECTL_CMD_NL_H
#define WEAVECTL_CMD_NL_H

int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#define CMD_LIST_ARGS	"[--json] [--parsable]"
#define CMD_LIST_HELP							\
	"List the registries you may read: name, id, owner, mode, flags,\n" \
	"entries, bytes used and charged, attached files, mappings and\n" \
	"watchers."
#define CMD_LIST_OPTS							\
	"  -j, --json          one JSON document\n"			\
	"  -p, --parsable      exact numbers, tab-separated, no header\n"

#define CMD_SHOW_ARGS	"[--json] [--parsable] NAME"
#define CMD_SHOW_HELP							\
	"Show registry NAME and its entries: key, gen, size, lock state,\n" \
	"lock holders and waiters."
#define CMD_SHOW_OPTS	CMD_LIST_OPTS

#define CMD_MONITOR_ARGS "[--json] [NAME]"
#define CMD_MONITOR_HELP						\
	"Print registry changes (of NAME only, if given) as they happen,\n" \
	"one line each, until interrupted. Needs CAP_SYS_ADMIN."
#define CMD_MONITOR_OPTS						\
	"  -j, --json          one JSON object per line\n"

#endif /* WEAVECTL_CMD_NL_H */
