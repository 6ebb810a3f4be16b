// SPDX-License-Identifier: LGPL-2.1-or-later
// Registry: the original library's map of shared values, on /dev/weave.
import { Buffer } from 'node:buffer'
import { EventEmitter } from 'node:events'
import { closeSync } from 'node:fs'
import {
  native, OP, OPEN, EV, SET_NOREPLACE, SET_NOCREATE, OP_IF_GEN, LOCK_SHARED
} from './native.js'
import {
  checkKey, keyId, checkGen, checkTimeout, checkSignal, checkOptions
} from './args.js'
import { checkCodec, encode, decode } from './codec.js'
import {
  weaveError, closedError, invalidArgType, outOfRange, invalidArgValue
} from './errors.js'
import { held, TurnQueue, LockedEntry, atDeadline } from './lock.js'
import { Watcher } from './watch.js'

// The events a listener or a watch() subscribes to; UNLOCKED is not one.
const WATCH_MASK = EV.NEW | EV.CHANGED | EV.RESIZED | EV.DELETED |
  EV.CLEARED | EV.UNLINKED
const SET_BITS = EV.NEW | EV.CHANGED | EV.RESIZED
const EVENT_NAMES = new Set(['set', 'delete', 'change', 'clear', 'unlink',
  'overflow'])
// Marks registry.data, so that a plain object is not taken for one.
const DATA_TAG = 'weave-registry'

export class Registry extends EventEmitter {
  #h
  #name
  #id
  #label
  #codec
  #readOnly
  #closed = false
  #turns = new TurnQueue()
  #watchers = new Set()
  #listening = false
  #ref = true

  // new Registry()                 anonymous, the module's capacity
  // new Registry(capacity)         anonymous, at most capacity entries
  // new Registry(registry.data)    the same registry (a worker thread)
  // new Registry({ fd })           the registry of an inherited fd
  // new Registry(name, options)    by name, across processes
  constructor (what, options) {
    super()
    const opts = checkOptions(options)
    let codec = checkCodec(opts.codec)
    if (what === undefined || typeof what === 'number') {
      const cap = what ?? opts.capacity ?? 0
      if (!Number.isSafeInteger(cap) || cap < 0) {
        throw outOfRange('capacity', 'an integer >= 0', cap)
      }
      this.#h = native.open(null, 0, 0, cap)
    } else if (typeof what === 'string') {
      this.#h = this.#openNamed(what, opts)
      this.#name = what
    } else if (what !== null && typeof what === 'object' &&
               Number.isInteger(what.fd)) {
      if (what.tag === DATA_TAG && what.pid !== process.pid) {
        if (what.name === undefined) {
          throw weaveError('ERR_WEAVE_FOREIGN_DATA',
            `the data of an anonymous registry is for process ${what.pid}` +
            ' only: hand the fd to another process (child_process.spawn' +
            ' stdio) and use new Registry({ fd })', 'open',
            `registry #${what.id}`)
        }
        this.#h = this.#openNamed(what.name,
          { create: false, readOnly: what.readOnly, ...opts })
        this.#name = what.name
      } else {
        const id = what.tag === DATA_TAG ? BigInt(what.id) : 0n
        const ro = Boolean(opts.readOnly ?? what.readOnly)
        this.#h = native.adopt(what.fd, id, ro, what.name)
        this.#name = what.name
        // An inherited fd is the parent's open file: keeping it would keep
        // the parent's locks alive after the parent died.
        if (what.tag !== DATA_TAG && opts.keepFd !== true) closeSync(what.fd)
      }
      codec ??= what.codec
    } else {
      throw invalidArgType('registry',
        'a capacity, a name, registry.data or { fd }', what)
    }
    const info = native.info(this.#h)
    this.#id = BigInt(info.id)
    this.#readOnly = (info.flags & 4) !== 0
    this.#codec = codec ?? 'structured'
    this.#label = this.#name === undefined
      ? `registry #${this.#id}`
      : `registry '${this.#name}'`
    // 'newListener' comes before the listener is added: listen at once,
    // so that a change made right after on() returns is heard.
    this.on('newListener', (ev) => {
      if (EVENT_NAMES.has(ev)) this.#updateEvents(true)
    })
    this.on('removeListener', (ev) => {
      if (EVENT_NAMES.has(ev)) this.#updateEvents()
    })
  }

  #openNamed (name, opts) {
    if (name.length === 0 || name.includes('/') || name.includes('\0') ||
        Buffer.byteLength(name) > 255) {
      throw invalidArgValue('name', name,
        'must be 1 to 255 bytes without "/" or NUL')
    }
    const mode = opts.mode ?? 0o600
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw outOfRange('options.mode', 'an integer from 0 to 0o777', mode)
    }
    const cap = opts.capacity ?? 0
    if (!Number.isSafeInteger(cap) || cap < 0) {
      throw outOfRange('options.capacity', 'an integer >= 0', cap)
    }
    let flags = 0
    if (opts.create ?? !opts.readOnly) flags |= OPEN.CREATE
    if (opts.exclusive) flags |= OPEN.EXCL
    if (opts.persist) flags |= OPEN.PERSIST
    if (opts.readOnly) flags |= OPEN.RDONLY
    return native.open(name, flags, mode, cap)
  }

  // Remove the name (like shm_unlink); users keep the registry.
  static unlink (name) {
    if (typeof name !== 'string') throw invalidArgType('name', 'a string', name)
    native.unlink(name)
  }

  get id () { return this.#id }
  get name () { return this.#name }
  get label () { return this.#label }
  get codec () { return this.#codec }
  get readOnly () { return this.#readOnly }
  get closed () { return this.#closed }

  // The file descriptor, to hand to a child process through spawn's stdio.
  get fd () { return native.fd(this.#handle('fd')) }

  // What a worker thread passes to new Registry() to attach (structured-
  // cloneable). The worker reopens the registry through this process's
  // fd (WEAVE_IOC_REOPEN), so its locks and events are its own.
  get data () {
    const h = this.#handle('data')
    return {
      tag: DATA_TAG,
      pid: process.pid,
      fd: native.fd(h),
      id: this.#id,
      name: this.#name,
      readOnly: this.#readOnly,
      codec: this.#codec
    }
  }

  info () {
    return native.info(this.#handle('info'))
  }

  get size () {
    return native.count(this.#handle('size'))
  }

  has (key) {
    return native.has(this.#handle('has', key), checkKey(key))
  }

  // { gen, size, birth } of the entry, or undefined.
  stat (key) {
    return native.stat(this.#handle('stat', key), checkKey(key)) ?? undefined
  }

  // The entry's lock state from the mapped index, a snapshot: { lock:
  // 0 | sharers | 'exclusive', waiters, ownerDied }, or undefined when
  // the entry does not exist.
  lockInfo (key) {
    return native.lockInfo(this.#handle('lockInfo', key), checkKey(key)) ??
      undefined
  }

  // The entry's gen; 0 when it does not exist (what wait() compares).
  gen (key) {
    return this.stat(key)?.gen ?? 0
  }

  async set (key, value, options) {
    checkKey(key)
    const opts = checkOptions(options)
    const codec = checkCodec(opts.codec) ?? this.#codec
    let flags = 0
    if (opts.ifGen !== undefined) {
      checkGen(opts.ifGen, 'options.ifGen')
      flags |= OP_IF_GEN
    }
    if (opts.onlyIfAbsent) flags |= SET_NOREPLACE
    if (opts.onlyIfPresent) flags |= SET_NOCREATE
    const bytes = encode(codec, value)
    return this.#op('set', OP.SET, key, bytes, flags, opts.ifGen, -1,
      checkSignal(opts.signal))
  }

  // Not an async function: a get that completes without sleeping (the
  // usual case) settles with one promise and no extra hop.
  get (key, options) {
    try {
      checkKey(key)
      const opts = checkOptions(options)
      const codec = checkCodec(opts.codec) ?? this.#codec
      const r = this.#op('get', OP.GET, key, undefined, 0, 0,
        checkTimeout(opts.timeout, 'options.timeout'), checkSignal(opts.signal))
      if (r instanceof Promise) {
        return r.then((bytes) => decode(codec, bytes, this.#label, key))
      }
      return Promise.resolve(decode(codec, r, this.#label, key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async delete (key, options) {
    checkKey(key)
    const opts = checkOptions(options)
    let flags = 0
    if (opts.ifGen !== undefined) {
      checkGen(opts.ifGen, 'options.ifGen')
      flags |= OP_IF_GEN
    }
    return this.#op('delete', OP.DELETE, key, undefined, flags, opts.ifGen,
      -1, checkSignal(opts.signal))
  }

  // Removes every entry; resolves with how many there were.
  async clear (options) {
    const opts = checkOptions(options)
    return this.#op('clear', OP.CLEAR, undefined, undefined, 0, 0, -1,
      checkSignal(opts.signal))
  }

  // Like Atomics.waitAsync on the entry's gen: 'not-equal' at once when
  // it is not gen (a missing entry has gen 0), else 'ok' once it moves,
  // or 'timed-out'.
  async wait (key, gen, timeout, options) {
    checkKey(key)
    checkGen(gen)
    const ms = checkTimeout(timeout)
    const opts = checkOptions(options)
    return this.#op('wait', OP.WAIT, key, undefined, 0, gen, ms,
      checkSignal(opts.signal))
  }

  // Synchronous iteration, like a Map's. Values are read without waiting:
  // an entry another file holds locked exclusively is read through a
  // read-only mapping (its last complete value), never sleeping.
  keys () {
    return native.keys(this.#handle('keys'))[Symbol.iterator]()
  }

  * values () {
    for (const [, v] of this.entries()) yield v
  }

  * entries () {
    const h = this.#handle('entries')
    for (const key of native.keys(h)) {
      if (this.#closed) throw closedError('entries', this.#label)
      let bytes = native.tryOp(h, OP.GET, key, undefined, 0, 0, -1)
      if (bytes === undefined) bytes = native.readView(h, key)
      if (bytes === null) continue // deleted during the walk
      yield [key, decode(this.#codec, bytes, this.#label, key)]
    }
  }

  [Symbol.iterator] () {
    return this.entries()
  }

  forEach (callback, thisArg) {
    if (typeof callback !== 'function') {
      throw invalidArgType('callback', 'a function', callback)
    }
    for (const [key, value] of this.entries()) {
      callback.call(thisArg, value, key, this)
    }
  }

  // Lock the entry (which need not exist) and run callback(entry); the
  // lock is released when the callback's promise settles, when it
  // throws, and when options.signal aborts (then lock() rejects with the
  // signal's reason at once and the entry stops working).
  async lock (key, callback, options) {
    checkKey(key)
    if (typeof callback !== 'function') {
      throw invalidArgType('callback', 'a function', callback)
    }
    const opts = checkOptions(options)
    const shared = Boolean(opts.shared)
    const ms = checkTimeout(opts.timeout, 'options.timeout')
    const signal = checkSignal(opts.signal)
    const h = this.#handle('lock', key)
    signal?.throwIfAborted()
    const k = keyId(key)
    const mine = held.getStore()
    if (mine?.get(this)?.has(k)) {
      throw weaveError('EDEADLK', 'the calling callback holds this lock',
        'lock', this.#label, key)
    }
    const deadline = ms < 0 ? -1 : performance.now() + ms
    const timedOut = () => weaveError('ETIMEDOUT', 'timed out', 'lock',
      this.#label, key)
    const release = await this.#turns.turn(k, deadline, signal, timedOut,
      () => closedError('lock', this.#label, key))
    try {
      if (this.#closed) throw closedError('lock', this.#label, key)
      const flags = shared ? LOCK_SHARED : 0
      let ownerDied = native.tryOp(h, OP.LOCK, key, undefined, flags, 0, -1)
      if (ownerDied === undefined) {
        const left = deadline < 0 ? -1 : deadline - performance.now()
        if (left === 0 || (deadline >= 0 && left <= 0)) throw timedOut()
        ownerDied = await this.#op('lock', OP.LOCK, key, undefined, flags, 0,
          left, signal)
      }
      if (ownerDied && !opts.recover) {
        native.unlock(h, key, false)
        throw weaveError('EOWNERDEAD',
          'the previous holder died holding the lock (options.recover)',
          'lock', this.#label, key)
      }
      return await this.#runLocked(h, key, k, shared, ownerDied, callback,
        signal, mine)
    } finally {
      release()
    }
  }

  async #runLocked (h, key, k, shared, ownerDied, callback, signal, mine) {
    const entry = new LockedEntry(this, h, key, shared, ownerDied)
    const heldHere = new Map(mine)
    heldHere.set(this, new Set(mine?.get(this)).add(k))
    let ok = false
    let onAbort
    try {
      const run = held.run(heldHere, () =>
        Promise.resolve().then(() => callback(entry)))
      let result
      if (signal) {
        const aborted = new Promise((resolve, reject) => {
          onAbort = () => reject(signal.reason)
          signal.addEventListener('abort', onAbort, { once: true })
        })
        run.catch(() => {})
        result = await Promise.race([run, aborted])
      } else {
        result = await run
      }
      ok = true
      return result
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort)
      entry.revoke()
      // Repaired by the callback: the owner-died mark goes.
      if (!this.#closed) native.unlock(h, key, ok && ownerDied)
    }
  }

  // An async iterator of change events, of one key or of all.
  watch (key, options) {
    if (key !== undefined) checkKey(key)
    const opts = checkOptions(options)
    const signal = checkSignal(opts.signal)
    this.#handle('watch', key)
    const w = new Watcher(key, signal, (it) => {
      this.#watchers.delete(it)
      this.#updateEvents()
    })
    if (signal?.aborted) {
      w.end(signal.reason)
      return w
    }
    this.#watchers.add(w)
    this.#updateEvents()
    return w
  }

  // Whether listening keeps the process alive (it does by default, as a
  // listening socket does); an idle registry never does.
  unref () {
    this.#ref = false
    if (!this.#closed) native.pollRef(this.#h, false)
    return this
  }

  ref () {
    this.#ref = true
    if (!this.#closed) native.pollRef(this.#h, true)
    return this
  }

  close () {
    if (this.#closed) return
    this.#closed = true
    for (const w of this.#watchers) w.end()
    this.#listening = false
    native.close(this.#h)
    this.#turns.close()
  }

  #handle (op, key) {
    if (this.#closed) throw closedError(op, this.#label, key)
    return this.#h
  }

  // One operation: a try that never sleeps, then a waiter thread.
  #op (name, op, key, bytes, flags, gen, ms, signal) {
    const h = this.#handle(name, key)
    signal?.throwIfAborted()
    const r = native.tryOp(h, op, key, bytes, flags, gen, -1)
    if (r !== undefined) return r
    if (ms === 0) {
      if (op === OP.WAIT) return 'timed-out'
      throw weaveError('ETIMEDOUT', 'timed out', name, this.#label, key)
    }
    const [promise, id] = native.startOp(h, op, key, bytes, flags, gen, ms)
    // The kernel's get has no timeout (lock and wait have theirs): a get
    // behind another file's exclusive lock gives up here.
    const timed = op === OP.GET && ms > 0
    if (!signal && !timed) return promise
    return new Promise((resolve, reject) => {
      let cancelTimer
      const settled = () => {
        cancelTimer?.()
        signal?.removeEventListener('abort', onAbort)
      }
      const giveUp = (err) => {
        native.cancel(id)
        settled()
        reject(err)
      }
      const onAbort = () => giveUp(signal.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timed) {
        cancelTimer = atDeadline(performance.now() + ms, () => giveUp(
          weaveError('ETIMEDOUT', 'timed out', name, this.#label, key)))
      }
      promise.then((v) => {
        settled()
        resolve(v)
      }, (err) => {
        settled()
        reject(err)
      })
    })
  }

  #updateEvents (adding = false) {
    if (this.#closed) return
    let want = adding || this.#watchers.size > 0
    for (const ev of EVENT_NAMES) want ||= this.listenerCount(ev) > 0
    if (want === this.#listening) return
    this.#listening = want
    if (want) {
      native.listen(this.#h, (records) => this.#dispatch(records))
      native.pollRef(this.#h, this.#ref)
      native.watch(this.#h, 0, WATCH_MASK, 0)
    } else {
      native.unwatch(this.#h, 0)
      native.listen(this.#h, null)
    }
  }

  #dispatch (records) {
    for (const rec of records) {
      if (this.#closed || !this.#listening) return
      const ev = this.#event(rec)
      if (!ev) continue
      const k = keyId(rec.key)
      for (const w of this.#watchers) if (w.wants(k)) w.push(ev)
      this.emit(ev.type, ev)
      if (ev.key !== 0) this.emit('change', ev)
    }
  }

  // A record's event. Records of one key coalesce (weave(4)): when a
  // record has both a change and a delete, the entry's state now says
  // which came last.
  #event (rec) {
    const { key, gen, size, mask } = rec
    if (key === 0) {
      if (mask & EV.OVERFLOW) return { type: 'overflow', key, gen, mask }
      if (mask & EV.CLEARED) return { type: 'clear', key, gen, mask }
      if (mask & EV.UNLINKED) return { type: 'unlink', key, gen, mask }
      return null
    }
    let type
    if ((mask & EV.DELETED) && (mask & SET_BITS)) {
      const st = native.stat(this.#h, key)
      type = st && st.gen === gen ? 'set' : 'delete'
    } else if (mask & EV.DELETED) {
      type = 'delete'
    } else if (mask & SET_BITS) {
      type = 'set'
    } else {
      return null
    }
    return { type, key, gen, size, mask }
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Registry.prototype[Symbol.dispose] = Registry.prototype.close
}

// The original library hooked a worker's messages up to the registry;
// here the kernel tells every thread and process of changes, so there is
// nothing to hook. Kept for code written for it.
export function bind (registry, worker) {
  if (!(registry instanceof Registry)) {
    throw invalidArgType('registry', 'an instance of Registry', registry)
  }
  if (worker !== undefined &&
      (worker === null || typeof worker.postMessage !== 'function')) {
    throw invalidArgType('worker', 'a Worker', worker)
  }
  return registry
}
