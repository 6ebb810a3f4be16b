// SPDX-License-Identifier: LGPL-2.1-or-later
// Events: the EventEmitter side and watch(), their order and gens, and
// whether listening keeps a process alive.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from '../index.js'
import { sleep, until, runNode } from './helpers.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

test("'set', 'delete', 'change', 'clear' events", async () => {
  const r = new Registry()
  const other = new Registry(r.data)
  const seen = []
  for (const type of ['set', 'delete', 'change', 'clear']) {
    r.on(type, (ev) => seen.push([type, ev.type, ev.key]))
  }
  await tick()
  await other.set(1, 'a')
  await until(() => seen.length >= 2, 5000, 'set events')
  await other.delete(1)
  await until(() => seen.length >= 4, 5000, 'delete events')
  await other.set(2, 'b')
  await until(() => seen.length >= 6, 5000, 'second set')
  await other.clear()
  await until(() => seen.some(([t]) => t === 'clear'), 5000, 'clear event')
  assert.deepEqual(seen.slice(0, 6), [
    ['set', 'set', 1], ['change', 'set', 1],
    ['delete', 'delete', 1], ['change', 'delete', 1],
    ['set', 'set', 2], ['change', 'set', 2]
  ])
  assert.ok(seen.some(([t, type]) => t === 'delete' && type === 'delete'))
  r.close()
  other.close()
})

test('events of one key arrive in order with gens that never go back', async () => {
  const r = new Registry()
  const writer = new Registry(r.data)
  const gens = []
  const values = []
  r.on('set', (ev) => { if (ev.key === 1) gens.push(ev.gen) })
  await tick()
  for (let i = 1; i <= 300; i++) {
    values.push(await writer.set(1, i))
    if (i % 50 === 0) await sleep(1)
  }
  const last = values.at(-1)
  await until(() => gens.at(-1) === last, 5000, 'the last gen')
  for (let i = 1; i < gens.length; i++) {
    assert.ok(gens[i] > gens[i - 1], `gen ${gens[i]} after ${gens[i - 1]}`)
  }
  // Each event's gen is a gen some set returned (coalesced ones skip).
  const set = new Set(values)
  for (const g of gens) assert.ok(set.has(g))
  r.close()
  writer.close()
})

test('watch(key) and watch(): async iterators', async () => {
  const r = new Registry()
  const other = new Registry(r.data)
  const one = r.watch(1)
  const all = r.watch()
  // Records of one key coalesce until read: let each be read first.
  let changes = 0
  r.on('change', () => changes++)
  await tick()
  await other.set(2, 'x')
  await until(() => changes === 1)
  await other.set(1, 'y')
  await until(() => changes === 2)
  await other.delete(1)
  await until(() => changes === 3)
  const a = await one.next()
  assert.equal(a.value.type, 'set')
  assert.equal(a.value.key, 1)
  const b = await one.next()
  assert.equal(b.value.type, 'delete')
  const keys = []
  for await (const ev of all) {
    keys.push(ev.key)
    if (keys.length === 3) break // return() ends it
  }
  assert.deepEqual(keys, [2, 1, 1])
  assert.deepEqual(await all.next(), { value: undefined, done: true })
  // An abort ends an iteration with the signal's reason.
  const ac = new AbortController()
  const it = r.watch(5, { signal: ac.signal })
  const pending = it.next()
  ac.abort()
  await assert.rejects(pending, { name: 'AbortError' })
  // close() ends the others.
  const rest = one.next()
  r.close()
  assert.deepEqual(await rest, { value: undefined, done: true })
  other.close()
})

test('a change made right after on() returns is heard', async () => {
  const r = new Registry()
  const other = new Registry(r.data)
  const heard = new Promise((resolve) => r.once('set', resolve))
  other.set(1, 'at once') // no tick in between
  assert.equal((await heard).key, 1)
  r.close()
  other.close()
})

test('listening stops with the last listener and starts again', async () => {
  const r = new Registry()
  const other = new Registry(r.data)
  const seen = []
  const fn = (ev) => seen.push(ev.key)
  r.on('set', fn)
  await tick()
  await other.set(1, 1)
  await until(() => seen.length === 1)
  r.off('set', fn)
  await other.set(2, 2) // not heard, and not kept for later
  await sleep(30)
  r.on('set', fn)
  await tick()
  await other.set(3, 3)
  await until(() => seen.includes(3))
  assert.deepEqual(seen, [1, 3])
  r.close()
  other.close()
})

test('an idle registry, or an unref()ed listener, lets the process exit', async () => {
  for (const mode of ['idle', 'unref', 'closed']) {
    const t0 = Date.now()
    const res = await runNode('exit-check.js', [mode], { timeout: 20_000 })
    assert.equal(res.code, 0, `${mode}: ${res.stderr}`)
    assert.equal(res.stdout, `${mode} done\n`)
    assert.ok(Date.now() - t0 < 15_000)
  }
  // A referenced listener keeps it alive until the event comes.
  const res = await runNode('exit-check.js', ['listening'], { timeout: 20_000 })
  assert.equal(res.code, 0, res.stderr)
  assert.equal(res.stdout, 'listening done\ngot event\n')
})
