// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl when things fail around it: output it cannot write (exit 1,
 * a message naming the command), input it cannot read, a value larger
 * than its first buffer, a lock it cannot have in time or whose holder
 * died or that has too many waiters, a command it cannot fork, a
 * command's status when weavectl was started with SIGCHLD ignored, no
 * arguments at all, a bad name; and how list shows anonymous and plain
 * registries. weavectl runs as a child (weave_ctl.h).
 */
#include "weave_proc.h"
#include "weave_ctl.h"

#include "kselftest_harness.h"

FIXTURE(ctlerr) {
	char name[64];		/* persistent, 0666, made by the fixture */
	int fd;
	struct wv_ctl c;
};

FIXTURE_SETUP(ctlerr)
{
	wv_name(self->name, sizeof(self->name), "ctlerr");
	wv_unlink_name(self->name);
	self->fd = wv_open(self->name, O_RDWR,
			   WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
			   WEAVE_ATTACH_PERSIST, 0666, 0, NULL);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, wv_set(self->fd, 1, "one", 3, 0, NULL));
}

FIXTURE_TEARDOWN(ctlerr)
{
	close(self->fd);
	wv_unlink_name(self->name);
}

static bool has(const char *s, const char *needle)
{
	return strstr(s, needle);
}

/* Standard output on /dev/full: exit 1 and "write", for each command. */
TEST_F(ctlerr, output_full)
{
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_FULL, "get", self->name, "1"));
	EXPECT_TRUE(has(self->c.err, ": write: No space left on device"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_FULL, "keys", self->name));
	EXPECT_TRUE(has(self->c.err, "No space left on device"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_FULL, "list"));
	EXPECT_TRUE(has(self->c.err, "No space left on device"))
		TH_LOG("%s", self->c.err);
}

/* A FILE that cannot be read: nothing is set. */
TEST_F(ctlerr, set_unreadable)
{
	char buf[8];
	struct weave_get_args g;

	EXPECT_EQ(1, WV_CTL(&self->c, "set", self->name, "1", "/"));
	EXPECT_TRUE(has(self->c.err, ": /: Is a directory"))
		TH_LOG("%s", self->c.err);
	ASSERT_EQ(0, wv_get(self->fd, 1, buf, sizeof(buf), 0, 0, &g));
	EXPECT_EQ(3, g.size);
	EXPECT_EQ(0, memcmp(buf, "one", 3));
}

/* Standard input longer than weavectl's first buffer (4 KiB). */
TEST_F(ctlerr, set_large_stdin)
{
	static char in[40000], out[40000];
	struct weave_get_args g;

	wv_pattern(in, sizeof(in), 5);
	EXPECT_EQ(0, WV_CTL_IN(&self->c, in, sizeof(in), "set", self->name,
			       "2")) TH_LOG("%s", self->c.err);
	ASSERT_EQ(0, wv_get(self->fd, 2, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(sizeof(in), g.size);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
}

TEST_F(ctlerr, lock_timeout)
{
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "-w", "0.05", self->name, "1",
			    "--", "sh", "-c", "echo ran"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_TRUE(has(self->c.err, "timed out")) TH_LOG("%s", self->c.err);
	EXPECT_EQ(0, wv_unlock(self->fd, 1, 0));
}

/*
 * The previous holder died: a warning, WEAVE_LOCK_OWNER_DIED=1 for the
 * command, and a command that succeeds marks the value consistent.
 */
TEST_F(ctlerr, lock_owner_died)
{
	struct weave_stat_args st;
	int h = wv_reopen(self->name, O_RDWR);

	ASSERT_LE(0, h);
	ASSERT_EQ(0, wv_lock(h, 1, 0, 0, NULL));
	close(h);
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	ASSERT_TRUE(st.slot_flags & WEAVE_SLOT_OWNER_DIED);
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", self->name, "1", "--", "sh",
			    "-c", "echo \"died=$WEAVE_LOCK_OWNER_DIED\""));
	EXPECT_STREQ("died=1\n", self->c.out);
	EXPECT_TRUE(has(self->c.err, "the previous holder died holding it"))
		TH_LOG("%s", self->c.err);
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_FALSE(st.slot_flags & WEAVE_SLOT_OWNER_DIED);
}

/* No process can be forked: exit 1, and the lock is not left held. */
TEST_F(ctlerr, lock_no_fork)
{
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY | WV_CTL_NOPROC,
			       "lock", "--shared", self->name, "1", "--",
			       "true"));
	EXPECT_TRUE(has(self->c.err, ": fork: Resource temporarily "
			"unavailable")) TH_LOG("%s", self->c.err);
	EXPECT_EQ(0, wv_lock(self->fd, 1, WEAVE_OP_NONBLOCK, 0, NULL));
	EXPECT_EQ(0, wv_unlock(self->fd, 1, 0));
}

/* Started with SIGCHLD ignored: the command's exit status all the same. */
TEST_F(ctlerr, lock_sigchld_ignored)
{
	EXPECT_EQ(3, WV_CTL_AS(&self->c, WV_CTL_NOCHLD, "lock", self->name,
			       "1", "--", "sh", "-c", "exit 3"));
	EXPECT_STREQ("", self->c.err);
}

/*
 * One waiter allowed per key (max_waiters=1) and one waiting: the lock
 * fails ENOLCK at once, exit 1, and the command does not run.
 */
TEST_F(ctlerr, lock_enolck)
{
	const struct weave_slot *slot;
	struct weave_stat_args st;
	__u64 old = 0;
	size_t size;
	void *idx;
	pid_t pid;
	int w;

	ASSERT_EQ(0, wv_param("max_waiters", &old));
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	idx = wv_map_index(self->fd, &size);
	ASSERT_NE(NULL, idx);
	slot = wv_slot(idx, st.slot);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		w = wv_reopen(self->name, O_RDWR);
		_exit(w < 0 || wv_lock(w, 1, 0, 0, NULL) ? 1 : 0);
	}
	ASSERT_TRUE(wv_until(slot->waiters == 1, 5000));
	ASSERT_EQ(0, wv_param_set("max_waiters", 1));
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", self->name, "1", "--", "sh",
			    "-c", "echo ran"));
	EXPECT_EQ(0, wv_param_set("max_waiters", old));
	EXPECT_STREQ("", self->c.out);
	EXPECT_TRUE(has(self->c.err, "No locks available"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(0, wv_unlock(self->fd, 1, 0));
	EXPECT_EQ(0, wv_wait_pid(pid));
	munmap(idx, size);
}

TEST_F(ctlerr, usage)
{
	char *const none[] = { "weavectl", NULL };

	EXPECT_EQ(2, wv_ctl_run(&self->c, 0, NULL, 0, none));
	EXPECT_TRUE(has(self->c.err, "usage: weavectl")) TH_LOG("%s",
								self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "monitor", "a/b"));
	EXPECT_TRUE(has(self->c.err, "bad registry name 'a/b'"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "get", self->name, "-1"));
	EXPECT_STREQ("", self->c.out);
}

/* list: an anonymous registry has no name; a plain one no flags. */
TEST_F(ctlerr, list_anonymous_and_plain)
{
	struct weave_info_args info;
	char plain[64], id[32], line[512];
	int anon, pfd;

	anon = wv_open_anon(0);
	ASSERT_LE(0, anon);
	ASSERT_EQ(0, wv_info(anon, &info));
	snprintf(id, sizeof(id), "\"id\":%llu,", (unsigned long long)info.id);
	wv_name(plain, sizeof(plain), "ctlerr-plain");
	pfd = wv_open(plain, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	ASSERT_LE(0, pfd);

	ASSERT_EQ(0, WV_CTL(&self->c, "list")) TH_LOG("%s", self->c.err);
	EXPECT_TRUE(has(self->c.out, "(anonymous)")) TH_LOG("%s", self->c.out);
	ASSERT_EQ(0, WV_CTL(&self->c, "list", "--json"));
	EXPECT_TRUE(has(self->c.out, id)) TH_LOG("%s", self->c.out);
	EXPECT_TRUE(has(self->c.out, "\"name\":null")) TH_LOG("%s",
							     self->c.out);
	ASSERT_EQ(0, WV_CTL(&self->c, "list", "-p"));
	ASSERT_NE(NULL, wv_list_line(self->c.out, plain, line, sizeof(line)));
	EXPECT_TRUE(has(line, "\t-\t")) TH_LOG("%s", line);
	close(pfd);
	close(anon);
}

TEST_HARNESS_MAIN
