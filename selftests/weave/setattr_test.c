// SPDX-License-Identifier: GPL-2.0
/*
 * WEAVE_IOC_SETATTR: the owner (or CAP_IPC_OWNER) changes a registry's
 * mode, owner and group; later attaches are checked against them, files
 * already attached keep their access.
 */

#include "weave_proc.h"
#include "kselftest_harness.h"

/* Become nobody (dropping every capability) and exit with @fn's -errno. */
static int as_nobody(int (*fn)(const char *name, int fd), const char *name,
		     int fd)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (wv_become(WV_NOBODY, WV_NOBODY))
			_exit(255);
		_exit(-fn(name, fd));
	}
	return -wv_wait_pid(pid);
}

static int attach_rdonly(const char *name, int fd)
{
	int r = wv_open(name, O_RDONLY, 0, 0, 0, NULL);

	if (r >= 0)
		close(r);
	return r < 0 ? r : 0;
}

static int chmod_0666(const char *name, int fd)
{
	return wv_setattr(fd, WEAVE_SETATTR_MODE, 0666, 0, 0);
}

FIXTURE(setattr) {
	char name[64];
	int fd;
};

FIXTURE_SETUP(setattr)
{
	wv_name(self->name, sizeof(self->name), "setattr");
	self->fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0,
			   NULL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(setattr)
{
	close(self->fd);
	wv_unlink_name(self->name);
}

TEST_F(setattr, feature)
{
	struct weave_api_args api = { .api = WEAVE_API };

	ASSERT_EQ(0, wv_api(self->fd, &api));
	EXPECT_TRUE(api.features & WEAVE_FEATURE_SETATTR);
	EXPECT_TRUE(api.ioctls & (1ULL << _IOC_NR(WEAVE_IOC_SETATTR)));
}

TEST_F(setattr, chmod_governs_attach)
{
	struct weave_info_args info;

	EXPECT_EQ(-EACCES, as_nobody(attach_rdonly, self->name, -1));
	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 0644, 0, 0));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(0644, info.mode);
	EXPECT_EQ(0, as_nobody(attach_rdonly, self->name, -1));
	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 0600, 0, 0));
	EXPECT_EQ(-EACCES, as_nobody(attach_rdonly, self->name, -1));
}

TEST_F(setattr, chown)
{
	struct weave_info_args info;

	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_UID | WEAVE_SETATTR_GID,
				0, WV_NOBODY, WV_NOBODY));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(WV_NOBODY, info.uid);
	EXPECT_EQ(WV_NOBODY, info.gid);
	EXPECT_EQ(0600, info.mode);
	/* The new owner's bits now apply to nobody. */
	EXPECT_EQ(0, as_nobody(attach_rdonly, self->name, -1));
	/* Root still may, through CAP_IPC_OWNER. */
	EXPECT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_UID, 0, 0, 0));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(0, info.uid);
}

TEST_F(setattr, only_the_owner)
{
	int fd;

	/* nobody attaches read-only through the other bits... */
	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 0604, 0, 0));
	fd = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	/* ...but being able to attach is not owning: EPERM. */
	EXPECT_EQ(-EPERM, as_nobody(chmod_0666, self->name, fd));
	close(fd);

	/* Once nobody owns it, nobody may. */
	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_UID, 0, WV_NOBODY, 0));
	fd = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, as_nobody(chmod_0666, self->name, fd));
	close(fd);
}

TEST_F(setattr, attached_files_keep_access)
{
	int fd;

	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 0644, 0, 0));
	fd = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 0, 0, 0));
	/* Like an open file after chmod 0: it still reads. */
	EXPECT_EQ(-ENOENT, wv_get(fd, 1, NULL, 0, 0, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 1, "x", 1, 0, NULL));
	EXPECT_EQ(0, wv_get(fd, 1, NULL, 0, 0, 0, NULL));
	close(fd);
}

TEST_F(setattr, errors)
{
	int fd;

	EXPECT_EQ(-EINVAL, wv_setattr(self->fd, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, wv_setattr(self->fd, 1U << 3, 0, 0, 0));
	EXPECT_EQ(-EINVAL, wv_setattr(self->fd, WEAVE_SETATTR_MODE, 01000,
				      0, 0));
	/* An id that does not map into the caller's user namespace. */
	EXPECT_EQ(-EINVAL, wv_setattr(self->fd, WEAVE_SETATTR_UID, 0,
				      (__u32)-1, 0));
	EXPECT_EQ(-EINVAL, wv_setattr(self->fd, WEAVE_SETATTR_GID, 0, 0,
				      (__u32)-1));

	fd = wv_dev(O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, wv_setattr(fd, WEAVE_SETATTR_MODE, 0, 0, 0));
	close(fd);
}

TEST_HARNESS_MAIN
