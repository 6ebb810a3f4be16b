// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The exclusive lock holder's writable bytes: an ArrayBuffer over the
 * entry's own pages (weave_view_map_rw()), detached before the unlock so
 * that no JavaScript can reach the mapping once the kernel revokes it.
 *
 * mapRw(h, key) returns { buffer, token }; unmapRw(token, buffer)
 * detaches the buffer and unmaps the view. The token's finalizer unmaps
 * a view nobody unmapped (an environment torn down mid-callback).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "weave_node.h"

struct wn_rwmap {
	struct weave_view v;
	bool unmapped;
};

static void rwmap_finalize(napi_env env, void *data, void *hint)
{
	struct wn_rwmap *m = data;

	(void)env;
	(void)hint;
	if (!m->unmapped)
		weave_view_unmap(&m->v);
	free(m);
}

/* mapRw(h, key) -> { buffer, token } */
napi_value wn_map_rw(napi_env env, napi_callback_info info)
{
	struct wn_handle *h;
	struct wn_rwmap *m;
	napi_value argv[2], obj, buf, token;
	uint64_t key;
	size_t size;
	int err;

	if (!wn_args(env, info, 2, argv) ||
	    !(h = wn_handle_arg(env, argv[0], true)) ||
	    wn_get_key(env, argv[1], &key) != napi_ok)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		wn_throw(env, -ENOMEM, "bytes", h, key);
		return NULL;
	}
	err = weave_view_map_rw(h->w, key, &m->v);
	if (err) {
		free(m);
		wn_throw(env, err, "bytes", h, key);
		return NULL;
	}
	if (napi_create_external(env, m, rwmap_finalize, NULL, &token) !=
	    napi_ok) {
		weave_view_unmap(&m->v);
		free(m);
		return NULL;
	}
	size = weave_view_size(&m->v);
	/* The mapping stays the token's: the buffer frees nothing. */
	WN_CHECK(env, napi_create_external_arraybuffer(env,
			weave_view_data_rw(&m->v), size, NULL, NULL, &buf));
	WN_CHECK(env, napi_create_object(env, &obj));
	WN_CHECK(env, napi_set_named_property(env, obj, "buffer", buf));
	WN_CHECK(env, napi_set_named_property(env, obj, "token", token));
	return obj;
}

/*
 * The buffer was detached by JavaScript before us: by
 * ArrayBuffer.prototype.transfer(), which gives a new ArrayBuffer of the
 * same length the same backing store, our mapping, and that one we
 * cannot detach. Unmapping would leave it pointing at a hole (a crash,
 * or whatever is mapped there next). Put private anonymous pages over
 * its bytes instead, so that it can neither fault nor reach the entry,
 * and leave them: they are that buffer's memory now. The rest of the
 * view's mapping stays as well (the kernel revokes it at the unlock).
 */
static void rwmap_orphan(struct wn_rwmap *m)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
	uintptr_t data = (uintptr_t)weave_view_data_rw(&m->v);

	start = data & ~(page - 1);
	end = (data + weave_view_size(&m->v) + page - 1) & ~(page - 1);
	if (end > start)
		mmap((void *)start, end - start, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	memset(&m->v, 0, sizeof(m->v));
}

/* unmapRw(token, buffer): detach, then unmap; once. */
napi_value wn_unmap_rw(napi_env env, napi_callback_info info)
{
	struct wn_rwmap *m;
	napi_value argv[2];
	size_t argc = 2;
	bool moved;

	WN_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	WN_CHECK(env, napi_get_value_external(env, argv[0], (void **)&m));
	if (m->unmapped)
		return wn_undefined(env);
	WN_CHECK(env, napi_is_detached_arraybuffer(env, argv[1], &moved));
	if (moved) {
		rwmap_orphan(m);
	} else {
		WN_CHECK(env, napi_detach_arraybuffer(env, argv[1]));
		weave_view_unmap(&m->v);
	}
	m->unmapped = true;
	return wn_undefined(env);
}
