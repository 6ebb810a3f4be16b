// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl's ioctl commands, beyond what netlink_test.c covers: lock
 * (held while its command runs, --nonblock, --shared, --timeout, exit
 * status, bad arguments), set from standard input and with --mode and
 * --size, get --hex, keys --json, del and set errors, names that are not
 * plain text (escaped in text, lossless in JSON, usable raw), and the
 * command overview of --help.
 *
 * weavectl runs as a child, as in netlink_test.c (weave_ctl.h). Lock
 * states are checked with the raw ioctls on the test's own files.
 */
#include "weave_proc.h"
#include "weave_ctl.h"

#include "kselftest_harness.h"

/* ---- weavectl in the background ---------------------------------------- */

/*
 * A weavectl running in the background: "lock ... -- sh -c 'echo
 * locked; read x; exit N'" holds its lock until the test closes @in.
 */
struct bg {
	pid_t pid;
	int in, out, err;
	struct wv_ctl c;
};

static int bg_start(struct bg *b, int flags, char *const argv[])
{
	b->c.out[0] = b->c.err[0] = '\0';
	b->pid = wv_ctl_start(flags, argv, &b->in, &b->out, &b->err);
	return b->pid < 0 ? -1 : 0;
}

/* Until @needle shows on its standard output (@secs at most). */
static bool bg_until(struct bg *b, const char *needle, double secs)
{
	struct pollfd p = { .fd = b->out, .events = POLLIN };
	double end = wv_now() + secs;

	while (!strstr(b->c.out, needle) && wv_now() < end) {
		if (poll(&p, 1, 100) > 0 &&
		    !wv_ctl_drain(b->out, b->c.out, sizeof(b->c.out)))
			break;
	}
	return strstr(b->c.out, needle);
}

/* Let its command go on (EOF on its input); its exit status. */
static int bg_finish(struct bg *b)
{
	close(b->in);
	wv_ctl_collect(&b->c, b->out, b->err);
	return b->c.status = wv_wait_pid(b->pid);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- the fixture ---------------------------------------------------------- */

FIXTURE(ctl) {
	char name[64];		/* persistent, 0644, made by the fixture */
	int fd;
	struct wv_ctl c;
};

FIXTURE_SETUP(ctl)
{
	wv_name(self->name, sizeof(self->name), "ctl");
	wv_unlink_name(self->name);
	self->fd = wv_open(self->name, O_RDWR,
			   WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
			   WEAVE_ATTACH_PERSIST, 0644, 0, NULL);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, access(wv_ctl_path(), X_OK)) TH_LOG("%s", wv_ctl_path());
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->fd >= 0)
		close(self->fd);
	wv_unlink_name(self->name);
}

/* An exclusive (or shared) lock, not waiting: 0 or -errno. */
static int try_lock(int fd, __u64 key, bool shared)
{
	return wv_lock(fd, key, WEAVE_OP_NONBLOCK |
		       (shared ? WEAVE_LOCK_SHARED : 0), 0, NULL);
}

/* ---- lock ----------------------------------------------------------------- */

/*
 * lock NAME KEY -- cmd holds the lock while cmd runs, and only then; the
 * exit status is cmd's.
 */
TEST_F(ctl, lock_held_while_running)
{
	char *const argv[] = { "weavectl", "lock", self->name, "7", "--",
			       "sh", "-c", "echo locked; read x; exit 3", NULL };
	char want[256];
	struct bg b;

	ASSERT_EQ(0, bg_start(&b, 0, argv));
	ASSERT_TRUE(bg_until(&b, "locked\n", 10)) TH_LOG("%s", b.c.out);

	/* Held: this file cannot take it, exclusive or shared. */
	EXPECT_EQ(-EAGAIN, try_lock(self->fd, 7, false));
	EXPECT_EQ(-EAGAIN, try_lock(self->fd, 7, true));
	/* Only that key. */
	EXPECT_EQ(0, try_lock(self->fd, 8, false));
	EXPECT_EQ(0, wv_unlock(self->fd, 8, 0));

	/* A second weavectl --nonblock fails with a message, status 1. */
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "--nonblock", self->name, "7",
			    "--",
			    "sh", "-c", "echo ran"));
	snprintf(want, sizeof(want),
		 "weavectl: lock %s 7: held by another process\n", self->name);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "-s", "-n", self->name, "7", "--",
			    "true"));
	EXPECT_STREQ(want, self->c.err);
	/* --timeout gives up. */
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "-w", "0.1", self->name, "7",
			    "--",
			    "true"));
	snprintf(want, sizeof(want), "weavectl: lock %s 7: timed out\n",
		 self->name);
	EXPECT_STREQ(want, self->c.err);

	/* Still held; released when the command ends, with its status. */
	EXPECT_EQ(-EAGAIN, try_lock(self->fd, 7, false));
	EXPECT_EQ(3, bg_finish(&b)) TH_LOG("%s", b.c.err);
	EXPECT_STREQ("", b.c.err);
	EXPECT_STREQ("locked\n", b.c.out);
	EXPECT_EQ(0, try_lock(self->fd, 7, false));

	/* Now held here: weavectl waits for it (-w) or fails (-n). */
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "-n", self->name, "7", "--",
			    "true"));
	EXPECT_EQ(0, wv_unlock(self->fd, 7, 0));
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", "-n", self->name, "7", "--",
			    "true"));
}

/* A waiting weavectl gets the lock once the holder lets go. */
TEST_F(ctl, lock_waits)
{
	char *const argv[] = { "weavectl", "lock", "-w", "10", self->name, "7",
			       "--", "sh", "-c", "echo locked", NULL };
	struct bg b;

	ASSERT_EQ(0, try_lock(self->fd, 7, false));
	ASSERT_EQ(0, bg_start(&b, 0, argv));
	/* Not yet. */
	EXPECT_FALSE(bg_until(&b, "locked", 0.3));
	ASSERT_EQ(0, wv_unlock(self->fd, 7, 0));
	EXPECT_TRUE(bg_until(&b, "locked\n", 10));
	EXPECT_EQ(0, bg_finish(&b)) TH_LOG("%s", b.c.err);
	EXPECT_EQ(0, try_lock(self->fd, 7, false));
}

/* --shared: shares with other shared holders, excludes exclusive ones. */
TEST_F(ctl, lock_shared)
{
	char *const argv[] = { "weavectl", "lock", "--shared", self->name, "5",
			       "--", "sh", "-c", "echo locked; read x; exit 0",
			       NULL };
	char want[256];
	struct bg b;
	int fd2;

	fd2 = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(fd2, 0);
	/* Shared here: weavectl may share it, not take it exclusively. */
	ASSERT_EQ(0, try_lock(fd2, 5, true));
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", "--shared", "--nonblock",
			    self->name, "5", "--", "true")) TH_LOG("%s",
								self->c.err);
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", "--nonblock", self->name, "5",
			    "--",
			    "true"));
	ASSERT_EQ(0, wv_unlock(fd2, 5, 0));

	/* Shared by weavectl: this file may share it, not take it. */
	ASSERT_EQ(0, bg_start(&b, 0, argv));
	ASSERT_TRUE(bg_until(&b, "locked\n", 10)) TH_LOG("%s", b.c.out);
	EXPECT_EQ(-EAGAIN, try_lock(self->fd, 5, false));
	EXPECT_EQ(0, try_lock(fd2, 5, true));
	EXPECT_EQ(0, wv_unlock(fd2, 5, 0));
	EXPECT_EQ(0, bg_finish(&b)) TH_LOG("%s", b.c.err);
	EXPECT_EQ(0, try_lock(self->fd, 5, false));
	EXPECT_EQ(0, wv_unlock(self->fd, 5, 0));

	/*
	 * Another user, who may only read this 0644 registry, can take a
	 * shared lock but not an exclusive one.
	 */
	EXPECT_EQ(0, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "lock", "-s",
			       self->name, "5",
			       "--", "true")) TH_LOG("%s", self->c.err);
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "lock", self->name, "5",
			       "--",
			       "true"));
	snprintf(want, sizeof(want), "weavectl: lock %s: Permission denied\n",
		 self->name);
	EXPECT_STREQ(want, self->c.err);
	close(fd2);
}

/* The exit status is the command's; the lock is free after each. */
TEST_F(ctl, lock_status)
{
	char missing[64];
	int fd;

	EXPECT_EQ(0, WV_CTL(&self->c, "lock", self->name, "1", "--", "true"));
	EXPECT_EQ(1, WV_CTL(&self->c, "lock", self->name, "1", "--", "false"));
	EXPECT_EQ(42, WV_CTL(&self->c, "lock", self->name, "1", "--", "sh",
			     "-c",
			     "exit 42"));
	/* Killed by a signal: 128 + its number, as a shell says. */
	EXPECT_EQ(128 + SIGTERM, WV_CTL(&self->c, "lock", self->name, "1", "--",
					"sh", "-c", "kill -TERM $$"));
	/* Not found: 127, with a message. */
	EXPECT_EQ(127, WV_CTL(&self->c, "lock", self->name, "1", "--",
			      "wvt-no-such-command"));
	EXPECT_STREQ("weavectl: lock: wvt-no-such-command: No such file or "
		     "directory\n", self->c.err);
	/* Arguments reach the command; "--" may be left out. */
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", self->name, "0x10", "sh", "-c",
			    "echo \"$0 $1\"", "a", "b c"));
	EXPECT_STREQ("a b c\n", self->c.out);
	EXPECT_EQ(0, try_lock(self->fd, 1, false));
	EXPECT_EQ(0, try_lock(self->fd, 16, false));

	/* A missing registry is made for the lock, and not kept. */
	wv_name(missing, sizeof(missing), "ctl-lockonly");
	wv_unlink_name(missing);
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", missing, "1", "--", "true"))
		TH_LOG("%s", self->c.err);
	fd = wv_reopen(missing, O_RDONLY);
	EXPECT_EQ(-ENOENT, fd);
	if (fd >= 0)
		close(fd);
}

/* Bad arguments: status 2, a usage message, and the command never runs. */
TEST_F(ctl, lock_usage)
{
	EXPECT_EQ(2, WV_CTL(&self->c, "lock"));
	EXPECT_NE(NULL, strstr(self->c.err, "usage: weavectl lock "));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", self->name));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", self->name, "1"));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", self->name, "1", "--"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_TRUE(starts(self->c.err, "weavectl: lock: expected NAME KEY "
			   "-- COMMAND")) TH_LOG("%s", self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", self->name, "0", "--", "sh", "-c",
			    "echo ran"));
	EXPECT_TRUE(starts(self->c.err, "weavectl: lock: bad key '0'\n"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", self->name, "seven", "--", "sh",
			    "-c", "echo ran"));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", "-w", "soon", self->name, "1",
			    "--",
			    "sh", "-c", "echo ran"));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", "-w", "-1", self->name, "1", "--",
			    "sh", "-c", "echo ran"));
	EXPECT_EQ(2, WV_CTL(&self->c, "lock", "--bogus", self->name, "1", "--",
			    "sh", "-c", "echo ran"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "lock", "--help"));
	EXPECT_TRUE(starts(self->c.out, "usage: weavectl lock "));
	EXPECT_NE(NULL, strstr(self->c.out, "--nonblock"));
	/* None of that left the lock taken. */
	EXPECT_EQ(0, try_lock(self->fd, 1, false));
}

/* ---- set, get, keys, del -------------------------------------------------- */

/* set from standard input ("-" or no FILE); get raw and --hex. */
TEST_F(ctl, set_stdin_get_hex)
{
	static const char value[] = "hello, weave!\n\x00\x01\x7f\x80\xff";
	static const char hex[] =
		"00000000  68 65 6c 6c 6f 2c 20 77  65 61 76 65 21 0a 00 01"
		"  |hello, weave!...|\n"
		"00000010  7f 80 ff                                        "
		"  |...|\n"
		"00000013\n";
	size_t len = sizeof(value) - 1;		/* 19 bytes */
	char buf[64];
	struct weave_get_args g;

	EXPECT_EQ(0, WV_CTL_IN(&self->c, value, len, "set", self->name, "3",
			       "-"))
		TH_LOG("%s", self->c.err);
	EXPECT_STREQ("", self->c.out);
	EXPECT_STREQ("", self->c.err);
	ASSERT_EQ(0, wv_get(self->fd, 3, buf, sizeof(buf), 0, 0, &g));
	EXPECT_EQ(len, g.size);
	EXPECT_EQ(0, memcmp(buf, value, len));

	/* Raw bytes, NULs included. */
	EXPECT_EQ(0, WV_CTL(&self->c, "get", self->name, "3"));
	EXPECT_EQ(0, memcmp(self->c.out, value, 15));	/* up to the NUL */
	EXPECT_EQ(0, WV_CTL(&self->c, "get", "--hex", self->name, "3"));
	EXPECT_STREQ(hex, self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "get", "-x", self->name, "0x3"));
	EXPECT_STREQ(hex, self->c.out);

	/* No FILE: standard input too; it replaces the whole value. */
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "ab", 2, "set", self->name, "3"));
	EXPECT_EQ(0, WV_CTL(&self->c, "get", self->name, "3"));
	EXPECT_STREQ("ab", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "get", "--hex", self->name, "3"));
	EXPECT_STREQ("00000000  61 62                                             "
		     "|ab|\n00000002\n", self->c.out);
	/* An empty value: nothing to print either way. */
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "", 0, "set", self->name, "3"));
	ASSERT_EQ(0, wv_get(self->fd, 3, buf, sizeof(buf), 0, 0, &g));
	EXPECT_EQ(0, g.size);
	EXPECT_EQ(0, WV_CTL(&self->c, "get", self->name, "3"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "get", "--hex", self->name, "3"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(2, WV_CTL(&self->c, "get", "--hex"));
}

/* set creates a persistent registry, with --mode and --size. */
TEST_F(ctl, set_creates)
{
	char name[64], want[256], size[32];
	struct weave_info_args info;
	struct weave_api_args api;
	int fd;

	wv_name(name, sizeof(name), "ctl-new");
	wv_unlink_name(name);
	ASSERT_EQ(0, wv_api(self->fd, &api));

	/* --size N: a registry of N entries, mode 0600, kept after exit. */
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "v", 1, "set", "--size", "3", "--mode",
			       "0600", name, "1")) TH_LOG("%s", self->c.err);
	fd = wv_reopen(name, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(3, info.max_entries);
	EXPECT_EQ(0600, info.mode);
	EXPECT_TRUE(info.flags & WEAVE_INFO_PERSIST);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "v", 1, "set", name, "2"));
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "v", 1, "set", name, "3"));
	/* Full: a fourth key fails, with the kernel's error. */
	EXPECT_EQ(1, WV_CTL_IN(&self->c, "v", 1, "set", name, "4"));
	snprintf(want, sizeof(want),
		 "weavectl: set %s 4: No space left on device\n", name);
	EXPECT_STREQ(want, self->c.err);
	/* The options do not change a registry that exists. */
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "w", 1, "set", "-s", "10", "-m",
			       "0666",
			       name, "1"));
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(3, info.max_entries);
	EXPECT_EQ(0600, info.mode);
	close(fd);
	ASSERT_EQ(0, wv_unlink_name(name));

	/* Without --size: the module's limit; default mode 0644. */
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "v", 1, "set", name, "1"));
	fd = wv_reopen(name, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(api.max_entries, info.max_entries);
	EXPECT_EQ(0644, info.mode);
	close(fd);
	ASSERT_EQ(0, wv_unlink_name(name));

	/* More than the module allows: an error naming the limit. */
	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)api.max_entries + 1);
	EXPECT_EQ(1, WV_CTL_IN(&self->c, "v", 1, "set", "--size", size, name,
			       "1"));
	snprintf(want, sizeof(want),
		 "weavectl: set %s 1: --size %s is more than the limit of "
		 "%llu entries\n", name, size,
		 (unsigned long long)api.max_entries);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(-ENOENT, wv_reopen(name, O_RDONLY));

	/* Not a positive decimal number: usage errors, nothing made. */
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--size", "0", name,
			       "1"));
	EXPECT_TRUE(starts(self->c.err, "weavectl: set: bad option or value"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--size", "-1", name,
			       "1"));
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--size", "10k", name,
			       "1"));
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--size", "", name,
			       "1"));
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--size", name, "1"));
	EXPECT_EQ(2, WV_CTL_IN(&self->c, "v", 1, "set", "--mode", "0999", name,
			       "1"));
	EXPECT_EQ(-ENOENT, wv_reopen(name, O_RDONLY));
	EXPECT_EQ(0, WV_CTL(&self->c, "set", "--help"));
	EXPECT_NE(NULL, strstr(self->c.out, "  -s, --size N "));
}

/* set's main errors: a FILE it cannot read, too many operands. */
TEST_F(ctl, set_errors)
{
	char want[256];

	EXPECT_EQ(1, WV_CTL(&self->c, "set", self->name, "1",
			    "/nonexistent/wvt-file"));
	snprintf(want, sizeof(want), "weavectl: set %s 1: /nonexistent/wvt-file: "
		 "No such file or directory\n", self->name);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(0, wv_gen(self->fd, 1));
	EXPECT_EQ(2, WV_CTL(&self->c, "set", self->name, "1", "-", "extra"));
	EXPECT_EQ(2, WV_CTL(&self->c, "set", self->name));
	EXPECT_EQ(1, WV_CTL_IN(&self->c, "v", 1, "set", "a/b", "1"));
	EXPECT_EQ(0, wv_count(self->fd));
}

/* keys --json: one JSON array, the same keys as the text output. */
TEST_F(ctl, keys_json)
{
	static const __u64 keys[] = { 42, 7, 1, 0x10000000000ULL };
	char want[256], missing[64];
	size_t i, n = 0;
	char *p, *eol;

	EXPECT_EQ(0, WV_CTL(&self->c, "keys", "--json", self->name));
	EXPECT_STREQ("[]\n", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", self->name));
	EXPECT_STREQ("", self->c.out);

	ASSERT_EQ(0, wv_set(self->fd, 42, "x", 1, 0, NULL));
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", "-j", self->name));
	EXPECT_STREQ("[42]\n", self->c.out);

	for (i = 1; i < ARRAY_SIZE(keys); i++)
		ASSERT_EQ(0, wv_set(self->fd, keys[i], "x", 1, 0, NULL));
	/* The text order, joined by commas. */
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", self->name));
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(want, sizeof(want), "%llu\n",
			 (unsigned long long)keys[i]);
		EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s",
								  self->c.out);
	}
	want[0] = '[';
	want[1] = '\0';
	for (p = self->c.out; *p; p = eol + 1, n++) {
		eol = strchr(p, '\n');
		ASSERT_NE(NULL, eol);
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%.*s", n ? "," : "", (int)(eol - p), p);
	}
	strcat(want, "]\n");
	EXPECT_EQ(ARRAY_SIZE(keys), n);
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", "--json", self->name));
	EXPECT_STREQ(want, self->c.out);
	EXPECT_NE(NULL, strstr(self->c.out, "1099511627776"));

	/* Errors: nothing on standard output. */
	wv_name(missing, sizeof(missing), "ctl-nokeys");
	EXPECT_EQ(1, WV_CTL(&self->c, "keys", "--json", missing));
	EXPECT_STREQ("", self->c.out);
	snprintf(want, sizeof(want),
		 "weavectl: keys %s: No such file or directory\n", missing);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "keys", "--json"));
	EXPECT_EQ(2, WV_CTL(&self->c, "keys", "-p", self->name));
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", "--help"));
	EXPECT_NE(NULL, strstr(self->c.out, "  -j, --json "));
}

/* del: the key is gone; a missing key or registry is an error. */
TEST_F(ctl, del)
{
	char want[256], missing[64];

	ASSERT_EQ(0, wv_set(self->fd, 9, "nine", 4, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 10, "ten", 3, 0, NULL));
	EXPECT_EQ(0, WV_CTL(&self->c, "del", self->name, "0x9"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_STREQ("", self->c.err);
	EXPECT_EQ(0, wv_gen(self->fd, 9));
	EXPECT_EQ(1, wv_count(self->fd));

	EXPECT_EQ(1, WV_CTL(&self->c, "del", self->name, "9"));
	snprintf(want, sizeof(want),
		 "weavectl: del %s 9: No such file or directory\n", self->name);
	EXPECT_STREQ(want, self->c.err);
	wv_name(missing, sizeof(missing), "ctl-nodel");
	EXPECT_EQ(1, WV_CTL(&self->c, "del", missing, "10"));
	snprintf(want, sizeof(want),
		 "weavectl: del %s 10: No such file or directory\n", missing);
	EXPECT_STREQ(want, self->c.err);
	/* Another user may not write this 0644 registry. */
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "del", self->name,
			       "10"));
	EXPECT_NE(NULL, strstr(self->c.err, "Permission denied"));
	EXPECT_EQ(2, WV_CTL(&self->c, "del", self->name, "ten"));
	EXPECT_EQ(2, WV_CTL(&self->c, "del", self->name, "10", "11"));
	EXPECT_EQ(1, wv_count(self->fd));
}

/* ---- names that are not plain text ---------------------------------------- */

/* A persistent registry @name (0644): its id, or 0. */
static __u64 make_reg(const char *name)
{
	struct weave_attach_args a;
	int fd;

	wv_unlink_name(name);
	fd = wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
		     WEAVE_ATTACH_PERSIST, 0644, 0, &a);
	if (fd < 0)
		return 0;
	close(fd);
	return a.id;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytes of the JSON hex string at @hex (up to its '"'), or -1. */
static int unhex(const char *hex, char *buf, size_t size)
{
	size_t n = 0;
	int hi, lo;

	for (; *hex != '"'; hex += 2) {
		hi = hex_digit(hex[0]);
		lo = hi < 0 ? -1 : hex_digit(hex[1]);
		if (lo < 0 || n + 1 >= size)
			return -1;
		buf[n++] = (char)(hi << 4 | lo);
	}
	buf[n] = '\0';
	return (int)n;
}

/*
 * Text output escapes the name, the same in list, list -p, show and
 * error messages; the name given raw on the command line works.
 */
TEST_F(ctl, name_escaped_in_text)
{
	char name[96], text[192], want[512], line[1024], *p;
	int tabs = 0;
	__u64 id;

	wv_name(name, sizeof(name), "ctl-odd");
	snprintf(text, sizeof(text), "%s" WV_ODD_TEXT, name);
	strcat(name, WV_ODD_TAIL);
	id = make_reg(name);
	ASSERT_NE(0, id);

	/* -p: one line, the tab in the name no field separator. */
	EXPECT_EQ(0, WV_CTL(&self->c, "list", "-p")) TH_LOG("%s", self->c.err);
	ASSERT_NE(NULL, wv_list_line(self->c.out, text, line, sizeof(line)))
		TH_LOG("%s", self->c.out);
	snprintf(want, sizeof(want), "%s\t%llu\t", text,
		 (unsigned long long)id);
	EXPECT_TRUE(starts(line, want)) TH_LOG("%s", line);
	for (p = line; *p; p++)
		tabs += *p == '\t';
	EXPECT_EQ(11, tabs);
	EXPECT_EQ(NULL, strchr(self->c.out, '\x1b'));
	EXPECT_EQ(NULL, strchr(self->c.out, '\xff'));

	EXPECT_EQ(0, WV_CTL(&self->c, "list"));
	snprintf(want, sizeof(want), "\n%s %6llu ", text,
		 (unsigned long long)id);
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);

	/* Raw on the command line: the registry itself. */
	EXPECT_EQ(0, WV_CTL(&self->c, "show", name)) TH_LOG("%s", self->c.err);
	snprintf(want, sizeof(want), "name:        %s\nid:          %llu\n",
		 text, (unsigned long long)id);
	EXPECT_TRUE(starts(self->c.out, want)) TH_LOG("%s", self->c.out);
	EXPECT_EQ(0, WV_CTL_IN(&self->c, "odd", 3, "set", name, "1"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(0, WV_CTL(&self->c, "get", name, "1"));
	EXPECT_STREQ("odd", self->c.out);

	/* Error messages name it the same way. */
	EXPECT_EQ(1, WV_CTL(&self->c, "get", name, "2"));
	snprintf(want, sizeof(want),
		 "weavectl: get %s 2: No such file or directory\n", text);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(0, WV_CTL(&self->c, "rm", name));
	EXPECT_EQ(1, WV_CTL(&self->c, "show", name));
	snprintf(want, sizeof(want), "weavectl: show %s: No such registry\n",
		 text);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(-ENOENT, wv_reopen(name, O_RDONLY));
}

/*
 * JSON: a name that is not UTF-8 comes with "name_hex", which gives its
 * bytes back exactly; "name" is still a valid JSON string.
 */
TEST_F(ctl, name_json_lossless)
{
	char name[96], hex[256], want[768], bytes[128];
	const char *p;
	__u64 id;

	wv_name(name, sizeof(name), "ctl-oddj");
	snprintf(want, sizeof(want), "{\"name\":\"%s" WV_ODD_JSON "\",", name);
	strcat(name, WV_ODD_TAIL);
	id = make_reg(name);
	ASSERT_NE(0, id);
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
		 "\"name_hex\":\"%s\",\"id\":%llu,",
		 wv_hex(name, hex, sizeof(hex)), (unsigned long long)id);

	EXPECT_EQ(0, WV_CTL(&self->c, "list", "--json")) TH_LOG("%s",
								self->c.err);
	p = strstr(self->c.out, want);
	ASSERT_NE(NULL, p) TH_LOG("want %s\ngot %s", want, self->c.out);
	/* Decoded as a consumer would: the very bytes. */
	p = strstr(p, "\"name_hex\":\"");
	ASSERT_NE(NULL, p);
	EXPECT_EQ((int)strlen(name),
		  unhex(p + strlen("\"name_hex\":\""), bytes, sizeof(bytes)));
	EXPECT_STREQ(name, bytes);

	EXPECT_EQ(0, WV_CTL(&self->c, "show", "-j", name));
	EXPECT_TRUE(starts(self->c.out, "{\"registry\":"));
	EXPECT_TRUE(starts(self->c.out + strlen("{\"registry\":"), want))
		TH_LOG("%s", self->c.out);
	EXPECT_EQ(0, wv_unlink_name(name));
}

/* Valid UTF-8 is printed as it is, in text and JSON, and aligned. */
TEST_F(ctl, name_utf8_unchanged)
{
	char name[64], want[256], line[512];
	size_t cols;
	__u64 id;

	wv_name(name, sizeof(name), "caf\xc3\xa9");	/* "wvt-café-PID" */
	cols = strlen(name) - 1;
	id = make_reg(name);
	ASSERT_NE(0, id);

	EXPECT_EQ(0, WV_CTL(&self->c, "list", "-p"));
	ASSERT_NE(NULL, wv_list_line(self->c.out, name, line, sizeof(line)))
		TH_LOG("%s", self->c.out);
	/* The column is 20 characters wide, not 20 bytes. */
	EXPECT_EQ(0, WV_CTL(&self->c, "list"));
	ASSERT_LT(cols, 20);
	snprintf(want, sizeof(want), "\n%s%*s %6llu ", name, (int)(20 - cols),
		 "", (unsigned long long)id);
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "show", name));
	snprintf(want, sizeof(want), "name:        %s\n", name);
	EXPECT_TRUE(starts(self->c.out, want)) TH_LOG("%s", self->c.out);

	snprintf(want, sizeof(want), "{\"name\":\"%s\",\"id\":%llu,", name,
		 (unsigned long long)id);
	EXPECT_EQ(0, WV_CTL(&self->c, "list", "--json"));
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "show", "--json", name));
	EXPECT_TRUE(starts(self->c.out + strlen("{\"registry\":"), want))
		TH_LOG("%s", self->c.out);
	EXPECT_EQ(NULL, strstr(self->c.out, "name_hex"));
	EXPECT_EQ(0, wv_unlink_name(name));
}

/* ---- --help --------------------------------------------------------------- */

/* The overview lists every command with its synopsis in one column. */
TEST_F(ctl, help_overview)
{
	static const char *const cmds[] = { "set", "get", "keys", "del", "rm",
		"lock", "list", "show", "monitor" };
	char *p, *eol, *syn, line[256];
	int col = -1;
	size_t i;

	EXPECT_EQ(0, WV_CTL(&self->c, "--help"));
	p = strstr(self->c.out, "\ncommands:\n");
	ASSERT_NE(NULL, p);
	p += strlen("\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++, p = eol + 1) {
		eol = strchr(p, '\n');
		ASSERT_NE(NULL, eol);
		snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
		ASSERT_EQ(0, strncmp(line, "  ", 2)) TH_LOG("%s", line);
		ASSERT_EQ(0, strncmp(line + 2, cmds[i], strlen(cmds[i])))
			TH_LOG("%s", line);
		/* One space at least after the name, then the synopsis. */
		syn = line + 2 + strlen(cmds[i]);
		EXPECT_EQ(' ', *syn);
		while (*syn == ' ')
			syn++;
		if (col < 0)
			col = (int)(syn - line);
		EXPECT_EQ(col, (int)(syn - line)) TH_LOG("misaligned: %s",
							 line);
	}
	EXPECT_EQ('\0', *p);
	/* The column: two spaces, the longest name, one space. */
	EXPECT_EQ(2 + (int)strlen("monitor") + 1, col);
	EXPECT_STREQ("", self->c.err);

	/* Each command's own help, two ways alike. */
	EXPECT_EQ(0, WV_CTL(&self->c, "help", "keys"));
	EXPECT_TRUE(starts(self->c.out, "usage: weavectl keys [--json] NAME\n"));
	EXPECT_EQ(2, WV_CTL(&self->c, "help", "frobnicate"));
	EXPECT_EQ(2, WV_CTL(&self->c, "-x"));
}

TEST_HARNESS_MAIN
