# SPDX-License-Identifier: LGPL-2.1-or-later
"""Registries across processes: fork, spawn, pickling, queues."""

import multiprocessing
import os
import pickle

import pytest

import procs
import weave

METHODS = ["fork", "spawn"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("named", [False, True])
def test_registry_to_child(method, named, name):
    ctx = multiprocessing.get_context(method)
    with weave.Registry(name if named else None, create=named) as reg:
        assert procs.run_all(ctx, 1, procs.set_value,
                             (reg, 1, b"from child"), 120) == [0]
        assert reg[1] == b"from child"


@pytest.mark.parametrize("method", METHODS)
def test_child_has_its_own_file_and_locks(method):
    ctx = multiprocessing.get_context(method)
    q = ctx.Queue()
    with weave.Registry() as reg:
        with reg.lock(1):
            p = ctx.Process(target=procs.report_lock, args=(reg, q))
            p.start()
            what, _ = q.get(timeout=120)
            p.join(120)
        assert what == "excluded"
        assert p.exitcode == 0


def test_fork_child_reopens(reg):
    reg[2] = b"x"
    with reg.lock(1):
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                try:
                    reg.lock(1, timeout=0.05).acquire()
                    code = 1        # shared the parent's lock: wrong
                except TimeoutError:
                    code = 0 if reg[2] == b"x" else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("method", METHODS)
def test_pickled_anonymous_registry_through_a_queue(method):
    # The worker is running already: the registry travels pickled, its
    # descriptor through multiprocessing's resource sharer.
    ctx = multiprocessing.get_context(method)
    inq, outq = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=procs.queue_worker, args=(inq, outq))
    p.start()
    with weave.Registry() as reg:
        reg[1] = b""
        inq.put(reg)
        assert outq.get(timeout=120) == [1, 7]
        p.join(120)
        assert p.exitcode == 0
        assert reg[7] == b"via queue"


def test_pickle_round_trip_in_process(name):
    with weave.Registry() as anon:
        anon[1] = b"a"
        copy = pickle.loads(pickle.dumps(anon))
        assert copy.id == anon.id and copy[1] == b"a"
        assert copy.fileno() != anon.fileno()
        copy.close()
    with weave.Registry(name, create=True) as named:
        data = pickle.dumps(named)
        assert name.encode() in data        # by name, no descriptor
        copy = pickle.loads(data)
        assert copy.name == name and copy.id == named.id
        copy.close()
    ro = weave.Registry()
    ro_copy = pickle.loads(pickle.dumps(ro.reopen(readonly=True)))
    assert ro_copy.readonly
    ro_copy.close()
    ro.close()


def test_closed_registry_does_not_pickle():
    reg = weave.Registry()
    reg.close()
    with pytest.raises(ValueError):
        pickle.dumps(reg)


def test_pool_map(name):
    with weave.Registry(name, create=True) as reg:
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            pids = pool.map(procs.pool_set, [(reg, k) for k in range(1, 9)])
        assert os.getpid() not in pids
        assert {k: reg[k] for k in reg} == {k: b"%d" % k
                                           for k in range(1, 9)}
