# SPDX-License-Identifier: LGPL-2.1-or-later
"""Zero-copy views: the buffer protocol, numpy, resize, lifetime."""

import pickle

import numpy
import pytest

import weave


def test_memoryview_is_read_only_and_current(reg):
    reg[1] = b"hello"
    v = reg.view(1)
    assert (v.key, len(v), v.gen, v.stale) == (1, 5, reg.stat(1).gen, False)
    m = memoryview(v)
    assert m.readonly and bytes(m) == b"hello"
    with pytest.raises(TypeError):
        m[0] = 0
    # In place: the same mapping shows the new bytes, no new buffer.
    reg.write(1, b"J")
    assert bytes(m) == b"Jello"
    m.release()
    v.release()


def test_writable_buffer_refused(reg):
    import io
    reg[1] = b"x"
    with reg.view(1) as v:
        # readinto() asks for a writable buffer (PyBUF_WRITABLE).
        with pytest.raises(TypeError, match="read-write"):
            io.BytesIO(b"y").readinto(v)
        with pytest.raises(ValueError):
            numpy.frombuffer(v, dtype=numpy.uint8).setflags(write=True)
        assert reg[1] == b"x"


def test_numpy_frombuffer_does_not_copy(reg):
    reg[1] = numpy.arange(1024, dtype=numpy.int64).tobytes()
    v = reg.view(1)
    a = numpy.frombuffer(v, dtype=numpy.int64)
    b = numpy.frombuffer(v, dtype=numpy.int64)
    assert not a.flags.writeable and not a.flags.owndata
    assert a.ctypes.data == b.ctypes.data       # one mapping, two arrays
    assert a[1023] == 1023
    reg.write(1, numpy.int64(-7).tobytes(), offset=8 * 1023)
    assert a[1023] == -7                        # seen without a new read
    del a, b
    v.release()


def test_numpy_view_follows_resize(reg):
    reg[1] = numpy.arange(4, dtype=numpy.int32).tobytes()
    v = reg.view(1)
    a = numpy.frombuffer(v, dtype=numpy.int32)
    assert a.tolist() == [0, 1, 2, 3]
    reg.resize(1, 4 * 100000)                   # grows: may move
    reg.write(1, numpy.int32(99).tobytes(), offset=4 * 99999)
    assert v.stale
    # While an array holds the old mapping, it stays as it was.
    assert a.tolist() == [0, 1, 2, 3]
    with pytest.raises(BufferError):
        v.refresh()
    del a
    a = numpy.frombuffer(v, dtype=numpy.int32)  # follows the resize
    assert not v.stale and len(v) == 4 * 100000 and a.size == 100000
    assert a[:4].tolist() == [0, 1, 2, 3] and a[-1] == 99
    assert not a[4:-1].any()
    del a
    reg.resize(1, 8)
    a = numpy.frombuffer(v, dtype=numpy.int32)
    assert a.tolist() == [0, 1]
    del a
    v.release()


def test_refresh_after_set_of_new_value(reg):
    reg[1] = b"a" * 10
    v = reg.view(1)
    reg[1] = b"b" * 5000
    v.refresh()
    assert bytes(memoryview(v)) == b"b" * 5000
    v.release()


def test_close_refused_with_exported_buffers(name):
    r = weave.Registry(name, create=True)
    r[1] = b"abc"
    v = r.view(1)
    m = memoryview(v)
    with pytest.raises(BufferError, match="key 1"):
        r.close()
    with pytest.raises(BufferError):
        v.release()
    assert not r.closed and bytes(m) == b"abc"
    m.release()
    r.close()                                   # unmaps the view too
    assert v.released and r.closed
    with pytest.raises(ValueError, match="released"):
        memoryview(v)
    with pytest.raises(ValueError):
        len(v)


def test_released_view(reg):
    reg[1] = b"x"
    v = reg.view(1)
    v.release()
    v.release()
    assert v.released and "released" in repr(v)
    for op in (lambda: memoryview(v), v.read, v.refresh, lambda: v.gen,
               lambda: v.stale):
        with pytest.raises(ValueError):
            op()


def test_read_is_a_consistent_copy(reg):
    reg[1] = b"abc"
    v = reg.view(1)
    assert v.read() == b"abc"
    reg.write(1, b"Z", 1)
    assert v.read() == b"aZc"
    reg[1] = b"longer value than before" * 300
    assert v.read() == b"longer value than before" * 300
    v.release()


def test_view_of_deleted_key(reg):
    reg[1] = b"abc"
    v = reg.view(1)
    del reg[1]
    assert v.stale and v.gen == 0
    with pytest.raises(KeyError):
        v.refresh()
    with pytest.raises(KeyError):
        memoryview(v)
    v.release()


def test_views_do_not_pickle_and_cannot_be_made_directly(reg):
    reg[1] = b""
    with reg.view(1) as v:
        with pytest.raises(TypeError):
            pickle.dumps(v)
    with pytest.raises(TypeError):
        weave.View()


def test_empty_value(reg):
    reg[1] = b""
    with reg.view(1) as v:
        assert len(v) == 0 and bytes(memoryview(v)) == b""
        assert numpy.frombuffer(v, dtype=numpy.uint8).size == 0


@pytest.mark.parametrize("size", [1 << 20, 16 << 20])
def test_large_view_no_copy(reg, size):
    reg[1] = b""
    reg.resize(1, size)
    reg.write(1, b"\x01", size - 1)
    with reg.view(1) as v:
        a = numpy.frombuffer(v, dtype=numpy.uint8)
        assert a.size == size and a[-1] == 1
        assert a.ctypes.data == numpy.frombuffer(v, numpy.uint8).ctypes.data
        del a
