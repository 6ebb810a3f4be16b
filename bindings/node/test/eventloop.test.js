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

  // A 10 ms timer keeps firing at >= 90% of its rate.
  const period = 10
  const span = 1000
  let ticks = 0
  const iv = setInterval(() => { ticks++ }, period)
  // libuv's pool is free: file reads complete meanwhile.
  const self = fileURLToPath(import.meta.url)
  let reads = 0
  const t0 = performance.now()
  while (performance.now() - t0 < span) {
    await readFile(self)
    reads++
    await sleep(50)
  }
  const elapsed = performance.now() - t0
  clearInterval(iv)
  const expected = elapsed / period
  t.diagnostic(`${ticks} of ${expected.toFixed(0)} timer ticks ` +
    `(${(100 * ticks / expected).toFixed(0)}%), ${reads} file reads, ` +
    `${WAITS} lock waits + a get + a wait pending`)
  assert.ok(ticks >= 0.9 * expected,
    `${ticks} ticks in ${elapsed.toFixed(0)} ms, expected ${expected.toFixed(0)}`)
  assert.ok(reads >= 10, `${reads} reads`)
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
