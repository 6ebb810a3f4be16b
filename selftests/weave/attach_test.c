// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching files to registries: create, open, exclusive, persistent and
 * anonymous registries, names, modes and permissions, unlink, lifetime,
 * read-only handles and the registry limit.
 */
#include <sched.h>
#include <sys/resource.h>
#include "weave_proc.h"

#include "kselftest_harness.h"


FIXTURE(attach) {
	int ufd;		/* unattached */
	char name[64];		/* unique per test, unlinked at teardown */
	char name2[64];
	__u64 orig_max;		/* max_registries to restore, or 0 */
};

FIXTURE_SETUP(attach)
{
	self->ufd = wv_dev(O_RDWR);
	ASSERT_GE(self->ufd, 0) TH_LOG("open %s: %s", WEAVE_DEV,
				       strerror(-self->ufd));
	wv_name(self->name, sizeof(self->name), "att");
	wv_name(self->name2, sizeof(self->name2), "att2");
}

FIXTURE_TEARDOWN(attach)
{
	wv_unlink_name(self->name);
	wv_unlink_name(self->name2);
	close(self->ufd);
	if (self->orig_max)
		wv_param_set("max_registries", self->orig_max);
}

TEST_F(attach, create_open_excl)
{
	struct weave_attach_args a, b;
	struct weave_info_args info;
	int fd1, fd2, fd3;
	long ps = wv_page_size();

	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));

	fd1 = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0640, 0, &a);
	ASSERT_GE(fd1, 0) TH_LOG("create: %s", strerror(-fd1));
	EXPECT_EQ(WEAVE_ATTACH_CREATED, a.result);
	EXPECT_GT(a.id, 0);
	EXPECT_GT(a.index_size, 0);
	EXPECT_EQ(0, a.index_size % ps);

	/* CREATE of an existing name opens it. */
	fd2 = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, &b);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(0, b.result);
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(a.index_size, b.index_size);

	/* Plain open of an existing name. */
	fd3 = wv_open(self->name, O_RDWR, 0, 0, 0, &b);
	ASSERT_GE(fd3, 0);
	EXPECT_EQ(0, b.result);
	EXPECT_EQ(a.id, b.id);

	/* EXCL on an existing name. */
	EXPECT_EQ(-EEXIST, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
				     0600, 0, NULL));
	/* The ufd is still unattached after the failures. */
	EXPECT_EQ(-EBADFD, wv_info(self->ufd, &info));

	/* They all see the same registry; the mode is the creator's. */
	ASSERT_EQ(0, wv_set(fd1, 1, "one", 3, 0, NULL));
	ASSERT_EQ(0, wv_info(fd3, &info));
	EXPECT_EQ(a.id, info.id);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(getuid(), info.uid);
	EXPECT_EQ(getgid(), info.gid);
	EXPECT_EQ(0, info.flags & (WEAVE_INFO_PERSIST | WEAVE_INFO_ANON |
				   WEAVE_INFO_RDONLY | WEAVE_INFO_UNLINKED));
	EXPECT_EQ(a.index_size, info.index_size);

	/* EXCL on a new name creates. */
	ASSERT_EQ(0, wv_attach(self->ufd, self->name2,
			       WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL, 0600,
			       0, &b));
	EXPECT_EQ(WEAVE_ATTACH_CREATED, b.result);
	EXPECT_GT(b.id, a.id);

	close(fd1);
	close(fd2);
	close(fd3);
}

TEST_F(attach, anonymous)
{
	struct weave_attach_args a, b;
	struct weave_info_args info;
	int fd1, fd2;

	fd1 = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 0, &a);
	ASSERT_GE(fd1, 0);
	fd2 = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 0, &b);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(WEAVE_ATTACH_CREATED, a.result);
	EXPECT_EQ(WEAVE_ATTACH_CREATED, b.result);
	EXPECT_NE(a.id, b.id);
	EXPECT_GT(b.id, a.id);

	ASSERT_EQ(0, wv_info(fd1, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_ANON);
	EXPECT_FALSE(info.flags & WEAVE_INFO_PERSIST);
	EXPECT_FALSE(info.flags & WEAVE_INFO_RDONLY);
	EXPECT_EQ(a.id, info.id);

	/* Two anonymous registries are separate. */
	ASSERT_EQ(0, wv_set(fd1, 1, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(fd2, 1, NULL));
	EXPECT_EQ(0, wv_count(fd2));

	close(fd1);
	close(fd2);
}

TEST_F(attach, flag_validation)
{
	struct weave_info_args info;

	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name, WEAVE_ATTACH_EXCL,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_PERSIST, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_EXCL | WEAVE_ATTACH_PERSIST,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL,
				     WEAVE_ATTACH_ANON | WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL,
				     WEAVE_ATTACH_ANON | WEAVE_ATTACH_PERSIST,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL,
				     WEAVE_ATTACH_ANON | WEAVE_ATTACH_EXCL,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL, WEAVE_ATTACH_ANON |
				     WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
				     WEAVE_ATTACH_PERSIST, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE | (1U << 4), 0600, 0,
				     NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE | (1U << 31), 0600, 0,
				     NULL));

	/* mode */
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE, 01000, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE, 04600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE, 0xffffffff, 0, NULL));

	/* Nothing was created, the file is unattached. */
	EXPECT_EQ(-EBADFD, wv_info(self->ufd, &info));
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));

	/* The extremes of mode work. */
	ASSERT_EQ(0, wv_attach(self->ufd, self->name, WEAVE_ATTACH_CREATE,
			       0777, 0, NULL));
	ASSERT_EQ(0, wv_info(self->ufd, &info));
	EXPECT_EQ(0777, info.mode);
	int fd = wv_open(self->name2, O_RDWR, WEAVE_ATTACH_CREATE, 0, 0, NULL);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(0, info.mode);
	/* CAP_IPC_OWNER: root opens a mode 0 registry. */
	int fd2 = wv_open(self->name2, O_RDWR, 0, 0, 0, NULL);

	EXPECT_GE(fd2, 0);
	if (fd2 >= 0)
		close(fd2);
	close(fd);
}

TEST_F(attach, names)
{
	char name[WEAVE_NAME_MAX + 64];
	struct weave_attach_args a;
	struct weave_info_args info;
	int fd;

	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, "", WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, "/", WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, "a/b", WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, "trailing/",
				     WEAVE_ATTACH_CREATE, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL, WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name, WEAVE_ATTACH_ANON,
				     0600, 0, NULL));

	/* 256 bytes is one too many, with or without a NUL after it. */
	memset(name, 'n', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, name, WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	snprintf(name, sizeof(name), "%s-", self->name);
	memset(name + strlen(name), 'x', WEAVE_NAME_MAX + 1 - strlen(name));
	name[WEAVE_NAME_MAX + 1] = '\0';
	ASSERT_EQ(WEAVE_NAME_MAX + 1, strlen(name));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, name, WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_info(self->ufd, &info));

	/* 255 bytes is fine, and the name is exact. */
	name[WEAVE_NAME_MAX] = '\0';
	ASSERT_EQ(WEAVE_NAME_MAX, strlen(name));
	fd = wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		     0600, 0, &a);
	ASSERT_GE(fd, 0) TH_LOG("255-byte name: %s", strerror(-fd));
	EXPECT_EQ(WEAVE_ATTACH_CREATED, a.result);
	ASSERT_EQ(0, wv_attach(self->ufd, name, 0, 0, 0, &a));
	name[WEAVE_NAME_MAX - 1] = '\0';
	EXPECT_EQ(-ENOENT, wv_attach(wv_dev(O_RDWR), name, 0, 0, 0, NULL));
	close(fd);

	/* A 1-byte name; names are case-sensitive bytes. */
	snprintf(name, sizeof(name), "%c", 'A' + getpid() % 26);
	wv_unlink_name(name);
	fd = wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		     0600, 0, NULL);
	ASSERT_GE(fd, 0);
	name[0] += 'a' - 'A';
	EXPECT_EQ(-ENOENT, wv_attach(wv_dev(O_RDWR), name, 0, 0, 0, NULL));
	close(fd);
}

/* A name running into an unmapped page without a NUL faults. */
TEST_F(attach, name_fault)
{
	long ps = wv_page_size();
	char *p;

	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + ps, ps));
	memset(p + ps - 10, 'q', 10);
	EXPECT_EQ(-EFAULT, wv_attach(self->ufd, p + ps - 10,
				     WEAVE_ATTACH_CREATE, 0600, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_unlink(self->ufd, p + ps - 10));
	/* A short name that ends before the hole is fine. */
	memcpy(p + ps - 40, self->name, strlen(self->name) + 1);
	EXPECT_EQ(0, wv_attach(self->ufd, p + ps - 40, WEAVE_ATTACH_CREATE,
			       0600, 0, NULL));
	munmap(p, ps);
}

TEST_F(attach, max_entries)
{
	struct weave_api_args api;
	struct weave_info_args info;
	struct weave_attach_args a;
	__u64 param = 0;
	int fd;

	ASSERT_EQ(0, wv_api(self->ufd, &api));
	if (!wv_param("max_entries", &param))
		ASSERT_EQ(param, api.max_entries);

	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL, WEAVE_ATTACH_ANON, 0600,
				     api.max_entries + 1, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, NULL, WEAVE_ATTACH_ANON, 0600,
				     ~0ULL, NULL));
	EXPECT_EQ(-EINVAL, wv_attach(self->ufd, self->name,
				     WEAVE_ATTACH_CREATE, 0600,
				     api.max_entries + 1, NULL));
	EXPECT_EQ(-EBADFD, wv_info(self->ufd, &info));

	/* 0: the module's limit. */
	fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 0, NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(api.max_entries, info.max_entries);
	EXPECT_EQ(api.max_entry_size, info.max_entry_size);
	close(fd);

	/* A small capacity; the index covers it. */
	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 4, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(4, info.max_entries);
	EXPECT_GE(a.index_size, 5 * sizeof(struct weave_slot));
	EXPECT_EQ(a.index_size, info.index_size);
	EXPECT_GT(info.entry_span, 0);
	EXPECT_EQ(0, info.entry_span % wv_page_size());

	/* Ignored when opening an existing one. */
	int fd2 = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 8,
			  NULL);

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_info(fd2, &info));
	EXPECT_EQ(4, info.max_entries);
	close(fd2);
	close(fd);
}

TEST_F(attach, persist)
{
	struct weave_attach_args a, b;
	struct weave_info_args info;
	struct weave_get_args g;
	char out[8];
	int fd;

	fd = wv_open(self->name, O_RDWR,
		     WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST, 0600, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_PERSIST);
	EXPECT_FALSE(info.flags & WEAVE_INFO_ANON);
	ASSERT_EQ(0, wv_set(fd, 3, "kept", 4, 0, NULL));
	close(fd);

	/* No users left; it is still there, with its entries. */
	fd = wv_open(self->name, O_RDWR, 0, 0, 0, &b);
	ASSERT_GE(fd, 0) TH_LOG("reopen persistent: %s", strerror(-fd));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(0, b.result);
	ASSERT_EQ(0, wv_get(fd, 3, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(4, g.size);
	EXPECT_EQ(0, memcmp(out, "kept", 4));
	close(fd);

	/* PERSIST is the creator's choice; a later opener cannot drop it. */
	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, &b);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(a.id, b.id);
	close(fd);
	ASSERT_EQ(0, wv_attach(self->ufd, self->name, 0, 0, 0, &b));
	EXPECT_EQ(a.id, b.id);

	/* Unlink: the name goes, this file keeps working. */
	ASSERT_EQ(0, wv_unlink_name(self->name));
	fd = wv_dev(O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOENT, wv_attach(fd, self->name, 0, 0, 0, NULL));
	close(fd);
	ASSERT_EQ(0, wv_get(self->ufd, 3, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(4, g.size);
}

TEST_F(attach, nonpersistent_lifetime)
{
	struct weave_attach_args a, b;
	struct weave_get_args g;
	char out[8];
	int fd1, fd2, fd3;

	fd1 = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, &a);
	ASSERT_GE(fd1, 0);
	ASSERT_EQ(0, wv_set(fd1, 1, "abc", 3, 0, NULL));
	fd2 = wv_open(self->name, O_RDWR, 0, 0, 0, NULL);
	ASSERT_GE(fd2, 0);

	/* The second file keeps it alive. */
	close(fd1);
	fd3 = wv_open(self->name, O_RDWR, 0, 0, 0, &b);
	ASSERT_GE(fd3, 0) TH_LOG("open while in use: %s", strerror(-fd3));
	EXPECT_EQ(a.id, b.id);
	ASSERT_EQ(0, wv_get(fd3, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(3, g.size);
	close(fd2);
	close(fd3);

	/* The last file is gone, so is the registry. */
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));
	ASSERT_EQ(0, wv_attach(self->ufd, self->name, WEAVE_ATTACH_CREATE,
			       0600, 0, &b));
	EXPECT_EQ(WEAVE_ATTACH_CREATED, b.result);
	EXPECT_NE(a.id, b.id);
	EXPECT_EQ(0, wv_count(self->ufd));
}

/* A mapping is a user too. */
TEST_F(attach, mapping_keeps_alive)
{
	struct weave_attach_args a, b;
	void *idx;
	int fd;

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 16, &a);
	ASSERT_GE(fd, 0);
	idx = mmap(NULL, a.index_size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, idx);
	close(fd);

	fd = wv_open(self->name, O_RDWR, 0, 0, 0, &b);
	ASSERT_GE(fd, 0) TH_LOG("open while mapped: %s", strerror(-fd));
	EXPECT_EQ(a.id, b.id);
	ASSERT_EQ(0, wv_set(fd, 2, "m", 1, 0, NULL));
	close(fd);
	EXPECT_EQ(1, ((const struct weave_index_header *)idx)->count);

	munmap(idx, a.index_size);
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));
}

TEST_F(attach, unlink)
{
	struct weave_attach_args a, b;
	struct weave_info_args info;
	struct weave_get_args g;
	char out[8];
	int fd, fd2;

	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, self->name));
	EXPECT_EQ(-EINVAL, wv_unlink(self->ufd, ""));
	EXPECT_EQ(-EINVAL, wv_unlink(self->ufd, "a/b"));
	EXPECT_EQ(-EINVAL, wv_unlink(self->ufd, NULL));

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "old", 3, 0, NULL));

	/* Unlink through the attached file itself works too. */
	ASSERT_EQ(0, wv_unlink(fd, self->name));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, self->name));
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));

	/* The old file still works and knows. */
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_UNLINKED);
	EXPECT_EQ(a.id, info.id);
	ASSERT_EQ(0, wv_set(fd, 2, "two", 3, 0, NULL));
	ASSERT_EQ(0, wv_get(fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "old", 3));

	/* A new create under the name is a new, empty registry. */
	fd2 = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE |
		      WEAVE_ATTACH_EXCL, 0600, 0, &b);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(WEAVE_ATTACH_CREATED, b.result);
	EXPECT_NE(a.id, b.id);
	EXPECT_EQ(0, wv_count(fd2));
	EXPECT_EQ(2, wv_count(fd));
	ASSERT_EQ(0, wv_info(fd2, &info));
	EXPECT_FALSE(info.flags & WEAVE_INFO_UNLINKED);

	close(fd);
	close(fd2);
}

/* Run @fn in a child with all uids @uid and gids @gid; its exit status. */
static int as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (wv_become(uid, gid))
			_exit(100);
		_exit(fn(arg));
	}
	return wv_wait_pid(pid);
}

struct perm_case {
	const char *name;
	int oflags;
	__u32 aflags;
	int expect;	/* 0 or -errno */
};

/* Exit 0 when the attach gave the expected result, else 10 + errno. */
static int try_attach(void *arg)
{
	struct perm_case *c = arg;
	int fd = wv_dev(c->oflags), ret;

	if (fd < 0)
		return 99;
	ret = wv_attach(fd, c->name, c->aflags, 0600, 0, NULL);
	if (ret == c->expect)
		return 0;
	return ret < 0 ? 10 + (-ret % 80) : 90;
}

static int try_unlink(void *arg)
{
	struct perm_case *c = arg;
	int fd = wv_dev(O_RDWR), ret;

	if (fd < 0)
		return 99;
	ret = wv_unlink(fd, c->name);
	if (ret == c->expect)
		return 0;
	return ret < 0 ? 10 + (-ret % 80) : 90;
}

static int check(uid_t uid, gid_t gid, const char *name, int oflags,
		 __u32 aflags, int expect)
{
	struct perm_case c = { name, oflags, aflags, expect };

	return as_user(uid, gid, try_attach, &c);
}

TEST_F(attach, permissions)
{
	int fd;

	/* 0600, root's: nobody gets nothing. */
	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name, O_RDONLY, 0,
			   -EACCES));
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name, O_RDWR, 0,
			   -EACCES));
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name, O_RDWR,
			   WEAVE_ATTACH_CREATE, -EACCES));
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name, O_RDWR,
			   WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL, -EEXIST));
	struct perm_case u = { self->name, O_RDWR, 0, -EACCES };

	EXPECT_EQ(0, as_user(WV_NOBODY, WV_NOBODY, try_unlink, &u));
	/* root (CAP_IPC_OWNER) may */
	EXPECT_EQ(0, check(0, 0, self->name, O_RDWR, 0, 0));
	close(fd);

	/* 0644: read-only for others. */
	fd = wv_open(self->name2, O_RDWR, WEAVE_ATTACH_CREATE, 0644, 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name2, O_RDONLY, 0, 0));
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name2, O_RDWR, 0,
			   -EACCES));
	u.name = self->name2;
	EXPECT_EQ(0, as_user(WV_NOBODY, WV_NOBODY, try_unlink, &u));
	close(fd);
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, self->name2, 0, 0, 0, NULL));

	/* 0060: the group may, the owner and others may not. */
	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0060, 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, check(WV_NOBODY, 0, self->name, O_RDWR, 0, 0));
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name, O_RDONLY, 0,
			   -EACCES));
	close(fd);

	/* 0606 (others read-write): a group member matches group bits. */
	fd = wv_open(self->name2, O_RDWR, WEAVE_ATTACH_CREATE, 0606, 0, NULL);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, check(WV_NOBODY, WV_NOBODY, self->name2, O_RDWR, 0, 0));
	EXPECT_EQ(0, check(WV_NOBODY, 0, self->name2, O_RDONLY, 0, -EACCES));
	u.name = self->name2;
	u.expect = 0;
	EXPECT_EQ(0, as_user(WV_NOBODY, WV_NOBODY, try_unlink, &u));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, self->name2));
	close(fd);
}

static int owner_creates(void *arg)
{
	struct perm_case *c = arg;
	struct weave_info_args info;
	int fd;

	/* created 0400 by nobody: owner read-only, even for the owner */
	fd = wv_open(c->name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_PERSIST,
		     0400, 0, NULL);
	if (fd < 0)
		return 20;
	if (wv_info(fd,
		    &info) || info.uid != WV_NOBODY || info.gid != WV_NOBODY)
		return 21;
	if (wv_set(fd, 1, "mine", 4, 0, NULL))
		return 22;
	close(fd);
	fd = wv_open(c->name, O_RDWR, 0, 0, 0, NULL);
	if (fd != -EACCES)
		return 23;
	fd = wv_open(c->name, O_RDONLY, 0, 0, 0, NULL);
	if (fd < 0)
		return 24;
	close(fd);
	/* unlink needs write permission */
	if (wv_unlink_name(c->name) != -EACCES)
		return 25;
	return 0;
}

TEST_F(attach, owner)
{
	struct perm_case c = { self->name, O_RDWR, 0, 0 };
	struct weave_info_args info;

	ASSERT_EQ(0, as_user(WV_NOBODY, WV_NOBODY, owner_creates, &c));
	/* Another user gets nothing from 0400. */
	EXPECT_EQ(0, check(WV_NOBODY - 1, WV_NOBODY, self->name, O_RDONLY, 0,
			   -EACCES));
	ASSERT_EQ(0, wv_attach(self->ufd, self->name, 0, 0, 0, NULL));
	ASSERT_EQ(0, wv_info(self->ufd, &info));
	EXPECT_EQ(WV_NOBODY, info.uid);
	EXPECT_EQ(WV_NOBODY, info.gid);
	EXPECT_EQ(0400, info.mode);
	EXPECT_EQ(1, info.count);
}

TEST_F(attach, read_only_handle)
{
	struct weave_attach_args a;
	struct weave_info_args info;
	struct weave_stat_args st;
	struct weave_get_args g;
	__u64 keys[4], cursor = 0;
	char out[8];
	int rw, ro;
	void *p;

	rw = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0644, 0, &a);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(0, wv_set(rw, 1, "value", 5, 0, NULL));
	ro = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
	ASSERT_GE(ro, 0);

	EXPECT_EQ(-EBADF, wv_set(ro, 1, "x", 1, 0, NULL));
	EXPECT_EQ(-EBADF, wv_set(ro, 2, "x", 1, 0, NULL));
	EXPECT_EQ(-EBADF, wv_write(ro, 1, 0, "x", 1, 0, NULL));
	EXPECT_EQ(-EBADF, wv_resize(ro, 1, 1, 0, NULL));
	EXPECT_EQ(-EBADF, wv_delete(ro, 1, 0, NULL));
	EXPECT_EQ(-EBADF, wv_clear(ro, 0, NULL, NULL));

	ASSERT_EQ(0, wv_get(ro, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(5, g.size);
	EXPECT_EQ(0, memcmp(out, "value", 5));
	ASSERT_EQ(0, wv_stat(ro, 1, &st));
	EXPECT_EQ(5, st.size);
	EXPECT_EQ(g.gen, st.gen);
	EXPECT_EQ(1, wv_list(ro, &cursor, keys, 4));
	EXPECT_EQ(1, keys[0]);
	ASSERT_EQ(0, wv_info(ro, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_RDONLY);
	EXPECT_EQ(1, info.count);
	ASSERT_EQ(0, wv_info(rw, &info));
	EXPECT_FALSE(info.flags & WEAVE_INFO_RDONLY);

	/* Maps work read-only. */
	p = mmap(NULL, a.index_size, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("map index read-only: %s",
					strerror(errno));
	EXPECT_EQ(WEAVE_INDEX_MAGIC,
		  ((struct weave_index_header *)p)->magic);
	munmap(p, a.index_size);
	p = mmap(NULL, wv_page_size(), PROT_READ, MAP_SHARED, ro,
		 st.map_offset);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("map view read-only: %s",
					strerror(errno));
	EXPECT_EQ(0, memcmp((char *)p + st.data_offset, "value", 5));
	munmap(p, wv_page_size());

	/* Nothing changed. */
	ASSERT_EQ(0, wv_stat(rw, 1, &st));
	EXPECT_EQ(g.gen, st.gen);
	EXPECT_EQ(1, wv_count(rw));
	close(ro);
	close(rw);
}

/* Exit 0 when a new IPC namespace does not see @name and has its own. */
static int other_ipcns(void *arg)
{
	struct perm_case *c = arg;
	struct weave_attach_args a;
	int fd;

	if (unshare(CLONE_NEWIPC))
		return 30;
	fd = wv_open(c->name, O_RDWR, 0, 0, 0, NULL);
	if (fd != -ENOENT)
		return 31;
	fd = wv_open(c->name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		     0600, 0, &a);
	if (fd < 0)
		return 32;
	if (wv_set(fd, 1, "inner", 5, 0, NULL))
		return 33;
	/* the id is the expected answer's; report it through the pipe */
	if (write(c->oflags, &a.id, sizeof(a.id)) != sizeof(a.id))
		return 34;
	return 0;
}

TEST_F(attach, ipc_namespace)
{
	struct weave_attach_args a;
	struct perm_case c = { self->name, 0, 0, 0 };
	struct weave_get_args g;
	char out[8];
	int fd, p[2];
	__u64 inner_id = 0;

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "outer", 5, 0, NULL));
	ASSERT_EQ(0, pipe(p));
	c.oflags = p[1];	/* the pipe's write end, for the child */
	EXPECT_EQ(0, as_user(0, 0, other_ipcns, &c));
	ASSERT_EQ(sizeof(inner_id), read(p[0], &inner_id, sizeof(inner_id)));
	EXPECT_NE(a.id, inner_id);
	close(p[0]);
	close(p[1]);
	/* Ours is untouched. */
	ASSERT_EQ(0, wv_get(fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "outer", 5));
	EXPECT_EQ(1, wv_count(fd));
	close(fd);
}

/* Too many registries: ENFILE from ATTACH (not from open()). */
TEST_F_TIMEOUT(attach, too_many_registries, 120)
{
	__u64 limit, orig = 0;
	struct rlimit rl;
	int *fds, n = 0, ret = 0, i;

	ASSERT_EQ(0, wv_param("max_registries", &orig))
		TH_LOG("no max_registries parameter");
	limit = orig;
	if (limit > 64 && !wv_param_set("max_registries", 64)) {
		self->orig_max = orig;
		limit = 64;
	}
	ASSERT_LE(limit, 8192);
	rl.rlim_cur = rl.rlim_max = limit + 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));

	fds = calloc(limit + 2, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	for (i = 0; i < (int)limit + 1; i++) {
		int fd = wv_dev(O_RDWR);

		if (fd < 0) {
			ret = fd;
			break;
		}
		ret = wv_attach(fd, NULL, WEAVE_ATTACH_ANON, 0600, 8, NULL);
		if (ret) {
			close(fd);
			break;
		}
		fds[n++] = fd;
	}
	EXPECT_EQ(-ENFILE, ret) TH_LOG("after %d registries (limit %llu)", n,
				       (unsigned long long)limit);
	EXPECT_LE(n, limit);
	EXPECT_GT(n, 0);
	/* A named create fails the same way; freeing one lets one more in. */
	if (ret == -ENFILE) {
		EXPECT_EQ(-ENFILE, wv_attach(self->ufd, self->name,
					     WEAVE_ATTACH_CREATE, 0600, 8,
					     NULL));
		close(fds[--n]);
		EXPECT_EQ(0, wv_attach(self->ufd, self->name,
				       WEAVE_ATTACH_CREATE, 0600, 8, NULL));
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

TEST_HARNESS_MAIN
