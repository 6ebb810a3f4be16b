// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Entry operations: set, get, delete, clear, lock, wait.
 *
 * The registry's file is a blocking one (a uv_poll would set O_NONBLOCK
 * on it; events.c takes it off again). Each operation is first tried on
 * the JS thread with WEAVE_OP_NONBLOCK, which never sleeps: it either
 * completes (almost always) or fails with EAGAIN because another file
 * holds the entry's lock (wait: because the gen has not moved yet). Only
 * then does the operation go to a waiter thread (waiter.c) that makes the
 * same call without the flag and sleeps in the kernel, queued in the
 * lock's FIFO like any C caller.
 *
 * get and clear use the ioctls directly: libweave's weave_get() and
 * weave_clear() take no WEAVE_OP_NONBLOCK.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "weave_node.h"

/* A first guess for a get's buffer; bigger values take a second call. */
#define WN_GET_GUESS	4096

/*
 * Read @r->key's value into r->buf: first into @scratch (@scratch_len
 * bytes; NULL for none) when given, else or when the value is bigger,
 * into a buffer of ours of its size (the size can change between calls:
 * loop).
 */
static int get_value(struct wn_req *r, unsigned int nb, void *scratch,
		     size_t scratch_len)
{
	struct weave_get_args a;
	size_t cap = scratch ? scratch_len : WN_GET_GUESS;
	void *p = scratch;

	for (;;) {
		if (!p) {
			p = realloc(r->own_buf ? r->buf : NULL, cap ? cap : 1);
			if (!p)
				return -ENOMEM;
			r->own_buf = true;
		}
		r->buf = p;
		memset(&a, 0, sizeof(a));
		a.key = r->key;
		a.buf = (uintptr_t)p;
		a.len = cap;
		a.flags = nb;
		if (ioctl(weave_fd(r->h->w), WEAVE_IOC_GET, &a) < 0)
			return -errno;
		if (a.size <= cap) {
			r->len = a.size;
			r->gen = a.gen;
			return 0;
		}
		cap = a.size;
		p = r->own_buf ? r->buf : NULL;
	}
}

static int clear_all(struct wn_req *r, unsigned int nb)
{
	struct weave_clear_args a = { .flags = nb };

	if (ioctl(weave_fd(r->h->w), WEAVE_IOC_CLEAR, &a) < 0)
		return -errno;
	r->count = (int64_t)a.count;
	r->gen = a.gen;
	return 0;
}

/*
 * Run @r once. @nonblock: the try on the JS thread (EAGAIN when it would
 * sleep); else the waiter thread's call, which sleeps until the
 * deadline. Sets r->err and the results.
 */
void wn_op_run(struct wn_req *r, bool nonblock)
{
	/* The JS thread's tries read small values here, without malloc. */
	static _Thread_local unsigned char scratch[WN_GET_GUESS];
	unsigned int nb = nonblock ? WEAVE_OP_NONBLOCK : 0;
	struct weave *w = r->h->w;
	int64_t timeout = -1;
	uint64_t cur = 0;
	int err;

	if (!nonblock && r->deadline_ns >= 0) {
		timeout = r->deadline_ns - wn_now_ns();
		if (timeout < 0)
			timeout = 0;
	}
	switch (r->op) {
	case WN_SET:
		r->err = weave_set_flags(w, r->key, r->buf, r->len,
					 r->flags | nb, &r->gen);
		break;
	case WN_GET:
		r->err = nonblock ? get_value(r, nb, scratch, sizeof(scratch)) :
				    get_value(r, nb, NULL, 0);
		break;
	case WN_DELETE:
		r->err = weave_delete_flags(w, r->key, r->flags | nb, &r->gen);
		break;
	case WN_CLEAR:
		r->err = clear_all(r, nb);
		break;
	case WN_LOCK:
		err = weave_lock(w, r->key, r->flags | nb, timeout);
		r->result = err > 0 ? (uint32_t)err : 0;
		r->err = err > 0 ? 0 : err;
		break;
	case WN_WAIT:
		/* result: 0 not-equal at once, 1 woken by a change, 2 timed out */
		err = weave_wait(w, r->key, r->gen, nonblock ? 0 : timeout,
				 &cur);
		if (nonblock) {
			r->err = err == -ETIMEDOUT ? -EAGAIN : err;
			r->result = 0;
		} else {
			r->err = err == -ETIMEDOUT ? 0 : err;
			r->result = err == -ETIMEDOUT ? 2 : 1;
		}
		r->count = (int64_t)cur;
		break;
	default:
		r->err = -EINVAL;
	}
}

static void free_buf(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	free(data);
}

void wn_req_free(struct wn_req *r)
{
	if (r->own_buf)
		free(r->buf);
	free(r);
}

/*
 * The JS value of a completed request (r->err is 0 or -ENOENT): set ->
 * gen, get -> Buffer or null, delete -> true/false, clear -> count,
 * lock -> true when the previous holder died holding it, wait -> 'ok',
 * 'not-equal' or 'timed-out'. NULL with an exception pending on failure.
 */
napi_value wn_op_result(napi_env env, struct wn_req *r)
{
	static const char *const wait_res[] = { "not-equal", "ok", "timed-out" };
	napi_value v;

	switch (r->op) {
	case WN_SET:
		return wn_u64(env, r->gen);
	case WN_GET:
		if (r->err == -ENOENT) {
			napi_get_null(env, &v);
		} else if (r->len <= WN_GET_GUESS) {
			if (napi_create_buffer_copy(env, r->len, r->buf, NULL,
						    &v) != napi_ok)
				return NULL;
		} else {
			if (napi_create_external_buffer(env, r->len, r->buf,
							free_buf, NULL,
							&v) != napi_ok)
				return NULL;
			r->own_buf = false;	/* the Buffer owns it */
		}
		return v;
	case WN_DELETE:
		napi_get_boolean(env, r->err == 0, &v);
		return v;
	case WN_CLEAR:
		return wn_u64(env, (uint64_t)r->count);
	case WN_LOCK:
		napi_get_boolean(env, r->result & WEAVE_LOCK_OWNER_DIED, &v);
		return v;
	case WN_WAIT:
		napi_create_string_utf8(env, wait_res[r->result],
					NAPI_AUTO_LENGTH, &v);
		return v;
	default:
		return wn_undefined(env);
	}
}

/* A gen argument: Number or BigInt; undefined is 0. */
static napi_status get_gen(napi_env env, napi_value v, uint64_t *gen)
{
	napi_valuetype t;
	bool lossless;
	double d;

	napi_typeof(env, v, &t);
	*gen = 0;
	if (t == napi_undefined)
		return napi_ok;
	if (t == napi_bigint)
		return napi_get_value_bigint_uint64(env, v, gen, &lossless);
	if (napi_get_value_double(env, v, &d) != napi_ok)
		return napi_number_expected;
	if (!(d >= 0 && d <= 18446744073709551615.0)) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
				       "a gen is an integer from 0 to 2^64-1");
		return napi_invalid_arg;
	}
	*gen = (uint64_t)d;
	return napi_ok;
}

/*
 * Fill @r from (h, op, key, value, flags, gen, timeoutMs). The value's
 * bytes are borrowed from the JS buffer (the try runs while it is alive).
 */
static struct wn_handle *parse_req(napi_env env, napi_value *argv,
				   struct wn_req *r)
{
	struct wn_handle *h;
	uint32_t op;
	double ms;

	if (!(h = wn_handle_arg(env, argv[0], true)))
		return NULL;
	if (napi_get_value_uint32(env, argv[1], &op) != napi_ok ||
	    op >= WN_NR_OPS) {
		napi_throw_type_error(env, NULL, "bad operation");
		return NULL;
	}
	r->h = h;
	r->op = (enum wn_op)op;
	if (r->op != WN_CLEAR && wn_get_key(env, argv[2], &r->key) != napi_ok)
		return NULL;
	if (r->op == WN_SET) {
		bool is_buf = false;

		napi_is_buffer(env, argv[3], &is_buf);
		if (!is_buf ||
		    napi_get_buffer_info(env, argv[3], &r->buf, &r->len) !=
		    napi_ok) {
			napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
					      "the value must be a Uint8Array");
			return NULL;
		}
	}
	if (napi_get_value_uint32(env, argv[4], &r->flags) != napi_ok ||
	    get_gen(env, argv[5], &r->gen) != napi_ok)
		return NULL;
	r->deadline_ns = -1;
	if (napi_get_value_double(env, argv[6], &ms) == napi_ok && ms >= 0 &&
	    ms < 9e15)
		r->deadline_ns = wn_now_ns() + (int64_t)(ms * 1e6);
	/* Only the flags of each command that the JS layer may pass. */
	switch (r->op) {
	case WN_SET:
		r->flags &= WEAVE_SET_NOREPLACE | WEAVE_SET_NOCREATE |
			    WEAVE_OP_IF_GEN;
		break;
	case WN_DELETE:
		r->flags &= WEAVE_OP_IF_GEN;
		break;
	case WN_LOCK:
		r->flags &= WEAVE_LOCK_SHARED;
		break;
	default:
		r->flags = 0;
	}
	return h;
}

static bool op_key_in_msg(const struct wn_req *r)
{
	return r->op != WN_CLEAR;
}

/*
 * tryOp(h, op, key, value, flags, gen, timeoutMs): the operation's result
 * when it completes without sleeping, undefined when it would sleep.
 */
napi_value wn_try_op(napi_env env, napi_callback_info info)
{
	struct wn_req r = { 0 };
	napi_value argv[7], v;

	if (!wn_args(env, info, 7, argv) || !parse_req(env, argv, &r))
		return NULL;
	wn_op_run(&r, true);
	if (r.err == -EAGAIN) {
		v = wn_undefined(env);
	} else if (r.err && !(r.err == -ENOENT &&
			      (r.op == WN_GET || r.op == WN_DELETE))) {
		wn_throw(env, r.err, wn_op_name(r.op), r.h,
			 op_key_in_msg(&r) ? r.key : 0);
		v = NULL;
	} else {
		v = wn_op_result(env, &r);
	}
	if (r.own_buf)
		free(r.buf);
	return v;
}

/*
 * startOp(h, op, key, value, flags, gen, timeoutMs) -> [promise, id]:
 * the operation on a waiter thread. cancel(id) cuts it short while it is
 * pending; once the promise has settled it does nothing.
 */
napi_value wn_start_op(napi_env env, napi_callback_info info)
{
	struct wn_env *e = wn_env_get(env);
	napi_value argv[7], promise, id, arr;
	struct wn_req *r;
	void *copy = NULL;
	int err;

	if (!e)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		wn_throw(env, -ENOMEM, "start", NULL, 0);
		return NULL;
	}
	if (!wn_args(env, info, 7, argv) || !parse_req(env, argv, r)) {
		free(r);
		return NULL;
	}
	if (r->op == WN_SET) {
		copy = malloc(r->len ? r->len : 1);
		if (!copy) {
			free(r);
			wn_throw(env, -ENOMEM, "set", NULL, 0);
			return NULL;
		}
		memcpy(copy, r->buf, r->len);
		r->buf = copy;
		r->own_buf = true;
	} else {
		r->buf = NULL;
		r->len = 0;
	}
	if (napi_create_promise(env, &r->deferred, &promise) != napi_ok) {
		wn_req_free(r);
		return NULL;
	}
	err = wn_waiter_start(e, r);
	napi_create_uint32(env, err ? 0 : r->id, &id);
	if (err) {
		napi_reject_deferred(env, r->deferred,
				     wn_error(env, err, wn_op_name(r->op),
					      r->h, r->key));
		wn_req_free(r);
	}
	napi_create_array_with_length(env, 2, &arr);
	napi_set_element(env, arr, 0, promise);
	napi_set_element(env, arr, 1, id);
	return arr;
}

/*
 * readView(h, key) -> Buffer or null: the entry's current bytes through
 * a read-only mapping, consistent by the index's sequence counter and
 * never waiting for a lock (what the synchronous iterators use when a
 * get would wait). The mapping is gone before this returns: JS never
 * sees mapped memory, so no JS write can fault on it.
 */
napi_value wn_read_view(napi_env env, napi_callback_info info)
{
	struct weave_view view;
	struct wn_handle *h;
	napi_value argv[2], v;
	uint64_t key;
	ssize_t n;
	size_t cap;
	void *data;
	int err;

	if (!wn_args(env, info, 2, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)) ||
	    wn_get_key(env, argv[1], &key) != napi_ok)
		return NULL;
	err = weave_view_map(h->w, key, &view);
	if (err == -ENOENT) {
		napi_get_null(env, &v);
		return v;
	}
	if (err) {
		wn_throw(env, err, "get", h, key);
		return NULL;
	}
	cap = weave_view_size(&view);
	for (;;) {
		WN_CHECK(env, napi_create_buffer(env, cap, &data, &v));
		n = weave_view_read(&view, data, cap);
		if (n == -ESTALE && !(err = weave_view_refresh(&view)))
			continue;
		if (n >= 0 && (size_t)n > cap) {
			cap = (size_t)n;
			continue;
		}
		break;
	}
	weave_view_unmap(&view);
	if (n == -ENOENT) {
		napi_get_null(env, &v);
		return v;
	}
	if (n < 0) {
		wn_throw(env, n == -ESTALE ? err : (int)n, "get", h, key);
		return NULL;
	}
	if ((size_t)n < cap) {
		napi_value sub;

		WN_CHECK(env, napi_create_buffer_copy(env, (size_t)n, data,
						      NULL, &sub));
		return sub;
	}
	return v;
}
