/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: per-key locks (lock.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_LOCK_H
#define _WEAVE_LOCK_H

#include <linux/types.h>

struct file;
struct weave_file;
struct weave_registry;
struct weave_hold;

int weave_lock_cache_init(void);
void weave_lock_cache_exit(void);
int weave_lock_access(struct weave_registry *reg, struct weave_file *wf,
		      u64 key, bool write, bool nonblock,
		      struct weave_hold **tmp);
void weave_lock_access_end(struct weave_registry *reg,
			   struct weave_hold *tmp);
void weave_lock_mirror(struct weave_registry *reg, u64 key);
struct weave_file *weave_lock_excl_holder(struct weave_registry *reg, u64 key);
void weave_locks_release(struct weave_registry *reg, struct weave_file *wf);
void weave_locks_destroy(struct weave_registry *reg);
int weave_lock_holders(struct weave_registry *reg, u64 key, pid_t *pids,
		       int max);
int weave_ioctl_lock(struct file *file, void *arg);
int weave_ioctl_unlock(struct file *file, void *arg);

#endif /* _WEAVE_LOCK_H */
