/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weavectl: a small client of the "weave" generic netlink family, on
 * libmnl. Every attribute is checked (type and length) before use; a
 * malformed or truncated message is an error (-EBADMSG), never a crash.
 *
 * Functions return 0 or a negative errno value.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVECTL_NL_H
#define WEAVECTL_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/weave.h>

/* Holder pids kept per entry, at most (the kernel sends up to 16). */
#define WNL_HOLDERS_MAX		16

/* One open netlink socket, bound to the family "weave"; opaque. */
struct wnl;

/* A registry, from WEAVE_CMD_REG_GET, _REG_NEW or _REG_DEL. */
struct wnl_reg {
	uint64_t id;
	bool has_name;			/* false: anonymous */
	char name[WEAVE_NAME_MAX + 1];
	uint32_t uid, gid, mode, flags;	/* flags: WEAVE_INFO_* */
	uint64_t entries, bytes, charged, max_entries;
	uint32_t files, mappings, watchers;
	/* Usage against the limits; has_usage false from older modules. */
	bool has_usage;
	uint64_t max_entry_size, max_bytes;
	uint32_t creator;		/* real uid counted */
	uint32_t user_registries, user_max, ns_registries, ns_max;
};

/* An entry, from WEAVE_CMD_ENTRY_GET. */
struct wnl_entry {
	uint64_t reg_id, key, gen, size;
	uint32_t lock;			/* as struct weave_slot.lock */
	uint32_t waiters;
	unsigned int nholders;
	uint32_t holders[WNL_HOLDERS_MAX];
};

/* An entry event, WEAVE_CMD_EVENT. */
struct wnl_event {
	uint64_t reg_id, key, gen, size;
	uint32_t mask;			/* WEAVE_EV_* */
};

/* A multicast notification: cmd says which member is valid. */
struct wnl_notif {
	uint8_t cmd;			/* WEAVE_CMD_EVENT, _REG_NEW, _REG_DEL */
	union {
		struct wnl_event ev;
		struct wnl_reg reg;
	};
};

/* Callbacks return 0 to go on or a negative errno to stop with it. */
typedef int (*wnl_reg_cb)(const struct wnl_reg *reg, void *arg);
typedef int (*wnl_entry_cb)(const struct wnl_entry *ent, void *arg);
typedef int (*wnl_notif_cb)(const struct wnl_notif *n, void *arg);

/*
 * Open a socket and resolve the family (CTRL_CMD_GETFAMILY); -ENOENT when
 * the kernel has no "weave" family (module not loaded).
 */
int wnl_open(struct wnl **out);
void wnl_close(struct wnl *nl);
/* The socket's fd, for poll(2). */
int wnl_fd(const struct wnl *nl);

/* One registry by @name, or every visible one when @name is NULL. */
int wnl_reg_get(struct wnl *nl, const char *name, wnl_reg_cb cb, void *arg);
/* The entries of the registry @id (by id: the name may move meanwhile). */
int wnl_entry_dump(struct wnl *nl, uint64_t id, wnl_entry_cb cb, void *arg);

/*
 * Join the "events" multicast group (-EPERM without CAP_SYS_ADMIN), then
 * use the socket for notifications only.
 */
int wnl_subscribe(struct wnl *nl);
/*
 * Read one datagram of notifications and call @cb for each. -EAGAIN when
 * nothing is pending (the socket is non-blocking after wnl_subscribe()),
 * -ENOBUFS when the kernel dropped messages for this socket.
 */
int wnl_recv_notif(struct wnl *nl, wnl_notif_cb cb, void *arg);

#endif /* WEAVECTL_NL_H */
