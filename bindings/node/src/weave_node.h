/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Node-API addon behind @weave-kernel/weave: what its files share.
 *
 * module.c  the exports, the per-environment state and its teardown
 * handle.c  a registry handle: open, adopt (reopen), close, queries
 * ops.c     entry operations: one non-blocking try on the loop thread,
 *           else a waiter thread that blocks in the kernel
 * waiter.c  waiter threads, their cancellation and their completions
 * events.c  the registry's event records through uv_poll
 * util.c    arguments, keys, errors
 *
 * Every function here runs on the JS thread of its environment, except
 * wn_waiter_main() and what it calls (wn_op_run()), which run on a waiter
 * thread and touch only their request.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVE_NODE_H
#define WEAVE_NODE_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include <weave.h>

/* An intrusive doubly linked list, as the kernel's list_head. */
struct wn_list {
	struct wn_list *next, *prev;
};

void wn_list_init(struct wn_list *l);
void wn_list_add_tail(struct wn_list *n, struct wn_list *head);
void wn_list_del(struct wn_list *n);
bool wn_list_empty(const struct wn_list *l);
#define wn_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* The state of one napi_env (the main thread or a worker thread). */
struct wn_env {
	napi_env env;
	uv_loop_t *loop;
	uv_async_t async;		/* waiter threads' completions */
	uv_timer_t rekill;		/* signals cancelled waiters again */
	napi_async_context actx;
	pthread_mutex_t lock;		/* guards done */
	struct wn_list done;		/* completed requests, any thread */
	struct wn_list handles;		/* open handles of this env */
	struct wn_list reqs;		/* requests not yet settled */
	unsigned int pending;		/* their number */
	uint32_t next_id;		/* of the next request */
	unsigned int cancelling;	/* cancelled, thread still running */
	unsigned int closing;		/* uv handles being closed */
	bool torn_down;
	napi_async_cleanup_hook_handle cleanup;
};

/* One attached registry, shared by its JS object and its requests. */
struct wn_handle {
	struct wn_env *env;		/* NULL once the env is gone */
	struct weave *w;
	uint64_t id;
	char *label;			/* "registry 'name'" or "registry #id" */
	bool closed;
	bool read_only;
	unsigned int refs;		/* JS object + requests + poll */
	unsigned int nreqs;		/* pending requests (they use w) */
	struct wn_list link;		/* in env->handles */
	uv_poll_t *poll;		/* allocated at open, started by listen */
	napi_ref on_events;		/* the JS callback while listening */
	bool listening;
	bool poll_ref;			/* the poll keeps the loop alive */
};

enum wn_op {
	WN_SET,
	WN_GET,
	WN_DELETE,
	WN_CLEAR,
	WN_LOCK,
	WN_WAIT,
	WN_NR_OPS
};

/* One operation: tried on the loop thread, then maybe on a waiter thread. */
struct wn_req {
	struct wn_list link;		/* in env->reqs */
	struct wn_list done_link;	/* in env->done, once finished */
	struct wn_env *env;
	struct wn_handle *h;
	uint32_t id;			/* for cancel() */
	enum wn_op op;
	uint64_t key;
	uint64_t gen;			/* WAIT, IF_GEN: in; all: out */
	unsigned int flags;
	int64_t deadline_ns;		/* CLOCK_MONOTONIC; -1: none */
	void *buf;			/* SET: bytes in; GET: bytes out */
	size_t len;
	bool own_buf;			/* buf is malloc'd by us */
	/* out */
	int err;			/* 0 or -errno */
	int64_t count;			/* CLEAR: entries removed */
	uint32_t result;		/* LOCK: WEAVE_LOCK_OWNER_DIED */
	/* the waiter thread serving it, until finished */
	pthread_t thread;
	atomic_bool cancelled;
	atomic_bool finished;
	napi_deferred deferred;
};

/* module.c */
struct wn_env *wn_env_get(napi_env env);

/* util.c */
napi_status wn_get_key(napi_env env, napi_value v, uint64_t *key);
napi_value wn_u64(napi_env env, uint64_t v);
napi_value wn_error(napi_env env, int err, const char *what,
		    const struct wn_handle *h, uint64_t key);
void wn_throw(napi_env env, int err, const char *what,
	      const struct wn_handle *h, uint64_t key);
const char *wn_op_name(enum wn_op op);
int64_t wn_now_ns(void);
napi_value wn_undefined(napi_env env);
/* The argv of a call, and the handle in argv[0] (throws when closed). */
bool wn_args(napi_env env, napi_callback_info info, size_t want,
	     napi_value *argv);
struct wn_handle *wn_handle_arg(napi_env env, napi_value v, bool open);
#define WN_CHECK(env, call)						\
	do {								\
		if ((call) != napi_ok)					\
			return NULL;					\
	} while (0)

/* handle.c */
void wn_handle_put(struct wn_handle *h);
void wn_handle_close(struct wn_handle *h);
void wn_handle_release_file(struct wn_handle *h);
napi_value wn_open(napi_env env, napi_callback_info info);
napi_value wn_adopt(napi_env env, napi_callback_info info);
napi_value wn_close(napi_env env, napi_callback_info info);
napi_value wn_info(napi_env env, napi_callback_info info);
napi_value wn_has(napi_env env, napi_callback_info info);
napi_value wn_stat(napi_env env, napi_callback_info info);
napi_value wn_count(napi_env env, napi_callback_info info);
napi_value wn_keys(napi_env env, napi_callback_info info);
napi_value wn_unlock(napi_env env, napi_callback_info info);
napi_value wn_fd(napi_env env, napi_callback_info info);
napi_value wn_unlink(napi_env env, napi_callback_info info);
napi_value wn_lock_info(napi_env env, napi_callback_info info);

/* writable.c */
napi_value wn_map_rw(napi_env env, napi_callback_info info);
napi_value wn_unmap_rw(napi_env env, napi_callback_info info);

/* ops.c */
void wn_op_run(struct wn_req *r, bool nonblock);
napi_value wn_op_result(napi_env env, struct wn_req *r);
napi_value wn_try_op(napi_env env, napi_callback_info info);
napi_value wn_start_op(napi_env env, napi_callback_info info);
napi_value wn_read_view(napi_env env, napi_callback_info info);
void wn_req_free(struct wn_req *r);

/* waiter.c */
int wn_waiter_start(struct wn_env *e, struct wn_req *r);
void wn_waiter_cancel(struct wn_req *r);
void wn_async_done(uv_async_t *async);
void wn_rekill(uv_timer_t *t);
void wn_waiters_join_all(struct wn_env *e);
napi_value wn_cancel(napi_env env, napi_callback_info info);
void wn_signal_setup(void);

/* events.c */
int wn_events_init(struct wn_handle *h);
void wn_events_close(struct wn_handle *h);
napi_value wn_listen(napi_env env, napi_callback_info info);
napi_value wn_watch(napi_env env, napi_callback_info info);
napi_value wn_unwatch(napi_env env, napi_callback_info info);
napi_value wn_poll_ref(napi_env env, napi_callback_info info);

#endif /* WEAVE_NODE_H */
