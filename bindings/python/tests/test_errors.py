# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every exception the binding raises, and what its message names."""

import errno
import inspect
import os

import pytest

import weave


def test_missing_key_is_key_error_naming_registry(name):
    with weave.Registry(name, create=True) as r:
        for op in (lambda: r[5], lambda: r.stat(5), lambda: r.view(5),
                   lambda: r.write(5, b""), lambda: r.resize(5, 1),
                   lambda: r.delete(5)):
            with pytest.raises(KeyError) as e:
                op()
            assert e.value.args == (5,)
            note = " ".join(e.value.__notes__)
            assert "key 5" in note and repr(name) in note
    anon = weave.Registry()
    with pytest.raises(KeyError) as e:
        anon[9]
    assert f"anonymous registry {anon.id}" in e.value.__notes__[0]
    anon.close()


@pytest.mark.parametrize("key,exc", [
    (0, ValueError), (-1, ValueError), (-2**70, ValueError),
    (2**64, OverflowError), (2**100, OverflowError),
    ("1", TypeError), (1.0, TypeError), (None, TypeError), (b"1", TypeError),
])
def test_bad_keys(reg, key, exc):
    for op in (lambda: reg[key], lambda: reg.__setitem__(key, b""),
               lambda: reg.__delitem__(key), lambda: reg.get(key),
               lambda: reg.set(key, b""), lambda: reg.stat(key),
               lambda: reg.view(key), lambda: reg.lock(key),
               lambda: reg.wait(key, 0, 0), lambda: reg.write(key, b""),
               lambda: reg.resize(key, 0),
               # None is every key to watch().
               lambda: reg.watch(key) if key is not None else reg[key]):
        with pytest.raises(exc) as e:
            op()
        if exc is not TypeError:
            assert "out of range" in str(e.value)
            assert f"anonymous registry {reg.id}" in str(e.value)
    # Like a dict: what cannot be a key is not in the registry.
    assert key not in reg


def test_missing_registry(name):
    with pytest.raises(FileNotFoundError) as e:
        weave.Registry(name)
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == name and repr(name) in str(e.value)


def test_exclusive_create_of_existing(name):
    with weave.Registry(name, create=True):
        with pytest.raises(FileExistsError) as e:
            weave.Registry(name, create=True, exclusive=True)
        assert name in str(e.value)


def test_permission_denied_to_another_user(name):
    # As root CAP_IPC_OWNER overrides the mode: ask from a child that
    # dropped to nobody.
    r = weave.Registry(name, create=True, mode=0o600)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                weave.Registry(name)
            except PermissionError as e:
                code = 0 if name in str(e) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    r.close()
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 256, "nul\0"])
def test_bad_names(bad):
    with pytest.raises(ValueError, match="bad registry name"):
        weave.Registry(bad, create=True)


def test_bad_arguments(name):
    with pytest.raises(TypeError):
        weave.Registry(5)
    with pytest.raises(TypeError):
        weave.Registry(name, True)              # flags are keyword-only
    with pytest.raises(ValueError, match="mode"):
        weave.Registry(name, create=True, mode=0o1000)
    with pytest.raises(ValueError, match="capacity"):
        weave.Registry(name, create=True, capacity=0)
    with pytest.raises(ValueError, match="create"):
        weave.Registry(name, persist=True)
    with pytest.raises(ValueError, match="create"):
        weave.Registry(name, exclusive=True)
    with pytest.raises(ValueError, match="anonymous"):
        weave.Registry(persist=True, create=True)
    with pytest.raises(OverflowError):
        weave.Registry(name, create=True, capacity=2**64)
    with pytest.raises(OSError) as e:
        weave.Registry(name, create=True, capacity=2**63)
    assert e.value.errno == errno.EINVAL


def test_oserror_with_errno_names_key_and_registry(name):
    with weave.Registry(name, create=True) as r:
        r[1] = b""
        limit = r.info().max_entry_size
        with pytest.raises(OSError) as e:
            r.resize(1, limit + 1)
        assert e.value.errno == errno.EFBIG
        assert type(e.value) is OSError
        assert "key 1" in str(e.value) and repr(name) in str(e.value)


def test_deadlock_on_second_lock_of_same_file(reg):
    with reg.lock(1):
        with pytest.raises(OSError) as e:
            with reg.lock(1):
                pass
        assert e.value.errno == errno.EDEADLK


def test_stale_error_is_oserror_estale(reg):
    reg[1] = b""
    with pytest.raises(OSError) as e:
        reg.set(1, b"", if_gen=12345)
    assert type(e.value) is weave.StaleError
    assert e.value.errno == errno.ESTALE


def test_unlink_bad_name():
    with pytest.raises(OSError):
        weave.unlink("")


class _Index:
    """An integer by __index__ (as numpy's are)."""

    def __index__(self):
        return 2


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (2**64, OverflowError),
                                     (2**64 + 1, OverflowError)])
def test_sizes_offsets_gens_never_wrap(reg, bad, exc):
    reg[1] = b"abc"
    with pytest.raises(exc, match="out of range"):
        reg.resize(1, bad)
    with pytest.raises(exc, match="out of range"):
        reg.write(1, b"x", bad)
    with pytest.raises(exc, match="out of range"):
        reg.wait(1, bad, timeout=0)
    with pytest.raises(exc, match="out of range"):
        reg.set(1, b"x", if_gen=bad)
    with pytest.raises(exc, match="out of range"):
        reg.delete(1, if_gen=bad)
    assert reg[1] == b"abc"
    with pytest.raises(TypeError):
        reg.resize(1, 1.0)
    reg.resize(1, _Index())
    reg.write(1, b"Z", offset=_Index())
    assert reg[1] == b"abZ"
    with pytest.raises(weave.StaleError):
        reg.set(1, b"x", if_gen=_Index())


def test_unlink_name_with_nul_unlinks_nothing(name):
    with weave.Registry(name, create=True, persist=True):
        pass
    with pytest.raises(ValueError, match="bad registry name"):
        weave.unlink(name + "\0other")
    with pytest.raises(TypeError):
        weave.unlink(b"bytes")
    with weave.Registry(name) as r:     # still there
        assert r.name == name


def _stub_calls():
    """(class name, method, keyword) for every parameter the stubs let a
    caller pass by keyword (dunders aside)."""
    import ast
    with open(os.path.join(os.path.dirname(weave.__file__),
                           "__init__.pyi")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        funcs = [(None, node)] if isinstance(node, ast.FunctionDef) else \
            [(node.name, f) for f in node.body
             if isinstance(f, ast.FunctionDef)] \
            if isinstance(node, ast.ClassDef) else []
        for cls, f in funcs:
            if f.name.startswith("__") or f.name in ("events",):
                continue
            for a in f.args.args + f.args.kwonlyargs:
                if a.arg != "self":
                    yield cls, f.name, a.arg


def test_stubs_keywords_are_accepted(reg):
    # What the .pyi lets a type checker pass by keyword, the extension
    # takes by keyword (else the stub marks it positional-only).
    reg[1] = b"x"
    objs = {"Registry": reg, "View": reg.view(1), "Lock": reg.lock(1),
            "Watch": reg.watch(1), None: weave}
    seen = 0
    for cls, meth, kw in _stub_calls():
        if cls not in objs:
            continue
        seen += 1
        try:
            res = getattr(objs[cls], meth)(**{kw: 0 if kw == "timeout" else 1})
        except TypeError as e:
            assert "keyword" not in str(e), (cls, meth, kw, str(e))
        except Exception:
            pass
        else:
            if isinstance(res, weave.Registry) and res is not reg:
                res.close()
    assert seen > 10
    objs["View"].release()
    objs["Watch"].close()
    assert str(inspect.signature(reg.stat)) == "(key, /)"
    assert str(inspect.signature(weave.unlink)) == "(name, /)"
