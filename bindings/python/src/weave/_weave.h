/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * weave._weave: the C half of the Python binding, on CPython's stable ABI
 * (Py_LIMITED_API 3.11, the first with the buffer protocol). One file per
 * type: module.c (errors, keys, module init), registry.c, view.c, lock.c,
 * watch.c (events and waits).
 *
 * Every call that can sleep in the kernel (a lock wait, an operation
 * behind another file's exclusive lock, an event or gen wait) runs with
 * the GIL released, and a signal that interrupts it (-EINTR) runs the
 * Python handlers (PyErr_CheckSignals): Ctrl-C raises KeyboardInterrupt,
 * other handlers return and the call goes on with what is left of its
 * timeout.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVE_PY_H
#define WEAVE_PY_H

#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <weave.h>

typedef struct wpy_view wpy_view;
struct wpy_lock;

/*
 * A Registry: one libweave handle. @busy counts calls running without
 * the GIL; close() while one runs marks @closing and the last of them
 * closes. @retired holds handles replaced after fork() that views mapped
 * from them, or Locks' writable views, still use (see wpy_after_fork()).
 */
typedef struct wpy_registry {
	PyObject_HEAD
	struct weave *w;
	PyObject *name;			/* str, or None when anonymous */
	uint64_t id;
	int readonly;
	int busy;
	int closing;
	struct weave **retired;
	size_t nretired;
	wpy_view *views;		/* mapped views, for close() */
	struct wpy_lock *rw_locks;	/* Locks with a writable view mapped */
	Py_ssize_t lock_exports;	/* buffers of lock holders' entries */
	struct wpy_registry *prev, *next;	/* every open registry */
} wpy_registry;

struct wpy_view {
	PyObject_HEAD
	wpy_registry *reg;
	struct weave_view v;
	uint64_t key;
	int mapped;
	Py_ssize_t exports;
	wpy_view *prev, *next;
};

/* The module's objects, created once at import (single-phase init). */
extern PyTypeObject *wpy_registry_type;
extern PyTypeObject *wpy_view_type;
extern PyTypeObject *wpy_lock_type;
extern PyTypeObject *wpy_watch_type;
extern PyTypeObject *wpy_event_type;
extern PyTypeObject *wpy_stat_type;
extern PyTypeObject *wpy_info_type;
extern PyObject *wpy_stale_error;
extern PyObject *wpy_owner_died_warning;

/* module.c */
int wpy_key(wpy_registry *r, PyObject *o, uint64_t *key);
int wpy_u64(PyObject *o, const char *what, uint64_t *v);
PyObject *wpy_err(wpy_registry *r, int err, const uint64_t *key,
		  const char *what);
PyObject *wpy_closed(void);
int wpy_timeout(PyObject *o, int64_t *ns);
int64_t wpy_now_ns(void);
int64_t wpy_deadline(int64_t timeout_ns);
int64_t wpy_left_ns(int64_t deadline);
PyObject *wpy_dealloc_type(PyObject *self);

/* registry.c */
int wpy_registry_init_type(PyObject *m);
int wpy_registry_enter(wpy_registry *r);
void wpy_registry_leave(wpy_registry *r);
PyObject *wpy_registry_desc(wpy_registry *r);
PyObject *wpy_after_fork(PyObject *mod, PyObject *unused);

/* view.c */
int wpy_view_init_type(PyObject *m);
PyObject *wpy_view_new(wpy_registry *r, uint64_t key);
int wpy_view_check_exports(wpy_registry *r);
void wpy_view_unmap_all(wpy_registry *r);

/* lock.c */
int wpy_lock_init_type(PyObject *m);
PyObject *wpy_lock_new(wpy_registry *r, uint64_t key, int shared,
		       int64_t timeout_ns);
void wpy_lock_unmap_all(wpy_registry *r);

/* watch.c */
int wpy_watch_init_type(PyObject *m);
PyObject *wpy_watch_new(wpy_registry *r, uint64_t key);
PyObject *wpy_read_events(wpy_registry *r, Py_ssize_t max,
			  int64_t timeout_ns);
PyObject *wpy_wait(wpy_registry *r, uint64_t key, uint64_t gen,
		   int64_t timeout_ns);

/*
 * WPY_BLOCKING_TIMED(rc, deadline, left, call): run @call without the
 * GIL, and again after a signal whose handler did not raise, with @left
 * set to the nanoseconds left until @deadline (-1: none) before each
 * try. @rc is the call's result, or WPY_SIGNALLED when a handler raised
 * (the exception is set). Between wpy_registry_enter() and
 * wpy_registry_leave(), so that a close() from another thread waits for
 * the call.
 */
#define WPY_SIGNALLED INT_MIN
#define WPY_BLOCKING_TIMED(rc, deadline, left, call)			\
	do {								\
		for (;;) {						\
			(left) = wpy_left_ns(deadline);			\
			Py_BEGIN_ALLOW_THREADS				\
			(rc) = (call);					\
			Py_END_ALLOW_THREADS				\
			if ((rc) != -EINTR)				\
				break;					\
			if (PyErr_CheckSignals()) {			\
				(rc) = WPY_SIGNALLED;			\
				break;					\
			}						\
		}							\
	} while (0)

/* WPY_BLOCKING_TIMED for a call without a timeout. */
#define WPY_BLOCKING(rc, call)						\
	do {								\
		int64_t wpy_left_;					\
									\
		WPY_BLOCKING_TIMED(rc, -1, wpy_left_, call);		\
		(void)wpy_left_;					\
	} while (0)

/* A PyMethodDef entry of a function of any of the METH_* signatures. */
#define WPY_METHOD(name, fn, flags, doc) \
	{ name, (PyCFunction)(void (*)(void))(fn), flags, doc }

#endif /* WEAVE_PY_H */
