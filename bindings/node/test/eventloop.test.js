// SPDX-License-Identifier: LGPL-2.1-or-later
// Waiting never blocks the event loop nor libuv's thread pool.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Registry } from '../index.js'
import { sleep, until } from './helpers.js'

const WAITS = 200

// [ticks of a 20 ms interval timer in 1.5 s, the ticks it should have]
async function ticksIn () {
  const period = 20
  let n = 0
  const t0 = performance.now()
  const iv = setInterval(() => { n++ }, period)
  await sleep(1500)
  clearInterval(iv)
  return [n, Math.floor((performance.now() - t0) / period)]
}

test(`the loop keeps ticking with ${WAITS} pending lock waits`, async (t) => {
  const [base, baseExpected] = await ticksIn()
  const holder = new Registry(WAITS * 2)
  const r = new Registry(holder.data)
  const keys = Array.from({ length: WAITS }, (_, i) => i + 1)
  for (const k of keys) await holder.set(k, k) // lockInfo() needs entries
  let release
  const gate = new Promise((resolve) => { release = resolve })
  // The holder's file locks every key; r waits for each in the kernel.
  const held = keys.map((k) => holder.lock(k, () => gate))
  await until(() => keys.every((k) => holder.lockInfo(k).lock === 'exclusive'))
  let granted = 0
  const waits = keys.map((k) => r.lock(k, async () => { granted++ }))
  // A get behind an exclusive lock and a wait on a gen wait too.
  const get = r.get(1)
  const wait = r.wait(WAITS + 1, 0)
  // Every waiter is asleep in the kernel.
  await until(() => keys.every((k) => holder.lockInfo(k).waiters >= 1),
    20_000, 'the waiters')
  assert.equal(holder.lockInfo(1).waiters, 2) // the lock and the get

  // A 20 ms timer keeps firing at >= 90% of its rate: of its nominal
  // rate, or under an emulated or loaded CPU, of the rate it had just
  // before with nothing waiting (the baseline), whichever is lower.
  const [ticks, expected] = await ticksIn()
  // libuv's pool is free: file reads complete meanwhile, each at once.
  const self = fileURLToPath(import.meta.url)
  let slowest = 0
  for (let i = 0; i < 20; i++) {
    const t1 = performance.now()
    await readFile(self)
    slowest = Math.max(slowest, performance.now() - t1)
  }
  t.diagnostic(`${ticks} of ${expected} timer ticks ` +
    `(${(100 * ticks / expected).toFixed(0)}%; baseline ${base} of ` +
    `${baseExpected}), slowest of 20 file reads ${slowest.toFixed(1)} ms, ` +
    `with ${WAITS} lock waits, a get and a wait pending`)
  const rate = Math.min(expected, base * expected / baseExpected)
  assert.ok(ticks >= 0.9 * rate,
    `${ticks} ticks, expected ${expected}, baseline ${base} of ${baseExpected}`)
  assert.ok(slowest < 1000, `a file read took ${slowest} ms`)
  assert.equal(granted, 0)

  release()
  await Promise.all(held)
  await Promise.all(waits)
  assert.equal(granted, WAITS)
  assert.equal(await get, 1)
  await holder.set(WAITS + 1, 'moved')
  assert.equal(await wait, 'ok')
  holder.close()
  r.close()
})
