// SPDX-License-Identifier: LGPL-2.1-or-later
// Entry locks: registry.lock(key, callback, options).
//
// The kernel's lock belongs to the registry's open file: every Registry
// object (each worker thread's, each process's) has a file of its own, so
// it competes for the lock with the others in the kernel's FIFO. Within
// one Registry object, lock() calls on the same key take turns in call
// order here first (the file cannot hold the lock twice), then one at a
// time ask the kernel.
import { AsyncLocalStorage } from 'node:async_hooks'
import { weaveError } from './errors.js'
import { native } from './native.js'

// The keys (per registry) whose lock the current async context holds:
// lock() of one of them from inside its own callback would wait for
// itself, so it fails with EDEADLK instead.
export const held = new AsyncLocalStorage()

// The longest delay setTimeout() takes (2^31-1 ms, about 24.8 days; a
// longer one is 1 ms).
const TIMER_MAX = 2 ** 31 - 1

// Calls fn() at performance.now() >= deadlineMs, however far; returns
// what cancels it.
export function atDeadline (deadlineMs, fn) {
  let timer
  const arm = () => {
    const left = Math.max(0, deadlineMs - performance.now())
    timer = left > TIMER_MAX ? setTimeout(arm, TIMER_MAX) : setTimeout(fn, left)
  }
  arm()
  return () => clearTimeout(timer)
}

// Per registry: key (bigint) -> { waiting: [] } while some lock() of the
// key is in progress.
export class TurnQueue {
  #queues = new Map()

  // Resolves with a release function once the caller's turn has come;
  // rejects with timedOut() at the deadline, with closed() at close().
  turn (k, deadlineMs, signal, timedOut, closed) {
    let q = this.#queues.get(k)
    const release = () => {
      const next = q.waiting.shift()
      if (next) next.grant()
      else this.#queues.delete(k)
    }
    if (!q) {
      q = { waiting: [] }
      this.#queues.set(k, q)
      return Promise.resolve(release)
    }
    return new Promise((resolve, reject) => {
      let cancelTimer
      const w = {}
      const leave = () => {
        const i = q.waiting.indexOf(w)
        if (i >= 0) q.waiting.splice(i, 1)
        cancelTimer?.()
        signal?.removeEventListener('abort', onAbort)
      }
      const onAbort = () => { leave(); reject(signal.reason) }
      w.grant = () => { leave(); resolve(release) }
      w.close = () => { leave(); reject(closed()) }
      if (deadlineMs >= 0) {
        cancelTimer = atDeadline(deadlineMs,
          () => { leave(); reject(timedOut()) })
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      q.waiting.push(w)
    })
  }

  // The registry is closed: every caller still waiting for its turn
  // fails now, not when the callbacks before it settle (they may never).
  close () {
    for (const q of this.#queues.values()) {
      for (const w of [...q.waiting]) w.close()
    }
  }
}

// What the lock callback gets. Its methods act on the locked entry and
// fail with ERR_WEAVE_UNLOCKED once the callback has settled.
//
// An exclusive holder's entry also offers `bytes`: a writable Uint8Array
// over the entry's own pages (the kernel's writable view), mapped at its
// first use and detached (napi_detach_arraybuffer) before the unlock, so
// that no JS code can touch the mapping the kernel then revokes.
export class LockedEntry {
  #registry
  #handle
  #live = true
  #bytes = null
  #token = null

  constructor (registry, handle, key, shared, ownerDied) {
    this.#registry = registry
    this.#handle = handle
    this.key = key
    this.shared = shared
    this.ownerDied = ownerDied
  }

  // The entry's bytes, writable in place; its size as of the first use
  // (after a set() of another size, read it again).
  get bytes () {
    this.#check('bytes')
    if (this.shared) {
      throw weaveError('EPERM', 'writable bytes need an exclusive lock',
        'bytes', this.#registry.label, this.key)
    }
    if (!this.#bytes) {
      const { buffer, token } = native.mapRw(this.#handle, this.key)
      this.#token = token
      this.#bytes = new Uint8Array(buffer)
    }
    return this.#bytes
  }

  #unmap () {
    if (this.#token) native.unmapRw(this.#token, this.#bytes.buffer)
    this.#token = null
    this.#bytes = null
  }

  get locked () { return this.#live }

  #check (op) {
    if (!this.#live) {
      throw weaveError('ERR_WEAVE_UNLOCKED',
        'the lock callback has settled', op, this.#registry.label, this.key)
    }
  }

  async get (options) {
    this.#check('get')
    return this.#registry.get(this.key, options)
  }

  async set (value, options) {
    this.#check('set')
    this.#unmap()
    return this.#registry.set(this.key, value, options)
  }

  async delete (options) {
    this.#check('delete')
    this.#unmap()
    return this.#registry.delete(this.key, options)
  }

  get gen () {
    this.#check('gen')
    return this.#registry.gen(this.key)
  }

  // Before the unlock: the bytes go first.
  revoke () {
    this.#live = false
    this.#unmap()
  }
}
