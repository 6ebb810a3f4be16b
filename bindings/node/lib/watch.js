// SPDX-License-Identifier: LGPL-2.1-or-later
// registry.watch(key?): an async iterator of change events.
import { keyId } from './args.js'

export class Watcher {
  #queue = []
  #pending = null
  #done = false
  #error = null
  #onEnd

  constructor (key, signal, onEnd) {
    this.key = key === undefined ? undefined : keyId(key)
    this.#onEnd = onEnd
    if (signal) {
      const onAbort = () => this.end(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      this.signal = signal
      this.onAbort = onAbort
    }
  }

  wants (k) {
    return this.key === undefined || k === 0n || this.key === k
  }

  push (ev) {
    if (this.#done) return
    if (this.#pending) {
      const p = this.#pending
      this.#pending = null
      p.resolve({ value: ev, done: false })
    } else {
      this.#queue.push(ev)
    }
  }

  // Ends the iteration: done, or rejected with @err (an abort).
  end (err) {
    if (this.#done) return
    this.#done = true
    this.#error = err ?? null
    this.signal?.removeEventListener('abort', this.onAbort)
    this.#onEnd(this)
    if (this.#pending) {
      const p = this.#pending
      this.#pending = null
      if (err) p.reject(err)
      else p.resolve({ value: undefined, done: true })
    }
  }

  next () {
    if (this.#queue.length) {
      return Promise.resolve({ value: this.#queue.shift(), done: false })
    }
    if (this.#done) {
      if (this.#error) {
        const err = this.#error
        this.#error = null
        return Promise.reject(err)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
    })
  }

  return () {
    this.#queue.length = 0
    this.end()
    return Promise.resolve({ value: undefined, done: true })
  }

  throw (err) {
    this.end()
    return Promise.reject(err)
  }

  [Symbol.asyncIterator] () {
    return this
  }
}
