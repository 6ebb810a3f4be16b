// SPDX-License-Identifier: LGPL-2.1-or-later
// Worker threads: the README example, a counter under lock, teardown.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Registry } from '../index.js'
import { fixture, runExample, pkg } from './helpers.js'

test('the README example (main.js + worker.js) runs', async () => {
  const out = await runExample('main.js')
  assert.match(out, /foo: 'bar'/)
  assert.match(out, /array: Uint8Array\(4\) \[ 0, 0, 0, 0 \]/)
})

test('8 workers increment a counter under lock: the exact total', async () => {
  const registry = new Registry(10)
  await registry.set(1, 0)
  const n = 50
  const workers = Array.from({ length: 8 }, () =>
    new Worker(fixture('counter-worker.js'),
      { workerData: { data: registry.data, n } }))
  await Promise.all(workers.map(async (w) => {
    const [msg] = await once(w, 'message')
    assert.equal(msg, 'done')
    await once(w, 'exit')
  }))
  assert.equal(await registry.get(1), 8 * n)
  registry.close()
})

test('workers see each other\'s events and waits', async () => {
  const registry = new Registry()
  const src = `
    import { workerData } from 'node:worker_threads'
    import { Registry } from ${JSON.stringify(pathToFileURL(join(pkg, 'index.js')).href)}
    const r = new Registry(workerData)
    for (let i = 1; i <= 20; i++) await r.set(1, i)
    r.close()`
  const seen = []
  registry.on('set', (ev) => seen.push(ev.gen))
  await new Promise((resolve) => setImmediate(resolve))
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`),
    { workerData: registry.data })
  await once(w, 'exit')
  for (let i = 0; i < 100 && (await registry.get(1)) !== 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.equal(await registry.get(1), 20)
  await registry.wait(1, seen.at(-1) ?? 0, 500)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.ok(seen.length >= 1)
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1])
  assert.equal(seen.at(-1), registry.gen(1))
  registry.close()
})

test('a worker terminated while it waits for a lock: no crash, lock free', async () => {
  const registry = new Registry()
  let release
  const held = registry.lock(1, () => new Promise((resolve) => { release = resolve }))
  const src = `
    import { workerData, parentPort } from 'node:worker_threads'
    import { Registry } from ${JSON.stringify(pathToFileURL(join(pkg, 'index.js')).href)}
    const r = new Registry(workerData)
    parentPort.postMessage('waiting')
    await Promise.all([r.lock(1, async () => {}), r.wait(2, 0), r.get(1)])`
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`),
    { workerData: registry.data })
  await once(w, 'message')
  await new Promise((resolve) => setTimeout(resolve, 50))
  await w.terminate()
  release()
  await held
  const other = new Registry(registry.data)
  assert.equal(await other.lock(1, async () => 'free', { timeout: 1000 }), 'free')
  other.close()
  registry.close()
})
