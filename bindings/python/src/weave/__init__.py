# SPDX-License-Identifier: LGPL-2.1-or-later
"""weave: registries of byte buffers shared between processes.

A :class:`Registry` is a dict of int keys to bytes kept by the kernel
(``/dev/weave``), shared by every process that opens it by name, or, for
an anonymous one, that inherits it (``fork``) or receives it (pickling,
``multiprocessing``). Values can be mapped zero-copy (:meth:`Registry.view`),
locked across processes (:meth:`Registry.lock`) and watched
(:meth:`Registry.watch`, :meth:`Registry.wait`, :meth:`Registry.events`
for asyncio).

Errors: a missing key is :class:`KeyError`; a missing registry
:class:`FileNotFoundError`; a registry opened read-only or a mode that
forbids the access :class:`PermissionError`; a key that is not an int
:class:`TypeError`, one below 1 :class:`ValueError`, one of 2**64 or more
:class:`OverflowError`; a failed compare-and-set :class:`StaleError`;
anything else :class:`OSError` with its errno. Messages name the registry
and the key.
"""

import enum
import os
from collections.abc import MutableMapping

from . import _weave
from ._weave import (Event, Info, Lock, OwnerDiedWarning, StaleError, Stat,
                     View, Watch, unlink)

__all__ = ["Registry", "View", "Lock", "Watch", "Event", "Stat", "Info",
           "EV", "StaleError", "OwnerDiedWarning", "unlink"]
__version__ = _weave.__version__


class EV(enum.IntFlag):
    """Event bits of :attr:`Event.mask` and of ``watch(events=...)``."""

    NEW = _weave.EV_NEW
    CHANGED = _weave.EV_CHANGED
    RESIZED = _weave.EV_RESIZED
    DELETED = _weave.EV_DELETED
    UNLOCKED = _weave.EV_UNLOCKED
    OWNER_DIED = _weave.EV_OWNER_DIED
    CLEARED = _weave.EV_CLEARED
    UNLINKED = _weave.EV_UNLINKED
    OVERFLOW = _weave.EV_OVERFLOW
    ALL = _weave.EV_ALL


def _attach(name, readonly):
    return Registry(name, readonly=readonly)


def _adopt(dupfd):
    return Registry._from_fd(dupfd.detach())


class Registry(_weave.Registry, MutableMapping):
    """Registry(name=None, *, create=False, exclusive=False, persist=False,
    readonly=False, mode=0o600, capacity=None)

    Attach the registry *name*, creating it with *create* (and failing if
    it exists with *exclusive*; living until :func:`unlink` with
    *persist*) with permission bits *mode* and room for *capacity*
    entries; or, with *name* None, create an anonymous registry.

    A :class:`collections.abc.MutableMapping` of int keys (1 to 2**64-1)
    to bytes: ``r[1] = b"..."`` stores any bytes-like object, ``r[1]``
    returns a copy as bytes; ``del``, ``len``, ``in``, iteration (a
    snapshot of the keys), ``keys()``, ``items()``, ``clear()`` and the
    rest work as for a dict. A context manager that closes it.

    Pickling (and so ``multiprocessing``) carries a named registry by
    name and an anonymous one by its file descriptor
    (``multiprocessing.reduction.DupFd``); either way the receiving
    process gets a file of its own, so its locks are its own. A forked
    child does too (``os.register_at_fork``).
    """

    __slots__ = ()

    def __reduce__(self):
        if self.closed:
            raise ValueError("cannot pickle a closed registry")
        if self.name is not None:
            return (_attach, (self.name, self.readonly))
        from multiprocessing.reduction import DupFd
        return (_adopt, (DupFd(self.fileno()),))

    def __copy__(self):
        raise TypeError("a weave.Registry cannot be copied: "
                        "use reopen() for another handle")

    async def events(self, key=None, *, events=EV.ALL, no_self=False):
        """Yield the events of *key* (None: every key) as they come, on
        the running asyncio loop (``loop.add_reader`` on :meth:`fileno`)::

            async for ev in r.events(1):
                ...

        Watches *key* for the time of the iteration. The events are the
        file's, as for :meth:`watch`.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        fd = self.fileno()
        watch = self.watch(key, events=events, no_self=no_self)
        try:
            while True:
                batch = self.read_events(timeout=0)
                if not batch:
                    # A reader only while waiting: the fd is readable as
                    # long as records are pending, and a reader left in
                    # place while the consumer awaits something else
                    # would be called on every turn of the loop.
                    ready.clear()
                    loop.add_reader(fd, ready.set)
                    try:
                        await ready.wait()
                    finally:
                        loop.remove_reader(fd)
                    continue
                for ev in batch:
                    yield ev
        finally:
            if not self.closed:
                watch.close()


# Each forked child gets files of its own for the registries it inherits.
os.register_at_fork(after_in_child=_weave._after_fork)
