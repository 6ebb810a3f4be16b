// SPDX-License-Identifier: GPL-2.0
/*
 * The "weave" generic netlink family and weavectl: list, show and monitor
 * reflect registries, entries, locks, files, mappings and watchers
 * exactly, in text, parsable and JSON output alike; visibility by uid and
 * IPC namespace; unlink rights; the events group needs CAP_SYS_ADMIN;
 * monitor's escaping of names; and every weavectl command's success path
 * and main error.
 *
 * weavectl runs as a child (weave_ctl.h). The direct netlink checks use
 * a raw socket, so the test needs no libmnl.
 */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "weave_proc.h"
#include "weave_ctl.h"

#include "kselftest_harness.h"

/* ---- raw generic netlink ---------------------------------------------- */

struct gnl {
	int fd;
	__u16 family;
	__u32 seq;
};

struct gnl_req {
	struct nlmsghdr nlh;
	struct genlmsghdr g;
	char attrs[512];
};

static void gnl_put(struct gnl_req *r, __u16 type, const void *data, int len)
{
	struct nlattr *a = (void *)((char *)r + NLMSG_ALIGN(r->nlh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nlh.nlmsg_len = NLMSG_ALIGN(r->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void gnl_init(struct gnl *s, struct gnl_req *r, __u16 type, __u8 cmd,
		     __u16 flags)
{
	memset(r, 0, sizeof(*r));
	r->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nlh.nlmsg_type = type;
	r->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->nlh.nlmsg_seq = ++s->seq;
	r->g.cmd = cmd;
	r->g.version = 1;
}

/*
 * Send @r and read the replies: 0 or the -errno of NLMSG_ERROR or
 * NLMSG_DONE. *@nmsg counts data messages; @last gets the last one.
 */
static int gnl_talk(struct gnl *s, struct gnl_req *r, int *nmsg,
		    char *last, size_t last_size)
{
	static char buf[65536];
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	if (nmsg)
		*nmsg = 0;
	if (send(s->fd, r, r->nlh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		len = (int)n;
		for (nlh = (void *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return *(int *)NLMSG_DATA(nlh);
			if (nmsg)
				(*nmsg)++;
			if (last && nlh->nlmsg_len <= last_size)
				memcpy(last, nlh, nlh->nlmsg_len);
		}
	}
}

static int gnl_open(struct gnl *s)
{
	struct gnl_req r;
	char reply[4096];
	struct nlattr *a;
	struct nlmsghdr *nlh = (void *)reply;
	int len, ret;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	gnl_init(s, &r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	gnl_put(&r, CTRL_ATTR_FAMILY_NAME, WEAVE_GENL_NAME,
		sizeof(WEAVE_GENL_NAME));
	ret = gnl_talk(s, &r, NULL, reply, sizeof(reply));
	if (ret)
		return ret;
	len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	     len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len)))
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&s->family, (char *)a + NLA_HDRLEN, 2);
	return s->family ? 0 : -ENOENT;
}

/* A request naming a registry: 0 or -errno; *@nmsg replies. */
static int gnl_name_cmd(struct gnl *s, __u8 cmd, __u16 flags,
			const char *name, int *nmsg)
{
	struct gnl_req r;

	gnl_init(s, &r, s->family, cmd, flags);
	if (name)
		gnl_put(&r, WEAVE_A_REG_NAME, name, strlen(name) + 1);
	return gnl_talk(s, &r, nmsg, NULL, 0);
}

/* In a child as nobody: the netlink error of @cmd on @name, as exit code. */
static int nobody_nl(__u8 cmd, __u16 flags, const char *name)
{
	struct gnl s;
	pid_t pid = fork();
	int ret;

	if (!pid) {
		if (wv_become(WV_NOBODY, WV_NOBODY) || gnl_open(&s))
			_exit(100);
		ret = gnl_name_cmd(&s, cmd, flags, name, NULL);
		_exit(ret > 0 ? 101 : -ret);
	}
	return wv_wait_pid(pid);
}

/* ---- the fixture ---------------------------------------------------------- */

FIXTURE(nl) {
	char name[64];		/* persistent, 0644, made by the fixture */
	int fd;
	__u64 id;
	struct wv_ctl c;
};

FIXTURE_SETUP(nl)
{
	struct weave_attach_args a;
	struct weave_api_args api;

	wv_name(self->name, sizeof(self->name), "nl");
	wv_unlink_name(self->name);
	self->fd = wv_open(self->name, O_RDWR,
			   WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
			   WEAVE_ATTACH_PERSIST, 0644, 0, &a);
	ASSERT_GE(self->fd, 0);
	self->id = a.id;
	ASSERT_EQ(0, wv_api(self->fd, &api));
	if (!(api.features & WEAVE_FEATURE_NETLINK))
		SKIP(return, "no netlink family");
	ASSERT_EQ(0, access(wv_ctl_path(), X_OK)) TH_LOG("%s", wv_ctl_path());
}

FIXTURE_TEARDOWN(nl)
{
	if (self->fd >= 0)
		close(self->fd);
	wv_unlink_name(self->name);
}

/* The `list -p` line of the fixture's registry, checked field by field. */
static void expect_list(struct __test_metadata *_metadata, struct wv_ctl *c,
			const char *name, __u64 id, const char *mode,
			const char *flags, __u64 entries, __u64 bytes,
			__u32 files, __u32 maps, __u32 watchers,
			unsigned long long *charged)
{
	char line[1024], want[1024];
	unsigned long long ch = 0;
	const char *p;
	int i;

	ASSERT_EQ(0, WV_CTL(c, "list", "-p")) TH_LOG("%s", c->err);
	ASSERT_NE(NULL, wv_list_line(c->out, name, line, sizeof(line)))
		TH_LOG("no %s in:\n%s", name, c->out);
	/* The charged column (9th) is the kernel's; take it as it is. */
	for (p = line, i = 0; i < 8 && p; i++)
		p = strchr(p + 1, '\t');
	ASSERT_NE(NULL, p);
	ch = strtoull(p + 1, NULL, 10);
	snprintf(want, sizeof(want),
		 "%s\t%llu\t%u\t%u\t%s\t%s\t%llu\t%llu\t%llu\t%u\t%u\t%u", name,
		 (unsigned long long)id, getuid(), getgid(), mode, flags,
		 (unsigned long long)entries, (unsigned long long)bytes, ch,
		 files, maps, watchers);
	EXPECT_STREQ(want, line);
	if (charged)
		*charged = ch;
}

/* list: creates, sets, deletes, files, mappings, watchers; JSON the same. */
TEST_F(nl, list_reflects)
{
	char buf[3000], want[1024], line[1024];
	struct weave_info_args info;
	unsigned long long charged;
	size_t isize;
	void *idx;
	int fd2;

	memset(buf, 'x', sizeof(buf));
	expect_list(_metadata, &self->c, self->name, self->id, "0644",
		    "persistent", 0, 0, 1, 0, 0, NULL);
	ASSERT_EQ(0, wv_set(self->fd, 1, "hello", 5, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, buf, sizeof(buf), 0, NULL));
	expect_list(_metadata, &self->c, self->name, self->id, "0644",
		    "persistent", 2, 3005, 1, 0, 0, NULL);

	/* One more file, one mapping, one watcher. */
	fd2 = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(fd2, 0);
	idx = wv_map_index(self->fd, &isize);
	ASSERT_NE(NULL, idx);
	ASSERT_EQ(0, wv_watch(fd2, 0, WEAVE_EV_ALL, 0));
	expect_list(_metadata, &self->c, self->name, self->id, "0644",
		    "persistent", 2, 3005, 2, 1, 1, &charged);

	/* JSON: the same numbers. */
	ASSERT_EQ(0, wv_info(self->fd, &info));
	ASSERT_EQ(0, WV_CTL(&self->c, "list", "--json"));
	snprintf(want, sizeof(want),
		 "{\"name\":\"%s\",\"id\":%llu,\"uid\":%u,\"gid\":%u,"
		 "\"mode\":\"0644\",\"flags\":[\"persistent\"],\"entries\":2,"
		 "\"bytes\":3005,\"charged\":%llu,\"max_entries\":%llu,"
		 "\"files\":2,\"mappings\":1,\"watchers\":1,"
		 "\"max_entry_size\":%llu,\"max_bytes\":",
		 self->name, (unsigned long long)self->id, getuid(), getgid(),
		 charged, (unsigned long long)info.max_entries,
		 (unsigned long long)info.max_entry_size);
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	EXPECT_EQ(0, strncmp(self->c.out, "{\"registries\":[", 15));
	EXPECT_EQ(0, strcmp(self->c.out + strlen(self->c.out) - 3, "]}\n"));

	/* Text: a header, then human-readable sizes (3005 -> 2.9K). */
	ASSERT_EQ(0, WV_CTL(&self->c, "list"));
	EXPECT_EQ(0, strncmp(self->c.out, "NAME ", 5));
	snprintf(want, sizeof(want), "%-20s %6llu %6u %6u 0644 persistent "
		 "%8d %8s", self->name, (unsigned long long)self->id, getuid(),
		 getgid(), 2, "2.9K");
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);

	/* Delete, unmap, close: back down. */
	ASSERT_EQ(0, wv_delete(self->fd, 2, 0, NULL));
	munmap(idx, isize);
	close(fd2);
	expect_list(_metadata, &self->c, self->name, self->id, "0644",
		    "persistent", 1, 5, 1, 0, 0, NULL);

	/* Extra operands and unknown options are usage errors. */
	EXPECT_EQ(2, WV_CTL(&self->c, "list", "extra"));
	EXPECT_EQ(2, WV_CTL(&self->c, "list", "--bogus"));
	EXPECT_EQ(0, WV_CTL(&self->c, "list", "--help"));
	EXPECT_EQ(0, strncmp(self->c.out, "usage: weavectl list", 20));
	(void)line;
}

/* show: attributes, then entries with gen, size, lock state and waiters. */
TEST_F(nl, show_reflects)
{
	char want[4096], line[256];
	struct weave_info_args info;
	__u64 g1, g2;
	int fd2, fd3, st;
	pid_t pid;

	ASSERT_EQ(0, wv_set(self->fd, 7, "abc", 3, 0, &g1));
	ASSERT_EQ(0, wv_set(self->fd, 1, "0123456789", 10, 0, &g2));
	ASSERT_EQ(0, wv_info(self->fd, &info));

	ASSERT_EQ(0, WV_CTL(&self->c, "show", "-p", self->name))
		TH_LOG("%s", self->c.err);
	snprintf(want, sizeof(want),
		 "name:        %s\nid:          %llu\nowner:       %u:%u\n"
		 "mode:        0644\nflags:       persistent\n"
		 "entries:     2\nbytes:       13\n",
		 self->name, (unsigned long long)self->id, getuid(), getgid());
	EXPECT_EQ(0, strncmp(self->c.out, want, strlen(want)))
		TH_LOG("%s", self->c.out);
	/* Usage against the limits: ours is one of our uid's registries. */
	snprintf(want, sizeof(want), "creator:     %u (", getuid());
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	snprintf(want, sizeof(want), "max value:   %llu\n",
		 (unsigned long long)info.max_entry_size);
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	snprintf(want, sizeof(want),
		 "max entries: %llu\nfiles:       1\nmappings:    0\n"
		 "watchers:    0\n\n%-20s %10s %8s %-12s %-16s %7s\n"
		 "%-20d %10llu %8d %-12s %-16s %7d\n"
		 "%-20d %10llu %8d %-12s %-16s %7d\n",
		 (unsigned long long)info.max_entries, "KEY", "GEN", "SIZE",
		 "LOCK", "HOLDERS", "WAITERS",
		 1, (unsigned long long)g2, 10, "free", "-", 0,
		 7, (unsigned long long)g1, 3, "free", "-", 0);
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);

	/* Exclusive lock held here, one waiter in a child. */
	ASSERT_EQ(0, wv_lock(self->fd, 7, 0, 0, NULL));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int fd = wv_reopen(self->name, O_RDWR);

		_exit(fd < 0 || wv_lock(fd, 7, 0, 0, NULL) ? 1 : 0);
	}
	snprintf(line, sizeof(line), "%-20d %10llu %8d %-12s %-16d %7d\n", 7,
		 (unsigned long long)g1, 3, "exclusive", (int)getpid(), 1);
	for (st = 0; st < 200; st++) {
		ASSERT_EQ(0, WV_CTL(&self->c, "show", self->name));
		if (strstr(self->c.out, line))
			break;
		wv_sleep_ms(10);
	}
	EXPECT_NE(NULL, strstr(self->c.out, line)) TH_LOG("%s", self->c.out);
	ASSERT_EQ(0, WV_CTL(&self->c, "show", "--json", self->name));
	snprintf(want, sizeof(want),
		 "{\"key\":7,\"gen\":%llu,\"size\":3,\"lock\":\"exclusive\","
		 "\"lock_count\":1,\"holders\":[%d],\"waiters\":1}",
		 (unsigned long long)g1, (int)getpid());
	EXPECT_NE(NULL, strstr(self->c.out, want)) TH_LOG("%s", self->c.out);
	snprintf(want, sizeof(want),
		 "{\"registry\":{\"name\":\"%s\",\"id\":%llu,", self->name,
		 (unsigned long long)self->id);
	EXPECT_EQ(0, strncmp(self->c.out, want, strlen(want)));
	ASSERT_EQ(0, wv_unlock(self->fd, 7, 0));
	EXPECT_EQ(0, wv_wait_pid(pid));

	/* Shared by two files of this process. */
	fd2 = wv_reopen(self->name, O_RDONLY);
	fd3 = wv_reopen(self->name, O_RDONLY);
	ASSERT_GE(fd2, 0);
	ASSERT_GE(fd3, 0);
	ASSERT_EQ(0, wv_lock(fd2, 1, WEAVE_LOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, wv_lock(fd3, 1, WEAVE_LOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, WV_CTL(&self->c, "show", self->name));
	snprintf(line, sizeof(line), "%-20d %10llu %8d %-12s %d,%d", 1,
		 (unsigned long long)g2, 10, "shared 2", (int)getpid(),
		 (int)getpid());
	EXPECT_NE(NULL, strstr(self->c.out, line)) TH_LOG("%s", self->c.out);
	EXPECT_NE(NULL, strstr(self->c.out, "files:       3\n"));
	ASSERT_EQ(0, WV_CTL(&self->c, "show", "-j", self->name));
	EXPECT_NE(NULL, strstr(self->c.out,
			       "\"lock\":\"shared\",\"lock_count\":2"));
	close(fd2);
	close(fd3);

	/* A deleted key is gone from the listing. */
	ASSERT_EQ(0, wv_delete(self->fd, 7, 0, NULL));
	ASSERT_EQ(0, WV_CTL(&self->c, "show", "-p", self->name));
	EXPECT_NE(NULL, strstr(self->c.out, "entries:     1\n"));
	snprintf(line, sizeof(line), "\n%-20d ", 7);
	EXPECT_EQ(NULL, strstr(self->c.out, line));
}

/* show's errors: a missing registry (1), bad arguments (2). */
TEST_F(nl, show_errors)
{
	char missing[64], want[128];

	wv_name(missing, sizeof(missing), "nl-missing");
	EXPECT_EQ(1, WV_CTL(&self->c, "show", missing));
	snprintf(want, sizeof(want), "weavectl: show %s: No such registry\n",
		 missing);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(2, WV_CTL(&self->c, "show"));
	EXPECT_EQ(2, WV_CTL(&self->c, "show", "a", "b"));
	EXPECT_EQ(2, WV_CTL(&self->c, "show", "a/b"));
	EXPECT_EQ(2, WV_CTL(&self->c, "show", "-x", self->name));
	EXPECT_EQ(0, WV_CTL(&self->c, "show", "--help"));
	EXPECT_EQ(0, strncmp(self->c.out, "usage: weavectl show", 20));
}

/* rm of a persistent registry: list no longer shows it. */
TEST_F(nl, rm_persistent)
{
	char line[1024], want[128];

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, WV_CTL(&self->c, "list", "-p"));
	ASSERT_NE(NULL, wv_list_line(self->c.out, self->name, line,
				     sizeof(line)));
	ASSERT_EQ(0, WV_CTL(&self->c, "rm", self->name)) TH_LOG("%s",
								self->c.err);
	ASSERT_EQ(0, WV_CTL(&self->c, "list", "-p"));
	EXPECT_EQ(NULL, wv_list_line(self->c.out, self->name, line,
				     sizeof(line)));
	EXPECT_EQ(1, WV_CTL(&self->c, "show", self->name));
	EXPECT_EQ(1, WV_CTL(&self->c, "rm", self->name));
	snprintf(want, sizeof(want), "weavectl: rm %s: No such file or directory\n",
		 self->name);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(2, WV_CTL(&self->c, "rm"));
}

/*
 * Another uid sees a 0644 registry and learns only that a 0600 one exists
 * (EACCES, as attaching it tells), by netlink and ioctl alike; it unlinks
 * neither.
 */
TEST_F(nl, other_uid)
{
	char priv[64], line[1024];
	struct gnl s;
	int fd, n;

	wv_name(priv, sizeof(priv), "nl-priv");
	wv_unlink_name(priv);
	fd = wv_open(priv, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST,
		     0600, 0, NULL);
	ASSERT_GE(fd, 0);

	ASSERT_EQ(0, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "list", "-p"))
		TH_LOG("%s", self->c.err);
	EXPECT_NE(NULL, wv_list_line(self->c.out, self->name, line,
				     sizeof(line)));
	EXPECT_EQ(NULL, wv_list_line(self->c.out, priv, line, sizeof(line)));
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "show", priv));
	EXPECT_NE(NULL, strstr(self->c.err, "Permission denied"))
		TH_LOG("%s", self->c.err);
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(0, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "show", self->name));
	/* weavectl get attaches: the same answer by ioctl. */
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "get", priv, "1"));
	EXPECT_NE(NULL, strstr(self->c.err, "Permission denied"))
		TH_LOG("%s", self->c.err);

	/* Unlink over netlink needs write permission. */
	EXPECT_EQ(EACCES, nobody_nl(WEAVE_CMD_REG_UNLINK, NLM_F_ACK, priv));
	EXPECT_EQ(EACCES, nobody_nl(WEAVE_CMD_REG_UNLINK, NLM_F_ACK,
				    self->name));
	EXPECT_EQ(EACCES, nobody_nl(WEAVE_CMD_REG_GET, NLM_F_ACK, priv));
	EXPECT_EQ(EACCES, nobody_nl(WEAVE_CMD_ENTRY_GET, NLM_F_DUMP, priv));
	EXPECT_EQ(0, nobody_nl(WEAVE_CMD_REG_GET, NLM_F_ACK, self->name));
	EXPECT_EQ(0, nobody_nl(WEAVE_CMD_ENTRY_GET, NLM_F_DUMP, self->name));
	/* And by ioctl, through weavectl rm. */
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "rm", priv));
	EXPECT_NE(NULL, strstr(self->c.err, "Permission denied"));

	/* Both are still there for their owner. */
	ASSERT_EQ(0, gnl_open(&s));
	EXPECT_EQ(0, gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_ACK, priv, &n));
	EXPECT_EQ(1, n);
	/* The owner may unlink by netlink; then the name is gone. */
	EXPECT_EQ(0, gnl_name_cmd(&s, WEAVE_CMD_REG_UNLINK, NLM_F_ACK, priv,
				  NULL));
	EXPECT_EQ(-ENOENT, gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_ACK, priv,
					NULL));
	EXPECT_EQ(-ENOENT, gnl_name_cmd(&s, WEAVE_CMD_REG_UNLINK, NLM_F_ACK,
					priv, NULL));
	close(s.fd);
	close(fd);
}

/* A new IPC namespace sees none of this one's registries. */
TEST_F(nl, ipc_namespace)
{
	EXPECT_EQ(0, WV_CTL_AS(&self->c, WV_CTL_NEWIPC, "list", "-p"))
		TH_LOG("%s", self->c.err);
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NEWIPC, "show", self->name));
	EXPECT_NE(NULL, strstr(self->c.err, "No such registry"))
		TH_LOG("%s", self->c.err);
	EXPECT_EQ(0, WV_CTL(&self->c, "show", self->name));
}

/* Direct requests: dumps, missing attributes, entry dump errors. */
TEST_F(nl, raw_requests)
{
	struct gnl s;
	struct gnl_req r;
	__u64 id = self->id;
	int n;

	ASSERT_EQ(0, gnl_open(&s));
	ASSERT_EQ(0, wv_set(self->fd, 3, "x", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 4, "y", 1, 0, NULL));
	/* Entries by id and by name. */
	gnl_init(&s, &r, s.family, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP);
	gnl_put(&r, WEAVE_A_REG_ID, &id, sizeof(id));
	EXPECT_EQ(0, gnl_talk(&s, &r, &n, NULL, 0));
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, gnl_name_cmd(&s, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP,
				  self->name, &n));
	EXPECT_EQ(2, n);
	/* Neither name nor id; a missing registry. */
	EXPECT_EQ(-EINVAL, gnl_name_cmd(&s, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP,
					NULL, NULL));
	EXPECT_EQ(-ENOENT, gnl_name_cmd(&s, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP,
					"wvt-nl-no-such-registry", NULL));
	EXPECT_EQ(-EINVAL, gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_ACK,
					NULL, NULL));
	/* An unlink without a name unlinks nothing. */
	EXPECT_EQ(-EINVAL, gnl_name_cmd(&s, WEAVE_CMD_REG_UNLINK, NLM_F_ACK,
					NULL, NULL));
	EXPECT_EQ(0, gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_ACK,
				  self->name, NULL));
	/* The registry dump includes ours exactly once. */
	EXPECT_EQ(0, gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_DUMP, NULL, &n));
	EXPECT_GE(n, 1);
	close(s.fd);
}

/* ---- a name lives as long as its users ----------------------------------- */

#define RECREATE_ROUNDS		3000
#define RECREATE_SECONDS	60	/* a debug kernel gets through fewer */

struct nl_load {
	volatile int stop;
	unsigned long requests;	/* per worker */
	unsigned long found;	/* requests that found the registry */
};

static __u64 xorshift(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Spin for a random short while: the interleavings differ run to run. */
static void jitter(__u64 *rnd)
{
	volatile unsigned int i, n = xorshift(rnd) % 2048;

	for (i = 0; i < n; i++)
		;
}

/*
 * Worker @w: look at @name by netlink in a loop until told to stop: the
 * registry dump, REG_GET by name, and the entry dump by name, each of
 * which holds the registry while it builds its reply.
 */
static void nl_looker(struct nl_load *load, int w, const char *name,
		      __u64 rnd)
{
	struct gnl s;
	int n, ret;

	if (gnl_open(&s))
		_exit(100);
	while (!load->stop) {
		switch (xorshift(&rnd) % 3) {
		case 0:
			ret = gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_DUMP,
					   NULL, &n);
			break;
		case 1:
			ret = gnl_name_cmd(&s, WEAVE_CMD_REG_GET, NLM_F_ACK,
					   name, &n);
			break;
		default:
			ret = gnl_name_cmd(&s, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP,
					   name, &n);
			break;
		}
		if (ret && ret != -ENOENT)
			_exit(101);
		__atomic_add_fetch(&load[w].requests, 1, __ATOMIC_RELAXED);
		if (!ret)
			__atomic_add_fetch(&load[w].found, 1, __ATOMIC_RELAXED);
		jitter(&rnd);
	}
	_exit(0);
}

/*
 * A name dies with its last user, whoever else is looking: while two
 * processes list and show it by netlink as fast as they can, a process
 * creates a registry of that name, fills it and closes it, again and
 * again. Every attach after the last close must create a new, empty
 * registry: CREATE|EXCL never gives EEXIST, plain CREATE never finds the
 * old one, and ids only grow. WEAVE_FUZZ_SEED replays the timing.
 */
TEST_F_TIMEOUT(nl, name_dies_with_last_user, 2 * RECREATE_SECONDS)
{
	unsigned int round, eexist = 0, stale = 0, full = 0, other = 0;
	const char *seed_env = getenv("WEAVE_FUZZ_SEED");
	struct nl_load *load;
	pid_t pid[2];
	char name[64];
	__u64 rnd, last_id = 0;
	time_t end;
	int i;

	rnd = seed_env ? strtoull(seed_env, NULL, 0) :
		(__u64)time(NULL) ^ ((__u64)getpid() << 32);
	rnd |= 1;
	TH_LOG("seed %llu (WEAVE_FUZZ_SEED)", (unsigned long long)rnd);

	wv_name(name, sizeof(name), "nl-recreate");
	load = mmap(NULL, 2 * sizeof(*load), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, load);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i])
			nl_looker(load, i, name, rnd + 2 * i + 2);
	}

	end = time(NULL) + RECREATE_SECONDS;
	for (round = 0; round < RECREATE_ROUNDS && time(NULL) < end; round++) {
		__u32 flags = WEAVE_ATTACH_CREATE;
		struct weave_attach_args a;
		struct weave_info_args info;
		int fd;

		if (round & 1)
			flags |= WEAVE_ATTACH_EXCL;
		fd = wv_open(name, O_RDWR, flags, 0600, 0, &a);
		if (fd == -EEXIST) {
			eexist++;
			continue;
		}
		if (fd < 0) {
			other++;
			TH_LOG("round %u: attach: %s", round, strerror(-fd));
			continue;
		}
		if (!(a.result & WEAVE_ATTACH_CREATED) || a.id <= last_id)
			stale++;
		last_id = a.id > last_id ? a.id : last_id;
		if (wv_info(fd, &info) || info.count)
			full++;
		if (wv_set(fd, 1, "old", 3, 0, NULL) ||
		    wv_set(fd, 2, "old", 3, 0, NULL))
			other++;
		jitter(&rnd);
		close(fd);
		jitter(&rnd);
	}

	load[0].stop = 1;
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, wv_wait_pid(pid[i])) TH_LOG("worker %d", i);
	TH_LOG("%u rounds; netlink requests %lu and %lu, found %lu and %lu",
	       round, load[0].requests, load[1].requests, load[0].found,
	       load[1].found);
	EXPECT_EQ(0, eexist) TH_LOG("CREATE|EXCL after the last close: EEXIST");
	EXPECT_EQ(0, stale) TH_LOG("attach found the old registry");
	EXPECT_EQ(0, full) TH_LOG("a new registry had entries");
	EXPECT_EQ(0, other);
	/* The lookers raced with the rounds, or the test proved nothing. */
	EXPECT_LE(200, round);
	EXPECT_LE(50, load[0].found + load[1].found);
	/* Nothing is left of the name. */
	EXPECT_EQ(-ENOENT, wv_open(name, O_RDWR, 0, 0, 0, NULL));
	munmap(load, 2 * sizeof(*load));
}

/* ---- monitor ---------------------------------------------------------------- */

struct mon {
	pid_t pid;
	int out, err;
	char buf[WV_CTL_OUT_MAX];
	char errbuf[4096];
};

static int mon_start(struct mon *m, char *const argv[])
{
	int in;

	m->buf[0] = m->errbuf[0] = '\0';
	m->pid = wv_ctl_start(0, argv, &in, &m->out, &m->err);
	if (m->pid < 0)
		return -1;
	close(in);	/* monitor does not read it */
	fcntl(m->out, F_SETFL, O_NONBLOCK);
	fcntl(m->err, F_SETFL, O_NONBLOCK);
	return 0;
}

static void mon_poll(struct mon *m)
{
	wv_ctl_drain(m->out, m->buf, sizeof(m->buf));
	wv_ctl_drain(m->err, m->errbuf, sizeof(m->errbuf));
}

/* Until @needle shows in the output, running @step between looks. */
static bool mon_until(struct mon *m, const char *needle,
		      void (*step)(void *), void *arg)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (step)
			step(arg);
		wv_sleep_ms(10);
		mon_poll(m);
		if (strstr(m->buf, needle))
			return true;
	}
	return false;
}

static int mon_stop(struct mon *m)
{
	int st, i;

	kill(m->pid, SIGINT);
	st = wv_wait_pid(m->pid);
	for (i = 0; i < 3; i++)
		mon_poll(m);
	close(m->out);
	close(m->err);
	return st;
}

/* Create and drop a registry: the monitor sees it once it listens. */
static void sync_step(void *arg)
{
	int fd = wv_open(arg, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);

	if (fd >= 0)
		close(fd);
}

/*
 * Start monitor @argv and wait until it listens: until it prints @needle
 * for @reg, made and dropped again and again meanwhile.
 */
static bool mon_listening(struct mon *m, char *const argv[],
			  const char *needle, char *reg)
{
	return !mon_start(m, argv) && mon_until(m, needle, sync_step, reg);
}

/* Strip the timestamps; keep the lines naming @name. */
static void mon_lines(const char *buf, const char *name, char *out,
		      size_t size)
{
	char tag[96];
	const char *p = buf, *eol, *sp;
	size_t n = 0;

	snprintf(tag, sizeof(tag), " name=%s ", name);
	out[0] = '\0';
	while (*p) {
		eol = strchrnul(p, '\n');
		sp = memchr(p, ' ', eol - p);
		if (sp && memmem(p, eol - p, tag, strlen(tag)) && n < size)
			n += snprintf(out + n, size - n, "%.*s\n",
				      (int)(eol - sp - 1), sp + 1);
		p = *eol ? eol + 1 : eol;
	}
}

TEST_F(nl, monitor_sequence)
{
	char sync[64], reg[64], want[2048], got[4096], big[100] = { 0 };
	char *const argv[] = { "weavectl", "monitor", NULL };
	struct weave_attach_args a;
	struct weave_write_args w;
	__u64 g1, g2, g3, g4, g5;
	struct mon *m;
	int fd, fd2, n;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	wv_name(sync, sizeof(sync), "nl-sync");
	wv_name(reg, sizeof(reg), "nl-mon");
	wv_unlink_name(reg);
	ASSERT_EQ(0, mon_start(m, argv));
	ASSERT_TRUE(mon_until(m, sync, sync_step, sync)) TH_LOG("%s %s",
							       m->buf, m->errbuf);

	fd = wv_open(reg, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST,
		     0644, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "hello", 5, 0, &g1));
	ASSERT_EQ(0, wv_write(fd, 1, 5, "!!", 2, 0, &w));
	g2 = w.gen;
	ASSERT_EQ(0, wv_set(fd, 2, "12345678", 8, 0, &g3));
	ASSERT_EQ(0, wv_resize(fd, 2, sizeof(big), 0, &g4));
	ASSERT_EQ(0, wv_delete(fd, 1, 0, &g5));
	fd2 = wv_reopen(reg, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_lock(fd2, 2, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(fd2, 2, 0));
	close(fd2);
	ASSERT_EQ(0, wv_unlink(fd, reg));
	close(fd);

	snprintf(want, sizeof(want), "id=%llu name=%s destroyed",
		 (unsigned long long)a.id, reg);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);
	EXPECT_EQ(0, mon_stop(m)) TH_LOG("%s", m->errbuf);
	EXPECT_STREQ("", m->errbuf);

	mon_lines(m->buf, reg, got, sizeof(got));
	n = snprintf(want, sizeof(want),
		     "id=%llu name=%s created\n"
		     "id=%llu name=%s key=1 gen=%llu size=5 events=new\n"
		     "id=%llu name=%s key=1 gen=%llu size=7 events=changed,resized\n"
		     "id=%llu name=%s key=2 gen=%llu size=8 events=new\n"
		     "id=%llu name=%s key=2 gen=%llu size=100 events=resized\n"
		     "id=%llu name=%s key=1 gen=%llu size=0 events=deleted\n"
		     "id=%llu name=%s key=2 gen=%llu size=100 events=unlocked\n",
		     (unsigned long long)a.id, reg,
		     (unsigned long long)a.id, reg, (unsigned long long)g1,
		     (unsigned long long)a.id, reg, (unsigned long long)g2,
		     (unsigned long long)a.id, reg, (unsigned long long)g3,
		     (unsigned long long)a.id, reg, (unsigned long long)g4,
		     (unsigned long long)a.id, reg, (unsigned long long)g5,
		     (unsigned long long)a.id, reg, (unsigned long long)g4);
	EXPECT_EQ(0, strncmp(got, want, n)) TH_LOG("got:\n%s\nwant:\n%s", got,
						   want);
	/* Then the unlink (key 0) and the destruction. */
	snprintf(want, sizeof(want), "id=%llu name=%s key=0 ",
		 (unsigned long long)a.id, reg);
	EXPECT_NE(NULL, strstr(got + n, want)) TH_LOG("%s", got + n);
	EXPECT_NE(NULL, strstr(got + n, "events=unlinked\n"));
	snprintf(want, sizeof(want), "id=%llu name=%s destroyed\n",
		 (unsigned long long)a.id, reg);
	EXPECT_NE(NULL, strstr(got + n, want));
	free(m);
}

/* monitor NAME -j: one JSON object per line, only NAME's events. */
/*
 * The events group is heard in the initial namespaces, so a registry
 * event tells its ids as the initial user namespace sees them, whoever
 * caused it: here a process in a user namespace of its own with no ids
 * mapped, to which the owner's id would be the overflow id.
 */
TEST_F(nl, monitor_ids_in_init_ns)
{
	char reg[64], want[256];
	char *argv[] = { "weavectl", "monitor", "-j", reg, NULL };
	struct weave_attach_args *a;
	struct mon *m;
	pid_t pid;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	a = wv_shared(sizeof(*a));
	ASSERT_NE(NULL, a);
	wv_name(reg, sizeof(reg), "nl-monns");
	wv_unlink_name(reg);
	ASSERT_TRUE(mon_listening(m, argv, "\"event\":\"created\"", reg))
		TH_LOG("%s %s", m->buf, m->errbuf);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int fd;

		if (unshare(CLONE_NEWUSER))
			_exit(100);
		fd = wv_open(reg, O_RDWR, WEAVE_ATTACH_CREATE |
			     WEAVE_ATTACH_EXCL | WEAVE_ATTACH_PERSIST, 0600, 0,
			     a);
		_exit(fd < 0 ? 101 : 0);
	}
	ASSERT_EQ(0, wv_wait_pid(pid));
	snprintf(want, sizeof(want), "\"id\":%llu,\"uid\":0,\"gid\":0,",
		 (unsigned long long)a->id);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);
	EXPECT_EQ(0, wv_unlink_name(reg));
	EXPECT_EQ(0, mon_stop(m));
}

TEST_F(nl, monitor_json_filter)
{
	char reg[64], want[512];
	char *argv[] = { "weavectl", "monitor", "-j", reg, NULL };
	struct weave_attach_args a;
	struct mon *m;
	__u64 g;
	int fd;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	wv_name(reg, sizeof(reg), "nl-monj");
	wv_unlink_name(reg);
	/* Before it exists: the monitor learns its id from REG_NEW. */
	ASSERT_TRUE(mon_listening(m, argv, "\"event\":\"created\"", reg))
		TH_LOG("%s %s", m->buf, m->errbuf);
	fd = wv_open(reg, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST,
		     0644, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 7, "abc", 3, 0, &g));
	ASSERT_EQ(0, wv_set(self->fd, 7, "other", 5, 0, NULL));
	snprintf(want, sizeof(want),
		 "\"event\":\"entry\",\"id\":%llu,\"name\":\"%s\",\"key\":7,"
		 "\"gen\":%llu,\"size\":3,\"mask\":[\"new\"]}\n",
		 (unsigned long long)a.id, reg, (unsigned long long)g);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);
	ASSERT_EQ(0, wv_unlink(fd, reg));
	close(fd);
	EXPECT_TRUE(mon_until(m, "\"event\":\"destroyed\"", NULL, NULL));
	EXPECT_EQ(0, mon_stop(m));
	/* Every line is an object; nothing of the fixture's registry. */
	EXPECT_EQ(0, strncmp(m->buf, "{\"time\":\"", 9));
	EXPECT_EQ(NULL, strstr(m->buf, self->name));
	EXPECT_EQ(NULL, strstr(m->buf, "}{"));
	free(m);
}

/* monitor escapes a name as list does: text, and JSON with "name_hex". */
TEST_F(nl, monitor_odd_name)
{
	char base[64], reg[96], text[192], hex[256], want[768];
	char *argv[] = { "weavectl", "monitor", reg, NULL };
	char *argj[] = { "weavectl", "monitor", "-j", NULL };
	struct weave_attach_args a;
	struct mon *m, *mj;
	__u64 g;
	int fd;

	m = calloc(1, sizeof(*m));
	mj = calloc(1, sizeof(*mj));
	ASSERT_TRUE(m && mj);
	wv_name(base, sizeof(base), "nl-odd");
	snprintf(reg, sizeof(reg), "%s" WV_ODD_TAIL, base);
	snprintf(text, sizeof(text), "%s" WV_ODD_TEXT, base);
	wv_hex(reg, hex, sizeof(hex));
	wv_unlink_name(reg);
	/* The filter, given raw, matches the registry. */
	ASSERT_TRUE(mon_listening(m, argv, " created\n", reg))
		TH_LOG("%s %s", m->buf, m->errbuf);
	ASSERT_TRUE(mon_listening(mj, argj, "\"event\":\"created\"", reg))
		TH_LOG("%s %s", mj->buf, mj->errbuf);

	fd = wv_open(reg, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST,
		     0644, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 7, "abc", 3, 0, &g));
	snprintf(want, sizeof(want), " id=%llu name=%s created\n",
		 (unsigned long long)a.id, text);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);
	snprintf(want, sizeof(want),
		 " id=%llu name=%s key=7 gen=%llu size=3 events=new\n",
		 (unsigned long long)a.id, text, (unsigned long long)g);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);

	snprintf(want, sizeof(want),
		 "\"event\":\"created\",\"name\":\"%s" WV_ODD_JSON "\","
		 "\"name_hex\":\"%s\",\"id\":%llu,", base, hex,
		 (unsigned long long)a.id);
	EXPECT_TRUE(mon_until(mj, want, NULL, NULL)) TH_LOG("%s", mj->buf);
	snprintf(want, sizeof(want),
		 "\"event\":\"entry\",\"id\":%llu,\"name\":\"%s"
		 WV_ODD_JSON "\",\"name_hex\":\"%s\",\"key\":7,",
		 (unsigned long long)a.id, base, hex);
	EXPECT_TRUE(mon_until(mj, want, NULL, NULL)) TH_LOG("%s", mj->buf);

	ASSERT_EQ(0, wv_unlink(fd, reg));
	close(fd);
	EXPECT_EQ(0, mon_stop(m));
	EXPECT_EQ(0, mon_stop(mj));
	/* Nothing raw: no ESC, no byte of the name that is not UTF-8. */
	EXPECT_EQ(NULL, strpbrk(m->buf, "\x1b\x85\xff"));
	EXPECT_EQ(NULL, strpbrk(mj->buf, "\x1b\x85\xff"));
	free(m);
	free(mj);
}

static void set_424242(void *arg)
{
	wv_set(*(int *)arg, 424242, "z", 1, 0, NULL);
}

/* A monitor that falls behind says so, resynchronises and goes on. */
TEST_F(nl, monitor_lost_events)
{
	static const char lost[] =
		"weavectl: monitor: lost events, resynchronising\n";
	char sync[64], want[256];
	const char *p;
	char *const argv[] = { "weavectl", "monitor", NULL };
	struct mon *m;
	int i;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	wv_name(sync, sizeof(sync), "nl-sync2");
	ASSERT_EQ(0, mon_start(m, argv));
	ASSERT_TRUE(mon_until(m, sync, sync_step, sync));
	/* Stopped, it cannot read: its socket's buffer overflows. */
	ASSERT_EQ(0, kill(m->pid, SIGSTOP));
	for (i = 0; i < 20000; i++)
		ASSERT_EQ(0, wv_set(self->fd, 1 + i % 64, &i, sizeof(i), 0,
				    NULL));
	ASSERT_EQ(0, kill(m->pid, SIGCONT));
	for (i = 0; i < 500 && !strstr(m->errbuf, "resynchronising"); i++) {
		wv_sleep_ms(10);
		mon_poll(m);
	}
	EXPECT_NE(NULL, strstr(m->errbuf, "resynchronising")) TH_LOG("%s",
								   m->errbuf);
	/*
	 * The error comes before the messages still queued: events sent
	 * before the monitor has read them may be lost too (and reported
	 * again). Once drained, it reports changes again.
	 */
	snprintf(want, sizeof(want), "name=%s key=424242 gen=", self->name);
	EXPECT_TRUE(mon_until(m, want, set_424242, &self->fd));
	/* Nothing but that message on standard error. */
	for (p = m->errbuf; *p; p += strlen(lost))
		if (strncmp(p, lost, strlen(lost)))
			break;
	EXPECT_STREQ("", p);
	EXPECT_EQ(0, mon_stop(m));
	free(m);
}

/* The same in JSON: a "lost" record in the output too. */
TEST_F(nl, monitor_lost_events_json)
{
	char sync[64];
	char *const argv[] = { "weavectl", "monitor", "--json", NULL };
	struct mon *m;
	int i;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	wv_name(sync, sizeof(sync), "nl-sync3");
	ASSERT_TRUE(mon_listening(m, argv, "\"event\":\"created\"", sync));
	ASSERT_EQ(0, kill(m->pid, SIGSTOP));
	for (i = 0; i < 20000; i++)
		ASSERT_EQ(0, wv_set(self->fd, 1 + i % 64, &i, sizeof(i), 0,
				    NULL));
	ASSERT_EQ(0, kill(m->pid, SIGCONT));
	EXPECT_TRUE(mon_until(m, "\"event\":\"lost\"}\n", NULL, NULL))
		TH_LOG("%s", m->errbuf);
	EXPECT_NE(NULL, strstr(m->errbuf, "resynchronising"));
	EXPECT_EQ(0, mon_stop(m));
	free(m);
}

/*
 * A registry the monitor could not list when it started, one of another
 * IPC namespace, is destroyed: its event still comes, by id. An
 * anonymous registry made after it started is named "(anonymous)".
 */
TEST_F(nl, monitor_unlisted_and_anonymous)
{
	char sync[64], other[64], want[160];
	char *const argv[] = { "weavectl", "monitor", NULL };
	struct weave_attach_args *a;
	struct mon *m;
	int go[2], fd;
	pid_t pid;
	char c;

	m = calloc(1, sizeof(*m));
	ASSERT_NE(NULL, m);
	a = wv_shared(sizeof(*a));
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));	/* not in the monitor */
	wv_name(other, sizeof(other), "nl-otherns");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(go[1]);
		if (unshare(CLONE_NEWIPC))
			_exit(100);
		fd = wv_open(other, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, a);
		if (fd < 0)
			_exit(101);
		/* Until told: then the registry goes with the namespace. */
		if (read(go[0], &c, 1) < 0)
			_exit(102);
		_exit(0);
	}
	close(go[0]);
	ASSERT_TRUE(wv_until(__atomic_load_n(&a->id, __ATOMIC_ACQUIRE), 5000));

	wv_name(sync, sizeof(sync), "nl-sync4");
	ASSERT_TRUE(mon_listening(m, argv, sync, sync));
	close(go[1]);
	ASSERT_EQ(0, wv_wait_pid(pid));
	snprintf(want, sizeof(want), " id=%llu name=%s destroyed\n",
		 (unsigned long long)a->id, other);
	EXPECT_TRUE(mon_until(m, want, NULL, NULL)) TH_LOG("%s", m->buf);

	fd = wv_open_anon(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_set(fd, 424243, "a", 1, 0, NULL));
	EXPECT_TRUE(mon_until(m, " name=(anonymous) key=424243 ", NULL, NULL))
		TH_LOG("%s", m->buf);
	close(fd);
	EXPECT_EQ(0, mon_stop(m));
	free(m);
}

/* Without CAP_SYS_ADMIN the subscription fails, clearly, with status 1. */
TEST_F(nl, monitor_unprivileged)
{
	EXPECT_EQ(1, WV_CTL_AS(&self->c, WV_CTL_NOBODY, "monitor"));
	EXPECT_NE(NULL, strstr(self->c.err, "CAP_SYS_ADMIN")) TH_LOG("%s",
								      self->c.err);
	EXPECT_NE(NULL, strstr(self->c.err, "weave_watch"));
	EXPECT_STREQ("", self->c.out);
	EXPECT_EQ(2, WV_CTL(&self->c, "monitor", "a", "b"));
	EXPECT_EQ(2, WV_CTL(&self->c, "monitor", "-p"));
	EXPECT_EQ(0, WV_CTL(&self->c, "monitor", "--help"));
	EXPECT_EQ(0, strncmp(self->c.out, "usage: weavectl monitor", 23));
}

/* The ioctl commands: success and their main errors. */
TEST_F(nl, data_commands)
{
	char missing[64], path[128], want[128];
	int fd;

	wv_name(missing, sizeof(missing), "nl-nope");
	snprintf(path, sizeof(path), "/tmp/wvt-nl-%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(5, write(fd, "value", 5));
	close(fd);

	EXPECT_EQ(0, WV_CTL(&self->c, "set", self->name, "9", path));
	EXPECT_EQ(0, WV_CTL(&self->c, "get", self->name, "9"));
	EXPECT_STREQ("value", self->c.out);
	EXPECT_EQ(0, WV_CTL(&self->c, "keys", self->name));
	EXPECT_STREQ("9\n", self->c.out);
	EXPECT_EQ(1, WV_CTL(&self->c, "get", self->name, "10"));
	snprintf(want, sizeof(want), "weavectl: get %s 10: No such file or directory\n",
		 self->name);
	EXPECT_STREQ(want, self->c.err);
	EXPECT_EQ(1, WV_CTL(&self->c, "get", missing, "1"));
	EXPECT_EQ(1, WV_CTL(&self->c, "keys", missing));
	EXPECT_EQ(2, WV_CTL(&self->c, "get", self->name, "0"));
	EXPECT_EQ(2, WV_CTL(&self->c, "set", self->name, "x", path));
	EXPECT_EQ(2, WV_CTL(&self->c, "keys"));
	EXPECT_EQ(0, WV_CTL(&self->c, "del", self->name, "9"));
	EXPECT_EQ(1, WV_CTL(&self->c, "del", self->name, "9"));
	EXPECT_EQ(2, WV_CTL(&self->c, "del", self->name));
	EXPECT_EQ(2, WV_CTL(&self->c, "frobnicate"));
	unlink(path);
}

TEST_HARNESS_MAIN
