// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Events and waits: weave.Event records (weave_events()), the weave.Watch
 * iterator Registry.watch() returns, and Registry.wait() (weave_wait()).
 *
 * Events go to the registry's open file, whichever Watch asked for them:
 * two consumers that must each see every event use two files
 * (Registry.reopen()). Registry.fileno() is readable while events are
 * pending, for selectors and asyncio (weave.Registry.events()).
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <limits.h>

#include "_weave.h"

PyTypeObject *wpy_watch_type;
PyTypeObject *wpy_event_type;

/* Records per read; libweave reads at most 256 at a time. */
#define WPY_EVENTS_BATCH	64

typedef struct {
	PyObject_HEAD
	wpy_registry *reg;
	uint64_t key;
	int active;
} wpy_watch;

static PyObject *wpy_event(const struct weave_event *e)
{
	PyObject *s = PyStructSequence_New(wpy_event_type);

	if (!s)
		return NULL;
	PyStructSequence_SetItem(s, 0, PyLong_FromUnsignedLongLong(e->key));
	PyStructSequence_SetItem(s, 1, PyLong_FromUnsignedLongLong(e->gen));
	PyStructSequence_SetItem(s, 2, PyLong_FromUnsignedLongLong(e->size));
	PyStructSequence_SetItem(s, 3, PyLong_FromUnsignedLong(e->mask));
	if (PyErr_Occurred()) {
		Py_DECREF(s);
		return NULL;
	}
	return s;
}

/* @ns (-1: none) in milliseconds for weave_events(), rounded up. */
static int wpy_ms(int64_t ns)
{
	if (ns < 0)
		return -1;
	ns = (ns + 999999) / 1000000;
	return ns > INT_MAX ? INT_MAX : (int)ns;
}

PyObject *wpy_read_events(wpy_registry *r, Py_ssize_t max, int64_t timeout_ns)
{
	struct weave_event ev[WPY_EVENTS_BATCH];
	int64_t deadline = wpy_deadline(timeout_ns), left;
	PyObject *list;
	ssize_t n, i;
	size_t want = max < WPY_EVENTS_BATCH ? (size_t)max : WPY_EVENTS_BATCH;

	if (wpy_registry_enter(r))
		return NULL;
	WPY_BLOCKING_TIMED(n, deadline, left,
			   weave_events(r->w, ev, want, wpy_ms(left)));
	wpy_registry_leave(r);
	if (n < 0)
		return wpy_err(r, (int)n, NULL, "read events");
	list = PyList_New(n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *e = wpy_event(&ev[i]);

		if (!e) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SetItem(list, i, e);
	}
	return list;
}

PyObject *wpy_wait(wpy_registry *r, uint64_t key, uint64_t gen,
		   int64_t timeout_ns)
{
	int64_t deadline = wpy_deadline(timeout_ns), left;
	uint64_t cur = gen;
	int err;

	if (wpy_registry_enter(r))
		return NULL;
	WPY_BLOCKING_TIMED(err, deadline, left,
			   weave_wait(r->w, key, gen, left, &cur));
	wpy_registry_leave(r);
	if (err == -ETIMEDOUT)
		return PyLong_FromUnsignedLongLong(gen);
	if (err)
		return wpy_err(r, err, &key, "wait");
	return PyLong_FromUnsignedLongLong(cur);
}

PyObject *wpy_watch_new(wpy_registry *r, uint64_t key)
{
	allocfunc alloc = (allocfunc)PyType_GetSlot(wpy_watch_type,
						    Py_tp_alloc);
	wpy_watch *w = (wpy_watch *)alloc(wpy_watch_type, 0);

	if (!w)
		return NULL;
	Py_INCREF((PyObject *)r);
	w->reg = r;
	w->key = key;
	w->active = 1;
	return (PyObject *)w;
}

/* The next event, waiting up to @timeout_ns (-1: forever); None if none. */
static PyObject *wpy_watch_next_event(wpy_watch *w, int64_t timeout_ns)
{
	PyObject *list, *e;

	if (!w->active) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed watch");
		return NULL;
	}
	list = wpy_read_events(w->reg, 1, timeout_ns);
	if (!list)
		return NULL;
	if (PyList_Size(list) == 0) {
		Py_DECREF(list);
		Py_RETURN_NONE;
	}
	e = PyList_GetItem(list, 0);
	Py_INCREF(e);
	Py_DECREF(list);
	return e;
}

static PyObject *wpy_watch_iternext(wpy_watch *w)
{
	PyObject *e;

	if (!w->active)
		return NULL;		/* a closed watch ends the iteration */
	e = wpy_watch_next_event(w, -1);
	if (e == Py_None) {
		Py_DECREF(e);
		return NULL;
	}
	return e;
}

static PyObject *wpy_watch_get(wpy_watch *w, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "timeout", NULL };
	PyObject *to = Py_None;
	int64_t timeout;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:get", kwlist, &to) ||
	    wpy_timeout(to, &timeout))
		return NULL;
	return wpy_watch_next_event(w, timeout);
}

static PyObject *wpy_watch_close(wpy_watch *w, PyObject *unused)
{
	int err;

	(void)unused;
	if (!w->active)
		Py_RETURN_NONE;
	w->active = 0;
	if (!w->reg->w || w->reg->closing)
		Py_RETURN_NONE;		/* the file's watches went with it */
	err = weave_unwatch(w->reg->w, w->key);
	if (err && err != -ENOENT)
		return wpy_err(w->reg, err, w->key ? &w->key : NULL,
			       "unwatch");
	Py_RETURN_NONE;
}

static PyObject *wpy_watch_enter(PyObject *w, PyObject *unused)
{
	(void)unused;
	Py_INCREF((PyObject *)w);
	return w;
}

static PyObject *wpy_watch_exit(wpy_watch *w, PyObject *args)
{
	(void)args;
	return wpy_watch_close(w, NULL);
}

static PyObject *wpy_watch_iter(PyObject *w)
{
	Py_INCREF((PyObject *)w);
	return w;
}

static void wpy_watch_dealloc(wpy_watch *w)
{
	/* Watches stay until unwatched, as weave_watch() does: a Watch
	 * dropped without close() leaves its key watched. */
	Py_CLEAR(w->reg);
	wpy_dealloc_type((PyObject *)w);
}

static PyObject *wpy_watch_get_key(wpy_watch *w, void *c)
{
	(void)c;
	if (!w->key)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLongLong(w->key);
}

static PyGetSetDef wpy_watch_getset[] = {
	{ "key", (getter)wpy_watch_get_key, NULL,
	  "The key watched, None for every key.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyMethodDef wpy_watch_methods[] = {
	WPY_METHOD("get", wpy_watch_get, METH_VARARGS | METH_KEYWORDS,
	  "get(timeout=None)\n--\n\n"
	  "The next weave.Event, waiting at most timeout seconds; None\n"
	  "when none came."),
	WPY_METHOD("close", wpy_watch_close, METH_NOARGS,
	  "close()\n--\n\nStop watching; iteration ends."),
	WPY_METHOD("__enter__", wpy_watch_enter, METH_NOARGS, NULL),
	WPY_METHOD("__exit__", wpy_watch_exit, METH_VARARGS, NULL),
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot wpy_watch_slots[] = {
	{ Py_tp_doc, "Events of a watched key (Registry.watch()): an\n"
		     "iterator that waits for each, and a context manager\n"
		     "that stops watching at its end." },
	{ Py_tp_dealloc, wpy_watch_dealloc },
	{ Py_tp_iter, wpy_watch_iter },
	{ Py_tp_iternext, wpy_watch_iternext },
	{ Py_tp_methods, wpy_watch_methods },
	{ Py_tp_getset, wpy_watch_getset },
	{ 0, NULL },
};

static PyType_Spec wpy_watch_spec = {
	.name = "weave.Watch",
	.basicsize = sizeof(wpy_watch),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = wpy_watch_slots,
};

static PyStructSequence_Field wpy_event_fields[] = {
	{ "key", "the key; 0 for a record about the registry (EV_CLEARED, "
		 "EV_UNLINKED, EV_OVERFLOW)" },
	{ "gen", "the entry's gen after the change" },
	{ "size", "the value's size after the change" },
	{ "mask", "EV_* bits (weave.EV)" },
	{ NULL, NULL },
};

static PyStructSequence_Desc wpy_event_desc = {
	"weave.Event", "One change event (weave_events(3)).",
	wpy_event_fields, 4,
};

int wpy_watch_init_type(PyObject *m)
{
	wpy_watch_type = (PyTypeObject *)PyType_FromSpec(&wpy_watch_spec);
	wpy_event_type = PyStructSequence_NewType(&wpy_event_desc);
	if (!wpy_watch_type || !wpy_event_type)
		return -1;
	if (PyModule_AddObjectRef(m, "Watch", (PyObject *)wpy_watch_type) ||
	    PyModule_AddObjectRef(m, "Event", (PyObject *)wpy_event_type))
		return -1;
	return 0;
}
