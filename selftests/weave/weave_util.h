/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw ioctl wrappers for the weave selftests (the role pidfd.h plays for
 * the pidfd tests). Every wrapper returns 0 or -errno; none of them uses
 * libweave, so the tests check the kernel ABI itself.
 */
#ifndef __WEAVE_UTIL_H
#define __WEAVE_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/*
 * kselftest_harness.h is written for the kernel's selftest flags (-Wall):
 * its EXPECT_*() compare int literals with the __u64 fields of the ABI,
 * its timeout handler has an unused parameter, and its setjmp() makes
 * -Wclobbered flag every local of a test. weave builds with
 * -Wextra, so those two warnings are off for the tests.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/weave.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define WEAVE_DEV		"/dev/weave"
#define WV_PARAM_DIR		"/sys/module/weave/parameters/"
#define WV_PTR(p)		((__u64)(uintptr_t)(p))

/* A command number for ioctl @nr with a structure of @size bytes. */
static inline unsigned long wv_cmd(unsigned int nr, size_t size)
{
	return _IOC(_IOC_READ | _IOC_WRITE, WEAVE_IOC_MAGIC, nr, size);
}

static inline int wv_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* open(/dev/weave): an fd or -errno. */
static inline int wv_dev(int oflags)
{
	int fd = open(WEAVE_DEV, oflags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int wv_api(int fd, struct weave_api_args *api)
{
	memset(api, 0, sizeof(*api));
	api->api = WEAVE_API;
	return wv_ioctl(fd, WEAVE_IOC_API, api);
}

static inline int wv_attach(int fd, const char *name, __u32 flags, __u32 mode,
			    __u64 max_entries, struct weave_attach_args *out)
{
	struct weave_attach_args a = {
		.name = WV_PTR(name),
		.flags = flags,
		.mode = mode,
		.max_entries = max_entries,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_ATTACH, &a);

	if (out)
		*out = a;
	return ret;
}

/* open(/dev/weave) and attach: an fd or -errno. */
static inline int wv_open(const char *name, int oflags, __u32 flags,
			  __u32 mode, __u64 max_entries,
			  struct weave_attach_args *out)
{
	int fd = wv_dev(oflags), ret;

	if (fd < 0)
		return fd;
	ret = wv_attach(fd, name, flags, mode, max_entries, out);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* A new anonymous registry, read-write: an fd or -errno. */
static inline int wv_open_anon(__u64 max_entries)
{
	return wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, max_entries,
		       NULL);
}

static inline int wv_unlink(int fd, const char *name)
{
	struct weave_unlink_args u = { .name = WV_PTR(name) };

	return wv_ioctl(fd, WEAVE_IOC_UNLINK, &u);
}

/* Unlink @name through a fresh fd; for cleanup. */
static inline int wv_unlink_name(const char *name)
{
	int fd = wv_dev(O_RDWR), ret;

	if (fd < 0)
		return fd;
	ret = wv_unlink(fd, name);
	close(fd);
	return ret;
}

static inline int wv_info(int fd, struct weave_info_args *info)
{
	memset(info, 0, sizeof(*info));
	return wv_ioctl(fd, WEAVE_IOC_INFO, info);
}

/* The number of entries, or -errno. */
static inline long long wv_count(int fd)
{
	struct weave_info_args info;
	int ret = wv_info(fd, &info);

	return ret ? ret : (long long)info.count;
}

static inline int wv_set(int fd, __u64 key, const void *buf, __u64 len,
			 __u32 flags, __u64 *gen)
{
	struct weave_set_args s = {
		.key = key, .buf = WV_PTR(buf), .len = len, .flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_SET, &s);

	if (gen)
		*gen = s.gen;
	return ret;
}

static inline int wv_get(int fd, __u64 key, void *buf, __u64 len,
			 __u64 offset, struct weave_get_args *out)
{
	struct weave_get_args g = {
		.key = key, .buf = WV_PTR(buf), .len = len, .offset = offset,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_GET, &g);

	if (out)
		*out = g;
	return ret;
}

static inline int wv_write(int fd, __u64 key, __u64 offset, const void *buf,
			   __u64 len, struct weave_write_args *out)
{
	struct weave_write_args w = {
		.key = key, .buf = WV_PTR(buf), .len = len, .offset = offset,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_WRITE, &w);

	if (out)
		*out = w;
	return ret;
}

static inline int wv_resize(int fd, __u64 key, __u64 size, __u64 *gen)
{
	struct weave_resize_args r = { .key = key, .size = size };
	int ret = wv_ioctl(fd, WEAVE_IOC_RESIZE, &r);

	if (gen)
		*gen = r.gen;
	return ret;
}

static inline int wv_delete(int fd, __u64 key, __u64 *gen)
{
	struct weave_delete_args d = { .key = key };
	int ret = wv_ioctl(fd, WEAVE_IOC_DELETE, &d);

	if (gen)
		*gen = d.gen;
	return ret;
}

static inline int wv_clear(int fd, __u64 *count, __u64 *gen)
{
	struct weave_clear_args c = { 0 };
	int ret = wv_ioctl(fd, WEAVE_IOC_CLEAR, &c);

	if (count)
		*count = c.count;
	if (gen)
		*gen = c.gen;
	return ret;
}

static inline int wv_stat(int fd, __u64 key, struct weave_stat_args *st)
{
	struct weave_stat_args s = { .key = key };
	int ret = wv_ioctl(fd, WEAVE_IOC_STAT, &s);

	if (st)
		*st = s;
	return ret;
}

/* One LIST call: updates *cursor, returns the number of keys or -errno. */
static inline int wv_list(int fd, __u64 *cursor, __u64 *keys, __u32 room)
{
	struct weave_list_args l = {
		.cursor = *cursor, .keys = WV_PTR(keys), .count = room,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_LIST, &l);

	if (ret)
		return ret;
	*cursor = l.cursor;
	return (int)l.count;
}

/*
 * A whole walk in batches of @batch keys into @keys (room for @max):
 * the number of keys, -errno, or -E2BIG when more than @max came back or
 * the walk did not end within @max + 2 calls.
 */
static inline long wv_list_all(int fd, __u64 *keys, long max, __u32 batch)
{
	__u64 cursor = 0, *tmp = malloc(sizeof(*tmp) * batch);
	long n = 0, calls = 0;
	int ret, i;

	if (!tmp)
		return -ENOMEM;
	do {
		if (calls++ > max + 2) {
			n = -E2BIG;
			break;
		}
		ret = wv_list(fd, &cursor, tmp, batch);
		if (ret < 0) {
			n = ret;
			break;
		}
		if (ret > (int)batch || n + ret > max) {
			n = -E2BIG;
			break;
		}
		for (i = 0; i < ret; i++)
			keys[n++] = tmp[i];
	} while (cursor);
	free(tmp);
	return n;
}

/* Read a module parameter; 0 or -errno. */
static inline int wv_param(const char *name, __u64 *val)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), WV_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 0);
	return 0;
}

/* Write a module parameter, when it is writable; 0 or -errno. */
static inline int wv_param_set(const char *name, __u64 val)
{
	char path[256], buf[64];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), WV_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)val);
	if (write(fd, buf, len) != len)
		ret = -errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* A registry name unique to this process and @tag. */
static inline void wv_name(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "wvt-%s-%d", tag, (int)getpid());
}

/*
 * Wait for @pid: its exit status, 128 + the signal that killed it, or -1.
 * Children report failures by exit status; they never use ASSERT/EXPECT.
 */
static inline int wv_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static inline double wv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline long wv_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static inline __u64 wv_page_align(__u64 x)
{
	__u64 ps = wv_page_size();

	return (x + ps - 1) & ~(ps - 1);
}

/*
 * Probing a mapping for SIGBUS/SIGSEGV without dying: wv_probe() reads one
 * byte and returns 0 (storing it in *val), or the number of the signal
 * the read raised.
 */
static sigjmp_buf wv_probe_env;
static volatile sig_atomic_t wv_probe_sig;

static void wv_probe_handler(int sig)
{
	wv_probe_sig = sig;
	siglongjmp(wv_probe_env, 1);
}

static inline int wv_probe(const volatile unsigned char *p, unsigned char *val)
{
	struct sigaction sa, obus, osegv;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wv_probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	wv_probe_sig = 0;
	if (sigsetjmp(wv_probe_env, 1) == 0) {
		unsigned char v = *p;

		if (val)
			*val = v;
	} else {
		ret = wv_probe_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return ret;
}

/* Fill @buf with a pattern derived from @seed; wv_check_pattern() checks. */
static inline void wv_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static inline bool wv_check_pattern(const void *buf, size_t len,
				    unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed * 31 + i * 7 + (i >> 8)))
			return false;
	return true;
}

static inline bool wv_all_bytes(const void *buf, size_t len, unsigned char c)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* Slot @s of a mapped index. */
static inline const struct weave_slot *wv_slot(const void *index, __u64 s)
{
	return (const struct weave_slot *)((const char *)index + 64 * s);
}

/* Pass @fd over the unix socket @sock (SCM_RIGHTS): 0 or -1. */
static inline int wv_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* An fd passed over @sock with wv_send_fd(), or -1. */
static inline int wv_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#endif /* __WEAVE_UTIL_H */
