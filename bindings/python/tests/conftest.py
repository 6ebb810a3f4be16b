# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures of the binding's tests; they run in the VM (tests/vm-run),
where /dev/weave exists."""

import itertools
import os

import pytest

import weave

_names = itertools.count()


@pytest.fixture
def reg():
    """An anonymous registry, closed after the test."""
    with weave.Registry() as r:
        yield r


@pytest.fixture
def name():
    """A registry name no other test uses; unlinked afterwards."""
    n = f"pytest-{os.getpid()}-{next(_names)}"
    yield n
    try:
        weave.unlink(n)
    except FileNotFoundError:
        pass
