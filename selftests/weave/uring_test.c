// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring polls a weave file with no help from the module: the file's
 * poll (readable while event records are pending, EPOLLERR unattached)
 * is all IORING_OP_POLL_ADD needs. A ring is woken by a set in another
 * process; a multishot poll (IORING_POLL_ADD_MULTI, 5.13) gives a CQE per
 * wake and stays armed; read-only and unattached files answer as they do
 * to poll(2); a pending poll is cancelled with IORING_OP_POLL_REMOVE.
 * Uses Debian's liburing-dev (2.3).
 */
#include <liburing.h>
#include <sys/utsname.h>

#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

#define WAIT_MS		10000	/* for a CQE that must come */
#define QUIET_MS	100	/* for one that must not */

struct cqe_copy {
	__u64 data;
	int res;
	unsigned int flags;
};

/*
 * Wait up to @ms for a CQE and copy it to @c: 0, or -ETIME when none came.
 */
static int wait_cqe(struct io_uring *ring, int ms, struct cqe_copy *c)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000LL,
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	c->data = io_uring_cqe_get_data64(cqe);
	c->res = cqe->res;
	c->flags = cqe->flags;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Queue a poll of @fd for POLLIN (multishot when @multi) as @data. */
static int poll_fd(struct io_uring *ring, int fd, bool multi, __u64 data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	if (multi)
		io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	else
		io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, data);
	return io_uring_submit(ring);
}

/*
 * Remove the poll @data, as request @data + 100: the removal's result,
 * with the poll's last CQE in *@c (@c->data 0 when none came), or -ETIME.
 */
static int cancel_poll(struct io_uring *ring, __u64 data, struct cqe_copy *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct cqe_copy got;
	bool removed = false;
	int ret = -ETIME, i;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_remove(sqe, data);
	io_uring_sqe_set_data64(sqe, data + 100);
	if (io_uring_submit(ring) != 1)
		return -EIO;
	memset(c, 0, sizeof(*c));
	/* The removal's CQE, and the poll's when it was there to cancel. */
	for (i = 0; i < 2; i++) {
		if (wait_cqe(ring, removed ? QUIET_MS : WAIT_MS, &got))
			break;
		if (got.data == data + 100) {
			ret = got.res;
			removed = true;
		} else if (got.data == data) {
			*c = got;
		}
	}
	return ret;
}

/*
 * Set up @ring: 0; 1 when the kernel.io_uring_disabled sysctl switched
 * io_uring off (a skip, @why says so); else -errno, and @why says what
 * failed. Without the sysctl, ENOSYS or EPERM is a failure: every kernel
 * the suite runs on has io_uring.
 */
static int ring_init(struct io_uring *ring, char *why, size_t len)
{
	int ret = io_uring_queue_init(8, ring, 0), disabled = 0;
	FILE *f;

	if (!ret)
		return 0;
	snprintf(why, len, "io_uring_queue_init: %s", strerror(-ret));
	if (ret != -ENOSYS && ret != -EPERM)
		return ret;
	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (!f)
		return ret;
	if (fscanf(f, "%d", &disabled) != 1)
		disabled = 0;
	fclose(f);
	if (!disabled)
		return ret;
	snprintf(why, len, "io_uring is off (kernel.io_uring_disabled = %d)",
		 disabled);
	return 1;
}

/* Whether the kernel is @major.@minor or later. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

FIXTURE(uring) {
	char name[64];
	struct weave *w;	/* watches every key */
	struct io_uring ring;
	int skip;
	char why[128];
};

FIXTURE_SETUP(uring)
{
	int ret;

	wv_name(self->name, sizeof(self->name), "uring");
	ret = weave_open(self->name, WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL,
			 0600, &self->w);
	ASSERT_EQ(0, ret) TH_LOG("weave_open: %s", strerror(-ret));
	ASSERT_EQ(0, weave_watch(self->w, 0, WEAVE_EV_ALL, 0));
	self->skip = ring_init(&self->ring, self->why, sizeof(self->why));
	ASSERT_GE(self->skip, 0) TH_LOG("%s", self->why);
}

FIXTURE_TEARDOWN(uring)
{
	if (!self->skip)
		io_uring_queue_exit(&self->ring);
	weave_close(self->w);
	weave_unlink(self->name);
}

/* The harness runs a test's body even when its setup skipped. */
#define SKIP_UNLESS_RING() \
	do { \
		if (self->skip) \
			SKIP(return, "%s", self->why); \
	} while (0)

/*
 * A ring asleep in io_uring_enter() on a poll of the file is woken by a
 * set in another process, with POLLIN, and the record is there to read.
 */
TEST_F(uring, woken_by_other_process)
{
	struct weave_event ev[4];
	struct cqe_copy c;
	uint64_t gen;
	char buf[8];
	int go[2];
	pid_t pid;

	SKIP_UNLESS_RING();
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct weave *cw;

		close(go[1]);
		if (weave_open(self->name, 0, 0, &cw))
			_exit(1);
		if (read(go[0], buf, 1) != 1)
			_exit(2);
		/* Long enough for the parent to be asleep in the ring. */
		usleep(200 * 1000);
		_exit(weave_set(cw, 7, "woken", 5) ? 3 : 0);
	}
	close(go[0]);

	ASSERT_EQ(1, poll_fd(&self->ring, weave_fd(self->w), false, 1));
	/* Nothing is pending: the poll waits. */
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	ASSERT_EQ(0, wait_cqe(&self->ring, WAIT_MS, &c));
	EXPECT_EQ(1, c.data);
	EXPECT_EQ(POLLIN, c.res);
	EXPECT_FALSE(c.flags & IORING_CQE_F_MORE);
	EXPECT_EQ(0, wv_wait_pid(pid));

	ASSERT_EQ(5, weave_get(self->w, 7, buf, sizeof(buf), &gen));
	ASSERT_EQ(1, weave_events(self->w, ev, ARRAY_SIZE(ev), 0));
	EXPECT_EQ(7, ev[0].key);
	EXPECT_EQ(gen, ev[0].gen);
	EXPECT_EQ(5, ev[0].size);
	EXPECT_TRUE(ev[0].mask & WEAVE_EV_NEW);
	/* One shot: a later set finds no poll. */
	ASSERT_EQ(0, weave_set(self->w, 8, "x", 1));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
}

/*
 * A multishot poll gives one CQE per wake, each with IORING_CQE_F_MORE,
 * for as long as it is armed; records are read with read(2); removing it
 * ends it with -ECANCELED.
 */
TEST_F(uring, multishot)
{
	struct weave_event ev[4];
	struct weave *w2;
	struct cqe_copy c;
	uint64_t key;
	int fd = weave_fd(self->w);

	SKIP_UNLESS_RING();
	if (!kernel_at_least(5, 13))
		SKIP(return, "multishot poll needs Linux 5.13");
	ASSERT_EQ(0, weave_open(self->name, 0, 0, &w2));
	ASSERT_EQ(1, poll_fd(&self->ring, fd, true, 2));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));

	for (key = 1; key <= 5; key++) {
		ASSERT_EQ(0, weave_set(w2, key, "m", 1));
		ASSERT_EQ(0, wait_cqe(&self->ring, WAIT_MS, &c))
			TH_LOG("no CQE for set %llu", (unsigned long long)key);
		EXPECT_EQ(2, c.data);
		EXPECT_EQ(POLLIN, c.res);
		EXPECT_TRUE(c.flags & IORING_CQE_F_MORE);
		ASSERT_EQ(sizeof(ev[0]), read(fd, ev, sizeof(ev)));
		EXPECT_EQ(key, ev[0].key);
		/* No wake, no CQE. */
		EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c))
			TH_LOG("extra CQE: data %llu res %d",
			       (unsigned long long)c.data, c.res);
	}

	EXPECT_EQ(0, cancel_poll(&self->ring, 2, &c));
	EXPECT_EQ(2, c.data);
	EXPECT_EQ(-ECANCELED, c.res);
	EXPECT_FALSE(c.flags & IORING_CQE_F_MORE);
	ASSERT_EQ(0, weave_set(w2, 9, "m", 1));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
	weave_close(w2);
}

/*
 * A read-only handle is polled like a read-write one, and io_uring
 * reports what poll(2) does.
 */
TEST_F(uring, read_only_as_poll)
{
	struct weave_event ev[4];
	struct pollfd pfd;
	struct weave *r;
	struct cqe_copy c;

	SKIP_UNLESS_RING();
	ASSERT_EQ(0, weave_open(self->name, WEAVE_OPEN_RDONLY, 0, &r));
	ASSERT_EQ(0, weave_watch(r, 3, WEAVE_EV_ALL, 0));
	pfd = (struct pollfd){ .fd = weave_fd(r), .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	ASSERT_EQ(1, poll_fd(&self->ring, weave_fd(r), false, 3));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
	ASSERT_EQ(0, weave_set(self->w, 3, "ro", 2));
	ASSERT_EQ(0, wait_cqe(&self->ring, WAIT_MS, &c));
	EXPECT_EQ(3, c.data);
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(pfd.revents, c.res);
	EXPECT_EQ(POLLIN, c.res);
	EXPECT_EQ(1, weave_events(r, ev, ARRAY_SIZE(ev), 0));
	EXPECT_EQ(3, ev[0].key);
	weave_close(r);
}

/*
 * A file of /dev/weave that is not attached reports POLLERR at once to
 * poll(2); io_uring completes a poll of it at once with the same mask,
 * multishot or not, and does not keep it armed.
 */
TEST_F(uring, unattached_as_poll)
{
	static const int oflags[] = { O_RDONLY, O_RDWR };
	struct pollfd pfd;
	struct cqe_copy c;
	unsigned int i;
	int fd, multi;

	SKIP_UNLESS_RING();
	for (i = 0; i < ARRAY_SIZE(oflags); i++) {
		fd = wv_dev(oflags[i]);
		ASSERT_GE(fd, 0);
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		ASSERT_EQ(1, poll(&pfd, 1, 0));
		EXPECT_EQ(POLLERR, pfd.revents);

		for (multi = 0; multi <= 1; multi++) {
			if (multi && !kernel_at_least(5, 13))
				break;
			ASSERT_EQ(1, poll_fd(&self->ring, fd, multi, 4));
			ASSERT_EQ(0, wait_cqe(&self->ring, WAIT_MS, &c))
				TH_LOG("oflags %#x multishot %d", oflags[i],
				       multi);
			EXPECT_EQ(4, c.data);
			EXPECT_EQ(pfd.revents, c.res)
				TH_LOG("oflags %#x multishot %d", oflags[i],
				       multi);
			EXPECT_FALSE(c.flags & IORING_CQE_F_MORE);
			EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
		}
		close(fd);
	}
}

/*
 * IORING_OP_POLL_REMOVE cancels a pending poll (-ECANCELED); a set after
 * it completes nothing, its record stays for the reader, and removing the
 * poll again finds nothing (-ENOENT).
 */
TEST_F(uring, cancel)
{
	struct weave_event ev[4];
	struct cqe_copy c;

	SKIP_UNLESS_RING();
	ASSERT_EQ(1, poll_fd(&self->ring, weave_fd(self->w), false, 5));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
	EXPECT_EQ(0, cancel_poll(&self->ring, 5, &c));
	EXPECT_EQ(5, c.data);
	EXPECT_EQ(-ECANCELED, c.res);

	ASSERT_EQ(0, weave_set(self->w, 11, "c", 1));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, QUIET_MS, &c));
	EXPECT_EQ(-ENOENT, cancel_poll(&self->ring, 5, &c));
	EXPECT_EQ(0, c.data);
	ASSERT_EQ(1, weave_events(self->w, ev, ARRAY_SIZE(ev), 0));
	EXPECT_EQ(11, ev[0].key);
}

TEST_HARNESS_MAIN
