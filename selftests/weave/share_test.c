// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing a registry between processes: by name, by an fd inherited over
 * fork(), and by an fd passed with SCM_RIGHTS.
 */
#include <poll.h>
#include <sys/socket.h>
#include "weave_proc.h"

#include "kselftest_harness.h"

/* A byte over a pipe, to take turns. */
static int send_byte(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

/* Gives up after 10 s, so a child that failed early cannot hang a test. */
static int recv_byte(int fd, char *c)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return -1;
	return read(fd, c, 1) == 1 ? 0 : -1;
}

/* 0 when @key holds exactly @val. */
static int holds(int fd, __u64 key, const char *val)
{
	char out[64];
	struct weave_get_args g;

	if (wv_get(fd, key, out, sizeof(out), 0, 0, &g))
		return -1;
	if (g.size != strlen(val) || memcmp(out, val, g.size))
		return -2;
	return 0;
}

FIXTURE(share) {
	char name[64];
	int to_child[2], to_parent[2];
};

FIXTURE_SETUP(share)
{
	wv_name(self->name, sizeof(self->name), "share");
	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->to_parent));
}

FIXTURE_TEARDOWN(share)
{
	wv_unlink_name(self->name);
	close(self->to_child[0]);
	close(self->to_child[1]);
	close(self->to_parent[0]);
	close(self->to_parent[1]);
}

/* Child side of by_name: attach by name, check, set, report. */
static int by_name_child(const char *name, __u64 id, int rd, int wr, int nr)
{
	struct weave_attach_args a;
	char c, val[32];
	int fd;

	fd = wv_open(name, O_RDWR, 0, 0, 0, &a);
	if (fd < 0)
		return 10;
	if (a.id != id || a.result)
		return 11;
	if (holds(fd, 1, "from parent"))
		return 12;
	snprintf(val, sizeof(val), "from child %d", nr);
	if (wv_set(fd, 10 + nr, val, strlen(val), 0, NULL))
		return 13;
	if (send_byte(wr, 'k') || recv_byte(rd, &c))
		return 14;
	/* the parent's later change */
	if (holds(fd, 1, "changed"))
		return 15;
	/* the other child's key */
	snprintf(val, sizeof(val), "from child %d", !nr);
	if (holds(fd, 10 + !nr, val))
		return 16;
	return 0;
}

TEST_F(share, by_name)
{
	struct weave_attach_args a;
	pid_t pid[2];
	char c, val[32];
	int fd, i;

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE |
		     WEAVE_ATTACH_EXCL, 0600, 0, &a);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "from parent", 11, 0, NULL));

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0) {
			/* a fresh file: nothing inherited is used */
			close(fd);
			_exit(by_name_child(self->name, a.id,
					    self->to_child[0],
					    self->to_parent[1], i));
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, recv_byte(self->to_parent[0], &c));
	for (i = 0; i < 2; i++) {
		snprintf(val, sizeof(val), "from child %d", i);
		EXPECT_EQ(0, holds(fd, 10 + i, val));
	}
	ASSERT_EQ(0, wv_set(fd, 1, "changed", 7, 0, NULL));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, send_byte(self->to_child[1], 'g'));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, wv_wait_pid(pid[i]));
	EXPECT_EQ(3, wv_count(fd));
	close(fd);
}

TEST_F(share, by_fork)
{
	pid_t pid;
	char c;
	int fd;

	fd = wv_open_anon(0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "before fork", 11, 0, NULL));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int ret = 0;

		if (holds(fd, 1, "before fork"))
			ret = 10;
		else if (wv_set(fd, 2, "child", 5, 0, NULL))
			ret = 11;
		else if (send_byte(self->to_parent[1], 'k') ||
			 recv_byte(self->to_child[0], &c))
			ret = 12;
		else if (holds(fd, 3, "parent"))
			ret = 13;
		else if (wv_delete(fd, 1, 0, NULL))
			ret = 14;
		_exit(ret);
	}
	ASSERT_EQ(0, recv_byte(self->to_parent[0], &c));
	EXPECT_EQ(0, holds(fd, 2, "child"));
	ASSERT_EQ(0, wv_set(fd, 3, "parent", 6, 0, NULL));
	ASSERT_EQ(0, send_byte(self->to_child[1], 'g'));
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(-ENOENT, wv_stat(fd, 1, NULL));
	EXPECT_EQ(2, wv_count(fd));
	close(fd);
}

/* The child makes an anonymous registry and hands its fd over. */
TEST_F(share, by_scm_rights)
{
	struct weave_info_args info;
	int sv[2], fd;
	__u64 id;
	pid_t pid;
	char c;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct weave_attach_args a;
		int cfd, ret = 0;

		close(sv[0]);
		cfd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 0, &a);
		if (cfd < 0)
			_exit(10);
		if (wv_set(cfd, 1, "from child", 10, 0, NULL))
			_exit(11);
		if (wv_send_fd(sv[1], cfd))
			_exit(12);
		/* the id, for the parent to compare */
		if (write(sv[1], &a.id, sizeof(a.id)) != sizeof(a.id))
			_exit(13);
		if (recv_byte(self->to_child[0], &c))
			_exit(14);
		if (holds(cfd, 2, "from parent"))
			ret = 15;
		_exit(ret);
	}
	close(sv[1]);
	fd = wv_recv_fd(sv[0]);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(sizeof(id), read(sv[0], &id, sizeof(id)));
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(id, info.id);
	EXPECT_TRUE(info.flags & WEAVE_INFO_ANON);
	EXPECT_EQ(0, holds(fd, 1, "from child"));
	/* it comes attached */
	EXPECT_EQ(-EBUSY, wv_attach(fd, NULL, WEAVE_ATTACH_ANON, 0600, 0,
				    NULL));
	ASSERT_EQ(0, wv_set(fd, 2, "from parent", 11, 0, NULL));
	ASSERT_EQ(0, send_byte(self->to_child[1], 'g'));
	EXPECT_EQ(0, wv_wait_pid(pid));

	/* The child is gone; the passed fd keeps the registry. */
	EXPECT_EQ(0, holds(fd, 1, "from child"));
	EXPECT_EQ(2, wv_count(fd));
	close(fd);
	close(sv[0]);
}

/* A view in one process shows another process's writes. */
TEST_F(share, views_across_processes)
{
	struct weave_stat_args st;
	unsigned char *v;
	pid_t pid;
	char c;
	int fd;

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "aaaa", 4, 0, NULL));
	ASSERT_EQ(0, wv_stat(fd, 1, &st));
	v = mmap(NULL, wv_page_size(), PROT_READ, MAP_SHARED, fd,
		 st.map_offset);
	ASSERT_NE(MAP_FAILED, v);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int cfd = wv_open(self->name, O_RDWR, 0, 0, 0, NULL);

		if (cfd < 0)
			_exit(10);
		if (wv_write(cfd, 1, 0, "bbbb", 4, 0, NULL))
			_exit(11);
		_exit(0);
	}
	EXPECT_EQ(0, wv_wait_pid(pid));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "bbbb", 4));

	/* and the other way round: the child's own view */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int cfd = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
		unsigned char *cv;

		if (cfd < 0)
			_exit(10);
		cv = mmap(NULL, wv_page_size(), PROT_READ, MAP_SHARED, cfd,
			  st.map_offset);
		if (cv == MAP_FAILED)
			_exit(11);
		if (send_byte(self->to_parent[1], 'm') ||
		    recv_byte(self->to_child[0], &c))
			_exit(12);
		_exit(memcmp(cv + st.data_offset, "cccc", 4) ? 13 : 0);
	}
	ASSERT_EQ(0, recv_byte(self->to_parent[0], &c))
		TH_LOG("read-only child: status %d", wv_wait_pid(pid));
	ASSERT_EQ(0, wv_set(fd, 1, "cccc", 4, 0, NULL));
	ASSERT_EQ(0, send_byte(self->to_child[1], 'g'));
	EXPECT_EQ(0, wv_wait_pid(pid));
	munmap(v, wv_page_size());
	close(fd);
}

TEST_HARNESS_MAIN
