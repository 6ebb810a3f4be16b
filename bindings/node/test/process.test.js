// SPDX-License-Identifier: LGPL-2.1-or-later
// Two processes: by name, and an anonymous registry passed by fd; C
// (weavectl, a libweave program) producing for JS and consuming from it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Registry } from '../index.js'
import { uniqueName, fixture, run, runNode, runExample, sleep } from './helpers.js'

test('two processes on a named registry', async () => {
  const name = uniqueName('two-proc')
  const r = new Registry(name)
  const peer = runNode('named-peer.js', [name])
  await new Promise((resolve) => setTimeout(resolve, 100))
  await r.set(1, 'hello')
  const res = await peer
  assert.equal(res.code, 0, res.stderr)
  assert.equal(await r.get(2), 'peer saw hello')
  Registry.unlink(name)
  r.close()
})

test('an anonymous registry handed to a child as fd 3 (spawn stdio)', async () => {
  const r = new Registry(100)
  await r.set(1, { n: 21 })
  const child = spawn(process.execPath, [fixture('fd-child.js')],
    { stdio: ['ignore', 'inherit', 'inherit', r.fd] })
  assert.equal(await r.wait(2, 0, 20_000), 'ok')
  const reply = await r.get(2)
  assert.equal(reply.doubled, 42)
  assert.equal(reply.fd3Closed, true)
  assert.equal(reply.id, String(r.id))
  // The child's lock is its own file's: this process waits for it, until
  // the child, which holds it until key 4 appears, lets it go. Key 3 may
  // exist already ('not-equal'): the child set it before this wait began.
  assert.notEqual(await r.wait(3, 0, 20_000), 'timed-out')
  const t0 = performance.now()
  const locked = r.lock(9, async () => {})
  await sleep(50)
  await r.set(4, 'go')
  await locked
  assert.ok(performance.now() - t0 > 40)
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
  r.close()
})

test('C producer -> JS consumer: raw bytes as they are', async () => {
  const name = uniqueName('c-to-js')
  const r = new Registry(name, { codec: 'raw' })
  const got = new Promise((resolve) => r.once('set', resolve))
  const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 10, 13])
  const res = await run('weavectl', ['set', name, '5'], { input: bytes })
  assert.equal(res.code, 0, res.stderr)
  const ev = await got
  assert.equal(ev.key, 5)
  assert.equal(ev.size, bytes.length)
  assert.deepEqual(await r.get(5), bytes)
  // Doubles written by C are read as a Float64Array.
  const f = new Float64Array([3.25, -1e300])
  await run('weavectl', ['set', name, '6'], { input: Buffer.from(f.buffer) })
  const b = await r.get(6)
  assert.deepEqual(new Float64Array(b.buffer.slice(b.byteOffset,
    b.byteOffset + b.length)), f)
  Registry.unlink(name)
  r.close()
})

test('JS producer -> C consumer: raw bytes as they are', async () => {
  const name = uniqueName('js-to-c')
  const r = new Registry(name, { codec: 'raw' })
  const u32 = new Uint32Array([0xdeadbeef, 7, 0])
  await r.set(7, u32)
  const res = await run('weavectl', ['get', name, '7'])
  assert.equal(res.code, 0, res.stderr)
  // weavectl get writes the value's bytes to stdout as they are.
  assert.deepEqual(res.bytes, Buffer.from(u32.buffer))
  // A structured value is v8.serialize()'s bytes, version tag first.
  await r.set(8, { a: 1 }, { codec: 'structured' })
  const res2 = await run('weavectl', ['get', name, '8'])
  assert.equal(res2.code, 0)
  assert.equal(res2.bytes[0], 0xff)
  Registry.unlink(name)
  r.close()
})

test('the two-process example (parent.js + child.js) runs', async () => {
  const out = await runExample('parent.js')
  assert.match(out, /^child got \{ foo: 'bar', array: Uint8Array\(4\) \[ 0, 0, 0, 0 \] \}$/m)
  assert.match(out, /^parent got \{ reply: 'BAR' \}$/m)
})
