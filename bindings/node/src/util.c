// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Arguments, keys and errors of the addon.
 *
 * Errors are Error objects as Node's own: a `code` ('ENOENT', 'EFBIG',
 * ...), a negative `errno`, and a message "CODE: description, what key K
 * in registry 'name'"; `registry` and `key` are properties too. A
 * request cut short by close() is rejected with code ERR_WEAVE_CLOSED.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "weave_node.h"

void wn_list_init(struct wn_list *l)
{
	l->next = l->prev = l;
}

void wn_list_add_tail(struct wn_list *n, struct wn_list *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

void wn_list_del(struct wn_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	wn_list_init(n);
}

bool wn_list_empty(const struct wn_list *l)
{
	return l->next == l;
}

int64_t wn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

napi_value wn_undefined(napi_env env)
{
	napi_value v;

	napi_get_undefined(env, &v);
	return v;
}

/*
 * A key: a safe positive integer Number or a BigInt in 1..2^64-1. The JS
 * layer checks first with better messages; this is the last line.
 */
napi_status wn_get_key(napi_env env, napi_value v, uint64_t *key)
{
	napi_valuetype t;
	bool lossless;
	double d;

	if (napi_typeof(env, v, &t) != napi_ok)
		return napi_generic_failure;
	if (t == napi_bigint) {
		if (napi_get_value_bigint_uint64(env, v, key, &lossless) !=
		    napi_ok)
			return napi_generic_failure;
		if (lossless && *key)
			return napi_ok;
	} else if (t == napi_number) {
		napi_get_value_double(env, v, &d);
		if (d >= 1 && d <= 9007199254740991.0 && d == (double)(uint64_t)d) {
			*key = (uint64_t)d;
			return napi_ok;
		}
	}
	napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
			       "a key is an integer from 1 to 2^64-1");
	return napi_invalid_arg;
}

/* A Number while it is exact, else a BigInt. */
napi_value wn_u64(napi_env env, uint64_t v)
{
	napi_value r;

	if (v <= 9007199254740991ULL)
		napi_create_double(env, (double)v, &r);
	else
		napi_create_bigint_uint64(env, v, &r);
	return r;
}

const char *wn_op_name(enum wn_op op)
{
	static const char *const names[WN_NR_OPS] = {
		[WN_SET] = "set", [WN_GET] = "get", [WN_DELETE] = "delete",
		[WN_CLEAR] = "clear", [WN_LOCK] = "lock", [WN_WAIT] = "wait",
	};

	return (unsigned int)op < WN_NR_OPS ? names[op] : "?";
}

static void set_prop(napi_env env, napi_value obj, const char *name,
		     napi_value v)
{
	napi_set_named_property(env, obj, name, v);
}

static napi_value make_string(napi_env env, const char *s)
{
	napi_value v;

	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
	return v;
}

napi_value wn_error(napi_env env, int err, const char *what,
		    const struct wn_handle *h, uint64_t key)
{
	const char *code, *label = h ? h->label : NULL;
	char msg[512], desc[128];
	napi_value e, v;
	int n;

	if (err == -ECANCELED && h && h->closed) {
		code = "ERR_WEAVE_CLOSED";
		snprintf(desc, sizeof(desc), "%s", "the registry is closed");
	} else {
		code = strerrorname_np(-err);
		if (!code)
			code = "EUNKNOWN";
		/* strerror's "connection timed out" would mislead here. */
		snprintf(desc, sizeof(desc), "%s", err == -ETIMEDOUT ?
			 "timed out" : strerror(-err));
		if (desc[0] >= 'A' && desc[0] <= 'Z' && desc[1] >= 'a')
			desc[0] = (char)(desc[0] - 'A' + 'a');
	}
	n = snprintf(msg, sizeof(msg), "%s: %s, %s", code, desc, what);
	if (key && n > 0 && (size_t)n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n,
			      " key %" PRIu64, key);
	if (label && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " in %s", label);
	napi_create_error(env, make_string(env, code), make_string(env, msg),
			  &e);
	if (strncmp(code, "ERR_", 4)) {
		napi_create_int32(env, err, &v);
		set_prop(env, e, "errno", v);
		set_prop(env, e, "syscall", make_string(env, what));
	}
	if (key)
		set_prop(env, e, "key", wn_u64(env, key));
	if (label)
		set_prop(env, e, "registry", make_string(env, label));
	return e;
}

void wn_throw(napi_env env, int err, const char *what,
	      const struct wn_handle *h, uint64_t key)
{
	napi_throw(env, wn_error(env, err, what, h, key));
}

bool wn_args(napi_env env, napi_callback_info info, size_t want,
	     napi_value *argv)
{
	size_t argc = want;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return false;
	for (; argc < want; argc++)
		napi_get_undefined(env, &argv[argc]);
	return true;
}

/* The handle an external holds; with @open, throws when it is closed. */
struct wn_handle *wn_handle_arg(napi_env env, napi_value v, bool open)
{
	struct wn_handle *h = NULL;
	napi_valuetype t;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
	    napi_get_value_external(env, v, (void **)&h) != napi_ok || !h) {
		napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
				      "not a weave registry handle");
		return NULL;
	}
	if (open && (h->closed || !h->w)) {
		napi_throw(env, wn_error(env, -ECANCELED, "use", h, 0));
		return NULL;
	}
	return h;
}
