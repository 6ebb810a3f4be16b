// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Registry handles: open by name or anonymously, adopt another file of
 * the same registry, close, and the queries that never wait.
 *
 * A handle is a JS external whose finalizer drops the JS object's
 * reference. Each pending request and the event poll hold one too, so
 * the file is closed only when no waiter thread and no uv_poll uses it
 * any more, however close() and the garbage collector interleave.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "weave_node.h"

void wn_handle_put(struct wn_handle *h)
{
	if (--h->refs)
		return;
	weave_close(h->w);
	free(h->poll);
	free(h->label);
	free(h);
}

/*
 * Close the file once the handle is closed and no waiter thread uses it
 * any more: at close() when nothing waits, else when the last waiter is
 * back. The poll does not matter: libuv lets the fd go at uv_close().
 */
void wn_handle_release_file(struct wn_handle *h)
{
	if (h->closed && !h->nreqs && h->w) {
		weave_close(h->w);
		h->w = NULL;
	}
}

/*
 * Stop using the registry: cancel what waits (each request is rejected
 * with ERR_WEAVE_CLOSED when its thread is back), stop the poll, and
 * close the file as soon as no waiter uses it.
 */
void wn_handle_close(struct wn_handle *h)
{
	struct wn_list *p;
	struct wn_req *r;

	if (h->closed)
		return;
	h->closed = true;
	for (p = h->env->reqs.next; p != &h->env->reqs; p = p->next) {
		r = wn_container_of(p, struct wn_req, link);
		if (r->h == h)
			wn_waiter_cancel(r);
	}
	wn_events_close(h);
	wn_list_del(&h->link);
	wn_handle_release_file(h);
}

static void handle_finalize(napi_env env, void *data, void *hint)
{
	struct wn_handle *h = data;

	(void)env;
	(void)hint;
	/* A closed handle no longer looks at its env, which may be gone. */
	if (!h->closed)
		wn_handle_close(h);
	wn_handle_put(h);
}

static char *make_label(const char *name, uint64_t id)
{
	char *s;
	int n;

	if (name)
		n = asprintf(&s, "registry '%s'", name);
	else
		n = asprintf(&s, "registry #%" PRIu64, id);
	return n < 0 ? NULL : s;
}

/* Wrap @w (consumed, closed on failure) in a new handle external. */
static napi_value handle_new(napi_env env, struct weave *w, const char *name)
{
	struct wn_env *e = wn_env_get(env);
	struct weave_info_args info = { 0 };
	struct wn_handle *h;
	napi_value ext;
	int err;

	err = weave_info(w, &info);
	if (err || !e) {
		weave_close(w);
		if (err)
			wn_throw(env, err, "info", NULL, 0);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		weave_close(w);
		wn_throw(env, -ENOMEM, "open", NULL, 0);
		return NULL;
	}
	h->env = e;
	h->w = w;
	h->id = info.id;
	h->read_only = info.flags & WEAVE_INFO_RDONLY;
	h->refs = 1;
	h->label = make_label(name, info.id);
	wn_list_init(&h->link);
	err = h->label ? wn_events_init(h) : -ENOMEM;
	if (err) {
		wn_throw(env, err, "open", NULL, 0);
		wn_handle_close(h);
		wn_handle_put(h);
		return NULL;
	}
	wn_list_add_tail(&h->link, &e->handles);
	if (napi_create_external(env, h, handle_finalize, NULL, &ext) !=
	    napi_ok) {
		wn_handle_close(h);
		wn_handle_put(h);
		return NULL;
	}
	return ext;
}

/* Copies a string argument into @buf; false (with a throw) when too long. */
static bool get_name(napi_env env, napi_value v, char *buf, size_t len,
		     bool *present)
{
	napi_valuetype t;
	size_t n;

	napi_typeof(env, v, &t);
	*present = t == napi_string;
	if (!*present)
		return true;
	if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok)
		return false;
	if (n >= len - 1) {
		wn_throw(env, -ENAMETOOLONG, "open", NULL, 0);
		return false;
	}
	/* "a\0b" would be "a" to the kernel: another registry. */
	if (strlen(buf) != n) {
		napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
				      "a registry name has no NUL character");
		return false;
	}
	return true;
}

/* open(name | null, flags, mode, capacity) -> handle */
napi_value wn_open(napi_env env, napi_callback_info info)
{
	char name[WEAVE_NAME_MAX + 2];
	struct weave_params p = { 0 };
	uint32_t flags, mode;
	napi_value argv[4];
	struct weave *w;
	bool named;
	double cap;
	int err;

	if (!wn_args(env, info, 4, argv) ||
	    !get_name(env, argv[0], name, sizeof(name), &named))
		return NULL;
	WN_CHECK(env, napi_get_value_uint32(env, argv[1], &flags));
	WN_CHECK(env, napi_get_value_uint32(env, argv[2], &mode));
	WN_CHECK(env, napi_get_value_double(env, argv[3], &cap));
	p.max_entries = cap > 0 ? (uint64_t)cap : 0;
	flags &= WEAVE_OPEN_CREATE | WEAVE_OPEN_EXCL | WEAVE_OPEN_PERSIST |
		 WEAVE_OPEN_RDONLY;
	err = weave_open_params(named ? name : NULL, flags, (mode_t)mode, &p,
				&w);
	if (err) {
		char what[WEAVE_NAME_MAX + 16];

		snprintf(what, sizeof(what), named ? "open '%s'" : "open%s",
			 named ? name : "");
		wn_throw(env, err, what, NULL, 0);
		return NULL;
	}
	return handle_new(env, w, named ? name : NULL);
}

/*
 * adopt(fd, id, readOnly, name | undefined) -> handle: a new open file
 * of the registry @fd is attached to (WEAVE_IOC_REOPEN), so that this
 * thread or process has locks and events of its own; @fd is left alone.
 * A non-zero @id must be the registry's: the fd number may have been
 * closed and reused since it was handed over.
 */
napi_value wn_adopt(napi_env env, napi_callback_info info)
{
	struct weave_reopen_args ra = { 0 };
	char name[WEAVE_NAME_MAX + 2];
	napi_value argv[4];
	struct weave *w;
	bool lossless, named, ro;
	uint64_t id = 0;
	int32_t fd;
	int nfd, err;

	if (!wn_args(env, info, 4, argv))
		return NULL;
	WN_CHECK(env, napi_get_value_int32(env, argv[0], &fd));
	WN_CHECK(env, napi_get_value_bigint_uint64(env, argv[1], &id,
						   &lossless));
	WN_CHECK(env, napi_get_value_bool(env, argv[2], &ro));
	if (!get_name(env, argv[3], name, sizeof(name), &named))
		return NULL;
	if (ro)
		ra.flags |= WEAVE_REOPEN_RDONLY;
	nfd = ioctl(fd, WEAVE_IOC_REOPEN, &ra);
	if (nfd < 0) {
		err = -errno;
		/* Not a weave file at all: the fd was reused or never was. */
		wn_throw(env, err == -ENOTTY || err == -EINVAL ? -EBADF : err,
			 "reopen", NULL, 0);
		return NULL;
	}
	err = weave_from_fd(nfd, &w);
	if (err) {
		close(nfd);
		wn_throw(env, err, "reopen", NULL, 0);
		return NULL;
	}
	if (id) {
		struct weave_info_args wi = { 0 };

		err = weave_info(w, &wi);
		if (!err && wi.id != id)
			err = -ESTALE;
		if (err) {
			weave_close(w);
			wn_throw(env, err, "reopen (the fd is not the registry "
				 "handed over)", NULL, 0);
			return NULL;
		}
	}
	return handle_new(env, w, named ? name : NULL);
}

napi_value wn_close(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[1];

	if (!wn_args(env, info, 1, argv))
		return NULL;
	h = wn_handle_arg(env, argv[0], false);
	if (!h)
		return NULL;
	wn_handle_close(h);
	return wn_undefined(env);
}

static void set_u64(napi_env env, napi_value obj, const char *name,
		    uint64_t v)
{
	napi_set_named_property(env, obj, name, wn_u64(env, v));
}

napi_value wn_info(napi_env env, napi_callback_info info)
{
	struct weave_info_args wi = { 0 };
	struct wn_handle *h;
	napi_value argv[1], o;
	int err;

	if (!wn_args(env, info, 1, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	err = weave_info(h->w, &wi);
	if (err) {
		wn_throw(env, err, "info", h, 0);
		return NULL;
	}
	napi_create_object(env, &o);
	set_u64(env, o, "id", wi.id);
	set_u64(env, o, "flags", wi.flags);
	set_u64(env, o, "mode", wi.mode);
	set_u64(env, o, "uid", wi.uid);
	set_u64(env, o, "gid", wi.gid);
	set_u64(env, o, "count", wi.count);
	set_u64(env, o, "bytes", wi.bytes);
	set_u64(env, o, "gen", wi.gen);
	set_u64(env, o, "maxEntries", wi.max_entries);
	set_u64(env, o, "maxEntrySize", wi.max_entry_size);
	set_u64(env, o, "fd", (uint64_t)weave_fd(h->w));
	return o;
}

napi_value wn_fd(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[1], v;

	if (!wn_args(env, info, 1, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	napi_create_int32(env, weave_fd(h->w), &v);
	return v;
}

/* The handle and key of (handle, key) calls. */
static struct wn_handle *handle_key(napi_env env, napi_callback_info info,
				    napi_value *argv, size_t n, uint64_t *key)
{
	struct wn_handle *h;

	if (!wn_args(env, info, n, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)) ||
	    wn_get_key(env, argv[1], key) != napi_ok)
		return NULL;
	return h;
}

napi_value wn_has(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[2], v;
	uint64_t key;
	int r;

	h = handle_key(env, info, argv, 2, &key);
	if (!h)
		return NULL;
	r = weave_has(h->w, key);
	if (r < 0) {
		wn_throw(env, r, "has", h, key);
		return NULL;
	}
	napi_get_boolean(env, r > 0, &v);
	return v;
}

/* stat(h, key) -> { gen, size } or null when the key does not exist */
napi_value wn_stat(napi_env env, napi_callback_info info)
{
	struct weave_stat_args st = { 0 };
	struct wn_handle *h;
	napi_value argv[2], o;
	uint64_t key;
	int err;

	h = handle_key(env, info, argv, 2, &key);
	if (!h)
		return NULL;
	err = weave_stat(h->w, key, &st);
	if (err == -ENOENT) {
		napi_get_null(env, &o);
		return o;
	}
	if (err) {
		wn_throw(env, err, "stat", h, key);
		return NULL;
	}
	napi_create_object(env, &o);
	set_u64(env, o, "gen", st.gen);
	set_u64(env, o, "size", st.size);
	set_u64(env, o, "birth", st.birth);
	return o;
}

napi_value wn_count(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[1];
	int64_t n;

	if (!wn_args(env, info, 1, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	n = weave_count(h->w);
	if (n < 0) {
		wn_throw(env, (int)n, "size", h, 0);
		return NULL;
	}
	return wn_u64(env, (uint64_t)n);
}

/* keys(h) -> every key, in the kernel's order (weave_list's walk) */
napi_value wn_keys(napi_env env, napi_callback_info info)
{
	uint64_t cursor = 0, batch[256];
	struct wn_handle *h;
	napi_value argv[1], arr;
	uint32_t n = 0;
	int got, i;

	if (!wn_args(env, info, 1, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	napi_create_array(env, &arr);
	do {
		got = weave_list(h->w, &cursor, batch, 256);
		if (got < 0) {
			wn_throw(env, got, "keys", h, 0);
			return NULL;
		}
		for (i = 0; i < got; i++)
			napi_set_element(env, arr, n++, wn_u64(env, batch[i]));
	} while (cursor);
	return arr;
}

/* unlock(h, key, consistent) */
napi_value wn_unlock(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[3];
	bool consistent;
	uint64_t key;
	int err;

	h = handle_key(env, info, argv, 3, &key);
	if (!h)
		return NULL;
	WN_CHECK(env, napi_get_value_bool(env, argv[2], &consistent));
	err = weave_unlock(h->w, key, consistent ? WEAVE_UNLOCK_CONSISTENT : 0);
	if (err) {
		wn_throw(env, err, "unlock", h, key);
		return NULL;
	}
	return wn_undefined(env);
}

/* unlink(name): remove the name; its users keep the registry */
napi_value wn_unlink(napi_env env, napi_callback_info info)
{
	char name[WEAVE_NAME_MAX + 2], what[WEAVE_NAME_MAX + 16];
	napi_value argv[1];
	bool named;
	int err;

	if (!wn_args(env, info, 1, argv) ||
	    !get_name(env, argv[0], name, sizeof(name), &named))
		return NULL;
	err = named ? weave_unlink(name) : -EINVAL;
	if (err) {
		snprintf(what, sizeof(what), "unlink '%s'", named ? name : "");
		wn_throw(env, err, what, NULL, 0);
		return NULL;
	}
	return wn_undefined(env);
}

/* lockInfo(h, key) -> { lock, waiters, ownerDied } or null (no entry) */
napi_value wn_lock_info(napi_env env, napi_callback_info info)
{
	struct weave_lock_info li;
	struct wn_handle *h;
	napi_value argv[2], o, v;
	uint64_t key;
	int err;

	h = handle_key(env, info, argv, 2, &key);
	if (!h)
		return NULL;
	err = weave_lock_info(h->w, key, &li);
	if (err == -ENOENT) {
		napi_get_null(env, &o);
		return o;
	}
	if (err) {
		wn_throw(env, err, "lockInfo", h, key);
		return NULL;
	}
	napi_create_object(env, &o);
	if (li.lock == WEAVE_SLOT_LOCK_EXCL)
		napi_create_string_utf8(env, "exclusive", NAPI_AUTO_LENGTH, &v);
	else
		napi_create_uint32(env, li.lock, &v);
	napi_set_named_property(env, o, "lock", v);
	napi_create_uint32(env, li.waiters, &v);
	napi_set_named_property(env, o, "waiters", v);
	napi_get_boolean(env, li.flags & WEAVE_SLOT_OWNER_DIED, &v);
	napi_set_named_property(env, o, "ownerDied", v);
	return o;
}
