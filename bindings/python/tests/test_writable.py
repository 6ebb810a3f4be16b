# SPDX-License-Identifier: LGPL-2.1-or-later
"""The exclusive holder's writable buffer: `with r.lock(k) as entry`."""

import multiprocessing

import numpy
import pytest

import procs


def test_holder_writes_in_place(reg):
    reg[1] = bytes(16)
    v = reg.view(1)
    with reg.lock(1) as entry:
        a = numpy.frombuffer(entry, numpy.uint32)
        assert a.flags.writeable and a.size == 4
        a[:] = [1, 2, 3, 4]
        memoryview(entry)[0:1] = b"\xff"
        del a
    assert numpy.frombuffer(reg[1], numpy.uint32).tolist() == [255, 2, 3, 4]
    assert numpy.frombuffer(v, numpy.uint32).tolist() == [255, 2, 3, 4]
    v.release()


def test_no_buffer_outside_the_lock_or_when_shared(reg):
    reg[1] = b"abc"
    lk = reg.lock(1)
    with pytest.raises(BufferError, match="only while its lock is held"):
        memoryview(lk)
    with reg.lock(1, shared=True) as entry:
        with pytest.raises(BufferError, match="shared"):
            memoryview(entry)
    with reg.lock(2) as entry:                  # key 2 does not exist
        with pytest.raises(KeyError):
            memoryview(entry)


def test_buffer_kept_past_the_lock_is_detached(reg):
    reg[1] = b"abcd"
    with pytest.raises(BufferError, match="no longer show the entry"):
        with reg.lock(1) as entry:
            m = memoryview(entry)
    assert not entry.held
    other = reg.reopen()
    with other.lock(1, timeout=1):              # released all the same
        pass
    m[0:1] = b"Z"                               # neither faults nor lands
    assert reg[1] == b"abcd"
    with pytest.raises(BufferError):
        reg.close()                             # while m is exported
    m.release()
    other.close()


def test_holder_resize_then_buffer_follows(reg):
    reg[1] = b"ab"
    with reg.lock(1) as entry:
        assert bytes(memoryview(entry)) == b"ab"
        reg.resize(1, 6)
        m = memoryview(entry)
        assert len(m) == 6
        m[2:6] = b"cdef"
        m.release()
    assert reg[1] == b"abcdef"


def test_writers_in_8_processes(reg):
    # Each process adds to a counter in place, through its writable
    # buffer, under the lock.
    reg[1] = numpy.zeros(1, numpy.int64).tobytes()
    ctx = multiprocessing.get_context("fork")
    assert procs.run_all(ctx, 8, procs.add_in_place, (reg, 1, 50)) == [0] * 8
    assert numpy.frombuffer(reg[1], numpy.int64)[0] == 8 * 50


def test_fork_with_the_writable_view_mapped(reg):
    # The child's registry gets a file of its own at the fork; the Lock's
    # writable view still uses the parent's handle, which must be kept
    # (retired), not freed.
    import os
    reg[1] = b"abc"
    with reg.lock(1) as entry:
        assert bytes(memoryview(entry)) == b"abc"   # maps the view
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = 0 if bytes(memoryview(entry)) == b"abc" else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert reg[1] == b"abc"
