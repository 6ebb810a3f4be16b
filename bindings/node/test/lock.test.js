// SPDX-License-Identifier: LGPL-2.1-or-later
// registry.lock(): exclusion, shared locks, timeouts, aborts, FIFO order,
// a holder that dies, and the entry given to the callback.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Registry } from '../index.js'
import { uniqueName, sleep, fixture, until, run } from './helpers.js'

test('exclusive: one callback at a time, the value it returns', async () => {
  const r = new Registry()
  const r2 = new Registry(r.data) // another open file, as a worker has
  let inside = 0
  let most = 0
  const body = (who) => async (entry) => {
    inside++
    most = Math.max(most, inside)
    const n = (await entry.get()) ?? 0
    await sleep(5)
    await entry.set(n + 1)
    inside--
    return who
  }
  const results = await Promise.all([
    r.lock(1, body('a')), r2.lock(1, body('b')), r.lock(1, body('c')),
    r2.lock(1, body('d'))
  ])
  assert.deepEqual(results, ['a', 'b', 'c', 'd'])
  assert.equal(most, 1)
  assert.equal(await r.get(1), 4)
  r.close()
  r2.close()
})

test('shared: holders of several files at once, exclusive waits', async () => {
  const r = new Registry()
  const r2 = new Registry(r.data)
  const r3 = new Registry(r.data)
  let release
  const gate = new Promise((resolve) => { release = resolve })
  let sharers = 0
  const s1 = r.lock(1, async (e) => {
    assert.equal(e.shared, true)
    sharers++
    await gate
  }, { shared: true })
  const s2 = r2.lock(1, async () => { sharers++; await gate }, { shared: true })
  await sleep(20)
  assert.equal(sharers, 2)
  let excl = false
  const x = r3.lock(1, async () => { excl = true })
  await sleep(30)
  assert.equal(excl, false)
  release()
  await Promise.all([s1, s2, x])
  assert.equal(excl, true)
  for (const reg of [r, r2, r3]) reg.close()
})

test('released when the callback throws or rejects', async () => {
  const r = new Registry()
  await assert.rejects(r.lock(1, () => { throw new Error('sync') }),
    { message: 'sync' })
  await assert.rejects(r.lock(1, async () => { throw new Error('async') }),
    { message: 'async' })
  const r2 = new Registry(r.data)
  assert.equal(await r2.lock(1, async () => 'free', { timeout: 100 }), 'free')
  r.close()
  r2.close()
})

test('timeout: ETIMEDOUT naming registry and key, 0 tries once', async () => {
  const name = uniqueName('lock-timeout')
  const r = new Registry(name)
  const r2 = new Registry(name)
  let release
  const held = r.lock(7, () => new Promise((resolve) => { release = resolve }))
  await sleep(10)
  const t0 = performance.now()
  await assert.rejects(r2.lock(7, async () => {}, { timeout: 80 }), (err) => {
    assert.equal(err.code, 'ETIMEDOUT')
    assert.equal(err.message,
      `ETIMEDOUT: timed out, lock key 7 in registry '${name}'`)
    return true
  })
  assert.ok(performance.now() - t0 >= 70)
  await assert.rejects(r2.lock(7, async () => {}, { timeout: 0 }),
    { code: 'ETIMEDOUT' })
  // Within one registry object, the turn queue times out too.
  await assert.rejects(r.lock(7, async () => {}, { timeout: 30 }),
    { code: 'ETIMEDOUT' })
  // A timeout longer than setTimeout() takes (2^31-1 ms) is not 1 ms.
  const long = r.lock(7, async () => 'long', { timeout: 2 ** 32 })
  const early = await Promise.race([long.then(() => 'settled',
    (err) => err.code), sleep(100).then(() => 'waiting')])
  assert.equal(early, 'waiting')
  release()
  await held
  assert.equal(await long, 'long')
  assert.equal(await r2.lock(7, async () => 'ok', { timeout: 0 }), 'ok')
  Registry.unlink(name)
  r.close()
  r2.close()
})

test('abort: while waiting in the kernel, in the queue, and inside', async () => {
  const r = new Registry()
  const r2 = new Registry(r.data)
  let release
  const held = r.lock(1, () => new Promise((resolve) => { release = resolve }))
  await sleep(10)
  // Waiting in the kernel (another file holds it).
  const ac = new AbortController()
  const waiting = r2.lock(1, async () => 'never', { signal: ac.signal })
  await sleep(30)
  ac.abort()
  await assert.rejects(waiting, { name: 'AbortError' })
  // Waiting in this registry's own queue.
  const ac2 = new AbortController()
  const queued = r.lock(1, async () => 'never', { signal: ac2.signal })
  ac2.abort(new Error('my reason'))
  await assert.rejects(queued, { message: 'my reason' })
  // Already aborted.
  await assert.rejects(r2.lock(1, async () => {}, { signal: AbortSignal.abort() }),
    { name: 'AbortError' })
  release()
  await held
  // Nothing was left locked by the aborted waits.
  assert.equal(await r.lock(1, async () => 'free', { timeout: 0 }), 'free')
  assert.equal(await r2.lock(1, async () => 'free', { timeout: 0 }), 'free')
  // Inside the callback: the lock goes at once, the entry stops working.
  const ac3 = new AbortController()
  let entry
  const running = r.lock(1, async (e) => {
    entry = e
    await new Promise(() => {}) // never settles
  }, { signal: ac3.signal })
  await sleep(10)
  ac3.abort()
  await assert.rejects(running, { name: 'AbortError' })
  assert.equal(entry.locked, false)
  await assert.rejects(entry.set(1), { code: 'ERR_WEAVE_UNLOCKED' })
  assert.equal(await r2.lock(1, async () => 'free', { timeout: 0 }), 'free')
  r.close()
  r2.close()
})

test('the kernel hands the lock over in FIFO order', async () => {
  const r = new Registry()
  await r.set(1, 'x') // lockInfo() needs the entry
  const files = Array.from({ length: 5 }, () => new Registry(r.data))
  let release
  const held = r.lock(1, () => new Promise((resolve) => { release = resolve }))
  await until(() => r.lockInfo(1)?.lock === 'exclusive')
  const order = []
  const waits = []
  for (const [i, f] of files.entries()) {
    waits.push(f.lock(1, async () => { order.push(i); await sleep(2) }))
    // Each is queued in the kernel before the next asks.
    await until(() => r.lockInfo(1).waiters === i + 1, 10_000, `waiter ${i}`)
  }
  release()
  await Promise.all([held, ...waits])
  assert.deepEqual(order, [0, 1, 2, 3, 4])
  assert.deepEqual(r.lockInfo(1), { lock: 0, waiters: 0, ownerDied: false })
  assert.equal(r.lockInfo(2), undefined)
  for (const f of [r, ...files]) f.close()
})

test('get and set behind another file\'s exclusive lock wait for it', async () => {
  const r = new Registry()
  const r2 = new Registry(r.data)
  await r.set(1, 'before')
  let release
  const held = r.lock(1, async (e) => {
    await e.set('inside')
    await new Promise((resolve) => { release = resolve })
    await e.set('after')
  })
  await sleep(10)
  let got
  const get = r2.get(1).then((v) => { got = v })
  const set = r2.set(1, 'last')
  await sleep(50)
  assert.equal(got, undefined) // still waiting
  // Synchronous reads do not wait: the last complete value.
  assert.deepEqual([...r2.values()], ['inside'])
  release()
  await Promise.all([held, get, set])
  // Both waited for the unlock; which of the two went first is the
  // kernel's choice.
  assert.ok(got === 'after' || got === 'last', got)
  assert.equal(await r.get(1), 'last')
  r.close()
  r2.close()
})

test('a lock inside its own callback is EDEADLK, not a hang', async () => {
  const r = new Registry()
  await r.lock(1, async () => {
    await assert.rejects(r.lock(1, async () => {}), (err) => {
      assert.equal(err.code, 'EDEADLK')
      assert.match(err.message, /lock key 1 in registry #/)
      return true
    })
    // Another key is fine.
    assert.equal(await r.lock(2, async () => 'nested'), 'nested')
  })
  r.close()
})

test('the entry: key, shared, get/set/delete, gen, revoked after', async () => {
  const r = new Registry()
  let saved
  const out = await r.lock(5n, async (entry) => {
    saved = entry
    assert.equal(entry.key, 5n)
    assert.equal(entry.shared, false)
    assert.equal(entry.ownerDied, false)
    assert.equal(entry.locked, true)
    assert.equal(await entry.get(), undefined)
    const gen = await entry.set({ n: 1 })
    assert.equal(entry.gen, gen)
    assert.deepEqual(await entry.get(), { n: 1 })
    assert.equal(await entry.delete(), true)
    return 'done'
  })
  assert.equal(out, 'done')
  assert.equal(saved.locked, false)
  await assert.rejects(saved.get(), { code: 'ERR_WEAVE_UNLOCKED' })
  assert.throws(() => saved.gen, { code: 'ERR_WEAVE_UNLOCKED' })
  r.close()
})

test('a holder that died: EOWNERDEAD, or the callback with recover', async () => {
  const name = uniqueName('owner-died')
  const r = new Registry(name)
  const child = spawn(process.execPath, [fixture('lock-and-die.js'), name, '3'],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout, 'data')
  assert.equal(String(line), 'locked\n')
  await once(child, 'exit')
  await assert.rejects(r.lock(3, async () => 'no'), { code: 'EOWNERDEAD' })
  // Still marked: recover repairs it, and the mark goes.
  const seen = await r.lock(3, async (e) => e.ownerDied, { recover: true })
  assert.equal(seen, true)
  assert.equal(await r.lock(3, async (e) => e.ownerDied), false)
  Registry.unlink(name)
  r.close()
})

test('entry.bytes: written in place, detached at unlock', async () => {
  const r = new Registry(10, { codec: 'raw' })
  const other = new Registry(r.data)
  await r.set(1, Buffer.from('hello world'))
  let kept
  const gen = r.gen(1)
  await r.lock(1, (entry) => {
    const b = entry.bytes
    assert.equal(b.length, 11)
    assert.equal(Buffer.from(b).toString(), 'hello world')
    b.set(Buffer.from('HELLO'))
    assert.equal(entry.bytes, b) // the same mapping within the callback
    kept = b
  })
  // Detached: the copy the callback kept reaches nothing any more.
  assert.equal(kept.length, 0)
  assert.equal(kept.buffer.byteLength, 0)
  kept[0] = 1 // no effect, no crash
  assert.equal(Buffer.from(await other.get(1)).toString(), 'HELLO world')
  // One change, published at the unlock.
  assert.equal(BigInt(other.gen(1)), BigInt(gen) + 1n)
  // Shared holders get no writable bytes.
  await r.lock(1, (entry) => {
    assert.throws(() => entry.bytes, { code: 'EPERM' })
  }, { shared: true })
  // After the callback, the entry is unlocked for good.
  let saved
  await r.lock(1, (entry) => { saved = entry })
  assert.throws(() => saved.bytes, { code: 'ERR_WEAVE_UNLOCKED' })
  // A missing key has no bytes.
  await r.lock(2, (entry) => {
    assert.throws(() => entry.bytes, { code: 'ENOENT' })
  })
  r.close()
  other.close()
})

test('entry.bytes moved by transfer(): no crash, the entry is not written', async () => {
  const flags = typeof ArrayBuffer.prototype.transfer === 'function'
    ? []
    : ['--harmony-rab-gsab-transfer']
  const res = await run(process.execPath,
    [...flags, fixture('transfer-bytes.js')])
  assert.equal(res.signal, null, res.stderr)
  assert.equal(res.code, 0, res.stderr)
  if (res.stdout === 'skip\n') return
  assert.equal(res.stdout, '8192 1 7 7 9\n')
})

test('get() behind an exclusive lock honours options.timeout', async () => {
  const holder = new Registry()
  const r = new Registry(holder.data)
  await holder.set(1, 'v')
  let release
  const held = holder.lock(1, () => new Promise((resolve) => { release = resolve }))
  await sleep(10)
  const t0 = performance.now()
  const res = await Promise.race([
    r.get(1, { timeout: 50 }).then(() => 'resolved', (err) => err),
    sleep(3000).then(() => 'still waiting')])
  assert.equal(res.code, 'ETIMEDOUT', String(res))
  assert.equal(res.message, 'ETIMEDOUT: timed out, get key 1 in ' + r.label)
  assert.ok(performance.now() - t0 >= 45)
  // With a signal as well; and a timeout that is not reached.
  const ac = new AbortController()
  await assert.rejects(r.get(1, { timeout: 30, signal: ac.signal }),
    { code: 'ETIMEDOUT' })
  const later = r.get(1, { timeout: 5000 })
  await sleep(20)
  release()
  await held
  assert.equal(await later, 'v')
  assert.equal(await r.get(1, { timeout: 10 }), 'v')
  r.close()
  holder.close()
})
