// SPDX-License-Identifier: LGPL-2.1-or-later
// The Map-like API, every method and option.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry, bind, CODECS } from '../index.js'
import { bind as bindNode } from '../node.js'
import { uniqueName } from './helpers.js'

test('an anonymous registry: set, get, has, size, delete, clear', async () => {
  const r = new Registry(1_000)
  assert.equal(r.name, undefined)
  assert.equal(typeof r.id, 'bigint')
  assert.equal(r.label, `registry #${r.id}`)
  assert.equal(r.size, 0)
  const value = { foo: 'bar', array: new Uint8Array(new SharedArrayBuffer(4)) }
  value.array[2] = 7
  const gen = await r.set(1, value)
  assert.ok(gen > 0)
  const got = await r.get(1)
  assert.equal(got.foo, 'bar')
  assert.deepEqual([...got.array], [0, 0, 7, 0])
  assert.equal(r.has(1), true)
  assert.equal(r.has(2), false)
  assert.equal(await r.get(2), undefined)
  assert.equal(r.size, 1)
  await r.set(2, [1, 'two', { three: 3n }])
  assert.deepEqual(await r.get(2), [1, 'two', { three: 3n }])
  assert.equal(r.size, 2)
  assert.equal(await r.delete(1), true)
  assert.equal(await r.delete(1), false)
  assert.equal(r.has(1), false)
  await r.set(3, null)
  assert.equal(await r.get(3), null)
  assert.equal(await r.clear(), 2)
  assert.equal(r.size, 0)
  r.close()
})

test('structured values: what structuredClone takes', async () => {
  const r = new Registry()
  const values = [
    'suh', 42, -0.5, 2n ** 70n, true, undefined,
    new Date(1e12), /re+/gi, new Map([[1, { a: 1 }]]), new Set(['x']),
    Buffer.from('buf'), new Float64Array([1.5, -2]), new ArrayBuffer(3),
    { nested: { deep: [1, [2, [3]]] } }, new Error('boom')
  ]
  for (const [i, v] of values.entries()) {
    await r.set(i + 1, v)
    const back = await r.get(i + 1)
    if (v instanceof Error) {
      assert.equal(back.message, 'boom')
    } else if (Buffer.isBuffer(v)) {
      assert.deepEqual(Buffer.from(back), v)
    } else {
      assert.deepEqual(back, v)
    }
  }
  r.close()
})

test('keys, values, entries, iterator, forEach', async () => {
  const r = new Registry()
  const want = new Map([[1, 'a'], [5, { b: 2 }], [2n ** 60n, 'big']])
  for (const [k, v] of want) await r.set(k, v)
  const keys = [...r.keys()]
  assert.equal(keys.length, 3)
  assert.deepEqual(new Set(keys), new Set([1, 5, 2n ** 60n]))
  assert.equal(typeof keys.find((k) => typeof k === 'bigint'), 'bigint')
  assert.deepEqual(new Set([...r.values()].map((v) => JSON.stringify(v))),
    new Set([...want.values()].map((v) => JSON.stringify(v))))
  const entries = new Map(r.entries())
  assert.deepEqual(entries.get(5), { b: 2 })
  assert.equal(entries.get(2n ** 60n), 'big')
  const iterated = []
  for (const [k, v] of r) iterated.push([k, v])
  assert.equal(iterated.length, 3)
  const seen = []
  const self = {}
  r.forEach(function (v, k, map) {
    assert.equal(this, self)
    assert.equal(map, r)
    seen.push(k)
  }, self)
  assert.equal(seen.length, 3)
  assert.throws(() => r.forEach(5), { code: 'ERR_INVALID_ARG_TYPE' })
  r.close()
})

test('set options: ifGen, onlyIfAbsent, onlyIfPresent', async () => {
  const r = new Registry()
  await assert.rejects(r.set(1, 'x', { onlyIfPresent: true }),
    { code: 'ENOENT', key: 1 })
  const g1 = await r.set(1, 'x', { onlyIfAbsent: true })
  await assert.rejects(r.set(1, 'y', { onlyIfAbsent: true }), { code: 'EEXIST' })
  await assert.rejects(r.set(1, 'y', { ifGen: g1 + 100 }), { code: 'ESTALE' })
  const g2 = await r.set(1, 'y', { ifGen: g1 })
  assert.ok(g2 > g1)
  assert.equal(r.gen(1), g2)
  assert.equal(await r.get(1), 'y')
  await r.set(1, 'z', { onlyIfPresent: true })
  await assert.rejects(r.delete(1, { ifGen: g1 }), { code: 'ESTALE' })
  assert.equal(await r.delete(1, { ifGen: r.gen(1) }), true)
  assert.equal(await r.set(9, 'new', { ifGen: 0 }) > 0, true)
  r.close()
})

test('stat, gen and info', async () => {
  const r = new Registry(10)
  assert.equal(r.stat(1), undefined)
  assert.equal(r.gen(1), 0)
  const gen = await r.set(1, Buffer.alloc(100), { codec: 'raw' })
  const st = r.stat(1)
  assert.equal(st.gen, gen)
  assert.equal(st.size, 100)
  assert.equal(st.birth, gen)
  const info = r.info()
  assert.equal(BigInt(info.id), r.id)
  assert.equal(info.count, 1)
  assert.equal(info.maxEntries, 10)
  assert.equal(info.bytes, 100)
  r.close()
})

test('raw codec: exactly the bytes, as a Buffer', async () => {
  assert.deepEqual(CODECS, ['structured', 'raw'])
  const r = new Registry(0, { codec: 'raw' })
  assert.equal(r.codec, 'raw')
  await r.set(1, new Uint8Array([1, 2, 3]))
  assert.deepEqual(await r.get(1), Buffer.from([1, 2, 3]))
  const f = new Float64Array([1.5, 2.5, 3.5])
  await r.set(2, f.subarray(1))
  const back = await r.get(2)
  assert.equal(back.length, 16)
  assert.deepEqual(new Float64Array(back.buffer.slice(back.byteOffset,
    back.byteOffset + 16)), new Float64Array([2.5, 3.5]))
  await r.set(3, new ArrayBuffer(5))
  assert.equal((await r.get(3)).length, 5)
  await r.set(4, new DataView(new SharedArrayBuffer(8), 2, 3))
  assert.equal((await r.get(4)).length, 3)
  await r.set(5, Buffer.alloc(0))
  assert.equal((await r.get(5)).length, 0)
  // A big value (more than the first guess of a get).
  const big = Buffer.alloc(1 << 20, 0xab)
  await r.set(6, big)
  assert.ok(big.equals(await r.get(6)))
  // Per call: a structured value in a raw registry.
  await r.set(7, { a: 1 }, { codec: 'structured' })
  assert.deepEqual(await r.get(7, { codec: 'structured' }), { a: 1 })
  assert.equal((await r.get(7))[0], 0xff) // v8.serialize()'s version tag
  r.close()
})

test('capacity and size limits give ENOSPC and EFBIG', async () => {
  const r = new Registry(2, { codec: 'raw' })
  await r.set(1, Buffer.from('a'))
  await r.set(2, Buffer.from('b'))
  await assert.rejects(r.set(3, Buffer.from('c')), (err) => {
    assert.equal(err.code, 'ENOSPC')
    assert.match(err.message, /^ENOSPC: .*, set key 3 in registry #\d+$/)
    assert.equal(err.registry, r.label)
    assert.equal(err.key, 3)
    assert.equal(typeof err.errno, 'number')
    return true
  })
  const max = r.info().maxEntrySize
  await assert.rejects(r.set(1, Buffer.alloc(max + 1)), { code: 'EFBIG' })
  r.close()
})

test('named registries: create, exclusive, persist, readOnly, mode', async () => {
  const name = uniqueName('named')
  assert.throws(() => new Registry(name, { create: false }), (err) => {
    assert.equal(err.code, 'ENOENT')
    assert.match(err.message, new RegExp(`open '${name}'`))
    return true
  })
  const a = new Registry(name, { exclusive: true, mode: 0o600, capacity: 5 })
  assert.equal(a.name, name)
  assert.equal(a.label, `registry '${name}'`)
  assert.equal(a.info().mode, 0o600)
  assert.equal(a.info().maxEntries, 5)
  assert.throws(() => new Registry(name, { exclusive: true }), { code: 'EEXIST' })
  const b = new Registry(name)
  await a.set(1, 'from a')
  assert.equal(await b.get(1), 'from a')
  // The data of a named registry sent to another process attaches by name.
  const c = new Registry({ ...a.data, pid: process.pid + 1 })
  assert.equal(c.id, a.id)
  assert.equal(await c.get(1), 'from a')
  c.close()
  const ro = new Registry(name, { readOnly: true })
  assert.equal(ro.readOnly, true)
  assert.equal(await ro.get(1), 'from a')
  await assert.rejects(ro.set(1, 'no'), { code: 'EBADF' })
  await assert.rejects(ro.lock(1, async () => {}), { code: 'EBADF' })
  Registry.unlink(name)
  assert.throws(() => Registry.unlink(name), { code: 'ENOENT' })
  assert.throws(() => new Registry(name, { create: false }), { code: 'ENOENT' })
  // The users keep it.
  assert.equal(await b.get(1), 'from a')
  for (const r of [a, b, ro]) r.close()

  const p = uniqueName('persist')
  new Registry(p, { persist: true }).close()
  const again = new Registry(p, { create: false })
  again.close()
  Registry.unlink(p)
})

test('registry.data is structured-cloneable and attaches', async () => {
  const r = new Registry(100)
  const data = structuredClone(r.data)
  assert.equal(data.id, r.id)
  const r2 = new Registry(data)
  assert.equal(r2.id, r.id)
  assert.notEqual(r2.fd, r.fd) // its own open file
  await r.set(1, 'shared')
  assert.equal(await r2.get(1), 'shared')
  assert.equal(r2.codec, 'structured')
  const raw = new Registry(new Registry(0, { codec: 'raw' }).data)
  assert.equal(raw.codec, 'raw')
  raw.close()
  r.close()
  r2.close()
})

test('bind() is a no-op kept for the original API', () => {
  const r = new Registry()
  assert.equal(bind(r), r)
  assert.equal(bindNode(r, { postMessage () {} }), r)
  assert.throws(() => bind({}), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => bind(r, 5), { code: 'ERR_INVALID_ARG_TYPE' })
  r.close()
})

test('wait: not-equal, ok, timed-out', async () => {
  const r = new Registry()
  assert.equal(await r.wait(1, 5), 'not-equal') // a missing key has gen 0
  assert.equal(await r.wait(1, 0, 30), 'timed-out')
  assert.equal(await r.wait(1, 0, 0), 'timed-out')
  const other = new Registry(r.data)
  const waiting = r.wait(1, 0, 10_000)
  setTimeout(() => other.set(1, 'moved'), 30)
  assert.equal(await waiting, 'ok')
  const gen = r.gen(1)
  assert.equal(await r.wait(1n, BigInt(gen), 20), 'timed-out')
  const ac = new AbortController()
  const aborted = r.wait(1, gen, undefined, { signal: ac.signal })
  ac.abort()
  await assert.rejects(aborted, { name: 'AbortError' })
  other.close()
  r.close()
})

test('close: idempotent, then every use throws ERR_WEAVE_CLOSED', async () => {
  const r = new Registry()
  await r.set(1, 1)
  r.close()
  r.close()
  assert.equal(r.closed, true)
  for (const use of [() => r.size, () => r.has(1), () => r.keys(),
    () => [...r.values()], () => r.data, () => r.fd, () => r.info(),
    () => r.stat(1), () => r.watch()]) {
    assert.throws(use, { code: 'ERR_WEAVE_CLOSED' })
  }
  const uses = await Promise.allSettled([r.set(1, 2), r.get(1), r.delete(1),
    r.clear(), r.lock(1, async () => {}), r.wait(1, 0)])
  for (const res of uses) {
    assert.equal(res.status, 'rejected')
    assert.equal(res.reason.code, 'ERR_WEAVE_CLOSED')
    assert.match(res.reason.message, /registry #\d+/)
  }
})
