# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python binding's speed figures (issue 20), in the VM:

  make bench-python    (bindings/python/bench/run)

1. r[k] of 64 B against multiprocessing.Manager().dict()[k].
2. numpy.frombuffer(r.view(k)) of 1 MiB and 64 MiB: constant time, no
   copy (bytes(r[k]) of the same sizes for scale).
3. one hop of a set in process A waking wait() in process B, against a
   multiprocessing.Pipe send/recv of 8 bytes (ping-pong, half a round
   trip).

Each figure is the median of 5 runs, in ns per operation.
"""

import multiprocessing
import statistics
import time

import numpy

import weave

RUNS = 5


def per_op(fn, n):
    times = []
    for _ in range(RUNS):
        t = time.perf_counter_ns()
        fn(n)
        times.append((time.perf_counter_ns() - t) / n)
    return statistics.median(times)


def bench_get():
    r = weave.Registry()
    r[1] = b"x" * 64

    def loop(n):
        for _ in range(n):
            r[1]
    ours = per_op(loop, 20000)
    with multiprocessing.Manager() as m:
        d = m.dict()
        d[1] = b"x" * 64

        def mloop(n):
            for _ in range(n):
                d[1]
        theirs = per_op(mloop, 500)
    r.close()
    return ours, theirs


def bench_frombuffer():
    r = weave.Registry()
    out = []
    for mib in (1, 64):  # bench/run raises max_entry_size
        r[mib] = b""
        r.resize(mib, mib << 20)
        v = r.view(mib)

        def loop(n):
            for _ in range(n):
                numpy.frombuffer(v, numpy.uint8)
        fb = per_op(loop, 2000)

        def copy(n):
            for _ in range(n):
                r[mib]
        cp = per_op(copy, 3)
        out.append((mib, fb, cp))
        v.release()
    r.close()
    return out


def _echo_weave(r, n):
    gen = 0
    for _ in range(n):
        gen = r.wait(1, gen)
        r[2] = b"pong"


def _echo_pipe(conn, n):
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


def bench_wakeup(n=300):
    ctx = multiprocessing.get_context("fork")
    r = weave.Registry()
    p = ctx.Process(target=_echo_weave, args=(r, n))
    p.start()
    time.sleep(0.5)
    gen2 = 0
    t = time.perf_counter_ns()
    for _ in range(n):
        r[1] = b"ping"
        gen2 = r.wait(2, gen2)
    ours = (time.perf_counter_ns() - t) / n / 2
    p.join()
    r.close()
    a, b = ctx.Pipe()
    p = ctx.Process(target=_echo_pipe, args=(b, n))
    p.start()
    time.sleep(0.5)
    t = time.perf_counter_ns()
    for _ in range(n):
        a.send_bytes(b"8 bytes!")
        a.recv_bytes()
    theirs = (time.perf_counter_ns() - t) / n / 2
    p.join()
    return ours, theirs


def main():
    ours, theirs = bench_get()
    print(f"get 64 B: r[k] {ours:.0f} ns, Manager().dict()[k] "
          f"{theirs:.0f} ns: {theirs / ours:.1f}x faster (target >= 20x)")
    for mib, fb, cp in bench_frombuffer():
        print(f"numpy.frombuffer(r.view(k)) of {mib} MiB: {fb:.0f} ns "
              f"(copy r[k]: {cp / 1e6:.1f} ms)")
    ours, theirs = bench_wakeup()
    print(f"wake-up hop: set -> wait {ours:.0f} ns, Pipe 8 B "
          f"{theirs:.0f} ns: {ours / theirs:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
