// SPDX-License-Identifier: LGPL-2.1-or-later
// The Node.js binding's figures (issue [node], make bench-node):
//   1. a set in one thread reaching another (its 'set' event, or its
//      wait()), against postMessage between the same two threads: round
//      trips between the main thread and a worker, halved;
//   2. await get() of a 64 B raw value against C weave_get();
//   3. await get() of a 1 KiB object against structuredClone() of it plus
//      a C weave_get() of its 1 KiB of bytes.
// Each figure is the median of REPS repetitions. Prints a Markdown table.
//
// Usage: node bench.mjs [CGET]   (CGET: the cget program, default ./cget)
import { Worker } from 'node:worker_threads'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import v8 from 'node:v8'
import { Registry } from '../index.js'

const REPS = 7
const cget = process.argv[2] ?? new URL('./cget', import.meta.url).pathname
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

// --- 1. worker to worker ---------------------------------------------------

// Worker code: 'ping' answers each value it hears on key 1 (or message)
// on key 2 (or by message); the other side measures round trips.
const workerSrc = `
const { workerData, parentPort } = require('node:worker_threads')
const { mode, data, url, port } = workerData
import(url).then(async ({ Registry }) => {
  const r = data && new Registry(data)
  if (mode === 'event') {
    r.on('set', async (ev) => {
      if (ev.key !== 1) return
      const v = await r.get(1, { codec: 'raw' })
      await r.set(2, v, { codec: 'raw' })
      if (v[0] === 255) r.close()
    })
  } else if (mode === 'wait') {
    (async () => {
      let gen = 0
      for (;;) {
        await r.wait(1, gen)
        gen = r.gen(1)
        const v = await r.get(1, { codec: 'raw' })
        await r.set(2, v, { codec: 'raw' })
        if (v[0] === 255) break
      }
      r.close()
    })()
  } else {
    port.on('message', (v) => {
      port.postMessage(v)
      if (v === 255) port.close()
    })
  }
  parentPort.postMessage('ready')
})`

async function roundTrips (mode, n) {
  const url = new URL('../index.js', import.meta.url).href
  const r = mode === 'message' ? null : new Registry(0, { codec: 'raw' })
  const { port1, port2 } = new MessageChannel()
  const w = new Worker(workerSrc, {
    eval: true,
    workerData: { mode, data: r?.data, url, port: port2 },
    transferList: [port2]
  })
  await once(w, 'message')
  // 'event': this side hears the answer as an event too.
  let answered = null
  if (mode === 'event') {
    r.on('set', (ev) => { if (ev.key === 2 && answered) answered() })
  }
  const times = []
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const v = (rep === REPS - 1 && i === n - 1) ? 255 : i & 127
      if (mode === 'message') {
        port1.postMessage(v)
        await once(port1, 'message')
      } else if (mode === 'event') {
        const heard = new Promise((resolve) => { answered = resolve })
        await r.set(1, Buffer.from([v]))
        await heard
      } else {
        const gen = r.gen(2)
        await r.set(1, Buffer.from([v]))
        await r.wait(2, gen)
      }
    }
    times.push((performance.now() - t0) * 1e6 / n / 2) // one way, ns
  }
  port1.close()
  await once(w, 'exit')
  r?.close()
  return median(times)
}

// --- 2 and 3. get ----------------------------------------------------------

async function getNs (r, key, n, opts) {
  const times = []
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await r.get(key, opts)
    times.push((performance.now() - t0) * 1e6 / n)
  }
  return median(times)
}

function cloneNs (obj, n) {
  const times = []
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) structuredClone(obj)
    times.push((performance.now() - t0) * 1e6 / n)
  }
  return median(times)
}

const cNs = (size, n) =>
  Number(execFileSync(cget, [String(size), String(n), String(REPS)]))

const obj = { name: 'entry', tags: ['a', 'b', 'c'], n: 42 }
while (v8.serialize(obj).length < 1024) obj[`k${Object.keys(obj).length}`] = 'x'.repeat(24)
const objBytes = v8.serialize(obj).length

const r = new Registry()
await r.set(1, Buffer.alloc(64, 7), { codec: 'raw' })
await r.set(2, obj)
const N = Number(process.env.WEAVE_BENCH_N ?? 20000)
const get64 = await getNs(r, 1, N, { codec: 'raw' })
const c64 = cNs(64, N)
const getObj = await getNs(r, 2, N)
const clone = cloneNs(obj, N)
const c1k = cNs(objBytes, N)
r.close()

const ev = await roundTrips('event', 500)
const wt = await roundTrips('wait', 500)
const pm = await roundTrips('message', 500)

const f = (ns) => ns >= 10000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`
const x = (a, b) => `${(a / b).toFixed(2)}x`
console.log('| figure | weave | baseline | ratio | goal |')
console.log('|---|---|---|---|---|')
console.log(`| set in one thread -> 'set' event in another, one way | ${f(ev)} | postMessage ${f(pm)} | ${x(ev, pm)} | <= 1.0x |`)
console.log(`| set in one thread -> wait() resolves in another, one way | ${f(wt)} | postMessage ${f(pm)} | ${x(wt, pm)} | <= 1.0x |`)
console.log(`| await get() of a 64 B raw value | ${f(get64)} | C weave_get() ${f(c64)} | ${x(get64, c64)} | <= 3x |`)
console.log(`| await get() of a ${objBytes} B object | ${f(getObj)} | structuredClone ${f(clone)} + C get ${f(c1k)} | ${x(getObj, clone + c1k)} | <= 1.5x |`)
