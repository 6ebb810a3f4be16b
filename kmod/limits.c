// SPDX-License-Identifier: GPL-2.0
/*
 * weave: limits, as module parameters.
 *
 * Copyright (C) 2026 The weave authors
 *
 * Each limit is read where it applies, without a lock: a change by root
 * in /sys/module/weave/parameters affects the operations that start after
 * it. max_entries and max_entry_size are copied into a registry when it
 * is created, since they shape its map layout; the others apply at once.
 * Writes outside a limit's range are refused with EINVAL; every range
 * starts at 1 or more, so 0 never turns a limit off.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "internal.h"

unsigned int weave_max_registries = 1024;
unsigned int weave_max_registries_per_ns = 512;
unsigned int weave_max_registries_per_user = 256;
unsigned long weave_max_entries = BIT(20);
unsigned long weave_max_entry_size = SZ_16M;
unsigned long weave_max_registry_bytes = SZ_256M;
unsigned int weave_max_locks = 4096;
unsigned int weave_max_waiters = 1024;
unsigned int weave_max_watches = 4096;
unsigned int weave_max_batch = 1024;

/* Upper bounds keep map offsets (slots * span) far below 2^63. */
#define WEAVE_MAX_REGISTRIES_LIMIT	65536U
#define WEAVE_MAX_ENTRIES_LIMIT		BIT(24)
#define WEAVE_MAX_ENTRY_SIZE_LIMIT	SZ_1G
#define WEAVE_MAX_PER_FILE_LIMIT	BIT(20)
/* A batch's operations are copied in whole: 4096 of them take 224 KiB. */
#define WEAVE_MAX_BATCH_LIMIT		4096U

/* Parse a value and check it lies in [@min, @max]. */
static int weave_param_parse(const char *val, unsigned long min,
			     unsigned long max, unsigned long *v)
{
	int ret = kstrtoul(val, 0, v);

	if (ret)
		return ret;
	return *v < min || *v > max ? -EINVAL : 0;
}

static int weave_param_set_uint(const char *val, const struct kernel_param *kp,
				unsigned int min, unsigned int max)
{
	unsigned long v;
	int ret = weave_param_parse(val, min, max, &v);

	if (!ret)
		*(unsigned int *)kp->arg = v;
	return ret;
}

static int weave_param_set_ulong(const char *val,
				 const struct kernel_param *kp,
				 unsigned long min, unsigned long max)
{
	unsigned long v;
	int ret = weave_param_parse(val, min, max, &v);

	if (!ret)
		*(unsigned long *)kp->arg = v;
	return ret;
}

static int weave_set_registries(const char *val, const struct kernel_param *kp)
{
	return weave_param_set_uint(val, kp, 1, WEAVE_MAX_REGISTRIES_LIMIT);
}

static int weave_set_entries(const char *val, const struct kernel_param *kp)
{
	return weave_param_set_ulong(val, kp, 1, WEAVE_MAX_ENTRIES_LIMIT);
}

static int weave_set_entry_size(const char *val, const struct kernel_param *kp)
{
	return weave_param_set_ulong(val, kp, PAGE_SIZE,
				     WEAVE_MAX_ENTRY_SIZE_LIMIT);
}

static int weave_set_registry_bytes(const char *val,
				    const struct kernel_param *kp)
{
	return weave_param_set_ulong(val, kp, 1, ULONG_MAX);
}

static int weave_set_per_file(const char *val, const struct kernel_param *kp)
{
	return weave_param_set_uint(val, kp, 1, WEAVE_MAX_PER_FILE_LIMIT);
}

static int weave_set_batch(const char *val, const struct kernel_param *kp)
{
	return weave_param_set_uint(val, kp, 1, WEAVE_MAX_BATCH_LIMIT);
}

static const struct kernel_param_ops weave_batch_ops = {
	.set = weave_set_batch,
	.get = param_get_uint,
};

static const struct kernel_param_ops weave_per_file_ops = {
	.set = weave_set_per_file,
	.get = param_get_uint,
};

static const struct kernel_param_ops weave_registries_ops = {
	.set = weave_set_registries,
	.get = param_get_uint,
};

static const struct kernel_param_ops weave_entries_ops = {
	.set = weave_set_entries,
	.get = param_get_ulong,
};

static const struct kernel_param_ops weave_entry_size_ops = {
	.set = weave_set_entry_size,
	.get = param_get_ulong,
};

static const struct kernel_param_ops weave_registry_bytes_ops = {
	.set = weave_set_registry_bytes,
	.get = param_get_ulong,
};

module_param_cb(max_registries, &weave_registries_ops,
		&weave_max_registries, 0644);
MODULE_PARM_DESC(max_registries, "Most registries at once (ENFILE beyond)");
module_param_cb(max_registries_per_ns, &weave_registries_ops,
		&weave_max_registries_per_ns, 0644);
MODULE_PARM_DESC(max_registries_per_ns, "Most registries created in one IPC namespace (EMFILE beyond)");
module_param_cb(max_registries_per_user, &weave_registries_ops,
		&weave_max_registries_per_user, 0644);
MODULE_PARM_DESC(max_registries_per_user, "Most registries created by one real user (EDQUOT beyond)");
module_param_cb(max_entries, &weave_entries_ops, &weave_max_entries, 0644);
MODULE_PARM_DESC(max_entries, "Most entries of a new registry (ENOSPC beyond)");
module_param_cb(max_entry_size, &weave_entry_size_ops,
		&weave_max_entry_size, 0644);
MODULE_PARM_DESC(max_entry_size, "Largest value of a new registry, bytes (EFBIG beyond)");
module_param_cb(max_registry_bytes, &weave_registry_bytes_ops,
		&weave_max_registry_bytes, 0644);
MODULE_PARM_DESC(max_registry_bytes, "Most value bytes of a registry (ENOSPC beyond)");
module_param_cb(max_locks, &weave_per_file_ops, &weave_max_locks, 0644);
MODULE_PARM_DESC(max_locks, "Most locks one open file may hold (ENOLCK beyond)");
module_param_cb(max_waiters, &weave_per_file_ops, &weave_max_waiters, 0644);
MODULE_PARM_DESC(max_waiters, "Most tasks waiting for one key's lock (ENOLCK beyond)");
module_param_cb(max_watches, &weave_per_file_ops, &weave_max_watches, 0644);
MODULE_PARM_DESC(max_watches, "Most watches of one open file (ENOSPC beyond)");
module_param_cb(max_batch, &weave_batch_ops, &weave_max_batch, 0644);
MODULE_PARM_DESC(max_batch, "Most operations of one WEAVE_IOC_BATCH (EINVAL beyond)");
