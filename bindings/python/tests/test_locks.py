# SPDX-License-Identifier: LGPL-2.1-or-later
"""Entry locks: exclusion between processes, timeouts, owner died."""

import multiprocessing
import time
import warnings

import pytest

import weave

import procs

COUNT_PER_PROCESS = 100


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_counter_under_lock_across_8_processes(method):
    ctx = multiprocessing.get_context(method)
    with weave.Registry() as reg:
        reg[1] = b"0"
        assert procs.run_all(ctx, 8, procs.count,
                             (reg, 1, COUNT_PER_PROCESS)) == [0] * 8
        assert int(reg[1]) == 8 * COUNT_PER_PROCESS


def test_exclusive_lock_excludes_other_file(reg):
    other = reg.reopen()
    with reg.lock(1) as lk:
        assert lk.held and not lk.shared and lk.key == 1
        with pytest.raises(TimeoutError) as e:
            with other.lock(1, timeout=0.05):
                pass
        assert "key 1" in str(e.value)
        with pytest.raises(TimeoutError):
            other.lock(1, shared=True, timeout=0).acquire()
    assert not lk.held
    with other.lock(1, timeout=1):
        pass
    other.close()


def test_shared_locks_share(reg):
    other = reg.reopen()
    with reg.lock(1, shared=True) as a, other.lock(1, shared=True,
                                                   timeout=1) as b:
        assert a.shared and b.shared
        with pytest.raises(TimeoutError):
            reg.reopen().lock(1, timeout=0.01).acquire()
    other.close()


def test_timeout_waits_about_that_long(reg):
    other = reg.reopen()
    with reg.lock(1):
        t = time.monotonic()
        with pytest.raises(TimeoutError):
            other.lock(1, timeout=0.3).acquire()
        assert 0.25 < time.monotonic() - t < 5
    other.close()


def test_acquire_release_and_misuse(reg):
    lk = reg.lock(1)
    assert lk.acquire() is lk and lk.held
    with pytest.raises(RuntimeError):
        lk.acquire()
    lk.release()
    with pytest.raises(RuntimeError, match="does not hold"):
        lk.release()
    # The file holds the lock, not the object: dropped, it stays held.
    reg.lock(2).acquire()
    other = reg.reopen()
    with pytest.raises(TimeoutError):
        other.lock(2, timeout=0).acquire()
    reg.lock(2).release()
    with other.lock(2, timeout=0):
        pass
    other.close()
    with pytest.raises(ValueError):
        reg.lock(1, timeout=-1)
    with pytest.raises(TypeError):
        weave.Lock()
    assert "exclusive" in repr(lk)


def test_exclusive_lock_on_readonly_is_permission_error(name):
    with weave.Registry(name, create=True), \
            weave.Registry(name, readonly=True) as ro:
        with pytest.raises(PermissionError):
            with ro.lock(1):
                pass
        with ro.lock(1, shared=True):
            pass


def _died_holder(reg, key):
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=procs.die_holding, args=(reg, key))
    p.start()
    p.join(60)
    assert p.exitcode == 0


def test_owner_died_warns_with_lock_held(reg):
    reg[1] = b"half-written"
    _died_holder(reg, 1)
    with pytest.warns(weave.OwnerDiedWarning, match="key 1"):
        with reg.lock(1, timeout=5) as lk:
            assert lk.owner_died and lk.held
            reg[1] = b"repaired"
    # Ended without an exception: marked consistent, no warning again.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with reg.lock(1, timeout=5) as lk:
            assert not lk.owner_died


def test_owner_died_body_raising_keeps_the_mark(reg):
    _died_holder(reg, 1)
    with pytest.warns(weave.OwnerDiedWarning):
        with pytest.raises(ZeroDivisionError):
            with reg.lock(1, timeout=5):
                1 / 0
    with pytest.warns(weave.OwnerDiedWarning):
        with reg.lock(1, timeout=5) as lk:
            assert lk.owner_died


def test_owner_died_as_error_releases_the_lock(reg):
    _died_holder(reg, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", weave.OwnerDiedWarning)
        with pytest.raises(weave.OwnerDiedWarning):
            with reg.lock(1, timeout=5):
                pytest.fail("the body ran")
    other = reg.reopen()
    with pytest.warns(weave.OwnerDiedWarning):
        with other.lock(1, timeout=1) as lk:  # free, and still marked
            assert lk.owner_died
    other.close()


def test_release_consistent(reg):
    _died_holder(reg, 1)
    with pytest.warns(weave.OwnerDiedWarning):
        lk = reg.lock(1, timeout=5).acquire()
    lk.release(consistent=True)
    with reg.lock(1) as lk2:
        assert not lk2.owner_died


def test_unlock_after_close_deferred_by_another_thread(reg):
    # close() inside the with block is deferred while another thread
    # waits on the same registry; the with block's unlock must still
    # release the lock then, not leave it held until that wait returns.
    import threading
    r = reg.reopen()
    got = []
    t = threading.Thread(target=lambda: got.append(r.wait(5, 0, 30)))
    t.start()
    time.sleep(0.2)
    with r.lock(1):
        r.close()
    with reg.lock(1, timeout=1.0) as lk:
        assert not lk.owner_died
    g = reg.set(5, b"wake")
    t.join(30)
    assert got == [g]
