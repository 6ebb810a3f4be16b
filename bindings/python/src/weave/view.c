// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * weave.View: one entry mapped read-only (weave_view_map()), exported
 * zero-copy through the buffer protocol.
 *
 * A buffer points into the mapping, so the mapping must not move or go
 * while one is exported: refresh(), release() and the registry's close()
 * raise BufferError then, as memoryview.release() does. Taking a buffer
 * when none is exported follows a resize, move or recreation of the
 * entry first (weave_view_refresh()), so numpy.frombuffer(view) after a
 * resize sees the new size once the old arrays are gone. Buffers are
 * read-only; a writer may change the bytes under them (view.read() is
 * the consistent copy), and a shrink by another process makes reads
 * past the new end fault (SIGBUS), as with a truncated file.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>

#include "_weave.h"

PyTypeObject *wpy_view_type;

static void wpy_view_unlink(wpy_view *v)
{
	wpy_registry *r = v->reg;

	if (v->prev)
		v->prev->next = v->next;
	else if (r->views == v)
		r->views = v->next;
	if (v->next)
		v->next->prev = v->prev;
	v->prev = v->next = NULL;
}

static void wpy_view_unmap(wpy_view *v)
{
	if (!v->mapped)
		return;
	weave_view_unmap(&v->v);
	v->mapped = 0;
	wpy_view_unlink(v);
}

PyObject *wpy_view_new(wpy_registry *r, uint64_t key)
{
	allocfunc alloc = (allocfunc)PyType_GetSlot(wpy_view_type, Py_tp_alloc);
	wpy_view *v;
	int err;

	if (wpy_registry_enter(r))
		return NULL;
	v = (wpy_view *)alloc(wpy_view_type, 0);
	if (!v) {
		wpy_registry_leave(r);
		return NULL;
	}
	Py_INCREF((PyObject *)r);
	v->reg = r;
	v->key = key;
	Py_BEGIN_ALLOW_THREADS
	err = weave_view_map(r->w, key, &v->v);
	Py_END_ALLOW_THREADS
	wpy_registry_leave(r);
	if (err) {
		Py_DECREF((PyObject *)v);
		return wpy_err(r, err, &key, "view");
	}
	v->mapped = 1;
	v->next = r->views;
	if (v->next)
		v->next->prev = v;
	r->views = v;
	return (PyObject *)v;
}

/* BufferError when a view of @r has exported buffers. */
int wpy_view_check_exports(wpy_registry *r)
{
	wpy_view *v;

	if (r->lock_exports) {
		PyObject *desc = wpy_registry_desc(r);

		if (desc) {
			PyErr_Format(PyExc_BufferError,
				     "cannot close %U: %zd buffer(s) of locked "
				     "entries are exported", desc,
				     r->lock_exports);
			Py_DECREF(desc);
		}
		return -1;
	}
	for (v = r->views; v; v = v->next) {
		if (v->exports) {
			PyObject *desc = wpy_registry_desc(r);

			if (desc) {
				PyErr_Format(PyExc_BufferError,
					     "cannot close %U: the view of key "
					     "%llu has %zd exported buffer(s)",
					     desc, (unsigned long long)v->key,
					     v->exports);
				Py_DECREF(desc);
			}
			return -1;
		}
	}
	return 0;
}

void wpy_view_unmap_all(wpy_registry *r)
{
	while (r->views)
		wpy_view_unmap(r->views);
}

static int wpy_view_usable(wpy_view *v)
{
	if (!v->mapped) {
		PyErr_SetString(PyExc_ValueError,
				"operation on a released view");
		return -1;
	}
	if (!v->reg->w || v->reg->closing) {
		wpy_closed();
		return -1;
	}
	return 0;
}

static int wpy_view_refresh_now(wpy_view *v)
{
	int err = weave_view_refresh(&v->v);

	if (err) {
		wpy_err(v->reg, err, &v->key, "refresh view");
		return -1;
	}
	return 0;
}

static int wpy_view_getbuffer(wpy_view *v, Py_buffer *buf, int flags)
{
	if (wpy_view_usable(v))
		return -1;
	if (flags & PyBUF_WRITABLE) {
		PyErr_Format(PyExc_BufferError,
			     "the view of key %llu is read-only",
			     (unsigned long long)v->key);
		return -1;
	}
	if (!v->exports && weave_view_stale(&v->v) && wpy_view_refresh_now(v))
		return -1;
	if (PyBuffer_FillInfo(buf, (PyObject *)v,
			      (void *)weave_view_data(&v->v),
			      (Py_ssize_t)weave_view_size(&v->v), 1, flags))
		return -1;
	v->exports++;
	return 0;
}

static void wpy_view_releasebuffer(wpy_view *v, Py_buffer *buf)
{
	(void)buf;
	v->exports--;
}

static int wpy_view_no_exports(wpy_view *v, const char *what)
{
	if (!v->exports)
		return 0;
	PyErr_Format(PyExc_BufferError,
		     "cannot %s the view of key %llu: %zd exported buffer(s)",
		     what, (unsigned long long)v->key, v->exports);
	return -1;
}

static PyObject *wpy_view_refresh(wpy_view *v, PyObject *unused)
{
	(void)unused;
	if (wpy_view_usable(v) || wpy_view_no_exports(v, "refresh") ||
	    wpy_view_refresh_now(v))
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *wpy_view_release(wpy_view *v, PyObject *unused)
{
	(void)unused;
	if (wpy_view_no_exports(v, "release"))
		return NULL;
	wpy_view_unmap(v);
	Py_RETURN_NONE;
}

static PyObject *wpy_view_enter(wpy_view *v, PyObject *unused)
{
	(void)unused;
	if (wpy_view_usable(v))
		return NULL;
	Py_INCREF((PyObject *)v);
	return (PyObject *)v;
}

static PyObject *wpy_view_exit(wpy_view *v, PyObject *args)
{
	(void)args;
	return wpy_view_release(v, NULL);
}

/* A consistent copy of the entry's current bytes, without a system call. */
static PyObject *wpy_view_read(wpy_view *v, PyObject *unused)
{
	PyObject *b = NULL;
	ssize_t n, want;

	(void)unused;
	if (wpy_view_usable(v))
		return NULL;
	want = (ssize_t)weave_view_size(&v->v);
	for (;;) {
		b = PyBytes_FromStringAndSize(NULL, want);
		if (!b)
			return NULL;
		n = weave_view_read(&v->v, PyBytes_AsString(b), (size_t)want);
		if (n == want)
			return b;
		if (n >= 0 && n < want) {
			PyObject *s = PyBytes_FromStringAndSize(
				PyBytes_AsString(b), n);

			Py_DECREF(b);
			return s;
		}
		Py_DECREF(b);
		if (n > want) {
			want = n;
			continue;
		}
		if (n == -ESTALE && !v->exports) {
			/* Its bytes left the mapping: follow them. */
			if (wpy_view_refresh_now(v))
				return NULL;
			want = (ssize_t)weave_view_size(&v->v);
			continue;
		}
		return wpy_err(v->reg, (int)n, &v->key, "read view");
	}
}

static Py_ssize_t wpy_view_len(wpy_view *v)
{
	if (wpy_view_usable(v))
		return -1;
	return (Py_ssize_t)weave_view_size(&v->v);
}

static PyObject *wpy_view_get_gen(wpy_view *v, void *c)
{
	(void)c;
	if (wpy_view_usable(v))
		return NULL;
	return PyLong_FromUnsignedLongLong(weave_view_gen(&v->v));
}

static PyObject *wpy_view_get_stale(wpy_view *v, void *c)
{
	(void)c;
	if (wpy_view_usable(v))
		return NULL;
	return PyBool_FromLong(weave_view_stale(&v->v));
}

static PyObject *wpy_view_get_key(wpy_view *v, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLongLong(v->key);
}

static PyObject *wpy_view_get_released(wpy_view *v, void *c)
{
	(void)c;
	return PyBool_FromLong(!v->mapped);
}

static PyObject *wpy_view_reduce(PyObject *v, PyObject *unused)
{
	(void)v;
	(void)unused;
	PyErr_SetString(PyExc_TypeError,
			"a weave.View cannot be pickled: pickle its Registry "
			"and map the key again");
	return NULL;
}

static PyObject *wpy_view_repr(wpy_view *v)
{
	if (!v->mapped)
		return PyUnicode_FromFormat("<weave.View key=%llu released>",
					    (unsigned long long)v->key);
	return PyUnicode_FromFormat("<weave.View key=%llu size=%zu>",
				    (unsigned long long)v->key,
				    weave_view_size(&v->v));
}

static void wpy_view_dealloc(wpy_view *v)
{
	if (v->reg) {
		wpy_view_unmap(v);
		Py_CLEAR(v->reg);
	}
	wpy_dealloc_type((PyObject *)v);
}

static PyGetSetDef wpy_view_getset[] = {
	{ "key", (getter)wpy_view_get_key, NULL, "The key mapped.", NULL },
	{ "gen", (getter)wpy_view_get_gen, NULL,
	  "The entry's current gen, from the mapped index (no system call);\n"
	  "0 once the entry mapped was deleted.", NULL },
	{ "stale", (getter)wpy_view_get_stale, NULL,
	  "True when the entry was resized, moved, deleted or recreated\n"
	  "since the mapping was made or refreshed.", NULL },
	{ "released", (getter)wpy_view_get_released, NULL,
	  "True after release().", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyMethodDef wpy_view_methods[] = {
	WPY_METHOD("refresh", wpy_view_refresh, METH_NOARGS,
	  "refresh()\n--\n\n"
	  "Follow a resize, move or recreation of the entry now (taking a\n"
	  "buffer does it when none is exported). BufferError while\n"
	  "buffers are exported; KeyError when the key is gone."),
	WPY_METHOD("release", wpy_view_release, METH_NOARGS,
	  "release()\n--\n\n"
	  "Unmap; BufferError while buffers are exported."),
	WPY_METHOD("read", wpy_view_read, METH_NOARGS,
	  "read()\n--\n\n"
	  "A consistent copy of the entry's current bytes, made without a\n"
	  "system call (the index's sequence counter)."),
	WPY_METHOD("__enter__", wpy_view_enter, METH_NOARGS, NULL),
	WPY_METHOD("__exit__", wpy_view_exit, METH_VARARGS, NULL),
	WPY_METHOD("__reduce__", wpy_view_reduce, METH_NOARGS, NULL),
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot wpy_view_slots[] = {
	{ Py_tp_doc, "A read-only, zero-copy mapping of one entry\n"
		     "(Registry.view()); supports the buffer protocol." },
	{ Py_tp_dealloc, wpy_view_dealloc },
	{ Py_tp_repr, wpy_view_repr },
	{ Py_tp_methods, wpy_view_methods },
	{ Py_tp_getset, wpy_view_getset },
	{ Py_mp_length, wpy_view_len },
	{ Py_bf_getbuffer, wpy_view_getbuffer },
	{ Py_bf_releasebuffer, wpy_view_releasebuffer },
	{ 0, NULL },
};

static PyType_Spec wpy_view_spec = {
	.name = "weave.View",
	.basicsize = sizeof(wpy_view),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = wpy_view_slots,
};

int wpy_view_init_type(PyObject *m)
{
	wpy_view_type = (PyTypeObject *)PyType_FromSpec(&wpy_view_spec);
	if (!wpy_view_type)
		return -1;
	return PyModule_AddObjectRef(m, "View", (PyObject *)wpy_view_type);
}
