// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave: opening, adopting and removing registries.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Checked here too so that a bad name fails before any system call. */
static bool weave_name_ok(const char *name)
{
	size_t len = strnlen(name, WEAVE_NAME_MAX + 1);

	return len >= 1 && len <= WEAVE_NAME_MAX && !memchr(name, '/', len);
}

static int weave_dev_open(int oflags)
{
	int fd = open(WEAVE_DEV, oflags | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	/* A missing node means a missing module, not a missing registry. */
	return errno == ENOENT ? -ENODEV : -errno;
}

static struct weave *weave_alloc(int fd, bool rdonly, uint64_t id,
				 uint64_t index_size)
{
	struct weave *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (pthread_mutex_init(&w->index_lock, NULL)) {
		free(w);
		return NULL;
	}
	if (pthread_mutex_init(&w->events_lock, NULL)) {
		pthread_mutex_destroy(&w->index_lock);
		free(w);
		return NULL;
	}
	w->fd = fd;
	w->rdonly = rdonly;
	w->id = id;
	w->index_size = index_size;
	return w;
}

int weave_open_params(const char *name, unsigned int flags, mode_t mode,
		      struct weave_params *p, struct weave **wp)
{
	struct weave_attach_args at = { 0 };
	struct weave *w;
	unsigned int i;
	int fd, err;

	if (!wp || (flags & ~WEAVE_OPEN_VALID) || (mode & ~0777))
		return -EINVAL;
	if (p) {
		if (p->resv)
			return -EINVAL;
		for (i = 0; i < sizeof(p->resv2) / sizeof(p->resv2[0]); i++)
			if (p->resv2[i])
				return -EINVAL;
		at.max_entries = p->max_entries;
	}
	if (name) {
		if (!weave_name_ok(name))
			return -EINVAL;
		if ((flags & (WEAVE_OPEN_EXCL | WEAVE_OPEN_PERSIST)) &&
		    !(flags & WEAVE_OPEN_CREATE))
			return -EINVAL;
		at.name = (uintptr_t)name;
		if (flags & WEAVE_OPEN_CREATE)
			at.flags |= WEAVE_ATTACH_CREATE;
		if (flags & WEAVE_OPEN_EXCL)
			at.flags |= WEAVE_ATTACH_EXCL;
		if (flags & WEAVE_OPEN_PERSIST)
			at.flags |= WEAVE_ATTACH_PERSIST;
	} else {
		/*
		 * An anonymous registry is always new (CREATE and EXCL are
		 * implied); it cannot persist, and a read-only handle on a
		 * registry nobody else can reach would be useless.
		 */
		if (flags & (WEAVE_OPEN_PERSIST | WEAVE_OPEN_RDONLY))
			return -EINVAL;
		at.flags = WEAVE_ATTACH_ANON;
	}
	at.mode = mode;

	fd = weave_dev_open((flags & WEAVE_OPEN_RDONLY ? O_RDONLY : O_RDWR) |
			    (flags & WEAVE_OPEN_NONBLOCK ? O_NONBLOCK : 0));
	if (fd < 0)
		return fd;
	err = weave_ioctl(fd, WEAVE_IOC_ATTACH, &at);
	if (err)
		goto close_fd;
	w = weave_alloc(fd, flags & WEAVE_OPEN_RDONLY, at.id, at.index_size);
	if (!w) {
		err = -ENOMEM;
		goto close_fd;
	}
	if (p) {
		p->result = at.result & WEAVE_ATTACH_CREATED ?
			    WEAVE_OPEN_CREATED : 0;
		p->id = at.id;
	}
	*wp = w;
	return 0;

close_fd:
	close(fd);
	return err;
}

int weave_open(const char *name, unsigned int flags, mode_t mode,
	       struct weave **wp)
{
	return weave_open_params(name, flags, mode, NULL, wp);
}

int weave_from_fd(int fd, struct weave **wp)
{
	struct weave_info_args info = { 0 };
	struct weave *w;
	int err;

	if (!wp)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	/* Learns what the fd is attached to: ENOTTY when not /dev/weave. */
	err = weave_ioctl(fd, WEAVE_IOC_INFO, &info);
	if (err)
		return err;
	w = weave_alloc(fd, info.flags & WEAVE_INFO_RDONLY, info.id,
			info.index_size);
	if (!w)
		return -ENOMEM;
	*wp = w;
	return 0;
}

int weave_reopen(struct weave *w, unsigned int flags, struct weave **wp)
{
	struct weave_reopen_args r = { 0 };
	struct weave *nw;
	int fd;

	if (!wp || (flags & ~(WEAVE_OPEN_RDONLY | WEAVE_OPEN_NONBLOCK)))
		return -EINVAL;
	if (flags & WEAVE_OPEN_RDONLY)
		r.flags |= WEAVE_REOPEN_RDONLY;
	if (flags & WEAVE_OPEN_NONBLOCK)
		r.flags |= WEAVE_REOPEN_NONBLOCK;
	fd = ioctl(w->fd, WEAVE_IOC_REOPEN, &r);
	if (fd < 0)
		return -errno;
	nw = weave_alloc(fd, flags & WEAVE_OPEN_RDONLY, w->id, w->index_size);
	if (!nw) {
		close(fd);
		return -ENOMEM;
	}
	*wp = nw;
	return 0;
}

int weave_fd(const struct weave *w)
{
	return w->fd;
}

void weave_close(struct weave *w)
{
	if (!w)
		return;
	if (w->index)
		munmap((void *)w->index, w->index_size);
	close(w->fd);
	pthread_mutex_destroy(&w->index_lock);
	pthread_mutex_destroy(&w->events_lock);
	free(w);
}

int weave_unlink(const char *name)
{
	struct weave_unlink_args un = { 0 };
	int fd, err;

	if (!name || !weave_name_ok(name))
		return -EINVAL;
	fd = weave_dev_open(O_RDONLY);
	if (fd < 0)
		return fd;
	un.name = (uintptr_t)name;
	err = weave_ioctl(fd, WEAVE_IOC_UNLINK, &un);
	close(fd);
	return err;
}

int weave_setattr(struct weave *w, const struct weave_setattr_args *attr)
{
	struct weave_setattr_args a;

	if (!attr)
		return -EINVAL;
	a = *attr;
	return weave_ioctl(w->fd, WEAVE_IOC_SETATTR, &a);
}

int weave_info(struct weave *w, struct weave_info_args *info)
{
	struct weave_info_args in = { 0 };
	int err;

	if (!info)
		return -EINVAL;
	err = weave_ioctl(w->fd, WEAVE_IOC_INFO, &in);
	if (!err)
		*info = in;
	return err;
}

int weave_probe(struct weave_api_args *api)
{
	struct weave_api_args a = { .api = WEAVE_API };
	int fd, err;

	if (!api)
		return -EINVAL;
	fd = weave_dev_open(O_RDONLY);
	if (fd < 0)
		return fd;
	err = weave_ioctl(fd, WEAVE_IOC_API, &a);
	close(fd);
	if (!err)
		*api = a;
	return err;
}

int weave_index_get(struct weave *w, const unsigned char **index)
{
	const struct weave_index_header *hdr;
	const unsigned char *idx;
	void *m;
	int err = 0;

	idx = __atomic_load_n(&w->index, __ATOMIC_ACQUIRE);
	if (idx) {
		*index = idx;
		return 0;
	}

	pthread_mutex_lock(&w->index_lock);
	idx = w->index;
	if (idx)
		goto out;
	if (w->index_size < 2 * sizeof(struct weave_slot)) {
		err = -EPROTO;
		goto out;
	}
	m = mmap(NULL, w->index_size, PROT_READ, MAP_SHARED, w->fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	hdr = m;
	if (hdr->magic != WEAVE_INDEX_MAGIC ||
	    hdr->slot_size != sizeof(struct weave_slot)) {
		munmap(m, w->index_size);
		err = -EPROTO;
		goto out;
	}
	idx = m;
	__atomic_store_n(&w->index, idx, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&w->index_lock);
	if (!err)
		*index = idx;
	return err;
}

/* The slot @slot of the mapped index, or NULL when outside it. */
const struct weave_slot *weave_slot_ptr(struct weave *w, uint32_t slot)
{
	const unsigned char *idx = __atomic_load_n(&w->index, __ATOMIC_ACQUIRE);

	if (!idx || !slot ||
	    ((uint64_t)slot + 1) * sizeof(struct weave_slot) > w->index_size)
		return NULL;
	return (const struct weave_slot *)(idx +
					   (size_t)slot * sizeof(struct weave_slot));
}
