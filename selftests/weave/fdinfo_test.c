// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/fdinfo/FD of a /dev/weave file: after the generic lines, an
 * attached file names its registry ("weave-id:", and "weave-name:", the
 * name it was attached by, also once unlinked, empty for an anonymous
 * one); an unattached file adds nothing (weave(4), FILES).
 */

#include "weave_proc.h"
#include "kselftest_harness.h"

/* Read /proc/self/fdinfo/@fd into @buf; its length or -errno. */
static ssize_t fdinfo(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int pfd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	n = read(pfd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(pfd);
	return n;
}

/* The value of the line "@field:\t..." of @info, or NULL. */
static const char *field(const char *info, const char *f, char *val,
			 size_t size)
{
	size_t len = strlen(f);
	const char *p = info, *end;

	while (p && *p) {
		if (!strncmp(p, f, len) && p[len] == ':' && p[len + 1] == '\t') {
			p += len + 2;
			end = strchrnul(p, '\n');
			snprintf(val, size, "%.*s", (int)(end - p), p);
			return val;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

FIXTURE(fdinfo) {
	char name[64];
	char buf[4096];
	char val[300];
};

FIXTURE_SETUP(fdinfo)
{
	wv_name(self->name, sizeof(self->name), "fdinfo");
}

FIXTURE_TEARDOWN(fdinfo)
{
	wv_unlink_name(self->name);
}

TEST_F(fdinfo, named)
{
	struct weave_info_args info;
	char id[32];
	int fd;

	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE, 0600, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_info(fd, &info));
	ASSERT_LT(0, fdinfo(fd, self->buf, sizeof(self->buf)));
	/* The generic lines come first, as for every file. */
	EXPECT_NE(NULL, field(self->buf, "flags", self->val, sizeof(self->val)));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)info.id);
	ASSERT_NE(NULL, field(self->buf, "weave-id", self->val,
			      sizeof(self->val))) TH_LOG("%s", self->buf);
	EXPECT_STREQ(id, self->val);
	ASSERT_NE(NULL, field(self->buf, "weave-name", self->val,
			      sizeof(self->val)));
	EXPECT_STREQ(self->name, self->val);

	/* UNLINK leaves the file attached to the registry of that name. */
	ASSERT_EQ(0, wv_unlink_name(self->name));
	ASSERT_LT(0, fdinfo(fd, self->buf, sizeof(self->buf)));
	ASSERT_NE(NULL, field(self->buf, "weave-id", self->val,
			      sizeof(self->val)));
	EXPECT_STREQ(id, self->val);
	ASSERT_NE(NULL, field(self->buf, "weave-name", self->val,
			      sizeof(self->val)));
	EXPECT_STREQ(self->name, self->val);
	close(fd);
}

TEST_F(fdinfo, anonymous)
{
	struct weave_info_args info;
	char id[32];
	int fd;

	fd = wv_open_anon(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_info(fd, &info));
	ASSERT_LT(0, fdinfo(fd, self->buf, sizeof(self->buf)));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)info.id);
	ASSERT_NE(NULL, field(self->buf, "weave-id", self->val,
			      sizeof(self->val)));
	EXPECT_STREQ(id, self->val);
	ASSERT_NE(NULL, field(self->buf, "weave-name", self->val,
			      sizeof(self->val)));
	EXPECT_STREQ("", self->val);
	close(fd);
}

TEST_F(fdinfo, unattached)
{
	int fd = wv_dev(O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, fdinfo(fd, self->buf, sizeof(self->buf)));
	EXPECT_NE(NULL, field(self->buf, "flags", self->val, sizeof(self->val)));
	EXPECT_EQ(NULL, field(self->buf, "weave-id", self->val,
			      sizeof(self->val)));
	EXPECT_EQ(NULL, field(self->buf, "weave-name", self->val,
			      sizeof(self->val)));
	close(fd);
}

TEST_HARNESS_MAIN
