// SPDX-License-Identifier: GPL-2.0
/*
 * Registries and IPC namespaces, and the registry quotas:
 *
 * - a namespace's names die with it: a persistent registry nobody holds
 *   is freed, one still held through a file is unlinked (its holders get
 *   WEAVE_EV_UNLINKED and keep using it);
 * - a new namespace never finds an older, dead namespace's names, however
 *   often namespaces are made and destroyed;
 * - max_registries_per_ns (EMFILE), max_registries_per_user (EDQUOT) and
 *   max_registries (ENFILE) each stop exactly at their limit and only for
 *   whom they apply to;
 * - weavectl show reports the counts the limits are held to;
 * - creating the first registry of a namespace and of a user fails with
 *   ENOMEM, leaving nothing behind, when any of its allocations fails
 *   (fail-nth; debug kernel).
 *
 * Registry counts are read back through netlink (weavectl show --json):
 * the creator's count spans every namespace, so it shows what the test's
 * dead namespaces still hold.
 */
#include <sched.h>

#include "weave_ctl.h"
#include "weave_proc.h"

#include "kselftest_harness.h"

#define OTHER_UID	54321

/* A limit parameter set for one test, restored by the fixture. */
struct saved_param {
	const char *name;
	__u64 val;
	bool set;
};

static int param_lower(struct saved_param *p, const char *name, __u64 val)
{
	p->name = name;
	if (wv_param(name, &p->val))
		return -1;
	if (wv_param_set(name, val))
		return -1;
	p->set = true;
	return 0;
}

static void param_restore(struct saved_param *p)
{
	if (p->set)
		wv_param_set(p->name, p->val);
	p->set = false;
}

/* @field of `weavectl show --json NAME`, or -1. */
static long long show_field(struct wv_ctl *c, char *name,
			    const char *field)
{
	char key[64];
	const char *at;

	if (WV_CTL(c, "show", "--json", name))
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", field);
	at = strstr(c->out, key);
	return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

struct ns {
	char name[64];		/* a registry of the test's own namespace */
	int fd;
	struct saved_param p[3];
};

FIXTURE(ns) {
	struct ns t;
};

FIXTURE_SETUP(ns)
{
	memset(&self->t, 0, sizeof(self->t));
	wv_name(self->t.name, sizeof(self->t.name), "ns");
	self->t.fd = wv_open(self->t.name, O_RDWR, WEAVE_ATTACH_CREATE, 0644,
			     0, NULL);
	ASSERT_GE(self->t.fd, 0);
}

FIXTURE_TEARDOWN(ns)
{
	int i;

	for (i = 0; i < 3; i++)
		param_restore(&self->t.p[i]);
	close(self->t.fd);
}

/*
 * In a new namespace: a persistent registry "held", sent to the parent
 * over @sock, and a persistent registry "free", held by nobody.
 */
static int make_two(int sock)
{
	int held, other;

	if (unshare(CLONE_NEWIPC))
		return 10;
	held = wv_open("held", O_RDWR, WEAVE_ATTACH_CREATE |
		       WEAVE_ATTACH_PERSIST, 0600, 0, NULL);
	other = wv_open("free", O_RDWR, WEAVE_ATTACH_CREATE |
			WEAVE_ATTACH_PERSIST, 0600, 0, NULL);
	if (held < 0 || other < 0)
		return 11;
	if (wv_set(held, 1, "kept", 4, 0, NULL) ||
	    wv_set(other, 1, "gone", 4, 0, NULL))
		return 12;
	close(other);
	if (wv_send_fd(sock, held))
		return 13;
	/* Live until the parent has counted. */
	return read(sock, &held, 1) == 1 ? 0 : 14;
}

/*
 * The namespace dies with the child: "free" is freed, "held" is
 * unlinked, and the parent, which holds it, is told.
 */
TEST_F(ns, names_die_with_namespace)
{
	struct weave_event ev[4];
	struct weave_info_args info;
	struct weave_get_args g;
	struct wv_ctl *c = malloc(sizeof(*c));
	long long before, during = -1, after = -1;
	int sv[2], held, n, i;
	bool unlinked = false;
	pid_t pid;
	char buf[8];

	ASSERT_NE(NULL, c);
	before = show_field(c, self->t.name, "user_registries");
	ASSERT_GT(before, 0) TH_LOG("%s%s", c->out, c->err);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(make_two(sv[1]));
	held = wv_recv_fd(sv[0]);
	ASSERT_GE(held, 0);
	ASSERT_EQ(0, wv_watch(held, 0, WEAVE_EV_UNLINKED, 0));
	/* Both registries count against us while the child lives. */
	during = show_field(c, self->t.name, "user_registries");
	EXPECT_EQ(before + 2, during);
	ASSERT_EQ(1, write(sv[0], "", 1));
	ASSERT_EQ(0, wv_wait_pid(pid));
	close(sv[0]);
	close(sv[1]);

	/* The namespace is freed by a work item: give it a few seconds. */
	for (i = 0; i < 100 && !unlinked; i++) {
		if (wv_poll(held, 100) <= 0)
			continue;
		n = wv_read_events(held, ev, ARRAY_SIZE(ev));
		ASSERT_EQ(1, n);
		EXPECT_EQ(0, ev[0].key);
		unlinked = ev[0].mask & WEAVE_EV_UNLINKED;
	}
	ASSERT_TRUE(unlinked) TH_LOG("no WEAVE_EV_UNLINKED in 10 s");
	ASSERT_EQ(0, wv_info(held, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_UNLINKED);
	/* "free" is gone; "held" still works for its holder. */
	after = show_field(c, self->t.name, "user_registries");
	EXPECT_EQ(before + 1, after);
	ASSERT_EQ(0, wv_get(held, 1, buf, sizeof(buf), 0, 0, &g));
	EXPECT_EQ(4, g.size);
	EXPECT_EQ(0, memcmp(buf, "kept", 4));
	EXPECT_EQ(0, wv_set(held, 2, "more", 4, 0, NULL));
	close(held);
	after = show_field(c, self->t.name, "user_registries");
	EXPECT_EQ(before, after);
	free(c);
}

/* Make a persistent "same" in a new namespace; is an older one there? */
static int recycle_round(void)
{
	int fd;

	if (unshare(CLONE_NEWIPC))
		return 20;
	fd = wv_open("same", O_RDWR, 0, 0, 0, NULL);
	if (fd != -ENOENT)
		return 21;
	fd = wv_open("same", O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
		     WEAVE_ATTACH_PERSIST, 0600, 0, NULL);
	if (fd < 0)
		return 22;
	return wv_set(fd, 1, "x", 1, 0, NULL) ? 23 : 0;
}

/*
 * Namespaces made and destroyed in a row often reuse addresses and inode
 * numbers: none may see a dead one's names, and none of them leaks (the
 * creator's count comes back to where it was).
 */
TEST_F_TIMEOUT(ns, recycled_namespace_starts_empty, 120)
{
	struct wv_ctl *c = malloc(sizeof(*c));
	long long before, now = -1;
	pid_t pid;
	int i;

	ASSERT_NE(NULL, c);
	before = show_field(c, self->t.name, "user_registries");
	ASSERT_GT(before, 0);
	for (i = 0; i < 50; i++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid)
			_exit(recycle_round());
		ASSERT_EQ(0, wv_wait_pid(pid)) TH_LOG("round %d", i);
	}
	/* The last namespaces may still be on their way out. */
	for (i = 0; i < 100; i++) {
		now = show_field(c, self->t.name, "user_registries");
		if (now == before)
			break;
		wv_sleep_ms(100);
	}
	EXPECT_EQ(before, now);
	free(c);
}

/* Create anonymous registries until one fails: how many, and the error. */
static int fill(int *fds, int room, int *err)
{
	int n = 0, fd;

	*err = 0;
	while (n < room) {
		fd = wv_open_anon(8);
		if (fd < 0) {
			*err = fd;
			break;
		}
		fds[n++] = fd;
	}
	return n;
}

static void close_all(int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
}

/* In a new namespace, exactly 4 registries; then EMFILE. */
static int ns_limit_child(void)
{
	int fds[16], n, err, fd;

	if (unshare(CLONE_NEWIPC))
		return 30;
	n = fill(fds, 16, &err);
	if (n != 4)
		return 31;
	if (err != -EMFILE)
		return 32;
	fd = wv_open("named", O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	if (fd != -EMFILE)
		return 33;
	/* Freeing one lets one more in. */
	close(fds[--n]);
	fd = wv_open("named", O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	if (fd < 0)
		return 34;
	close(fd);
	close_all(fds, n);
	return 0;
}

TEST_F(ns, namespace_limit)
{
	struct wv_ctl *c = malloc(sizeof(*c));
	int fds[8], n, err;
	pid_t pid;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, param_lower(&self->t.p[0], "max_registries_per_ns", 4));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(ns_limit_child());
	EXPECT_EQ(0, wv_wait_pid(pid));

	/* Our namespace has its own count, shown by weavectl. */
	EXPECT_EQ(4, show_field(c, self->t.name, "ns_max_registries"));
	n = fill(fds, 8, &err);
	EXPECT_EQ(-EMFILE, err);
	EXPECT_LE(4, show_field(c, self->t.name, "ns_registries"));
	EXPECT_LE(n, 3);
	close_all(fds, n);
	free(c);
}

/* As another user: exactly 3 registries, then EDQUOT. */
static int user_limit_child(void)
{
	int fds[16], n, err;

	if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) ||
	    setresuid(OTHER_UID, OTHER_UID, OTHER_UID))
		return 40;
	n = fill(fds, 16, &err);
	if (n != 3)
		return 41;
	if (err != -EDQUOT)
		return 42;
	close(fds[--n]);
	n += fill(fds + n, 1, &err);
	if (n != 3 || err)
		return 43;
	close_all(fds, n);
	return 0;
}

TEST_F(ns, user_limit)
{
	struct wv_ctl *c = malloc(sizeof(*c));
	long long mine;
	int fd;
	pid_t pid;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, param_lower(&self->t.p[0], "max_registries_per_user", 3));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(user_limit_child());
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(3, show_field(c, self->t.name, "user_max_registries"));
	EXPECT_EQ(getuid(), show_field(c, self->t.name, "creator"));

	/* Our own count is another, at least our fixture's registry. */
	mine = show_field(c, self->t.name, "user_registries");
	ASSERT_GE(mine, 1);
	fd = wv_open_anon(8);
	if (mine >= 3) {
		EXPECT_EQ(-EDQUOT, fd);
	} else {
		EXPECT_GE(fd, 0);
	}
	if (fd >= 0)
		close(fd);
	free(c);
}

/* The machine-wide limit: ENFILE, whoever and wherever the caller is. */
TEST_F(ns, global_limit)
{
	int fds[8], n, err;

	ASSERT_EQ(0, param_lower(&self->t.p[0], "max_registries", 1));
	n = fill(fds, 8, &err);
	EXPECT_EQ(0, n);
	EXPECT_EQ(-ENFILE, err);
	/* Attaching an existing registry is not creating one. */
	fds[0] = wv_open(self->t.name, O_RDONLY, 0, 0, 0, NULL);
	EXPECT_GE(fds[0], 0);
	if (fds[0] >= 0)
		close(fds[0]);
	close_all(fds, n);
}

#define FAILSLAB_GFP_WAIT	"/sys/kernel/debug/failslab/ignore-gfp-wait"

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * In a new namespace, as a new real user: create an anonymous registry
 * with allocation @nth failing. Exit status: 0 an allocation failed and
 * was reported cleanly, 10 none did (the create needs fewer), else what
 * went wrong.
 */
static int fail_nth_child(unsigned int nth)
{
	char val[16] = "";
	int fd, nthfd, ret;

	if (unshare(CLONE_NEWIPC) || setresuid(OTHER_UID + 1, -1, -1))
		return 50;
	fd = wv_dev(O_RDWR);
	nthfd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0 || nthfd < 0)
		return 51;
	snprintf(val, sizeof(val), "%u", nth);
	if (write(nthfd, val, strlen(val)) <= 0)
		return 52;
	ret = wv_attach(fd, NULL, WEAVE_ATTACH_ANON, 0600, 8, NULL);
	memset(val, 0, sizeof(val));
	if (pread(nthfd, val, sizeof(val) - 1, 0) <= 0)
		return 53;
	if (write(nthfd, "0", 1) != 1)
		return 54;
	if (strtoul(val, NULL, 10)) {		/* nothing failed */
		close(fd);
		return ret ? 55 : 10;
	}
	if (ret && ret != -ENOMEM)
		return 56;
	close(fd);
	/* Whatever failed left nothing that stops the next try. */
	fd = wv_open_anon(8);
	if (fd < 0)
		return 57;
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(ns, first_create_fails_cleanly, 120)
{
	unsigned int nth;
	char old[8] = "";
	int fd, st = 0;
	pid_t pid;

	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(FAILSLAB_GFP_WAIT, W_OK))
		SKIP(return, "no fail-nth or failslab in this kernel");
	fd = open(FAILSLAB_GFP_WAIT, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_GT(read(fd, old, sizeof(old) - 1), 0);
	close(fd);
	/* weave allocates with GFP_KERNEL: failslab must not skip those. */
	ASSERT_EQ(0, write_str(FAILSLAB_GFP_WAIT, "N"));
	for (nth = 1; nth < 100; nth++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid)
			_exit(fail_nth_child(nth));
		st = wv_wait_pid(pid);
		if (st)
			break;
	}
	write_str(FAILSLAB_GFP_WAIT, old[0] == 'Y' ? "Y" : "N");
	EXPECT_EQ(10, st) TH_LOG("failing allocation %u: status %d", nth, st);
	/* The namespace's, its mark's, the user's, the registry's, ... */
	EXPECT_LE(4, nth - 1);
	TH_LOG("%u allocations failed in turn", nth - 1);
}

/* Limits take values in their range only. */
TEST(limit_parameters)
{
	static const char *const names[] = {
		"max_registries", "max_registries_per_ns",
		"max_registries_per_user",
	};
	__u64 v, orig;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ASSERT_EQ(0, wv_param(names[i], &orig)) TH_LOG("%s", names[i]);
		EXPECT_NE(0, wv_param_set(names[i], 0)) TH_LOG("%s", names[i]);
		EXPECT_NE(0, wv_param_set(names[i], 1ULL << 32));
		ASSERT_EQ(0, wv_param(names[i], &v));
		EXPECT_EQ(orig, v);
		EXPECT_EQ(0, wv_param_set(names[i], orig));
	}
}

TEST_HARNESS_MAIN
