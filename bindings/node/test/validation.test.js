// SPDX-License-Identifier: LGPL-2.1-or-later
// Keys, values and options that are not accepted, and how they fail.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from '../index.js'
import { uniqueName } from './helpers.js'


const BAD_RANGE = [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 0n, -1n,
  2n ** 64n]
const BAD_TYPE = ['1', null, undefined, {}, [1], true, Symbol('k')]

test('keys: 0, negatives, fractions, NaN, unsafe, too big -> RangeError', async () => {
  const r = new Registry()
  for (const key of BAD_RANGE) {
    const range = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
    await assert.rejects(r.set(key, 1), range, `set(${String(key)})`)
    await assert.rejects(r.get(key), range)
    await assert.rejects(r.delete(key), range)
    await assert.rejects(r.lock(key, async () => {}), range)
    await assert.rejects(r.wait(key, 0), range)
    assert.throws(() => r.has(key), range)
    assert.throws(() => r.stat(key), range)
    assert.throws(() => r.gen(key), range)
    assert.throws(() => r.watch(key), range)
  }
  for (const key of BAD_TYPE) {
    if (key === undefined) continue // watch(undefined) watches every key
    const type = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
    await assert.rejects(r.set(key, 1), type)
    await assert.rejects(r.get(key), type)
    assert.throws(() => r.has(key), type)
    assert.throws(() => r.watch(key), type)
  }
  // The extremes that are keys.
  await r.set(Number.MAX_SAFE_INTEGER, 'max safe')
  await r.set(2n ** 64n - 1n, 'max')
  assert.equal(await r.get(2n ** 64n - 1n), 'max')
  assert.equal(await r.get(BigInt(Number.MAX_SAFE_INTEGER)), 'max safe')
  assert.ok([...r.keys()].includes(2n ** 64n - 1n))
  r.close()
})

test('values: what structuredClone refuses, non-bytes with codec raw', async () => {
  const r = new Registry()
  // v8.serialize() throws an Error (Node 20) or a DataCloneError.
  await assert.rejects(r.set(1, () => {}), { message: /could not be cloned/ })
  await assert.rejects(r.set(1, { s: Symbol('x') }),
    { message: /could not be cloned/ })
  assert.equal(r.has(1), false)
  for (const v of ['text', 5, { a: 1 }, null, undefined, [1, 2]]) {
    await assert.rejects(r.set(1, v, { codec: 'raw' }),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  // Bytes that are not a v8.serialize() value, read as structured.
  await r.set(2, Buffer.from('plain bytes from C'), { codec: 'raw' })
  await assert.rejects(r.get(2), (err) => {
    assert.equal(err.code, 'ERR_WEAVE_DECODE')
    assert.match(err.message, /get key 2 in registry #\d+/)
    return true
  })
  assert.throws(() => [...r.values()], { code: 'ERR_WEAVE_DECODE' })
  r.close()
})

test('options: codec, timeout, signal, capacity, name, mode', async () => {
  const r = new Registry()
  const v = { code: 'ERR_INVALID_ARG_VALUE' }
  await assert.rejects(r.set(1, 1, { codec: 'json' }), v)
  await assert.rejects(r.get(1, { codec: 5 }), v)
  assert.throws(() => new Registry(0, { codec: 'bson' }), v)
  await assert.rejects(r.get(1, { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(r.lock(1, async () => {}, { timeout: NaN }),
    { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(r.lock(1, async () => {}, { timeout: '5' }),
    { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(r.wait(1, 0, -5), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(r.wait(1, -1), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(r.wait(1, '0'), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(r.lock(1, async () => {}, { signal: {} }),
    { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(r.lock(1, 'not a function'),
    { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(r.set(1, 1, 'options'), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(r.set(1, 1, { ifGen: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Registry(-1), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Registry(1.5), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Registry(true), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Registry({ some: 'object' }),
    { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Registry(''), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new Registry('a/b'), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new Registry('x'.repeat(256)),
    { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new Registry('m', { mode: 0o1000 }),
    { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Registry('m', { capacity: -3 }),
    { code: 'ERR_OUT_OF_RANGE' })
  // A capacity beyond the module's limit is the kernel's EINVAL.
  assert.throws(() => new Registry(2 ** 40), { code: 'EINVAL' })
  r.close()
})

test('attaching: a fd that is no registry, data of another process', async () => {
  // stdin is no weave file.
  assert.throws(() => new Registry({ fd: 0, keepFd: true }), { code: 'EBADF' })
  assert.throws(() => new Registry({ fd: 987 }), { code: 'EBADF' })
  const r = new Registry()
  const foreign = { ...r.data, pid: process.pid + 1 }
  assert.throws(() => new Registry(foreign), { code: 'ERR_WEAVE_FOREIGN_DATA' })
  // The fd of the data was closed and is reused by another registry.
  const data = r.data
  r.close()
  const other = new Registry()
  if (other.fd === data.fd) {
    assert.throws(() => new Registry(data), { code: 'ESTALE' })
  } else {
    assert.throws(() => new Registry(data), { code: 'EBADF' })
  }
  other.close()
})

test('a name with a NUL is refused, not cut short to another name', () => {
  const name = uniqueName('nul')
  const r = new Registry(name, { persist: true })
  const v = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
  assert.throws(() => new Registry(`${name}\0other`), v)
  assert.throws(() => Registry.unlink(`${name}\0other`), v)
  // The registry whose name is the part before the NUL is still there.
  const again = new Registry(name, { create: false })
  assert.equal(again.id, r.id)
  again.close()
  r.close()
  Registry.unlink(name)
})
