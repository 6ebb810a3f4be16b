// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * weave.Lock: an entry's lock (weave_lock()) as a context manager.
 *
 * The lock belongs to the registry's open file, not to a thread: a second
 * lock of the same key through the same Registry is EDEADLK. Each child
 * process gets a file of its own (fork: weave._after_fork; spawn and
 * pickling: Registry._from_fd), so processes exclude each other.
 *
 * Owner died: when the previous holder died holding the lock, acquiring
 * it succeeds (the lock is held, .owner_died is True) and warns with
 * weave.OwnerDiedWarning. A with block that then ends without an
 * exception marks the entry consistent (the body is trusted to have
 * checked or repaired the value); one that raises unlocks and leaves the
 * entry marked, so the next holder is told again. Turning the warning
 * into an error (warnings.simplefilter("error", weave.OwnerDiedWarning))
 * makes acquiring raise it instead, with the lock released and the entry
 * still marked.
 *
 * The lock is the file's, not the Lock object's: one dropped while held
 * leaves it held, and release() through another Lock of the same key and
 * registry releases it, as the kernel sees it.
 *
 * The entry's bytes, writable: the Lock of an exclusive holder supports
 * the buffer protocol (`with r.lock(k) as entry: numpy.frombuffer(entry,
 * dtype)[...] = ...`), through a writable view (weave_view_map_rw())
 * mapped at the first buffer and unmapped before the unlock, since the
 * kernel revokes it then. Buffers still exported at the unlock are
 * detached first, their pages replaced by private anonymous ones, so
 * that they can neither fault nor write the entry any more, and the
 * unlock raises BufferError (the lock is released all the same), as
 * memoryview.release() does. A registry with such buffers exported
 * refuses to close.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "_weave.h"

PyTypeObject *wpy_lock_type;

typedef struct wpy_lock {
	PyObject_HEAD
	wpy_registry *reg;
	uint64_t key;
	int shared;
	int64_t timeout_ns;	/* -1: no limit */
	int held;
	int owner_died;
	struct weave_view rw;	/* the holder's writable view, when mapped */
	int rw_mapped;
	int rw_detached;	/* unlocked under exported buffers */
	Py_ssize_t exports;
	struct wpy_lock *prev, *next;	/* in reg->rw_locks while rw_mapped */
} wpy_lock;

static void wpy_lock_rw_link(wpy_lock *l)
{
	wpy_registry *r = l->reg;

	l->prev = NULL;
	l->next = r->rw_locks;
	if (l->next)
		l->next->prev = l;
	r->rw_locks = l;
}

/* Unmap the writable view and forget it. */
static void wpy_lock_rw_unmap(wpy_lock *l)
{
	wpy_registry *r = l->reg;

	weave_view_unmap(&l->rw);
	l->rw_mapped = 0;
	l->rw_detached = 0;
	if (l->prev)
		l->prev->next = l->next;
	else if (r->rw_locks == l)
		r->rw_locks = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

/*
 * The registry closes: unmap the writable views still mapped (none has
 * a buffer exported, or close() would have refused), which would keep
 * its open file alive, and use the handle close() frees.
 */
void wpy_lock_unmap_all(wpy_registry *r)
{
	while (r->rw_locks)
		wpy_lock_rw_unmap(r->rw_locks);
}

PyObject *wpy_lock_new(wpy_registry *r, uint64_t key, int shared,
		       int64_t timeout_ns)
{
	allocfunc alloc = (allocfunc)PyType_GetSlot(wpy_lock_type, Py_tp_alloc);
	wpy_lock *l = (wpy_lock *)alloc(wpy_lock_type, 0);

	if (!l)
		return NULL;
	Py_INCREF((PyObject *)r);
	l->reg = r;
	l->key = key;
	l->shared = shared;
	l->timeout_ns = timeout_ns;
	return (PyObject *)l;
}

/*
 * Before the unlock: unmap the writable view, or, with buffers exported,
 * put private anonymous pages where their bytes were (the kernel revokes
 * the view at the unlock: they would fault). Returns 1 when it detached.
 */
static int wpy_lock_unmap_rw(wpy_lock *l)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
	unsigned char *data;

	if (!l->rw_mapped || l->rw_detached)
		return 0;
	if (!l->exports) {
		wpy_lock_rw_unmap(l);
		return 0;
	}
	data = weave_view_data_rw(&l->rw);
	start = (uintptr_t)data & ~(page - 1);
	end = ((uintptr_t)data + weave_view_size(&l->rw) + page - 1) &
	      ~(page - 1);
	if (end > start)
		mmap((void *)start, end - start, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	l->rw_detached = 1;
	return 1;
}

static int wpy_lock_unlock(wpy_lock *l, unsigned int flags)
{
	int err, detached;

	/*
	 * Not wpy_registry_enter(): a close() deferred while other threads
	 * are in calls (r->closing) leaves the file open, and with it the
	 * lock, until the last of them returns, maybe never; the unlock
	 * must go through meanwhile.
	 */
	if (!l->reg->w) {
		wpy_closed();
		return -1;
	}
	l->reg->busy++;
	detached = wpy_lock_unmap_rw(l);
	err = weave_unlock(l->reg->w, l->key, flags);
	wpy_registry_leave(l->reg);
	l->held = 0;
	if (err == -EPERM) {
		PyErr_Format(PyExc_RuntimeError,
			     "release of the lock of key %llu, which this "
			     "registry's file does not hold",
			     (unsigned long long)l->key);
		return -1;
	}
	if (err) {
		wpy_err(l->reg, err, &l->key, "unlock");
		return -1;
	}
	if (detached) {
		PyErr_Format(PyExc_BufferError,
			     "key %llu was unlocked with %zd of its buffers "
			     "exported: they no longer show the entry",
			     (unsigned long long)l->key, l->exports);
		return -1;
	}
	return 0;
}

static int wpy_lock_getbuffer(wpy_lock *l, Py_buffer *buf, int flags)
{
	int err;

	if (!l->held || l->rw_detached) {
		PyErr_Format(PyExc_BufferError,
			     "key %llu has a buffer only while its lock is held",
			     (unsigned long long)l->key);
		return -1;
	}
	if (l->shared) {
		PyErr_Format(PyExc_BufferError,
			     "key %llu is locked shared: only an exclusive "
			     "holder writes (Registry.view() reads)",
			     (unsigned long long)l->key);
		return -1;
	}
	if (wpy_registry_enter(l->reg))
		return -1;
	if (!l->rw_mapped) {
		err = weave_view_map_rw(l->reg->w, l->key, &l->rw);
		if (!err) {
			l->rw_mapped = 1;
			wpy_lock_rw_link(l);
		}
	} else if (!l->exports) {
		err = weave_view_refresh(&l->rw);	/* the holder resized */
	} else {
		err = 0;
	}
	wpy_registry_leave(l->reg);
	if (err) {
		wpy_err(l->reg, err, &l->key, "map writable");
		return -1;
	}
	if (PyBuffer_FillInfo(buf, (PyObject *)l, weave_view_data_rw(&l->rw),
			      (Py_ssize_t)weave_view_size(&l->rw), 0, flags))
		return -1;
	l->exports++;
	l->reg->lock_exports++;
	return 0;
}

static void wpy_lock_releasebuffer(wpy_lock *l, Py_buffer *buf)
{
	(void)buf;
	l->exports--;
	l->reg->lock_exports--;
	if (!l->exports && l->rw_detached)
		wpy_lock_rw_unmap(l);
}

static PyObject *wpy_lock_acquire(wpy_lock *l, PyObject *unused)
{
	wpy_registry *r = l->reg;
	unsigned int flags = l->shared ? WEAVE_LOCK_SHARED : 0;
	int64_t deadline, left;
	int rc;

	(void)unused;
	if (l->held) {
		PyErr_Format(PyExc_RuntimeError,
			     "the lock of key %llu is held by this Lock already",
			     (unsigned long long)l->key);
		return NULL;
	}
	if (wpy_registry_enter(r))
		return NULL;
	deadline = wpy_deadline(l->timeout_ns);
	WPY_BLOCKING_TIMED(rc, deadline, left,
			   weave_lock(r->w, l->key, flags, left));
	wpy_registry_leave(r);
	if (rc < 0)
		return wpy_err(r, rc, &l->key, l->shared ? "shared lock" :
			       "lock");
	l->held = 1;
	l->owner_died = rc == WEAVE_LOCK_OWNER_DIED;
	if (l->owner_died) {
		PyObject *desc = wpy_registry_desc(r);

		if (!desc ||
		    PyErr_WarnFormat(wpy_owner_died_warning, 1,
				     "key %llu of %U: the previous holder of "
				     "its lock died holding it",
				     (unsigned long long)l->key, desc)) {
			PyObject *t, *v, *tb;

			/* Raised instead: do not keep the lock. */
			Py_XDECREF(desc);
			PyErr_Fetch(&t, &v, &tb);
			if (wpy_lock_unlock(l, 0))
				PyErr_Clear();
			PyErr_Restore(t, v, tb);
			return NULL;
		}
		Py_DECREF(desc);
	}
	Py_INCREF((PyObject *)l);
	return (PyObject *)l;
}

static PyObject *wpy_lock_release(wpy_lock *l, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "consistent", NULL };
	int consistent = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|$p:release", kwlist,
					 &consistent))
		return NULL;
	/*
	 * The file holds the lock, not this object: releasing through a Lock
	 * that did not acquire it releases the file's lock of the key.
	 */
	if (wpy_lock_unlock(l, consistent ? WEAVE_UNLOCK_CONSISTENT : 0))
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *wpy_lock_exit(wpy_lock *l, PyObject *args)
{
	PyObject *et = Py_None, *ev = Py_None, *tb = Py_None;
	unsigned int flags = 0;

	if (!PyArg_ParseTuple(args, "|OOO:__exit__", &et, &ev, &tb))
		return NULL;
	if (!l->held)
		Py_RETURN_FALSE;
	if (l->owner_died && et == Py_None)
		flags = WEAVE_UNLOCK_CONSISTENT;
	if (wpy_lock_unlock(l, flags) && et == Py_None)
		return NULL;
	/* The body's exception, if any, wins over an unlock failure. */
	PyErr_Clear();
	Py_RETURN_FALSE;
}

static void wpy_lock_dealloc(wpy_lock *l)
{
	/*
	 * A Lock dropped while held (acquire() without release()) leaves the
	 * lock held: it is the file's, until released or the file closes.
	 */
	if (l->rw_mapped)
		wpy_lock_rw_unmap(l);		/* no buffer holds the Lock */
	Py_CLEAR(l->reg);
	wpy_dealloc_type((PyObject *)l);
}

static PyObject *wpy_lock_repr(wpy_lock *l)
{
	return PyUnicode_FromFormat("<weave.Lock key=%llu %s%s%s>",
				    (unsigned long long)l->key,
				    l->shared ? "shared" : "exclusive",
				    l->held ? " held" : "",
				    l->owner_died ? " owner-died" : "");
}

static PyObject *wpy_lock_get_key(wpy_lock *l, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLongLong(l->key);
}

static PyObject *wpy_lock_get_shared(wpy_lock *l, void *c)
{
	(void)c;
	return PyBool_FromLong(l->shared);
}

static PyObject *wpy_lock_get_held(wpy_lock *l, void *c)
{
	(void)c;
	return PyBool_FromLong(l->held);
}

static PyObject *wpy_lock_get_owner_died(wpy_lock *l, void *c)
{
	(void)c;
	return PyBool_FromLong(l->owner_died);
}

static PyGetSetDef wpy_lock_getset[] = {
	{ "key", (getter)wpy_lock_get_key, NULL, "The key locked.", NULL },
	{ "shared", (getter)wpy_lock_get_shared, NULL,
	  "True for a shared lock.", NULL },
	{ "held", (getter)wpy_lock_get_held, NULL,
	  "True between acquire and release.", NULL },
	{ "owner_died", (getter)wpy_lock_get_owner_died, NULL,
	  "True when the previous holder died holding the lock.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyMethodDef wpy_lock_methods[] = {
	WPY_METHOD("acquire", wpy_lock_acquire, METH_NOARGS,
	  "acquire()\n--\n\n"
	  "Take the lock, waiting at most the Lock's timeout (TimeoutError);\n"
	  "return the Lock. Ctrl-C while waiting raises KeyboardInterrupt."),
	WPY_METHOD("release", wpy_lock_release, METH_VARARGS | METH_KEYWORDS,
	  "release(*, consistent=False)\n--\n\n"
	  "Release the registry file's lock of the key; consistent=True\n"
	  "clears an owner-died mark. RuntimeError when it holds none."),
	WPY_METHOD("__enter__", wpy_lock_acquire, METH_NOARGS, NULL),
	WPY_METHOD("__exit__", wpy_lock_exit, METH_VARARGS, NULL),
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot wpy_lock_slots[] = {
	{ Py_tp_doc, "An entry's lock (Registry.lock()), a context manager;\n"
		     "an exclusive holder's Lock is the entry's bytes, writable,\n"
		     "through the buffer protocol." },
	{ Py_tp_dealloc, wpy_lock_dealloc },
	{ Py_tp_repr, wpy_lock_repr },
	{ Py_tp_methods, wpy_lock_methods },
	{ Py_tp_getset, wpy_lock_getset },
	{ Py_bf_getbuffer, wpy_lock_getbuffer },
	{ Py_bf_releasebuffer, wpy_lock_releasebuffer },
	{ 0, NULL },
};

static PyType_Spec wpy_lock_spec = {
	.name = "weave.Lock",
	.basicsize = sizeof(wpy_lock),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = wpy_lock_slots,
};

int wpy_lock_init_type(PyObject *m)
{
	wpy_lock_type = (PyTypeObject *)PyType_FromSpec(&wpy_lock_spec);
	if (!wpy_lock_type)
		return -1;
	return PyModule_AddObjectRef(m, "Lock", (PyObject *)wpy_lock_type);
}
