// SPDX-License-Identifier: GPL-2.0
/*
 * WEAVE_IOC_REOPEN: another open file description of the attached
 * registry, with the same or less access, and locks, events and flags of
 * its own; a user of the registry like any attached file.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include "weave_util.h"
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

FIXTURE(reopen) {
	int fd;		/* anonymous registry, read-write */
	int fd2;	/* reopened from fd */
};

FIXTURE_SETUP(reopen)
{
	struct weave_api_args api;

	self->fd2 = -1;
	self->fd = wv_open_anon(0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, wv_api(self->fd, &api));
	if (!(api.features & WEAVE_FEATURE_REOPEN))
		SKIP(return, "no WEAVE_FEATURE_REOPEN");
	self->fd2 = wv_reopen_file(self->fd, 0);
	ASSERT_GE(self->fd2, 0) TH_LOG("%s", strerror(-self->fd2));
}

FIXTURE_TEARDOWN(reopen)
{
	if (self->fd2 >= 0)
		close(self->fd2);
	close(self->fd);
}

/* The same registry, another file: flags and close-on-exec of its own. */
TEST_F(reopen, same_registry_new_file)
{
	struct weave_info_args a, b;
	char buf[8];

	ASSERT_EQ(0, wv_info(self->fd, &a));
	ASSERT_EQ(0, wv_info(self->fd2, &b));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(0, b.flags & WEAVE_INFO_RDONLY);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fd2, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, wv_set(self->fd2, 1, "two", 3, 0, NULL));
	EXPECT_EQ(0, wv_get(self->fd, 1, buf, sizeof(buf), 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "two", 3));

	/* O_NONBLOCK is the open file's own */
	ASSERT_EQ(0, fcntl(self->fd2, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(0, fcntl(self->fd, F_GETFL) & O_NONBLOCK);
}

/* The reopened file's exclusive lock excludes the original file. */
TEST_F(reopen, locks_are_per_file)
{
	__u32 res;

	ASSERT_EQ(0, wv_lock(self->fd2, 5, 0, 0, &res));
	EXPECT_EQ(-EAGAIN, wv_lock(self->fd, 5, WEAVE_OP_NONBLOCK, 0, &res));
	EXPECT_EQ(-EAGAIN, wv_set(self->fd, 5, "x", 1, WEAVE_OP_NONBLOCK,
				  NULL));
	/* the holder itself is not blocked */
	EXPECT_EQ(0, wv_set(self->fd2, 5, "y", 1, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd2, 5, 0));
	EXPECT_EQ(0, wv_lock(self->fd, 5, WEAVE_OP_NONBLOCK, 0, &res));
	EXPECT_EQ(-EAGAIN, wv_lock(self->fd2, 5, WEAVE_OP_NONBLOCK, 0, &res));
	/* closing the reopened file releases nothing of the original's */
	close(self->fd2);
	self->fd2 = wv_reopen_file(self->fd, 0);
	ASSERT_GE(self->fd2, 0);
	EXPECT_EQ(-EAGAIN, wv_lock(self->fd2, 5, WEAVE_OP_NONBLOCK, 0, &res));
}

/* Each file has its own watches and event queue. */
TEST_F(reopen, events_are_per_file)
{
	struct weave_event ev[4];

	ASSERT_EQ(0, wv_watch(self->fd2, 0, WEAVE_EV_ALL, 0));
	ASSERT_EQ(0, wv_set(self->fd, 3, "a", 1, 0, NULL));
	ASSERT_EQ(1, wv_read_events(self->fd2, ev, 4));
	EXPECT_EQ(3, ev[0].key);
	EXPECT_EQ(WEAVE_EV_NEW, ev[0].mask);
	/* nothing for the original file, which watches nothing */
	EXPECT_EQ(0, wv_poll(self->fd, 0));
}

/* Less access may be asked for, never more. */
TEST_F(reopen, access)
{
	struct weave_info_args info;
	int ro, ro2;

	ro = wv_reopen_file(self->fd, WEAVE_REOPEN_RDONLY);
	ASSERT_GE(ro, 0);
	ASSERT_EQ(0, wv_info(ro, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_RDONLY);
	EXPECT_EQ(-EBADF, wv_set(ro, 1, "x", 1, 0, NULL));
	EXPECT_EQ(-EACCES, wv_reopen_file(ro, 0));
	ro2 = wv_reopen_file(ro, WEAVE_REOPEN_RDONLY);
	EXPECT_GE(ro2, 0);
	EXPECT_EQ(-EBADF, wv_delete(ro2, 1, 0, NULL));
	close(ro2);
	close(ro);
}

TEST_F(reopen, flags)
{
	struct weave_reopen_args r = { 0 };
	int fd, dev;

	fd = wv_reopen_file(self->fd, WEAVE_REOPEN_NONBLOCK);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);

	EXPECT_EQ(-EINVAL, wv_reopen_file(self->fd, 1U << 2));
	EXPECT_EQ(-EINVAL, wv_reopen_file(self->fd, 1U << 31));
	r.reserved = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_REOPEN, &r));
	/* shorter than its first size */
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, wv_cmd(0x05, 4), &r));
	/* an unattached file has nothing to reopen */
	dev = wv_dev(O_RDWR);
	ASSERT_GE(dev, 0);
	EXPECT_EQ(-EBADFD, wv_reopen_file(dev, 0));
	close(dev);
}

/* No descriptor left: EMFILE, and the registry is as it was. */
TEST_F(reopen, out_of_descriptors)
{
	struct weave_info_args info;
	struct rlimit old;
	int fd;

	ASSERT_EQ(0, wv_no_fds(&old));
	EXPECT_EQ(-EMFILE, wv_reopen_file(self->fd, 0));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	/* The failed call left the original working (kmemleak sees leaks). */
	ASSERT_EQ(0, wv_info(self->fd, &info));
	fd = wv_reopen_file(self->fd, 0);
	ASSERT_GE(fd, 0);
	close(fd);
}

/* A reopened file keeps a named registry, name and all, like any user. */
TEST(keeps_the_name)
{
	struct weave_info_args a, b;
	char name[64];
	int fd, fd2, fd3;

	fd = wv_create(name, sizeof(name), "reopen");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 1, "kept", 4, 0, NULL));
	fd2 = wv_reopen_file(fd, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, wv_info(fd, &a));
	close(fd);
	fd3 = wv_reopen(name, O_RDWR);
	ASSERT_GE(fd3, 0);
	ASSERT_EQ(0, wv_info(fd3, &b));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(1, b.count);
	close(fd3);
	close(fd2);
	EXPECT_EQ(-ENOENT, wv_reopen(name, O_RDWR));
}

/* Views through the reopened file follow the entry, and fault after it. */
TEST_F(reopen, views)
{
	struct weave_stat_args st;
	unsigned char *v;

	ASSERT_EQ(0, wv_set(self->fd, 2, "view", 4, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd2, 2, &st));
	v = mmap(NULL, wv_page_size(), PROT_READ, MAP_SHARED, self->fd2,
		 st.map_offset);
	ASSERT_NE(MAP_FAILED, v);
	EXPECT_EQ(0, memcmp(v + st.data_offset, "view", 4));
	ASSERT_EQ(0, wv_write(self->fd, 2, 0, "VI", 2, 0, NULL));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "VIew", 4));
	ASSERT_EQ(0, wv_delete(self->fd, 2, 0, NULL));
	EXPECT_EQ(SIGBUS, wv_probe(v + st.data_offset, NULL));
	munmap(v, wv_page_size());
}

/* libweave's weave_reopen(). */
TEST(library)
{
	struct weave *w, *w2, *ro;
	struct weave_info_args info;

	ASSERT_EQ(0, weave_open(NULL, 0, 0600, &w));
	ASSERT_EQ(0, weave_reopen(w, 0, &w2));
	ASSERT_EQ(0, weave_set(w2, 1, "x", 1));
	EXPECT_EQ(1, weave_has(w, 1));
	ASSERT_EQ(0, weave_lock(w2, 1, 0, -1));
	EXPECT_EQ(-EAGAIN, weave_lock(w, 1, WEAVE_OP_NONBLOCK, -1));
	ASSERT_EQ(0, weave_reopen(w, WEAVE_OPEN_RDONLY, &ro));
	ASSERT_EQ(0, weave_info(ro, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_RDONLY);
	EXPECT_EQ(-EBADF, weave_set(ro, 2, "y", 1));
	EXPECT_EQ(-EACCES, weave_reopen(ro, 0, &w2));
	EXPECT_EQ(-EINVAL, weave_reopen(w, WEAVE_OPEN_CREATE, &w2));
	weave_close(ro);
	weave_close(w2);
	weave_close(w);
}

TEST_HARNESS_MAIN
