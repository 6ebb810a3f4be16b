/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake /dev/weave for the host tests that need libweave to meet what the
 * module never does. The test is linked with -Wl,--wrap for open, ioctl,
 * mmap, munmap, poll and read (tests/host/Makefile: FAKE_WRAP), so the
 * calls libweave.a makes come here; those on any other descriptor or path
 * go on to the real ones (libgcov's too, in a coverage build).
 *
 * The device is a memfd: its descriptors, and no others, have its inode.
 * Its index is a buffer the test
 * fills (fake.index, fake.index_size), handed to every mmap() at offset 0;
 * a view is anonymous memory. The test answers the ioctls through
 * fake.ioctl; fake.mmap_hook sees each view mmap() first (an errno to fail
 * it with, or 0).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVE_HOST_FAKE_WEAVE_H
#define WEAVE_HOST_FAKE_WEAVE_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weave.h"

#define FAKE_SLOTS	128

static struct {
	int fd;				/* the device's descriptor, or -1 */
	unsigned char *index;		/* FAKE_SLOTS slots, header in slot 0 */
	size_t index_size;		/* what INFO and ATTACH report */
	int (*ioctl)(unsigned long req, void *arg);
	int (*mmap_hook)(size_t len, off_t off);
	void (*index_hook)(void);	/* sees each mmap() of the index */
	int (*poll)(struct pollfd *p);
	ssize_t (*read)(void *buf, size_t len);
	unsigned int index_maps;	/* mmap()s of the index */
	unsigned int view_maps;		/* of views, hook refused or not */
	unsigned int unmaps;		/* munmap()s of either */
	int last_fd;			/* what open("/dev/weave") returned */
} fake = { .fd = -1, .last_fd = -1 };

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __real_munmap(void *addr, size_t len);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
ssize_t __real_read(int fd, void *buf, size_t len);

int __wrap_open(const char *path, int flags, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
ssize_t __wrap_read(int fd, void *buf, size_t len);

static inline struct weave_slot *fake_slot(unsigned int i)
{
	return (struct weave_slot *)(fake.index + i * sizeof(struct weave_slot));
}

/* A device with a valid, empty index; the test's @ioctl answers. */
static int fake_setup(int (*ioctl_fn)(unsigned long req, void *arg))
{
	struct weave_index_header *hdr;

	if (!fake.index) {
		fake.index = __real_mmap(NULL, FAKE_SLOTS * sizeof(struct weave_slot),
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fake.index == MAP_FAILED)
			return -errno;
	}
	memset(fake.index, 0, FAKE_SLOTS * sizeof(struct weave_slot));
	hdr = (struct weave_index_header *)fake.index;
	hdr->magic = WEAVE_INDEX_MAGIC;
	hdr->slot_size = sizeof(struct weave_slot);
	hdr->nslots = FAKE_SLOTS;
	fake.index_size = FAKE_SLOTS * sizeof(struct weave_slot);
	fake.ioctl = ioctl_fn;
	fake.mmap_hook = NULL;
	fake.index_hook = NULL;
	fake.poll = NULL;
	fake.read = NULL;
	fake.index_maps = fake.view_maps = fake.unmaps = 0;
	if (fake.fd < 0)
		fake.fd = memfd_create("fake-weave", MFD_CLOEXEC);
	return fake.fd < 0 ? -errno : 0;
}

/* A handle on the fake device, through weave_from_fd() (INFO). */
static int fake_handle(struct weave **w)
{
	int fd = fcntl(fake.fd, F_DUPFD_CLOEXEC, 3);
	int err;

	if (fd < 0)
		return -errno;
	err = weave_from_fd(fd, w);
	if (err)
		close(fd);
	return err;
}

/* The answer every fake gives INFO: the index's size. */
static void fake_info(struct weave_info_args *info)
{
	memset(info, 0, sizeof(*info));
	info->id = 1;
	info->index_size = fake.index_size;
}

/* Is @fd the fake device, or a descriptor of it? */
static bool fake_is(int fd)
{
	struct stat a, b;

	if (fake.fd < 0 || fd < 0)
		return false;
	return fd == fake.fd || (!fstat(fd, &a) && !fstat(fake.fd, &b) &&
				 a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (fake.fd >= 0 && !strcmp(path, "/dev/weave")) {
		fake.last_fd = fcntl(fake.fd, F_DUPFD_CLOEXEC, 3);
		return fake.last_fd;
	}
	return __real_open(path, flags, mode);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake_is(fd))
		return __real_ioctl(fd, req, arg);
	if (req == WEAVE_IOC_INFO && fake.ioctl(req, arg) == -ENOTTY) {
		fake_info(arg);
		return 0;
	}
	ret = fake.ioctl(req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	int err;

	if (!fake_is(fd))
		return __real_mmap(addr, len, prot, flags, fd, off);
	if (!off) {
		fake.index_maps++;
		if (fake.index_hook)
			fake.index_hook();
		return fake.index;
	}
	fake.view_maps++;
	err = fake.mmap_hook ? fake.mmap_hook(len, off) : 0;
	if (err) {
		errno = err;
		return MAP_FAILED;
	}
	return __real_mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int __wrap_munmap(void *addr, size_t len)
{
	if (addr == fake.index) {
		fake.unmaps++;
		return 0;
	}
	if (fake.fd >= 0)
		fake.unmaps++;
	return __real_munmap(addr, len);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (n != 1 || !fake_is(fds->fd) || !fake.poll)
		return __real_poll(fds, n, timeout);
	return fake.poll(fds);
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	if (!fake_is(fd) || !fake.read)
		return __real_read(fd, buf, len);
	return fake.read(buf, len);
}

#endif /* WEAVE_HOST_FAKE_WEAVE_H */
