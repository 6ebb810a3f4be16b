# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watches, waits, fileno() for selectors, and asyncio."""

import asyncio
import multiprocessing
import selectors
import threading
import time

import pytest

import procs
import weave
from weave import EV


def test_watch_iterator(reg):
    with reg.watch(1) as w:
        assert w.key == 1
        g = reg.set(1, b"abc")
        ev = next(w)
        assert isinstance(ev, weave.Event)
        assert (ev.key, ev.gen, ev.size) == (1, g, 3)
        assert ev.mask & EV.NEW
        reg[1] = b"de"
        assert next(w).mask & EV.CHANGED
        del reg[1]
        assert next(w).mask & EV.DELETED
        assert w.get(timeout=0.05) is None
    with pytest.raises(ValueError):
        w.get(timeout=0)
    assert list(w) == []                    # closed: iteration ends


def test_watch_every_key_and_mask(reg):
    with reg.watch(events=EV.DELETED) as w:
        assert w.key is None
        reg[5] = b""
        reg[6] = b""
        del reg[6]
        ev = w.get(timeout=1)
        assert (ev.key, ev.mask) == (6, EV.DELETED)
        assert w.get(timeout=0) is None


def test_watch_no_self_and_unwatch(reg):
    other = reg.reopen()
    reg.watch(1, no_self=True)
    reg[1] = b"mine"
    assert reg.read_events(timeout=0) == []
    other[1] = b"theirs"
    assert [e.key for e in reg.read_events(timeout=1)] == [1]
    reg.unwatch(1)
    other[1] = b"again"
    assert reg.read_events(timeout=0.05) == []
    with pytest.raises(KeyError, match="not watched"):
        reg.unwatch(1)
    other.close()


def test_read_events_max_and_bad_args(reg):
    reg.watch()
    for k in range(1, 6):
        reg[k] = b""
    assert len(reg.read_events(max=2)) == 2
    assert len(reg.read_events(max=100, timeout=1)) == 3
    with pytest.raises(ValueError):
        reg.read_events(max=0)
    with pytest.raises(ValueError):
        reg.read_events(timeout=-1)
    with pytest.raises(OSError):
        reg.watch(1, events=1 << 20)


def test_wait(reg):
    assert reg.wait(1, 5, timeout=0) == 0       # differs already
    t = time.monotonic()
    assert reg.wait(1, 0, timeout=0.2) == 0     # timed out: the same gen
    assert time.monotonic() - t >= 0.15
    g = reg.set(1, b"")
    assert reg.wait(1, 0) == g


def test_wait_releases_the_gil(reg):
    # A thread blocked in wait() lets this one run and wake it.
    got = []
    t = threading.Thread(target=lambda: got.append(reg.wait(1, 0, 30)))
    t.start()
    time.sleep(0.2)
    g = reg.set(1, b"wake")
    t.join(30)
    assert got == [g]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_wait_woken_by_another_process(method):
    ctx = multiprocessing.get_context(method)
    with weave.Registry() as reg:
        p = ctx.Process(target=procs.set_later, args=(reg, 3, b"x", 0.3))
        p.start()
        g = reg.wait(3, 0, timeout=120)
        p.join(120)
        assert g == reg.stat(3).gen and g != 0


def test_fileno_with_selectors(reg):
    reg.watch(1)
    with selectors.DefaultSelector() as sel:
        sel.register(reg.fileno(), selectors.EVENT_READ)
        assert sel.select(timeout=0) == []
        reg[1] = b""
        assert len(sel.select(timeout=5)) == 1
        assert reg.read_events()[0].key == 1
        assert sel.select(timeout=0) == []


def test_asyncio_reader_woken_by_another_process():
    ctx = multiprocessing.get_context("spawn")

    async def main(reg):
        seen = []
        async for ev in reg.events(4):
            seen.append(ev)
            if ev.mask & EV.DELETED:
                break
        return seen

    async def with_child(reg):
        task = asyncio.ensure_future(main(reg))
        await asyncio.sleep(0)          # the watch is in place
        p = ctx.Process(target=procs.set_delete_later, args=(reg, 4, 0.3))
        p.start()
        seen = await asyncio.wait_for(task, 120)
        p.join(120)
        return seen, p.exitcode

    with weave.Registry() as reg:
        seen, code = asyncio.run(with_child(reg))
        assert code == 0
        # Records of one key may merge while pending: one or two.
        assert {e.key for e in seen} == {4}
        mask = 0
        for e in seen:
            mask |= e.mask
        assert mask & EV.NEW and mask & EV.DELETED
        # The iteration's end unwatched the key and removed the reader.
        reg[4] = b""
        assert reg.read_events(timeout=0) == []


def test_asyncio_loop_keeps_running(reg):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async def setter():
            await asyncio.sleep(0.2)
            reg[1] = b"x"

        t = asyncio.ensure_future(ticker())
        s = asyncio.ensure_future(setter())
        async for ev in reg.events():
            break
        t.cancel()
        await s
        return ev, ticks

    ev, ticks = asyncio.run(main())
    assert ev.key == 1 and ticks >= 3


def test_close_while_another_thread_waits(reg):
    # close() from another thread is deferred until the wait returns.
    import os
    r = reg.reopen()
    fd = r.fileno()
    got = []
    t = threading.Thread(target=lambda: got.append(r.wait(1, 0, 30)))
    t.start()
    time.sleep(0.2)
    r.close()
    assert r.closed
    os.fstat(fd)                            # still open: in use
    g = reg.set(1, b"wake")
    t.join(30)
    assert got == [g]
    with pytest.raises(OSError):
        os.fstat(fd)                        # the waiter closed it
    with pytest.raises(ValueError):
        r.wait(1, 0, 0)


def test_asyncio_no_busy_loop_while_the_consumer_awaits(reg):
    # Records pending while the async for body awaits something else: the
    # loop must sleep, not run a reader on every turn.
    other = reg.reopen()

    async def main():
        cpu = None
        async for ev in reg.events(1):
            if ev.gen == g1:
                other[1] = b"second"         # pending during the sleep
                await asyncio.sleep(0)
                t0 = time.process_time()
                await asyncio.sleep(0.5)
                cpu = time.process_time() - t0
            else:
                return cpu, ev

    async def run():
        task = asyncio.ensure_future(main())
        await asyncio.sleep(0)              # the watch is in place
        nonlocal g1
        g1 = other.set(1, b"first")
        return await asyncio.wait_for(task, 30)

    g1 = None
    cpu, ev = asyncio.run(run())
    other.close()
    assert ev.key == 1 and ev.gen > g1
    assert cpu < 0.2, f"{cpu:.2f} s of CPU during a 0.5 s sleep"
