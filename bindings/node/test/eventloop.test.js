// SPDX-License-Identifier: LGPL-2.1-or-later
// Waiting never blocks the event loop nor libuv's thread pool.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Registry } from '../index.js'
import { sleep } from './helpers.js'

const WAITS = 200

test(`the loop keeps ticking with ${WAITS} pending lock waits`, async (t) => {
  const holder = new Registry(WAITS * 2)
  const r = new Registry(holder.data)
  const keys = Array.from({ length: WAITS }, (_, i) => i + 1)
  let release
  const gate = new Promise((resolve) => { release = resolve })
  // The holder's file locks every key; r waits for each in the kernel.
  const held = keys.map((k) => holder.lock(k, () => gate))
  await sleep(20)
  let granted = 0
  const waits = keys.map((k) => r.lock(k, async () => { granted++ }))
  // A get behind an exclusive lock and a wait on a gen wait too.
  const get = r.get(1)
  const wait = r.wait(WAITS + 1, 0)
  await sleep(100) // every waiter is asleep in the kernel by now

  // A 20 ms timer keeps firing at >= 90% of its rate.
  const period = 20
  const span = 1500
  let ticks = 0
  const t0 = performance.now()
  const iv = setInterval(() => { ticks++ }, period)
  await sleep(span)
  clearInterval(iv)
  const elapsed = performance.now() - t0
  const expected = Math.floor(elapsed / period)
  // libuv's pool is free: file reads complete meanwhile, each at once.
  const self = fileURLToPath(import.meta.url)
  let slowest = 0
  for (let i = 0; i < 20; i++) {
    const t1 = performance.now()
    await readFile(self)
    slowest = Math.max(slowest, performance.now() - t1)
  }
  t.diagnostic(`${ticks} of ${expected} timer ticks ` +
    `(${(100 * ticks / expected).toFixed(0)}%), slowest of 20 file reads ` +
    `${slowest.toFixed(1)} ms, with ${WAITS} lock waits, a get and a ` +
    'wait pending')
  assert.ok(ticks >= 0.9 * expected,
    `${ticks} ticks in ${elapsed.toFixed(0)} ms, expected ${expected}`)
  assert.ok(slowest < 1000, `a file read took ${slowest} ms`)
  assert.equal(granted, 0)

  release()
  await Promise.all(held)
  await Promise.all(waits)
  assert.equal(granted, WAITS)
  assert.equal(await get, undefined)
  await holder.set(WAITS + 1, 'moved')
  assert.equal(await wait, 'ok')
  holder.close()
  r.close()
})
