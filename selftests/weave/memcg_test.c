// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups: a value's bytes are charged to the memory cgroup of
 * the process that stores them, and weave fails a store that the cgroup
 * cannot hold with ENOMEM rather than calling the OOM killer.
 *
 * - charge_follows_the_storer: a process in a cgroup stores 8 MiB; the
 *   cgroup's memory.current grows by that much, and drops again when the
 *   entries are deleted, and when the registry is closed.
 * - enomem_not_oom_kill (large and small values): a process in a cgroup
 *   with memory.max 32 MiB (no swap) stores values into a shared
 *   registry until a store fails. The error is ENOMEM (weave's own
 *   limits are set above the cgroup's), nothing was OOM-killed
 *   (memory.events oom_kill stays 0, the process lives on and exits 0),
 *   the cgroup holds the charge, a process in another cgroup still
 *   stores (charged there), the full process can store again once it
 *   deleted some, and deleting uncharges - also when another process
 *   deletes what a cgroup was charged for.
 *
 * Needs cgroup2 with the memory controller at /sys/fs/cgroup (the test
 * VM mounts it) and root.
 */
#include <stdarg.h>
#include "weave_proc.h"

#include "kselftest_harness.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MiB		(1LL << 20)
#define LIMIT		(32 * MiB)
#define SLACK		(MiB / 2)

/* What a child reports to the test through shared memory. */
struct report {
	int step;		/* how far the child got */
	int go;			/* the test lets it go on */
	int err;		/* the error that ended the stores */
	long stored;		/* values stored before it */
	long long base, full, retry_err;
	long long cur[5];
	char why[256];
};

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[512];
	size_t len = strlen(val);
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

static int cg_read(const char *cg, const char *file, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* A number file (memory.current): the value, or -errno. */
static long long cg_value(const char *cg, const char *file)
{
	char buf[64];
	int ret = cg_read(cg, file, buf, sizeof(buf));

	return ret ? ret : strtoll(buf, NULL, 10);
}

/* A "name value" line of a keyed file (memory.events), or -errno. */
static long long cg_key(const char *cg, const char *file, const char *name)
{
	char buf[1024], *line, *save = NULL;
	size_t len = strlen(name);
	int ret = cg_read(cg, file, buf, sizeof(buf));

	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, name, len) && line[len] == ' ')
			return strtoll(line + len + 1, NULL, 10);
	return -ENOENT;
}

/* Move the calling process into @cg. */
static int cg_enter(const char *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return cg_write(cg, "cgroup.procs", pid);
}

/* A child cgroup of the root with memory.max @max (0: none). */
static int cg_create(char *cg, size_t size, const char *tag, long long max)
{
	char val[32];
	int ret;

	snprintf(cg, size, CG_ROOT "/wvt-%s-%d", tag, (int)getpid());
	rmdir(cg);
	if (mkdir(cg, 0755))
		return -errno;
	if (!max)
		return 0;
	snprintf(val, sizeof(val), "%lld", max);
	ret = cg_write(cg, "memory.max", val);
	if (ret)
		return ret;
	/* No swap to escape to (a kernel without swap has no such file). */
	ret = cg_write(cg, "memory.swap.max", "0");
	return ret == -ENOENT ? 0 : ret;
}

/* Fail a child: record why, exit with status 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	_exit(1);
}

/* The memory.current of the cgroup a child is in, after freeing settled. */
static long long current_of(const char *cg)
{
	return cg_value(cg, "memory.current");
}

/* Wait until memory.current of @cg is at most @target; the last value. */
static long long current_below(const char *cg, long long target)
{
	long long cur;

	wv_until((cur = current_of(cg)) <= target, 2000);
	return cur;
}

FIXTURE(memcg) {
	char a[256], b[256];
	char name[64];
	int fd;
	struct report *r;
	__u64 saved_size, saved_bytes;
	bool restore_size, restore_bytes;
};

FIXTURE_VARIANT(memcg) {
	long value;		/* bytes per value */
};

FIXTURE_VARIANT_ADD(memcg, large) {
	.value = MiB,
};

/* Cells: many entries, and with them their small allocations. */
FIXTURE_VARIANT_ADD(memcg, small) {
	.value = 2000,
};

/* Raise a weave limit above what the cgroup allows, for this test. */
static int raise_limit(const char *param, __u64 min, __u64 *saved,
		       bool *restore)
{
	int ret = wv_param(param, saved);

	if (ret || *saved >= min)
		return ret;
	ret = wv_param_set(param, min);
	*restore = !ret;
	return ret;
}

FIXTURE_SETUP(memcg)
{
	char ctrl[256];
	int ret;

	self->fd = -1;
	self->a[0] = self->b[0] = '\0';
	ret = cg_read(CG_ROOT, "cgroup.controllers", ctrl, sizeof(ctrl));
	if (ret || !strstr(ctrl, "memory"))
		SKIP(return, "no cgroup2 memory controller at " CG_ROOT);
	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"));
	/* The stores must meet the cgroup's limit before weave's own. */
	ASSERT_EQ(0, raise_limit("max_entry_size", 4 * MiB, &self->saved_size,
				 &self->restore_size));
	ASSERT_EQ(0, raise_limit("max_registry_bytes", 1024 * MiB,
				 &self->saved_bytes, &self->restore_bytes));

	ASSERT_EQ(0, cg_create(self->a, sizeof(self->a), "memcg-a", LIMIT));
	ASSERT_EQ(0, cg_create(self->b, sizeof(self->b), "memcg-b", 2 * LIMIT));
	self->r = wv_shared(sizeof(*self->r));
	ASSERT_NE(NULL, self->r);
	/* Created here: its index and metadata are charged to the test. */
	self->fd = wv_create(self->name, sizeof(self->name), "memcg");
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->fd >= 0)
		close(self->fd);
	wv_unlink_name(self->name);
	if (self->a[0])
		rmdir(self->a);
	if (self->b[0])
		rmdir(self->b);
	if (self->restore_size)
		wv_param_set("max_entry_size", self->saved_size);
	if (self->restore_bytes)
		wv_param_set("max_registry_bytes", self->saved_bytes);
	if (self->r)
		munmap(self->r, sizeof(*self->r));
}

/* A buffer of @len bytes, touched, so it is charged before measuring. */
static void *value_buf(long len)
{
	void *buf = malloc(len);

	if (buf)
		memset(buf, 0x5A, len);
	return buf;
}

/*
 * Child: store 8 MiB in a registry of its own and measure its cgroup
 * before and after storing, deleting, storing again and closing.
 */
static void charge_child(struct report *r, const char *cg, long value)
{
	long n = 8 * MiB / value, k;
	void *buf;
	int fd, ret;

	if (cg_enter(cg))
		child_fail(r, "enter %s: %s", cg, strerror(errno));
	buf = value_buf(value);
	fd = wv_open_anon(0);
	if (!buf || fd < 0)
		child_fail(r, "setup: %d", fd);
	/* Warm up: the index page, slab pages, the stock of charges. */
	for (k = 1; k <= 4; k++)
		wv_set(fd, 1000000 + k, buf, value, 0, NULL);
	for (k = 1; k <= 4; k++)
		wv_delete(fd, 1000000 + k, 0, NULL);

	r->cur[0] = current_of(cg);
	for (k = 1; k <= n; k++) {
		ret = wv_set(fd, k, buf, value, 0, NULL);
		if (ret)
			child_fail(r, "set %ld: %d", k, ret);
	}
	r->cur[1] = current_of(cg);
	for (k = 1; k <= n; k++)
		if (wv_delete(fd, k, 0, NULL))
			child_fail(r, "delete %ld", k);
	r->cur[2] = current_below(cg, r->cur[1] - 7 * MiB);
	for (k = 1; k <= n; k++) {
		ret = wv_set(fd, k, buf, value, 0, NULL);
		if (ret)
			child_fail(r, "set again %ld: %d", k, ret);
	}
	r->cur[3] = current_of(cg);
	close(fd);
	r->cur[4] = current_below(cg, r->cur[3] - 7 * MiB);
	_exit(0);
}

TEST_F_TIMEOUT(memcg, charge_follows_the_storer, 60)
{
	struct report *r = self->r;
	long long *c = r->cur;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		charge_child(r, self->a, variant->value);
	ASSERT_EQ(0, wv_wait_pid(pid)) TH_LOG("child: %s", r->why);
	TH_LOG("memory.current: %lld, stored %lld, deleted %lld, stored %lld, "
	       "closed %lld KiB", c[0] >> 10, c[1] >> 10, c[2] >> 10,
	       c[3] >> 10, c[4] >> 10);
	/* 8 MiB of values, plus their entries and cells' slack. */
	EXPECT_GE(c[1] - c[0], 8 * MiB - SLACK);
	EXPECT_LE(c[1] - c[0], 8 * MiB + 4 * MiB);
	EXPECT_GE(c[1] - c[2], 8 * MiB - SLACK);
	EXPECT_GE(c[3] - c[2], 8 * MiB - SLACK);
	EXPECT_GE(c[3] - c[4], 8 * MiB - SLACK);
	EXPECT_EQ(0, cg_key(self->a, "memory.events", "oom_kill"));
}

/* Step @step done; wait until the test lets the child go on. */
static void child_step(struct report *r, int step)
{
	__atomic_store_n(&r->step, step, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&r->go, __ATOMIC_SEQ_CST) < step)
		wv_sleep_ms(1);
}

/*
 * Child: store until a store fails; then delete some and store again,
 * and delete all. Once its cgroup is full it allocates nothing but what
 * weave does: reading memory.current would charge a buffer, and that
 * charge may call the OOM killer. The test reads it instead.
 */
static void fill_child(struct report *r, const char *cg, const char *name,
		       long value)
{
	long max = 4 * LIMIT / value, k, ret;
	void *buf;
	int fd;

	if (cg_enter(cg))
		child_fail(r, "enter %s: %s", cg, strerror(errno));
	buf = value_buf(value);
	fd = wv_reopen(name, O_RDWR);
	if (!buf || fd < 0)
		child_fail(r, "setup: %d", fd);
	child_step(r, 1);
	for (k = 1, ret = 0; k <= max && !ret; k++)
		ret = wv_set(fd, k, buf, value, 0, NULL);
	r->stored = k - 2;
	r->err = (int)ret;
	child_step(r, 2);

	/* Room for a value and its staging buffer: store again. */
	for (k = r->stored; k > r->stored - 3 * (MiB / value + 1) && k > 0; k--)
		wv_delete(fd, k, 0, NULL);
	r->retry_err = wv_set(fd, 1, buf, value, 0, NULL);
	for (k = 1; k <= r->stored; k++)
		wv_delete(fd, k, 0, NULL);
	close(fd);
	_exit(0);
}

/* Wait for the child's @step; false if it ended or took too long. */
static bool wait_step(struct report *r, int step, pid_t pid, int *status)
{
	pid_t ended = 0;

	if (!wv_until(__atomic_load_n(&r->step, __ATOMIC_SEQ_CST) >= step ||
		      (ended = waitpid(pid, status, WNOHANG)) == pid, 90000)) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
		return false;
	}
	return ended != pid;
}

/* Child in another cgroup: store @n values; its cgroup's growth. */
static void other_child(struct report *r, const char *cg, const char *name,
			long value, long n)
{
	void *buf;
	long k;
	int fd, ret;

	if (cg_enter(cg))
		child_fail(r, "enter %s: %s", cg, strerror(errno));
	buf = value_buf(value);
	fd = wv_reopen(name, O_RDWR);
	if (!buf || fd < 0)
		child_fail(r, "setup: %d", fd);
	r->base = current_of(cg);
	for (k = 0; k < n; k++) {
		ret = wv_set(fd, 1000000 + k, buf, value, 0, NULL);
		if (ret)
			child_fail(r, "set %ld in another cgroup: %d", k, ret);
	}
	r->full = current_of(cg);
	close(fd);
	_exit(0);
}

TEST_F_TIMEOUT(memcg, enomem_not_oom_kill, 120)
{
	struct report *r = self->r, *r2;
	long value = variant->value, other = 4 * MiB / value, k;
	long long base, a_full, after, b_before, kept;
	pid_t pid, pid2;
	int status;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		fill_child(r, self->a, self->name, value);
	ASSERT_TRUE(wait_step(r, 1, pid, &status)) TH_LOG("child: %s", r->why);
	base = current_of(self->a);
	__atomic_store_n(&r->go, 1, __ATOMIC_SEQ_CST);
	/* Still alive when full: nothing killed it. */
	ASSERT_TRUE(wait_step(r, 2, pid, &status))
		TH_LOG("child ended or hung, status %#x (%s): %s", status,
		       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "",
		       r->why);
	a_full = current_of(self->a);
	TH_LOG("stored %ld values of %ld bytes, then %s; memory.current "
	       "%lld -> %lld KiB", r->stored, value, strerror(-r->err),
	       base >> 10, a_full >> 10);
	EXPECT_EQ(-ENOMEM, r->err);
	EXPECT_EQ(0, cg_key(self->a, "memory.events", "oom_kill"));
	EXPECT_GT(cg_key(self->a, "memory.events", "max"), 0);
	/* The cgroup holds what was stored, up to its limit. */
	EXPECT_GE(r->stored * value, LIMIT / 2);
	EXPECT_GE(a_full - base, r->stored * value - SLACK);
	EXPECT_LE(a_full, LIMIT);

	/* Another cgroup stores, and is charged for it. */
	r2 = wv_shared(sizeof(*r2));
	ASSERT_NE(NULL, r2);
	pid2 = fork();
	ASSERT_GE(pid2, 0);
	if (pid2 == 0)
		other_child(r2, self->b, self->name, value, other);
	ASSERT_EQ(0, wv_wait_pid(pid2)) TH_LOG("other child: %s", r2->why);
	EXPECT_GE(r2->full - r2->base, other * value - SLACK);
	EXPECT_LE(current_of(self->a), a_full + SLACK);
	/* Deleted by us, uncharged from the cgroup that paid. */
	b_before = current_of(self->b);
	for (k = 0; k < other; k++)
		EXPECT_EQ(0, wv_delete(self->fd, 1000000 + k, 0, NULL));
	EXPECT_LE(current_below(self->b, b_before - other * value + SLACK),
		  b_before - other * value + SLACK);
	munmap(r2, sizeof(*r2));

	__atomic_store_n(&r->go, 2, __ATOMIC_SEQ_CST);
	EXPECT_EQ(0, wv_wait_pid(pid)) TH_LOG("child: %s", r->why);
	EXPECT_EQ(0, r->retry_err) TH_LOG("store after deleting: %s",
					  strerror((int)-r->retry_err));
	/*
	 * The values are uncharged; the index slots and hash buckets the
	 * entries needed stay until the registry goes.
	 */
	kept = r->stored * (sizeof(struct weave_slot) + 2 * sizeof(void *));
	after = current_below(self->a, base + kept + SLACK);
	EXPECT_LE(after, base + kept + SLACK) TH_LOG("after deleting: %lld KiB",
						     after >> 10);
	EXPECT_EQ(0, wv_count(self->fd));
	close(self->fd);
	self->fd = -1;
	after = current_below(self->a, base + SLACK);
	EXPECT_LE(after, base + SLACK) TH_LOG("after closing: %lld KiB",
					      after >> 10);
	EXPECT_EQ(0, cg_key(self->a, "memory.events", "oom_kill"));
}

TEST_HARNESS_MAIN
