# SPDX-License-Identifier: LGPL-2.1-or-later
"""Registry as a MutableMapping, and its other entry operations."""

import array
from collections.abc import MutableMapping

import pytest

import weave


def test_is_a_mutable_mapping(reg):
    assert isinstance(reg, MutableMapping)
    assert isinstance(reg, weave.Registry)


def test_set_get_del_len_in_iter(reg):
    reg[1] = b"one"
    reg[2] = b"two"
    reg[2**64 - 1] = b"max"
    assert reg[1] == b"one"
    assert reg[2**64 - 1] == b"max"
    assert len(reg) == 3
    assert 1 in reg and 3 not in reg
    assert sorted(reg) == [1, 2, 2**64 - 1]
    del reg[2]
    assert 2 not in reg
    assert len(reg) == 2
    with pytest.raises(KeyError):
        del reg[2]


def test_values_are_bytes_from_any_bytes_like(reg):
    reg[1] = bytearray(b"ba")
    reg[2] = memoryview(b"xmvx")[1:3]
    reg[3] = array.array("i", [1, 2])
    reg[4] = b""
    assert reg[1] == b"ba" and type(reg[1]) is bytes
    assert reg[2] == b"mv"
    assert reg[3] == array.array("i", [1, 2]).tobytes()
    assert reg[4] == b""
    with pytest.raises(TypeError):
        reg[5] = "a str is not bytes"
    with pytest.raises(TypeError):
        reg[5] = 5


def test_large_values_round_trip(reg):
    # Past the one-call stack copy (1 KiB), and a page-unaligned size.
    for size in (1023, 1024, 1025, 70000, 1 << 20):
        value = bytes(i % 251 for i in range(size))
        reg[size] = value
        assert reg[size] == value


def test_mixins_keys_items_values_update_pop(reg):
    reg.update({1: b"a", 2: b"b"})
    assert set(reg.keys()) == {1, 2}
    assert dict(reg.items()) == {1: b"a", 2: b"b"}
    assert sorted(reg.values()) == [b"a", b"b"]
    assert reg.pop(1) == b"a"
    assert reg.pop(1, None) is None
    assert reg.setdefault(3, b"c") == b"c"
    assert reg.setdefault(3, b"x") == b"c"
    key, value = reg.popitem()
    assert key in (2, 3) and key not in reg
    assert reg == {5 - key: {2: b"b", 3: b"c"}[5 - key]}


def test_clear(reg):
    for k in range(1, 11):
        reg[k] = b"x"
    assert reg.clear() is None
    assert len(reg) == 0
    assert list(reg) == []


def test_iteration_over_many_keys(reg):
    keys = set(range(1, 1500))
    for k in keys:
        reg[k] = b""
    assert set(reg) == keys


def test_get_default_and_gen(reg):
    assert reg.get(1) is None
    assert reg.get(1, b"d") == b"d"
    assert reg.get(1, gen=True) == (None, 0)
    g = reg.set(1, b"v")
    assert reg.get(1, gen=True) == (b"v", g)
    assert reg.get(1) == b"v"


def test_set_returns_increasing_gens(reg):
    g1 = reg.set(1, b"a")
    g2 = reg.set(1, b"b")
    g3 = reg.set(2, b"c")
    assert 0 < g1 < g2 < g3
    assert reg.stat(1).gen == g2


def test_set_if_gen(reg):
    g = reg.set(1, b"a", if_gen=0)          # 0: only if missing
    with pytest.raises(weave.StaleError) as e:
        reg.set(1, b"b", if_gen=0)
    assert e.value.gen == g
    assert isinstance(e.value, OSError)
    with pytest.raises(weave.StaleError) as e:
        reg.set(1, b"b", if_gen=g + 100)
    assert e.value.gen == g
    assert reg[1] == b"a"
    g2 = reg.set(1, b"b", if_gen=g)
    assert g2 > g and reg[1] == b"b"
    with pytest.raises(weave.StaleError) as e:
        reg.set(7, b"x", if_gen=3)              # missing: gen found is 0
    assert e.value.gen == 0


def test_delete_if_gen(reg):
    g = reg.set(1, b"a")
    with pytest.raises(weave.StaleError) as e:
        reg.delete(1, if_gen=g + 1)
    assert e.value.gen == g
    assert reg.delete(1, if_gen=g) > g
    assert 1 not in reg
    with pytest.raises(KeyError):
        reg.delete(1)


def test_stat(reg):
    g = reg.set(1, b"12345")
    st = reg.stat(1)
    assert isinstance(st, weave.Stat)
    assert (st.size, st.gen) == (5, g)
    assert st.birth == g
    reg[1] = b"x"
    st2 = reg.stat(1)
    assert st2.birth == g and st2.gen > g and st2.size == 1


def test_write_in_place_and_gap(reg):
    reg[1] = b"hello"
    reg.write(1, b"J", 0)
    assert reg[1] == b"Jello"
    reg.write(1, b"!", offset=7)
    assert reg[1] == b"Jello\0\0!"
    reg.write(1, memoryview(b"ab"))
    assert reg[1] == b"abllo\0\0!"
    with pytest.raises(KeyError):
        reg.write(2, b"x")


def test_resize(reg):
    reg[1] = b"abc"
    reg.resize(1, 6)
    assert reg[1] == b"abc\0\0\0"
    reg.resize(1, 1)
    assert reg[1] == b"a"
    reg.resize(1, 0)
    assert reg[1] == b""
    with pytest.raises(KeyError):
        reg.resize(2, 1)


def test_info(reg):
    reg[1] = b"abcd"
    info = reg.info()
    assert isinstance(info, weave.Info)
    assert info.id == reg.id
    assert (info.count, info.bytes) == (1, 4)
    assert info.mode == 0o600


def test_capacity(name):
    with weave.Registry(name, create=True, capacity=2) as r:
        assert r.info().max_entries == 2
        r[1] = b""
        r[2] = b""
        with pytest.raises(OSError) as e:
            r[3] = b""
        assert "key 3" in str(e.value) and name in str(e.value)


def test_named_shared_between_handles(name):
    with weave.Registry(name, create=True) as a, weave.Registry(name) as b:
        a[1] = b"shared"
        assert b[1] == b"shared"
        assert a.id == b.id
        assert a.name == name and b.name == name


def test_persist_and_unlink(name):
    with weave.Registry(name, create=True, persist=True) as r:
        r[1] = b"kept"
    with weave.Registry(name) as r:
        assert r[1] == b"kept"
    weave.unlink(name)
    with pytest.raises(FileNotFoundError):
        weave.Registry(name)
    with pytest.raises(FileNotFoundError) as e:
        weave.unlink(name)
    assert name in str(e.value)


def test_without_persist_goes_with_last_user(name):
    with weave.Registry(name, create=True) as r:
        r[1] = b"x"
    with pytest.raises(FileNotFoundError):
        weave.Registry(name)


def test_mode(name):
    with weave.Registry(name, create=True, mode=0o640) as r:
        assert r.info().mode == 0o640


def test_readonly(name):
    with weave.Registry(name, create=True) as rw:
        rw[1] = b"a"
        with weave.Registry(name, readonly=True) as ro:
            assert ro.readonly and not rw.readonly
            assert ro[1] == b"a"
            for change in (lambda: ro.__setitem__(1, b"b"),
                           lambda: ro.__delitem__(1),
                           lambda: ro.write(1, b"b"),
                           lambda: ro.resize(1, 0),
                           ro.clear):
                with pytest.raises(PermissionError) as e:
                    change()
                assert "read-only" in str(e.value)
            assert rw[1] == b"a"


def test_reopen(reg):
    reg[1] = b"a"
    with reg.reopen() as other, reg.reopen(readonly=True) as ro:
        assert other.id == reg.id and other[1] == b"a"
        assert ro.readonly
        with pytest.raises(PermissionError):
            ro[1] = b"b"


def test_close_context_manager_and_repr(name):
    r = weave.Registry(name, create=True)
    assert name in repr(r) and not r.closed
    with r:
        pass
    assert r.closed and "closed" in repr(r)
    r.close()                               # twice is fine
    for op in (lambda: r[1], lambda: r.__setitem__(1, b""), len, r.fileno,
               lambda: r.view(1), lambda: r.lock(1), r.reopen):
        with pytest.raises(ValueError, match="closed"):
            op() if op is not len else len(r)
    with pytest.raises(ValueError):
        with r:
            pass
    anon = weave.Registry()
    assert "anonymous" in repr(anon)
    anon.close()


def test_fileno(reg):
    import os
    import stat
    assert stat.S_ISCHR(os.fstat(reg.fileno()).st_mode)
    with reg.reopen() as other:
        assert other.fileno() != reg.fileno()


def test_registries_are_not_hashable_nor_copyable(reg):
    import copy
    with pytest.raises(TypeError):
        hash(reg)
    with pytest.raises(TypeError):
        copy.copy(reg)
