# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the tests' child processes run. A module of its own, importing
only weave: a spawned child imports the module of its target, and
pytest costs seconds to import under emulation."""

import os
import time


def run_all(ctx, n, target, args, timeout=300):
    """Run target(*args) in n processes of the multiprocessing context
    ctx at once; return their exit codes."""
    workers = [ctx.Process(target=target, args=args) for _ in range(n)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout)
    return [p.exitcode for p in workers]


def count(reg, key, n):
    """Add 1 to the decimal value of key n times, under its lock."""
    for _ in range(n):
        with reg.lock(key):
            value = int(reg[key])
            reg[key] = b"%d" % (value + 1)


def die_holding(reg, key):
    """Take key's lock and exit without releasing it."""
    lk = reg.lock(key).acquire()
    assert lk.held
    os._exit(0)


def set_value(reg, key, value):
    reg[key] = value


def report_lock(reg, q):
    """Put whether key 1's lock is free to this process's file."""
    try:
        reg.lock(1, timeout=0.05).acquire()
        q.put(("locked", reg.fileno()))
    except TimeoutError:
        q.put(("excluded", reg.fileno()))


def queue_worker(inq, outq):
    """Receive a registry through a queue, add key 7, send the keys."""
    reg = inq.get()
    reg[7] = b"via queue"
    outq.put(sorted(reg))
    reg.close()


def pool_set(args):
    reg, key = args
    reg[key] = b"%d" % key
    return os.getpid()


def set_later(reg, key, value, delay):
    time.sleep(delay)
    reg[key] = value


def set_delete_later(reg, key, delay):
    time.sleep(delay)
    reg[key] = b"hello"
    del reg[key]


def add_in_place(reg, key, n):
    """Add 1 to the int64 of key n times, in place under its lock."""
    import numpy
    for _ in range(n):
        with reg.lock(key) as entry:
            a = numpy.frombuffer(entry, numpy.int64)
            a[0] += 1
            del a
