// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Change events: the registry's file is readable when event records are
 * queued for it (weave(4)), so a uv_poll on it wakes the loop, and the
 * records are read without sleeping (weave_events() with timeout 0) and
 * handed to JS in batches.
 *
 * uv_poll_init() puts the file in O_NONBLOCK mode, which for a weave file
 * also makes every lock wait fail with EAGAIN, for every user of the open
 * file (a child that inherited it too). The poll only needs epoll, never
 * a non-blocking read, so the file's flags are put back at once; this
 * happens when the handle is made, before any waiter thread can use it.
 *
 * The poll is started only while JS listens, and it keeps the loop alive
 * only while it is referenced (ref()/unref() on the registry): a registry
 * nobody listens to never keeps a process alive.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "weave_node.h"

#define WN_EVENTS_BATCH	64

int wn_events_init(struct wn_handle *h)
{
	int fd = weave_fd(h->w), fl, err;
	uv_poll_t *p;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = uv_poll_init(h->env->loop, p, fd);
	if (err) {
		free(p);
		return err;
	}
	/* From here on the poll is closed by wn_events_close(). */
	h->poll = p;
	p->data = h;
	h->poll_ref = true;
	h->refs++;			/* dropped by the poll's close callback */
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}

static void poll_closed(uv_handle_t *p)
{
	struct wn_handle *h = p->data;

	/* h->poll is freed with the handle, which is now safe. */
	wn_handle_put(h);
}

void wn_events_close(struct wn_handle *h)
{
	if (h->on_events) {
		napi_delete_reference(h->env->env, h->on_events);
		h->on_events = NULL;
	}
	h->listening = false;
	if (h->poll && !uv_is_closing((uv_handle_t *)h->poll))
		uv_close((uv_handle_t *)h->poll, poll_closed);
}

static napi_value event_object(napi_env env, const struct weave_event *ev)
{
	napi_value o, v;

	napi_create_object(env, &o);
	napi_set_named_property(env, o, "key", wn_u64(env, ev->key));
	napi_set_named_property(env, o, "gen", wn_u64(env, ev->gen));
	napi_set_named_property(env, o, "size", wn_u64(env, ev->size));
	napi_create_uint32(env, ev->mask, &v);
	napi_set_named_property(env, o, "mask", v);
	return o;
}

/* Deliver one batch; false when reading failed or JS stopped listening. */
static bool deliver(struct wn_handle *h, napi_env env, size_t *got)
{
	struct weave_event ev[WN_EVENTS_BATCH];
	napi_value cb, arr, recv, exc;
	bool thrown;
	ssize_t n, i;

	*got = 0;
	n = weave_events(h->w, ev, WN_EVENTS_BATCH, 0);
	if (n <= 0)
		return n == 0 || n == -EAGAIN || n == -EINTR;
	*got = (size_t)n;
	napi_create_array_with_length(env, (size_t)n, &arr);
	for (i = 0; i < n; i++)
		napi_set_element(env, arr, (uint32_t)i, event_object(env, &ev[i]));
	if (napi_get_reference_value(env, h->on_events, &cb) != napi_ok || !cb)
		return false;
	napi_get_global(env, &recv);
	napi_make_callback(env, h->env->actx, recv, cb, 1, &arr, NULL);
	/* A listener threw: an uncaught exception, as from any emitter. */
	napi_is_exception_pending(env, &thrown);
	if (thrown) {
		napi_get_and_clear_last_exception(env, &exc);
		napi_fatal_exception(env, exc);
	}
	return h->listening && !h->closed;
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct wn_handle *h = p->data;
	napi_env env;
	napi_handle_scope hs;
	size_t got;

	(void)events;
	if (h->closed || !h->listening || !h->env)
		return;
	env = h->env->env;
	if (status < 0) {
		uv_poll_stop(p);
		return;
	}
	h->refs++;
	napi_open_handle_scope(env, &hs);
	while (deliver(h, env, &got) && got == WN_EVENTS_BATCH)
		;
	napi_close_handle_scope(env, hs);
	wn_handle_put(h);
}

/*
 * listen(h, cb | null): call cb(records) while events come, or stop.
 * Records queued before the call (from an earlier listening, which
 * unwatch leaves behind) are dropped first.
 */
napi_value wn_listen(napi_env env, napi_callback_info info)
{
	struct weave_event ev[WN_EVENTS_BATCH];
	struct wn_handle *h;
	napi_valuetype t;
	napi_value argv[2];
	int err;

	if (!wn_args(env, info, 2, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	napi_typeof(env, argv[1], &t);
	if (h->on_events) {
		napi_delete_reference(env, h->on_events);
		h->on_events = NULL;
	}
	if (t != napi_function) {
		h->listening = false;
		uv_poll_stop(h->poll);
		return wn_undefined(env);
	}
	while (weave_events(h->w, ev, WN_EVENTS_BATCH, 0) > 0)
		;
	WN_CHECK(env, napi_create_reference(env, argv[1], 1, &h->on_events));
	err = uv_poll_start(h->poll, UV_READABLE, on_poll);
	if (err) {
		wn_throw(env, err, "poll", h, 0);
		return NULL;
	}
	h->listening = true;
	if (h->poll_ref)
		uv_ref((uv_handle_t *)h->poll);
	else
		uv_unref((uv_handle_t *)h->poll);
	return wn_undefined(env);
}

/* watch(h, key (0: every key), events, flags) */
napi_value wn_watch(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[4];
	uint32_t events, flags;
	uint64_t key = 0;
	double d;
	int err;

	if (!wn_args(env, info, 4, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	if (napi_get_value_double(env, argv[1], &d) != napi_ok || d != 0) {
		if (wn_get_key(env, argv[1], &key) != napi_ok)
			return NULL;
	}
	WN_CHECK(env, napi_get_value_uint32(env, argv[2], &events));
	WN_CHECK(env, napi_get_value_uint32(env, argv[3], &flags));
	err = weave_watch(h->w, key, events, flags);
	if (err) {
		wn_throw(env, err, "watch", h, key);
		return NULL;
	}
	return wn_undefined(env);
}

/* unwatch(h, key (0: every key)); a key not watched is no error */
napi_value wn_unwatch(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[2];
	uint64_t key = 0;
	double d;
	int err;

	if (!wn_args(env, info, 2, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	if (napi_get_value_double(env, argv[1], &d) != napi_ok || d != 0) {
		if (wn_get_key(env, argv[1], &key) != napi_ok)
			return NULL;
	}
	err = weave_unwatch(h->w, key);
	if (err && err != -ENOENT) {
		wn_throw(env, err, "unwatch", h, key);
		return NULL;
	}
	return wn_undefined(env);
}

/* pollRef(h, ref): whether listening keeps the loop alive */
napi_value wn_poll_ref(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	napi_value argv[2];
	bool ref;

	if (!wn_args(env, info, 2, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	WN_CHECK(env, napi_get_value_bool(env, argv[1], &ref));
	h->poll_ref = ref;
	if (ref)
		uv_ref((uv_handle_t *)h->poll);
	else
		uv_unref((uv_handle_t *)h->poll);
	return wn_undefined(env);
}
