// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * weave._weave.Registry: one attached registry, a mapping from int keys
 * to bytes. weave.Registry (weave/__init__.py) adds the MutableMapping
 * mixins, pickling and asyncio on top.
 *
 * Lifetime: close() unmaps the registry's views and closes its file; it
 * is refused (BufferError) while a view has exported buffers, since they
 * point into the mapping, and deferred while another thread is inside a
 * blocking call on it (the last such call closes).
 *
 * fork(): a child shares its parent's open file, hence its locks and its
 * event queue; weave._after_fork (run by os.register_at_fork) gives each
 * open registry of the child a file of its own (weave_reopen()), so that
 * a lock the child takes is its own. Views mapped before the fork, and
 * Locks' writable views, keep the old handle, retired until the registry
 * is closed.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "_weave.h"

PyTypeObject *wpy_registry_type;
PyTypeObject *wpy_stat_type;
PyTypeObject *wpy_info_type;

/* Every open registry of the process, for _after_fork(); under the GIL. */
static wpy_registry *wpy_open_registries;

/* Value copies up to this size take one call through the stack. */
#define WPY_GET_STACK	1024
/* Keys per WEAVE_IOC_LIST call. */
#define WPY_LIST_BATCH	512

PyObject *wpy_registry_desc(wpy_registry *r)
{
	if (r->name != Py_None)
		return PyUnicode_FromFormat("registry %R", r->name);
	return PyUnicode_FromFormat("anonymous registry %llu",
				    (unsigned long long)r->id);
}

int wpy_registry_enter(wpy_registry *r)
{
	if (!r->w || r->closing) {
		wpy_closed();
		return -1;
	}
	r->busy++;
	return 0;
}

static void wpy_registry_close_now(wpy_registry *r)
{
	size_t i;

	wpy_view_unmap_all(r);
	wpy_lock_unmap_all(r);
	weave_close(r->w);
	r->w = NULL;
	for (i = 0; i < r->nretired; i++)
		weave_close(r->retired[i]);
	free(r->retired);
	r->retired = NULL;
	r->nretired = 0;
	r->closing = 0;
	if (r->prev)
		r->prev->next = r->next;
	else if (wpy_open_registries == r)
		wpy_open_registries = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

void wpy_registry_leave(wpy_registry *r)
{
	if (--r->busy == 0 && r->closing)
		wpy_registry_close_now(r);
}

static void wpy_registry_track(wpy_registry *r)
{
	r->prev = NULL;
	r->next = wpy_open_registries;
	if (r->next)
		r->next->prev = r;
	wpy_open_registries = r;
}

/* A new, unopened object of @cls (weave.Registry or a subclass). */
static wpy_registry *wpy_registry_alloc(PyTypeObject *cls)
{
	allocfunc alloc = (allocfunc)PyType_GetSlot(cls, Py_tp_alloc);
	wpy_registry *r = (wpy_registry *)alloc(cls, 0);

	if (!r)
		return NULL;
	Py_INCREF(Py_None);
	r->name = Py_None;
	return r;
}

/* Fill in the id and access mode of a freshly opened @r->w. */
static int wpy_registry_opened(wpy_registry *r)
{
	struct weave_info_args info;
	int err;

	memset(&info, 0, sizeof(info));
	err = weave_info(r->w, &info);
	if (err) {
		wpy_err(r, err, NULL, "info");
		return -1;
	}
	r->id = info.id;
	r->readonly = !!(info.flags & WEAVE_INFO_RDONLY);
	wpy_registry_track(r);
	return 0;
}

static int wpy_name_ok(PyObject *name, const char **s)
{
	Py_ssize_t len;

	if (!PyUnicode_Check(name)) {
		PyErr_SetString(PyExc_TypeError,
				"a registry name is a str, or None for an "
				"anonymous registry");
		return -1;
	}
	*s = PyUnicode_AsUTF8AndSize(name, &len);
	if (!*s)
		return -1;
	if (len < 1 || len > WEAVE_NAME_MAX || strchr(*s, '/') ||
	    (size_t)len != strlen(*s)) {
		PyErr_Format(PyExc_ValueError,
			     "bad registry name %R: 1 to %d bytes, no '/' or NUL",
			     name, WEAVE_NAME_MAX);
		return -1;
	}
	return 0;
}

static PyObject *wpy_registry_new(PyTypeObject *cls, PyObject *args,
				  PyObject *kw)
{
	static char *kwlist[] = { "name", "create", "exclusive", "persist",
				  "readonly", "mode", "capacity", NULL };
	PyObject *name = Py_None, *capacity = Py_None;
	int create = 0, excl = 0, persist = 0, rdonly = 0, mode = 0600;
	struct weave_params p;
	const char *cname = NULL;
	unsigned int flags = 0;
	wpy_registry *r;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$ppppiO:Registry", kwlist,
					 &name, &create, &excl, &persist,
					 &rdonly, &mode, &capacity))
		return NULL;
	memset(&p, 0, sizeof(p));
	if (name != Py_None && wpy_name_ok(name, &cname))
		return NULL;
	if (mode < 0 || mode > 0777) {
		PyErr_Format(PyExc_ValueError,
			     "mode %o is not a permission mode (0 to 0o777)",
			     mode);
		return NULL;
	}
	if ((excl || persist) && !create && name != Py_None) {
		PyErr_SetString(PyExc_ValueError,
				"exclusive and persist need create=True");
		return NULL;
	}
	if (persist && name == Py_None) {
		PyErr_SetString(PyExc_ValueError,
				"an anonymous registry cannot persist");
		return NULL;
	}
	if (capacity != Py_None) {
		p.max_entries = PyLong_AsUnsignedLongLong(capacity);
		if (PyErr_Occurred())
			return NULL;
		if (!p.max_entries) {
			PyErr_SetString(PyExc_ValueError,
					"capacity must be at least 1 (None: "
					"the module's limit)");
			return NULL;
		}
	}
	if (create)
		flags |= WEAVE_OPEN_CREATE;
	if (excl)
		flags |= WEAVE_OPEN_EXCL;
	if (persist)
		flags |= WEAVE_OPEN_PERSIST;
	if (rdonly)
		flags |= WEAVE_OPEN_RDONLY;

	r = wpy_registry_alloc(cls);
	if (!r)
		return NULL;
	Py_INCREF(name);
	Py_DECREF(r->name);
	r->name = name;
	Py_BEGIN_ALLOW_THREADS
	err = weave_open_params(cname, flags, (mode_t)mode, &p, &r->w);
	Py_END_ALLOW_THREADS
	if (err) {
		PyObject *msg, *exc;

		msg = name == Py_None ?
			PyUnicode_FromFormat("%s: anonymous registry",
					     strerror(-err)) :
			PyUnicode_FromFormat("%s: registry %R",
					     strerror(-err), name);
		if (msg) {
			exc = PyObject_CallFunction(PyExc_OSError, "iOO", -err,
						    msg, name);
			if (exc) {
				PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
				Py_DECREF(exc);
			}
			Py_DECREF(msg);
		}
		Py_DECREF((PyObject *)r);
		return NULL;
	}
	if (wpy_registry_opened(r)) {
		Py_DECREF((PyObject *)r);
		return NULL;
	}
	return (PyObject *)r;
}

/*
 * Registry._from_fd(fd): adopt an attached /dev/weave file received from
 * another process (pickling, multiprocessing), and give the new object a
 * file of its own (weave_reopen()) so that its locks are not the
 * sender's. @fd is closed in every case.
 */
static PyObject *wpy_registry_from_fd(PyObject *cls, PyObject *arg)
{
	struct weave *w;
	wpy_registry *r;
	int fd, err, acc;
	long lfd;

	lfd = PyLong_AsLong(arg);
	if (lfd == -1 && PyErr_Occurred())
		return NULL;
	if (lfd < 0 || lfd > INT_MAX) {
		PyErr_SetString(PyExc_ValueError, "not a file descriptor");
		return NULL;
	}
	fd = (int)lfd;
	err = weave_from_fd(fd, &w);
	if (err) {
		close(fd);
		return wpy_err(NULL, err, NULL, "adopt a descriptor");
	}
	acc = fcntl(fd, F_GETFL);
	r = wpy_registry_alloc((PyTypeObject *)cls);
	if (!r) {
		weave_close(w);
		return NULL;
	}
	err = weave_reopen(w, acc >= 0 && (acc & O_ACCMODE) == O_RDONLY ?
			   WEAVE_OPEN_RDONLY : 0, &r->w);
	weave_close(w);
	if (err) {
		Py_DECREF((PyObject *)r);
		return wpy_err(NULL, err, NULL, "reopen");
	}
	if (wpy_registry_opened(r)) {
		Py_DECREF((PyObject *)r);
		return NULL;
	}
	return (PyObject *)r;
}

static PyObject *wpy_registry_reopen(wpy_registry *r, PyObject *args,
				     PyObject *kw)
{
	static char *kwlist[] = { "readonly", NULL };
	wpy_registry *n;
	int rdonly = 0, err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|$p:reopen", kwlist,
					 &rdonly))
		return NULL;
	if (!r->w || r->closing)
		return wpy_closed();
	n = wpy_registry_alloc(Py_TYPE((PyObject *)r));
	if (!n)
		return NULL;
	Py_INCREF(r->name);
	Py_DECREF(n->name);
	n->name = r->name;
	err = weave_reopen(r->w, rdonly || r->readonly ? WEAVE_OPEN_RDONLY : 0,
			   &n->w);
	if (err) {
		Py_DECREF((PyObject *)n);
		return wpy_err(r, err, NULL, "reopen");
	}
	if (wpy_registry_opened(n)) {
		Py_DECREF((PyObject *)n);
		return NULL;
	}
	return (PyObject *)n;
}

PyObject *wpy_after_fork(PyObject *mod, PyObject *unused)
{
	wpy_registry *r, *next;

	(void)mod;
	(void)unused;
	for (r = wpy_open_registries; r; r = next) {
		struct weave *nw, **ret;
		int err;

		next = r->next;
		/*
		 * Threads that were inside calls are not in the child: a close
		 * they were to finish happens now.
		 */
		r->busy = 0;
		if (r->closing) {
			wpy_registry_close_now(r);
			continue;
		}
		err = weave_reopen(r->w, r->readonly ? WEAVE_OPEN_RDONLY : 0,
				   &nw);
		if (err) {
			PyObject *desc = wpy_registry_desc(r);

			if (!desc ||
			    PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
					     "weave: %U shares its parent's open "
					     "file after fork (reopen: %s)",
					     desc, strerror(-err)))
				PyErr_WriteUnraisable(NULL);
			Py_XDECREF(desc);
			continue;
		}
		if (!r->views && !r->rw_locks) {
			weave_close(r->w);
		} else {
			ret = realloc(r->retired,
				      (r->nretired + 1) * sizeof(*ret));
			if (!ret) {
				weave_close(nw);
				continue;
			}
			r->retired = ret;
			r->retired[r->nretired++] = r->w;
		}
		r->w = nw;
	}
	Py_RETURN_NONE;
}

static PyObject *wpy_registry_close(wpy_registry *r, PyObject *unused)
{
	(void)unused;
	if (!r->w || r->closing)
		Py_RETURN_NONE;
	if (wpy_view_check_exports(r))
		return NULL;
	if (r->busy)
		r->closing = 1;
	else
		wpy_registry_close_now(r);
	Py_RETURN_NONE;
}

static void wpy_registry_dealloc(wpy_registry *r)
{
	/* Views hold their registry: none is left when it goes. */
	if (r->w)
		wpy_registry_close_now(r);
	Py_CLEAR(r->name);
	wpy_dealloc_type((PyObject *)r);
}

static PyObject *wpy_registry_enter_ctx(wpy_registry *r, PyObject *unused)
{
	(void)unused;
	if (!r->w || r->closing)
		return wpy_closed();
	Py_INCREF((PyObject *)r);
	return (PyObject *)r;
}

static PyObject *wpy_registry_exit_ctx(wpy_registry *r, PyObject *args)
{
	(void)args;
	return wpy_registry_close(r, NULL);
}

static PyObject *wpy_registry_fileno(wpy_registry *r, PyObject *unused)
{
	(void)unused;
	if (!r->w || r->closing)
		return wpy_closed();
	return PyLong_FromLong(weave_fd(r->w));
}

static PyObject *wpy_registry_repr(wpy_registry *r)
{
	if (!r->w)
		return PyUnicode_FromString("<weave.Registry closed>");
	if (r->name != Py_None)
		return PyUnicode_FromFormat("<weave.Registry %R id=%llu%s>",
					    r->name, (unsigned long long)r->id,
					    r->readonly ? " readonly" : "");
	return PyUnicode_FromFormat("<weave.Registry anonymous id=%llu%s>",
				    (unsigned long long)r->id,
				    r->readonly ? " readonly" : "");
}

/* --- Values ---------------------------------------------------------------- */

/*
 * @key's value as bytes and its gen in *@gen; NULL with *@missing set
 * (and no exception) when @key does not exist and @missing is not NULL.
 * A value that grows between the size query and the copy is read again.
 */
static PyObject *wpy_value(wpy_registry *r, uint64_t key, uint64_t *gen,
			   int *missing)
{
	char stack[WPY_GET_STACK];
	PyObject *b = NULL;
	ssize_t n;

	if (wpy_registry_enter(r))
		return NULL;
	WPY_BLOCKING(n, weave_get(r->w, key, stack, sizeof(stack), gen));
	if (n >= 0 && (size_t)n <= sizeof(stack)) {
		b = PyBytes_FromStringAndSize(stack, n);
		goto out;
	}
	while (n > (ssize_t)sizeof(stack)) {
		ssize_t want = n;
		char *p;

		b = PyBytes_FromStringAndSize(NULL, want);
		if (!b)
			goto out;
		p = PyBytes_AsString(b);
		WPY_BLOCKING(n, weave_get(r->w, key, p, (size_t)want, gen));
		if (n == want)
			goto out;
		if (n >= 0 && n < want) {
			/* It shrank: the copy holds all of it. */
			PyObject *s = PyBytes_FromStringAndSize(p, n);

			Py_DECREF(b);
			b = s;
			goto out;
		}
		Py_CLEAR(b);
	}
	if (n == -ENOENT && missing)
		*missing = 1;
	else
		wpy_err(r, (int)n, &key, "get");
out:
	wpy_registry_leave(r);
	return b;
}

static PyObject *wpy_registry_getitem(wpy_registry *r, PyObject *k)
{
	uint64_t key;

	if (wpy_key(r, k, &key))
		return NULL;
	return wpy_value(r, key, NULL, NULL);
}

static PyObject *wpy_registry_get(wpy_registry *r, PyObject *args,
				  PyObject *kw)
{
	static char *kwlist[] = { "key", "default", "gen", NULL };
	PyObject *k, *dflt = Py_None, *v;
	uint64_t key, gen = 0;
	int want_gen = 0, missing = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$p:get", kwlist, &k,
					 &dflt, &want_gen))
		return NULL;
	if (wpy_key(r, k, &key))
		return NULL;
	v = wpy_value(r, key, &gen, &missing);
	if (!v && !missing)
		return NULL;
	if (!v) {
		Py_INCREF(dflt);
		v = dflt;
		gen = 0;
	}
	if (!want_gen)
		return v;
	return Py_BuildValue("(NK)", v, (unsigned long long)gen);
}

/* None or an int gen (0: the key must not exist) for WEAVE_OP_IF_GEN. */
static int wpy_if_gen(PyObject *o, unsigned int *flags, uint64_t *gen)
{
	if (o == Py_None)
		return 0;
	if (wpy_u64(o, "if_gen", gen))
		return -1;
	*flags |= WEAVE_OP_IF_GEN;
	return 0;
}

/* After wpy_err() with ESTALE: the gen found goes on the exception. */
static void wpy_stale_gen(uint64_t gen)
{
	PyObject *t, *v, *tb, *g;

	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	g = PyLong_FromUnsignedLongLong(gen);
	if (v && g && PyObject_SetAttrString(v, "gen", g))
		PyErr_Clear();
	Py_XDECREF(g);
	PyErr_Restore(t, v, tb);
}

static int wpy_store(wpy_registry *r, uint64_t key, PyObject *value,
		     unsigned int flags, uint64_t *gen)
{
	Py_buffer buf;
	int err;

	if (PyObject_GetBuffer(value, &buf, PyBUF_SIMPLE))
		return -1;
	if (wpy_registry_enter(r)) {
		PyBuffer_Release(&buf);
		return -1;
	}
	WPY_BLOCKING(err, weave_set_flags(r->w, key, buf.buf, (size_t)buf.len,
					  flags, gen));
	wpy_registry_leave(r);
	PyBuffer_Release(&buf);
	if (err) {
		wpy_err(r, err, &key, "set");
		if (err == -ESTALE)
			wpy_stale_gen(*gen);
		return -1;
	}
	return 0;
}

static int wpy_remove(wpy_registry *r, uint64_t key, unsigned int flags,
		      uint64_t *gen)
{
	int err;

	if (wpy_registry_enter(r))
		return -1;
	WPY_BLOCKING(err, weave_delete_flags(r->w, key, flags, gen));
	wpy_registry_leave(r);
	if (err) {
		wpy_err(r, err, &key, "delete");
		if (err == -ESTALE)
			wpy_stale_gen(*gen);
		return -1;
	}
	return 0;
}

static int wpy_registry_setitem(wpy_registry *r, PyObject *k, PyObject *v)
{
	uint64_t key, gen;

	if (wpy_key(r, k, &key))
		return -1;
	if (!v)
		return wpy_remove(r, key, 0, &gen);
	return wpy_store(r, key, v, 0, &gen);
}

static PyObject *wpy_registry_set(wpy_registry *r, PyObject *args,
				  PyObject *kw)
{
	static char *kwlist[] = { "key", "value", "if_gen", NULL };
	PyObject *k, *v, *ig = Py_None;
	unsigned int flags = 0;
	uint64_t key, gen = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:set", kwlist, &k, &v,
					 &ig))
		return NULL;
	if (wpy_key(r, k, &key) || wpy_if_gen(ig, &flags, &gen) ||
	    wpy_store(r, key, v, flags, &gen))
		return NULL;
	return PyLong_FromUnsignedLongLong(gen);
}

static PyObject *wpy_registry_delete(wpy_registry *r, PyObject *args,
				     PyObject *kw)
{
	static char *kwlist[] = { "key", "if_gen", NULL };
	PyObject *k, *ig = Py_None;
	unsigned int flags = 0;
	uint64_t key, gen = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:delete", kwlist, &k,
					 &ig))
		return NULL;
	if (wpy_key(r, k, &key) || wpy_if_gen(ig, &flags, &gen) ||
	    wpy_remove(r, key, flags, &gen))
		return NULL;
	return PyLong_FromUnsignedLongLong(gen);
}

static int wpy_registry_contains(wpy_registry *r, PyObject *k)
{
	uint64_t key;
	int ret;

	/* Like a dict: what cannot be a key is not in it. */
	if (!PyLong_Check(k))
		return 0;
	if (wpy_key(r, k, &key)) {
		if (PyErr_ExceptionMatches(PyExc_ValueError) ||
		    PyErr_ExceptionMatches(PyExc_OverflowError)) {
			PyErr_Clear();
			return 0;
		}
		return -1;
	}
	if (wpy_registry_enter(r))
		return -1;
	WPY_BLOCKING(ret, weave_has(r->w, key));
	wpy_registry_leave(r);
	if (ret < 0) {
		wpy_err(r, ret, &key, "has");
		return -1;
	}
	return ret;
}

static Py_ssize_t wpy_registry_len(wpy_registry *r)
{
	int64_t n;

	if (wpy_registry_enter(r))
		return -1;
	WPY_BLOCKING(n, weave_count(r->w));
	wpy_registry_leave(r);
	if (n < 0) {
		wpy_err(r, (int)n, NULL, "count");
		return -1;
	}
	return (Py_ssize_t)n;
}

/* Every key, in batches of WEAVE_IOC_LIST; a snapshot list. */
static PyObject *wpy_registry_keylist(wpy_registry *r)
{
	uint64_t cursor = 0, keys[WPY_LIST_BATCH];
	PyObject *list = PyList_New(0);
	int n, i;

	if (!list)
		return NULL;
	if (wpy_registry_enter(r)) {
		Py_DECREF(list);
		return NULL;
	}
	do {
		WPY_BLOCKING(n, weave_list(r->w, &cursor, keys,
					   WPY_LIST_BATCH));
		if (n < 0) {
			wpy_err(r, n, NULL, "list");
			Py_CLEAR(list);
			break;
		}
		for (i = 0; i < n; i++) {
			PyObject *o = PyLong_FromUnsignedLongLong(keys[i]);

			if (!o || PyList_Append(list, o)) {
				Py_XDECREF(o);
				Py_CLEAR(list);
				break;
			}
			Py_DECREF(o);
		}
	} while (list && cursor);
	wpy_registry_leave(r);
	return list;
}

static PyObject *wpy_registry_iter(wpy_registry *r)
{
	PyObject *list = wpy_registry_keylist(r), *it;

	if (!list)
		return NULL;
	it = PyObject_GetIter(list);
	Py_DECREF(list);
	return it;
}

static PyObject *wpy_registry_clear(wpy_registry *r, PyObject *unused)
{
	int64_t n;

	(void)unused;
	if (wpy_registry_enter(r))
		return NULL;
	WPY_BLOCKING(n, weave_clear(r->w));
	wpy_registry_leave(r);
	if (n < 0)
		return wpy_err(r, (int)n, NULL, "clear");
	Py_RETURN_NONE;
}

static PyObject *wpy_registry_stat(wpy_registry *r, PyObject *k)
{
	struct weave_stat_args st;
	uint64_t key;
	PyObject *s;
	int err;

	if (wpy_key(r, k, &key) || wpy_registry_enter(r))
		return NULL;
	memset(&st, 0, sizeof(st));
	WPY_BLOCKING(err, weave_stat(r->w, key, &st));
	wpy_registry_leave(r);
	if (err)
		return wpy_err(r, err, &key, "stat");
	s = PyStructSequence_New(wpy_stat_type);
	if (!s)
		return NULL;
	PyStructSequence_SetItem(s, 0, PyLong_FromUnsignedLongLong(st.size));
	PyStructSequence_SetItem(s, 1, PyLong_FromUnsignedLongLong(st.gen));
	PyStructSequence_SetItem(s, 2, PyLong_FromUnsignedLongLong(st.birth));
	if (PyErr_Occurred()) {
		Py_DECREF(s);
		return NULL;
	}
	return s;
}

static PyObject *wpy_registry_info(wpy_registry *r, PyObject *unused)
{
	struct weave_info_args in;
	unsigned long long v[9];
	PyObject *s;
	int err, i;

	(void)unused;
	if (wpy_registry_enter(r))
		return NULL;
	memset(&in, 0, sizeof(in));
	err = weave_info(r->w, &in);
	wpy_registry_leave(r);
	if (err)
		return wpy_err(r, err, NULL, "info");
	v[0] = in.id;
	v[1] = in.count;
	v[2] = in.bytes;
	v[3] = in.gen;
	v[4] = in.max_entries;
	v[5] = in.max_entry_size;
	v[6] = in.mode;
	v[7] = in.uid;
	v[8] = in.gid;
	s = PyStructSequence_New(wpy_info_type);
	if (!s)
		return NULL;
	for (i = 0; i < 9; i++)
		PyStructSequence_SetItem(s, i, PyLong_FromUnsignedLongLong(v[i]));
	if (PyErr_Occurred()) {
		Py_DECREF(s);
		return NULL;
	}
	return s;
}

static PyObject *wpy_registry_write(wpy_registry *r, PyObject *args,
				    PyObject *kw)
{
	static char *kwlist[] = { "key", "data", "offset", NULL };
	PyObject *k, *data, *off = NULL;
	uint64_t key, offset = 0;
	Py_buffer buf;
	int err;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:write", kwlist, &k,
					 &data, &off))
		return NULL;
	if (wpy_key(r, k, &key) ||
	    (off && wpy_u64(off, "offset", &offset)) ||
	    PyObject_GetBuffer(data, &buf, PyBUF_SIMPLE))
		return NULL;
	if (wpy_registry_enter(r)) {
		PyBuffer_Release(&buf);
		return NULL;
	}
	WPY_BLOCKING(err, weave_write(r->w, key, offset, buf.buf,
				      (size_t)buf.len));
	wpy_registry_leave(r);
	PyBuffer_Release(&buf);
	if (err)
		return wpy_err(r, err, &key, "write");
	Py_RETURN_NONE;
}

static PyObject *wpy_registry_resize(wpy_registry *r, PyObject *args)
{
	uint64_t key, size;
	PyObject *k, *sz;
	int err;

	if (!PyArg_ParseTuple(args, "OO:resize", &k, &sz) ||
	    wpy_key(r, k, &key) || wpy_u64(sz, "size", &size) ||
	    wpy_registry_enter(r))
		return NULL;
	WPY_BLOCKING(err, weave_resize(r->w, key, size));
	wpy_registry_leave(r);
	if (err)
		return wpy_err(r, err, &key, "resize");
	Py_RETURN_NONE;
}

static PyObject *wpy_registry_view(wpy_registry *r, PyObject *k)
{
	uint64_t key;

	if (wpy_key(r, k, &key))
		return NULL;
	return wpy_view_new(r, key);
}

static PyObject *wpy_registry_lock(wpy_registry *r, PyObject *args,
				   PyObject *kw)
{
	static char *kwlist[] = { "key", "shared", "timeout", NULL };
	PyObject *k, *to = Py_None;
	int64_t timeout;
	int shared = 0;
	uint64_t key;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pO:lock", kwlist, &k,
					 &shared, &to) ||
	    wpy_key(r, k, &key) || wpy_timeout(to, &timeout))
		return NULL;
	if (!r->w || r->closing)
		return wpy_closed();
	return wpy_lock_new(r, key, shared, timeout);
}

/* None (every key) or a key; 0 for libweave's "every key". */
static int wpy_key_or_all(wpy_registry *r, PyObject *k, uint64_t *key)
{
	if (k == Py_None) {
		*key = 0;
		return 0;
	}
	return wpy_key(r, k, key);
}

static PyObject *wpy_registry_watch(wpy_registry *r, PyObject *args,
				    PyObject *kw)
{
	static char *kwlist[] = { "key", "events", "no_self", NULL };
	unsigned int events = WEAVE_EV_ALL, flags = 0;
	PyObject *k = Py_None, *w;
	int no_self = 0, err;
	uint64_t key;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$Ip:watch", kwlist, &k,
					 &events, &no_self) ||
	    wpy_key_or_all(r, k, &key))
		return NULL;
	if (no_self)
		flags |= WEAVE_WATCH_NO_SELF;
	if (wpy_registry_enter(r))
		return NULL;
	err = weave_watch(r->w, key, events, flags);
	wpy_registry_leave(r);
	if (err)
		return wpy_err(r, err, key ? &key : NULL, "watch");
	w = wpy_watch_new(r, key);
	if (!w)
		weave_unwatch(r->w, key);
	return w;
}

static PyObject *wpy_registry_unwatch(wpy_registry *r, PyObject *args)
{
	PyObject *k = Py_None;
	uint64_t key;
	int err;

	if (!PyArg_ParseTuple(args, "|O:unwatch", &k) ||
	    wpy_key_or_all(r, k, &key) || wpy_registry_enter(r))
		return NULL;
	err = weave_unwatch(r->w, key);
	wpy_registry_leave(r);
	if (err == -ENOENT) {
		PyObject *desc = wpy_registry_desc(r);

		if (desc) {
			PyErr_Format(PyExc_KeyError, "%s is not watched by %U",
				     key ? "this key" : "every key", desc);
			Py_DECREF(desc);
		}
		return NULL;
	}
	if (err)
		return wpy_err(r, err, key ? &key : NULL, "unwatch");
	Py_RETURN_NONE;
}

static PyObject *wpy_registry_read_events(wpy_registry *r, PyObject *args,
					  PyObject *kw)
{
	static char *kwlist[] = { "max", "timeout", NULL };
	Py_ssize_t max = 64;
	PyObject *to = NULL;
	int64_t timeout = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|nO:read_events", kwlist,
					 &max, &to))
		return NULL;
	if (to && wpy_timeout(to, &timeout))
		return NULL;
	if (max < 1) {
		PyErr_SetString(PyExc_ValueError, "max must be at least 1");
		return NULL;
	}
	return wpy_read_events(r, max, timeout);
}

static PyObject *wpy_registry_wait(wpy_registry *r, PyObject *args,
				   PyObject *kw)
{
	static char *kwlist[] = { "key", "gen", "timeout", NULL };
	PyObject *k, *g, *to = Py_None;
	uint64_t key, gen;
	int64_t timeout;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:wait", kwlist, &k,
					 &g, &to) ||
	    wpy_key(r, k, &key) || wpy_u64(g, "gen", &gen) ||
	    wpy_timeout(to, &timeout))
		return NULL;
	return wpy_wait(r, key, gen, timeout);
}

static PyObject *wpy_registry_get_name(wpy_registry *r, void *c)
{
	(void)c;
	Py_INCREF(r->name);
	return r->name;
}

static PyObject *wpy_registry_get_id(wpy_registry *r, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLongLong(r->id);
}

static PyObject *wpy_registry_get_readonly(wpy_registry *r, void *c)
{
	(void)c;
	return PyBool_FromLong(r->readonly);
}

static PyObject *wpy_registry_get_closed(wpy_registry *r, void *c)
{
	(void)c;
	return PyBool_FromLong(!r->w || r->closing);
}

static PyGetSetDef wpy_registry_getset[] = {
	{ "name", (getter)wpy_registry_get_name, NULL,
	  "The registry's name, or None when anonymous.", NULL },
	{ "id", (getter)wpy_registry_get_id, NULL,
	  "The registry's id (weavectl shows it).", NULL },
	{ "readonly", (getter)wpy_registry_get_readonly, NULL,
	  "True when opened read-only: every change raises PermissionError.",
	  NULL },
	{ "closed", (getter)wpy_registry_get_closed, NULL,
	  "True after close().", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyMethodDef wpy_registry_methods[] = {
	WPY_METHOD("_from_fd", wpy_registry_from_fd, METH_O | METH_CLASS,
	  "Adopt a received /dev/weave descriptor (closed in every case)."),
	WPY_METHOD("close", wpy_registry_close, METH_NOARGS,
	  "close()\n--\n\n"
	  "Unmap the views and close the file; the registry goes when its\n"
	  "last user does, unless it persists. BufferError while a view\n"
	  "has exported buffers (memoryview, numpy array)."),
	WPY_METHOD("__enter__", wpy_registry_enter_ctx, METH_NOARGS, NULL),
	WPY_METHOD("__exit__", wpy_registry_exit_ctx, METH_VARARGS, NULL),
	WPY_METHOD("fileno", wpy_registry_fileno, METH_NOARGS,
	  "fileno()\n--\n\n"
	  "The file descriptor: readable when events are pending, for\n"
	  "select, selectors and asyncio."),
	WPY_METHOD("reopen", wpy_registry_reopen, METH_VARARGS | METH_KEYWORDS,
	  "reopen(*, readonly=False)\n--\n\n"
	  "Another Registry of the same registry with its own open file,\n"
	  "hence its own locks and event queue."),
	WPY_METHOD("info", wpy_registry_info, METH_NOARGS,
	  "info()\n--\n\n"
	  "weave.Info: id, count, bytes, gen, max_entries, max_entry_size,\n"
	  "mode, uid, gid."),
	WPY_METHOD("get", wpy_registry_get, METH_VARARGS | METH_KEYWORDS,
	  "get(key, default=None, *, gen=False)\n--\n\n"
	  "The value of key as bytes, or default when it does not exist.\n"
	  "With gen=True, a (value, gen) pair; (default, 0) when missing."),
	WPY_METHOD("set", wpy_registry_set, METH_VARARGS | METH_KEYWORDS,
	  "set(key, value, if_gen=None)\n--\n\n"
	  "Store value (any bytes-like object) as key's value; return the\n"
	  "entry's new gen. With if_gen, only if the entry's gen is if_gen\n"
	  "(0: only if key does not exist), else weave.StaleError, whose\n"
	  ".gen is the gen found."),
	WPY_METHOD("delete", wpy_registry_delete, METH_VARARGS | METH_KEYWORDS,
	  "delete(key, if_gen=None)\n--\n\n"
	  "Remove key (KeyError if missing); return the gen of the\n"
	  "deletion. if_gen as for set()."),
	WPY_METHOD("clear", wpy_registry_clear, METH_NOARGS,
	  "clear()\n--\n\nRemove every entry, in one call."),
	WPY_METHOD("stat", wpy_registry_stat, METH_O,
	  "stat(key, /)\n--\n\nweave.Stat of key: size, gen, birth."),
	WPY_METHOD("write", wpy_registry_write, METH_VARARGS | METH_KEYWORDS,
	  "write(key, data, offset=0)\n--\n\n"
	  "Write data at offset of key's value in place; it grows like a\n"
	  "file under pwrite(2), a gap reading as zeros."),
	WPY_METHOD("resize", wpy_registry_resize, METH_VARARGS,
	  "resize(key, size, /)\n--\n\n"
	  "Grow (new bytes read as zeros) or shrink key's value in place."),
	WPY_METHOD("view", wpy_registry_view, METH_O,
	  "view(key, /)\n--\n\n"
	  "A weave.View: key's bytes mapped read-only, zero-copy through\n"
	  "the buffer protocol (memoryview, numpy.frombuffer)."),
	WPY_METHOD("lock", wpy_registry_lock, METH_VARARGS | METH_KEYWORDS,
	  "lock(key, shared=False, timeout=None)\n--\n\n"
	  "A weave.Lock context manager for key's lock (the key need not\n"
	  "exist), exclusive or shared, waiting at most timeout seconds\n"
	  "(TimeoutError). An exclusive holder's Lock is a writable buffer\n"
	  "of the entry's bytes while it is held."),
	WPY_METHOD("watch", wpy_registry_watch, METH_VARARGS | METH_KEYWORDS,
	  "watch(key=None, *, events=EV_ALL, no_self=False)\n--\n\n"
	  "Report key's events (every key's with None) to this registry's\n"
	  "file and return a weave.Watch: iterate it for the events, close\n"
	  "it (or leave its with block) to stop watching."),
	WPY_METHOD("unwatch", wpy_registry_unwatch, METH_VARARGS,
	  "unwatch(key=None, /)\n--\n\n"
	  "Stop watching key (None: every key); KeyError when not watched."),
	WPY_METHOD("read_events", wpy_registry_read_events,
	  METH_VARARGS | METH_KEYWORDS,
	  "read_events(max=64, timeout=0)\n--\n\n"
	  "A list of at most max pending weave.Event records, waiting up\n"
	  "to timeout seconds (None: until one comes) for the first."),
	WPY_METHOD("wait", wpy_registry_wait, METH_VARARGS | METH_KEYWORDS,
	  "wait(key, gen, timeout=None)\n--\n\n"
	  "Sleep until key's gen is not gen (a missing key has gen 0), like\n"
	  "a futex; return the gen then seen, which is gen itself when the\n"
	  "timeout passed first."),
	{ NULL, NULL, 0, NULL },
};

static PyStructSequence_Field wpy_stat_fields[] = {
	{ "size", "bytes in the value" },
	{ "gen", "the entry's gen: the registry's change count at its last "
		 "change" },
	{ "birth", "the gen at which this life of the key began" },
	{ NULL, NULL },
};

static PyStructSequence_Desc wpy_stat_desc = {
	"weave.Stat", "An entry's size and generations.", wpy_stat_fields, 3,
};

static PyStructSequence_Field wpy_info_fields[] = {
	{ "id", NULL }, { "count", "entries" }, { "bytes", "value bytes" },
	{ "gen", "the registry's change count" },
	{ "max_entries", NULL }, { "max_entry_size", NULL },
	{ "mode", NULL }, { "uid", NULL }, { "gid", NULL },
	{ NULL, NULL },
};

static PyStructSequence_Desc wpy_info_desc = {
	"weave.Info", "A registry's description (WEAVE_IOC_INFO).",
	wpy_info_fields, 9,
};

static PyType_Slot wpy_registry_slots[] = {
	{ Py_tp_doc, "The C core of weave.Registry (use that)." },
	{ Py_tp_new, wpy_registry_new },
	{ Py_tp_dealloc, wpy_registry_dealloc },
	{ Py_tp_repr, wpy_registry_repr },
	{ Py_tp_iter, wpy_registry_iter },
	{ Py_tp_methods, wpy_registry_methods },
	{ Py_tp_getset, wpy_registry_getset },
	{ Py_mp_length, wpy_registry_len },
	{ Py_mp_subscript, wpy_registry_getitem },
	{ Py_mp_ass_subscript, wpy_registry_setitem },
	{ Py_sq_length, wpy_registry_len },
	{ Py_sq_contains, wpy_registry_contains },
	{ 0, NULL },
};

static PyType_Spec wpy_registry_spec = {
	.name = "weave._weave.Registry",
	.basicsize = sizeof(wpy_registry),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.slots = wpy_registry_slots,
};

int wpy_registry_init_type(PyObject *m)
{
	wpy_registry_type = (PyTypeObject *)PyType_FromSpec(&wpy_registry_spec);
	wpy_stat_type = PyStructSequence_NewType(&wpy_stat_desc);
	wpy_info_type = PyStructSequence_NewType(&wpy_info_desc);
	if (!wpy_registry_type || !wpy_stat_type || !wpy_info_type)
		return -1;
	if (PyModule_AddObjectRef(m, "Registry", (PyObject *)wpy_registry_type) ||
	    PyModule_AddObjectRef(m, "Stat", (PyObject *)wpy_stat_type) ||
	    PyModule_AddObjectRef(m, "Info", (PyObject *)wpy_info_type))
		return -1;
	return 0;
}
