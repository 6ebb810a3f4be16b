/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: watches, events, poll/read and gen waits (event.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_EVENT_H
#define _WEAVE_EVENT_H

#include <linux/fs.h>
#include <linux/poll.h>

struct file;
struct weave_file;
struct weave_registry;
struct weave_slot;

void weave_event(struct weave_registry *reg, struct weave_file *src,
		 u64 key, u32 mask, const struct weave_slot *s);
void weave_events_init(struct weave_registry *reg);
int weave_file_events_init(struct weave_file *wf);
void weave_watches_release(struct weave_registry *reg, struct weave_file *wf);
void weave_file_events_destroy(struct weave_file *wf);
int weave_ioctl_watch(struct file *file, void *arg);
int weave_ioctl_unwatch(struct file *file, void *arg);
int weave_ioctl_wait(struct file *file, void *arg);
ssize_t weave_fop_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos);
__poll_t weave_fop_poll(struct file *file, struct poll_table_struct *pt);
int weave_fop_flush(struct file *file, fl_owner_t id);

#endif /* _WEAVE_EVENT_H */
