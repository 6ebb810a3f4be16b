// SPDX-License-Identifier: LGPL-2.1-or-later
// Documented misuse fails cleanly: no crash, no hang, no lock left held.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from '../index.js'
import { sleep, runNode, run, fixture } from './helpers.js'

test('close() while operations wait: they reject with ERR_WEAVE_CLOSED', async () => {
  const holder = new Registry()
  const r = new Registry(holder.data)
  let release
  const held = holder.lock(1, () => new Promise((resolve) => { release = resolve }))
  await sleep(10)
  const pending = [r.lock(1, async () => 'never'), r.get(1), r.set(1, 'x'),
    r.delete(1), r.wait(2, 0)]
  const queued = r.lock(1, async () => 'never') // in r's own queue
  const settled = Promise.allSettled([...pending, queued])
  await sleep(50)
  r.close()
  for (const res of await settled) {
    assert.equal(res.status, 'rejected')
    assert.equal(res.reason.code, 'ERR_WEAVE_CLOSED')
    assert.match(res.reason.message, /registry #\d+/)
  }
  release()
  await held
  // r's waiting lock never got in the way.
  const again = new Registry(holder.data)
  assert.equal(await again.lock(1, async () => 'free', { timeout: 1000 }), 'free')
  again.close()
  holder.close()
})

test('close() inside a lock callback and inside an event listener', async () => {
  const r = new Registry()
  await assert.rejects(r.lock(1, async (entry) => {
    r.close()
    await entry.set('x')
  }), { code: 'ERR_WEAVE_CLOSED' })
  const r2 = new Registry()
  const other = new Registry(r2.data)
  let calls = 0
  r2.on('set', () => { calls++; r2.close() })
  await new Promise((resolve) => setImmediate(resolve))
  await other.set(1, 1)
  await other.set(2, 2)
  await sleep(50)
  assert.equal(calls, 1)
  other.close()
})

test('a listener that throws is an uncaught exception, not a crash', async () => {
  const res = await runNode('throwing-listener.js')
  assert.equal(res.stdout, 'caught boom\n')
  assert.equal(res.code, 0, res.stderr)
})

test('registries dropped without close() are collected', async () => {
  const res = await runNode('gc.js', [], {})
  assert.equal(res.code, 0, res.stderr)
  assert.equal(res.stdout, 'collected\n')
})

test('an entry used after its callback, lock() with bad arguments', async () => {
  const r = new Registry()
  const entry = await r.lock(1, async (e) => e)
  await assert.rejects(entry.set(1), { code: 'ERR_WEAVE_UNLOCKED' })
  await assert.rejects(entry.get(), { code: 'ERR_WEAVE_UNLOCKED' })
  await assert.rejects(entry.delete(), { code: 'ERR_WEAVE_UNLOCKED' })
  await assert.rejects(r.lock(1), { code: 'ERR_INVALID_ARG_TYPE' })
  // A callback that returns a non-promise is fine.
  assert.equal(await r.lock(1, () => 5), 5)
  r.close()
})

test('close() rejects lock() calls queued behind a callback that never ends', async () => {
  const r = new Registry()
  r.lock(1, () => new Promise(() => {})) // never settles
  await sleep(10)
  const queued = r.lock(1, async () => 'never')
  const res = Promise.race([queued.then(() => 'resolved', (err) => err),
    sleep(2000).then(() => 'still pending')])
  r.close()
  const err = await res
  assert.equal(err.code, 'ERR_WEAVE_CLOSED', String(err))
  assert.equal(err.message,
    `ERR_WEAVE_CLOSED: the registry is closed, lock key 1 in ${r.label}`)
})

test('a SIGRTMIN+7 handler installed before the addon keeps working', async () => {
  const res = await run(process.execPath,
    ['--no-deprecation', fixture('signal-chain.js')])
  assert.equal(res.code, 0, res.stderr)
  assert.equal(res.stdout, '0 1\n')
})
