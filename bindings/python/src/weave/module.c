// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * weave._weave: keys, errors, timeouts and the module itself.
 *
 * Errors name the registry and the key: a missing key is KeyError(key)
 * with a note naming the registry; an errno becomes the OSError subclass
 * Python picks for it (FileNotFoundError, PermissionError, TimeoutError,
 * FileExistsError, ...) with "strerror: key K of registry 'NAME'" as its
 * message; ESTALE from a compare-and-set is weave.StaleError, an OSError
 * that also carries the gen found.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "_weave.h"

PyObject *wpy_stale_error;
PyObject *wpy_owner_died_warning;

int64_t wpy_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CLOCK_MONOTONIC time @timeout_ns from now; -1 (none) for -1. */
int64_t wpy_deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : wpy_now_ns() + timeout_ns;
}

/* Nanoseconds left until @deadline, 0 once passed; -1 without one. */
int64_t wpy_left_ns(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - wpy_now_ns();
	return left < 0 ? 0 : left;
}

/*
 * A key: an int from 1 to 2**64 - 1. Not an int: TypeError; 0 or less:
 * ValueError; 2**64 or more: OverflowError.
 */
int wpy_key(wpy_registry *r, PyObject *o, uint64_t *key)
{
	PyObject *desc;
	long long v;
	int over;

	if (!PyLong_Check(o)) {
		PyObject *tn = PyType_GetName(Py_TYPE(o));

		if (tn) {
			PyErr_Format(PyExc_TypeError,
				     "weave keys are int, not %U", tn);
			Py_DECREF(tn);
		}
		return -1;
	}
	v = PyLong_AsLongLongAndOverflow(o, &over);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (!over && v > 0) {
		*key = (uint64_t)v;
		return 0;
	}
	if (over > 0) {
		unsigned long long u = PyLong_AsUnsignedLongLong(o);

		if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
			*key = u;
			return 0;
		}
		PyErr_Clear();
	}
	desc = r ? wpy_registry_desc(r) : PyUnicode_FromString("a registry");
	if (!desc)
		return -1;
	PyErr_Format(over > 0 ? PyExc_OverflowError : PyExc_ValueError,
		     "key %S of %U is out of range: keys go from 1 to 2**64-1",
		     o, desc);
	Py_DECREF(desc);
	return -1;
}

/*
 * A size, offset or gen: an int (or an object with __index__, such as a
 * numpy integer) from 0 to 2**64-1, named @what in the error. Below 0:
 * ValueError; 2**64 or more: OverflowError, as for keys; never wrapped
 * (a "K" conversion would make resize(k, 2**64) a resize to 0).
 */
int wpy_u64(PyObject *o, const char *what, uint64_t *v)
{
	PyObject *i = PyNumber_Index(o);
	unsigned long long u = 0;
	int over, bad = 0;
	long long s;

	if (!i)
		return -1;
	s = PyLong_AsLongLongAndOverflow(i, &over);
	if (over > 0) {
		u = PyLong_AsUnsignedLongLong(i);
		if (u == (unsigned long long)-1 && PyErr_Occurred())
			bad = 1;
	} else if (over < 0 || s < 0) {
		bad = -1;
	} else {
		u = (unsigned long long)s;
	}
	Py_DECREF(i);
	if (bad) {
		if (PyErr_Occurred() &&
		    !PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		PyErr_Format(bad > 0 ? PyExc_OverflowError : PyExc_ValueError,
			     "%s %S is out of range: 0 to 2**64-1", what, o);
		return -1;
	}
	*v = u;
	return 0;
}

PyObject *wpy_closed(void)
{
	PyErr_SetString(PyExc_ValueError, "operation on a closed registry");
	return NULL;
}

/*
 * A timeout in seconds (int or float, None: no limit) to nanoseconds, -1
 * for none. Negative timeouts are a ValueError, as in threading.
 */
int wpy_timeout(PyObject *o, int64_t *ns)
{
	double s;

	if (!o || o == Py_None) {
		*ns = -1;
		return 0;
	}
	s = PyFloat_AsDouble(o);
	if (s == -1.0 && PyErr_Occurred())
		return -1;
	if (!(s >= 0)) {
		PyErr_SetString(PyExc_ValueError,
				"timeout must be a non-negative number or None");
		return -1;
	}
	if (s > 9.2e9) {	/* beyond int64 nanoseconds: as good as none */
		*ns = -1;
		return 0;
	}
	*ns = (int64_t)(s * 1e9);
	return 0;
}

/* Attach a note (PEP 678) to an exception; failure to do so is ignored. */
static void wpy_add_note(PyObject *exc, PyObject *note)
{
	PyObject *res = PyObject_CallMethod(exc, "add_note", "O", note);

	if (res)
		Py_DECREF(res);
	else
		PyErr_Clear();
}

/*
 * Set the exception for -@err from an operation @what on @key (NULL: of
 * the registry as a whole) of @r (NULL: before there is a registry) and
 * return NULL.
 */
PyObject *wpy_err(wpy_registry *r, int err, const uint64_t *key,
		  const char *what)
{
	PyObject *desc = NULL, *msg = NULL, *exc = NULL, *type;
	int e = -err;

	if (err == WPY_SIGNALLED)
		return NULL;		/* a signal handler raised */
	if (r)
		desc = wpy_registry_desc(r);
	else
		desc = PyUnicode_FromString("registry");
	if (!desc)
		return NULL;
	if (e == ENOENT && key) {
		PyObject *note;

		exc = PyObject_CallFunction(PyExc_KeyError, "K",
					    (unsigned long long)*key);
		if (!exc)
			goto out;
		note = PyUnicode_FromFormat("%s: key %llu is not in %U", what,
					    (unsigned long long)*key, desc);
		if (note) {
			wpy_add_note(exc, note);
			Py_DECREF(note);
		}
		PyErr_SetObject(PyExc_KeyError, exc);
		goto out;
	}
	if (e == EBADF && r && r->readonly) {
		/* The kernel's answer to a change through an O_RDONLY file. */
		msg = key ? PyUnicode_FromFormat(
				"%s: key %llu of %U: the registry is open "
				"read-only", what, (unsigned long long)*key, desc)
			  : PyUnicode_FromFormat(
				"%s: %U: the registry is open read-only",
				what, desc);
		type = PyExc_PermissionError;
	} else {
		msg = key ? PyUnicode_FromFormat("%s: %s: key %llu of %U",
						 what, strerror(e),
						 (unsigned long long)*key, desc)
			  : PyUnicode_FromFormat("%s: %s: %U", what,
						 strerror(e), desc);
		type = e == ESTALE ? wpy_stale_error : PyExc_OSError;
	}
	if (!msg)
		goto out;
	/* OSError(errno, msg) picks the subclass for errno itself. */
	exc = PyObject_CallFunction(type, "iO", e, msg);
	if (exc)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
out:
	Py_XDECREF(exc);
	Py_XDECREF(msg);
	Py_DECREF(desc);
	return NULL;
}

/* Free an object of a heap type and drop the instance's type reference. */
PyObject *wpy_dealloc_type(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);

	tp_free(self);
	Py_DECREF((PyObject *)tp);
	return NULL;
}

static PyObject *wpy_unlink(PyObject *mod, PyObject *arg)
{
	const char *name;
	Py_ssize_t len;
	int err;

	(void)mod;
	if (!PyUnicode_Check(arg)) {
		PyErr_SetString(PyExc_TypeError, "a registry name is a str");
		return NULL;
	}
	name = PyUnicode_AsUTF8AndSize(arg, &len);
	if (!name)
		return NULL;
	/* "a\0b" would be "a" to the kernel: another registry. */
	if ((size_t)len != strlen(name)) {
		PyErr_Format(PyExc_ValueError,
			     "bad registry name %R: 1 to %d bytes, no '/' or NUL",
			     arg, WEAVE_NAME_MAX);
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	err = weave_unlink(name);
	Py_END_ALLOW_THREADS
	if (err) {
		PyObject *msg, *exc;

		msg = PyUnicode_FromFormat("unlink: %s: registry %R",
					   strerror(-err), arg);
		if (!msg)
			return NULL;
		exc = PyObject_CallFunction(PyExc_OSError, "iO", -err, msg);
		Py_DECREF(msg);
		if (exc) {
			PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
			Py_DECREF(exc);
		}
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyMethodDef wpy_functions[] = {
	{ "unlink", wpy_unlink, METH_O,
	  "unlink(name, /)\n--\n\n"
	  "Remove the name of a persistent or named registry, like\n"
	  "shm_unlink(): registries still open stay usable." },
	{ "_after_fork", wpy_after_fork, METH_NOARGS,
	  "Give every open registry its own open file in a forked child\n"
	  "(weave registers it with os.register_at_fork)." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef wpy_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "weave._weave",
	.m_doc = "The C core of weave: registries of byte buffers shared\n"
		 "between processes through /dev/weave. Use the weave package.",
	.m_size = -1,
	.m_methods = wpy_functions,
};

static int wpy_add_ints(PyObject *m)
{
	static const struct { const char *name; long value; } ints[] = {
		{ "EV_NEW", WEAVE_EV_NEW },
		{ "EV_CHANGED", WEAVE_EV_CHANGED },
		{ "EV_RESIZED", WEAVE_EV_RESIZED },
		{ "EV_DELETED", WEAVE_EV_DELETED },
		{ "EV_UNLOCKED", WEAVE_EV_UNLOCKED },
		{ "EV_OWNER_DIED", WEAVE_EV_OWNER_DIED },
		{ "EV_CLEARED", WEAVE_EV_CLEARED },
		{ "EV_UNLINKED", WEAVE_EV_UNLINKED },
		{ "EV_OVERFLOW", WEAVE_EV_OVERFLOW },
		{ "EV_ALL", WEAVE_EV_ALL },
		{ "NAME_MAX", WEAVE_NAME_MAX },
	};
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (PyModule_AddIntConstant(m, ints[i].name, ints[i].value))
			return -1;
	return 0;
}

PyMODINIT_FUNC PyInit__weave(void);
PyMODINIT_FUNC PyInit__weave(void)
{
	PyObject *m = PyModule_Create(&wpy_module);

	if (!m)
		return NULL;
	wpy_stale_error = PyErr_NewExceptionWithDoc("weave.StaleError",
		"A compare-and-set found another gen (ESTALE); .gen is the\n"
		"gen it found (0: the key does not exist).",
		PyExc_OSError, NULL);
	wpy_owner_died_warning = PyErr_NewExceptionWithDoc(
		"weave.OwnerDiedWarning",
		"A lock was taken whose previous holder died holding it: the\n"
		"lock is held, the value may be half-written.",
		PyExc_RuntimeWarning, NULL);
	if (!wpy_stale_error || !wpy_owner_died_warning ||
	    PyModule_AddObjectRef(m, "StaleError", wpy_stale_error) ||
	    PyModule_AddObjectRef(m, "OwnerDiedWarning",
				  wpy_owner_died_warning) ||
	    wpy_add_ints(m) || wpy_registry_init_type(m) ||
	    wpy_view_init_type(m) || wpy_lock_init_type(m) ||
	    wpy_watch_init_type(m) ||
	    PyModule_AddStringConstant(m, "__version__", WEAVE_PY_VERSION)) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
