# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ctrl-C (SIGINT) interrupts blocking calls; other handlers do not."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import weave


def _kill_later(sig, delay):
    t = threading.Timer(delay, os.kill, (os.getpid(), sig))
    t.start()
    return t


@pytest.mark.parametrize("call", ["wait", "lock", "watch", "read_events"])
def test_sigint_during_blocking_call(reg, call):
    other = reg.reopen()
    other_lock = other.lock(1).acquire()
    w = reg.watch(2)
    blocking = {
        "wait": lambda: reg.wait(1, 0),
        "lock": lambda: reg.lock(1).acquire(),
        "watch": lambda: next(w),
        "read_events": lambda: reg.read_events(timeout=None),
    }[call]
    t = _kill_later(signal.SIGINT, 0.3)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        blocking()
    assert time.monotonic() - start < 60
    t.join()
    other_lock.release()
    w.close()
    other.close()


def test_handler_that_returns_lets_the_call_go_on(reg):
    hits = []
    old = signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
    try:
        t = _kill_later(signal.SIGUSR1, 0.1)
        start = time.monotonic()
        assert reg.wait(1, 0, timeout=0.6) == 0
        elapsed = time.monotonic() - start
        t.join()
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert hits == [1]
    assert elapsed >= 0.5                   # the timeout was kept


CHILD = """
import sys, weave
r = weave.Registry()
print("waiting", flush=True)
r.wait(1, 0)
"""


def test_ctrl_c_in_a_python_program():
    p = subprocess.Popen([sys.executable, "-c", CHILD],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(
                             filter(None, [os.path.dirname(os.path.dirname(
                                 weave.__file__)),
                                 os.environ.get("PYTHONPATH")]))})
    assert p.stdout.readline() == b"waiting\n"
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    # An uncaught KeyboardInterrupt ends Python by SIGINT itself.
    assert p.returncode == -signal.SIGINT
    assert b"KeyboardInterrupt" in err
