// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The addon's exports and its per-environment state. Each environment
 * (the main thread and every worker thread that loads the addon) has its
 * own struct wn_env: its loop, its pending requests, its handles. When
 * the environment goes away, an async cleanup hook cancels and joins its
 * waiter threads and closes its handles before the loop is gone.
 *
 * The JS layer (lib/native.js) is the only caller; it checks arguments
 * and turns the results into the Registry API.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <stdlib.h>

#include "weave_node.h"

struct wn_env *wn_env_get(napi_env env)
{
	struct wn_env *e = NULL;

	if (napi_get_instance_data(env, (void **)&e) != napi_ok || !e) {
		napi_throw_error(env, NULL, "weave: addon not initialised");
		return NULL;
	}
	if (e->torn_down) {
		napi_throw_error(env, "ERR_WEAVE_CLOSED",
				 "weave: the environment is shutting down");
		return NULL;
	}
	return e;
}

static void env_closed(uv_handle_t *uvh)
{
	struct wn_env *e = uvh->data;

	if (--e->closing)
		return;
	napi_remove_async_cleanup_hook(e->cleanup);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static void env_teardown(napi_async_cleanup_hook_handle hook, void *arg)
{
	struct wn_env *e = arg;
	struct wn_handle *h;

	(void)hook;
	/* Requests first: closing a handle only asks its threads to stop. */
	while (!wn_list_empty(&e->handles)) {
		h = wn_container_of(e->handles.next, struct wn_handle, link);
		wn_handle_close(h);
	}
	e->torn_down = true;
	wn_waiters_join_all(e);
	napi_async_destroy(e->env, e->actx);
	e->closing = 2;
	uv_close((uv_handle_t *)&e->async, env_closed);
	uv_close((uv_handle_t *)&e->rekill, env_closed);
}

static napi_value init(napi_env env, napi_value exports)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "open", wn_open },	 { "adopt", wn_adopt },
		{ "close", wn_close },	 { "info", wn_info },
		{ "fd", wn_fd },	 { "has", wn_has },
		{ "stat", wn_stat },	 { "count", wn_count },
		{ "keys", wn_keys },	 { "unlock", wn_unlock },
		{ "tryOp", wn_try_op },	 { "startOp", wn_start_op },
		{ "cancel", wn_cancel }, { "readView", wn_read_view },
		{ "listen", wn_listen }, { "watch", wn_watch },
		{ "unwatch", wn_unwatch }, { "pollRef", wn_poll_ref },
		{ "unlink", wn_unlink }, { "lockInfo", wn_lock_info },
		{ "mapRw", wn_map_rw },	 { "unmapRw", wn_unmap_rw },
	};
	struct wn_env *e;
	napi_value fn, name;
	size_t i;

	e = calloc(1, sizeof(*e));
	if (!e) {
		napi_throw_error(env, "ENOMEM", "weave: out of memory");
		return NULL;
	}
	e->env = env;
	wn_list_init(&e->done);
	wn_list_init(&e->handles);
	wn_list_init(&e->reqs);
	pthread_mutex_init(&e->lock, NULL);
	if (napi_get_uv_event_loop(env, &e->loop) != napi_ok ||
	    uv_async_init(e->loop, &e->async, wn_async_done)) {
		pthread_mutex_destroy(&e->lock);
		free(e);
		napi_throw_error(env, NULL, "weave: no event loop");
		return NULL;
	}
	e->async.data = e;
	uv_unref((uv_handle_t *)&e->async);
	uv_timer_init(e->loop, &e->rekill);
	e->rekill.data = e;
	uv_unref((uv_handle_t *)&e->rekill);
	napi_create_string_utf8(env, "weave", NAPI_AUTO_LENGTH, &name);
	napi_async_init(env, NULL, name, &e->actx);
	napi_set_instance_data(env, e, NULL, NULL);
	napi_add_async_cleanup_hook(env, env_teardown, e, &e->cleanup);
	wn_signal_setup();

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		WN_CHECK(env, napi_create_function(env, fns[i].name,
						   NAPI_AUTO_LENGTH, fns[i].fn,
						   NULL, &fn));
		WN_CHECK(env, napi_set_named_property(env, exports,
						      fns[i].name, fn));
	}
	return exports;
}

/* What NAPI_MODULE() defines, declared for -Wmissing-prototypes. */
NAPI_MODULE_EXPORT int32_t node_api_module_get_api_version_v1(void);
NAPI_MODULE_EXPORT napi_value napi_register_module_v1(napi_env env,
						      napi_value exports);
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
