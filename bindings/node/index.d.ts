// SPDX-License-Identifier: LGPL-2.1-or-later
// Types of @weave-kernel/weave.
import { EventEmitter } from 'node:events'
import type { Worker } from 'node:worker_threads'

/** A key: a positive safe integer, or a bigint up to 2^64-1. */
export type Key = number | bigint
/** A gen: a number while exact, else a bigint. */
export type Gen = number | bigint
/** How values become an entry's bytes. */
export type Codec = 'structured' | 'raw'
export const CODECS: readonly Codec[]

/** What `registry.data` holds: structured-cloneable, for worker threads. */
export interface RegistryData {
  tag: 'weave-registry'
  pid: number
  fd: number
  id: bigint
  name?: string
  readOnly: boolean
  codec: Codec
}

export interface OpenOptions {
  /** Create the registry when missing (named; default true unless readOnly). */
  create?: boolean
  /** With create: fail with EEXIST when it exists. */
  exclusive?: boolean
  /** With create: the registry lives until unlinked, not until its last user. */
  persist?: boolean
  /** A read-only handle: writes and exclusive locks fail with EBADF. */
  readOnly?: boolean
  /** Permission bits of a registry this call creates (default 0o600). */
  mode?: number
  /** Most entries of a registry this call creates (0: the module's limit). */
  capacity?: number
  /** The registry's codec (default 'structured'). */
  codec?: Codec
  /** new Registry({ fd }): keep the fd open (default: it is closed). */
  keepFd?: boolean
}

export interface SetOptions {
  codec?: Codec
  /** Only if the entry's gen is this (0: only if it does not exist); else ESTALE. */
  ifGen?: Gen
  /** EEXIST when the key exists. */
  onlyIfAbsent?: boolean
  /** ENOENT when it does not. */
  onlyIfPresent?: boolean
  signal?: AbortSignal
}

export interface GetOptions {
  codec?: Codec
  /** Milliseconds to wait behind another file's exclusive lock; then ETIMEDOUT. */
  timeout?: number
  signal?: AbortSignal
}

export interface DeleteOptions {
  ifGen?: Gen
  signal?: AbortSignal
}

export interface LockOptions {
  /** A shared (read) lock instead of an exclusive one. */
  shared?: boolean
  /** Milliseconds to wait for the lock; then ETIMEDOUT. 0 tries once. */
  timeout?: number
  /** Gives up waiting, or ends a running callback's lock at once. */
  signal?: AbortSignal
  /**
   * Run the callback even when the previous holder died holding the lock
   * (entry.ownerDied); its success marks the entry consistent again.
   * Without it such a lock fails with EOWNERDEAD.
   */
  recover?: boolean
}

/** What a lock callback gets; it stops working when the callback settles. */
export interface LockedEntry<V = unknown> {
  readonly key: Key
  readonly shared: boolean
  /** The previous holder died holding the lock (with options.recover). */
  readonly ownerDied: boolean
  /** False once the callback has settled. */
  readonly locked: boolean
  readonly gen: Gen
  get (options?: GetOptions): Promise<V | undefined>
  set (value: V, options?: SetOptions): Promise<Gen>
  delete (options?: DeleteOptions): Promise<boolean>
  /**
   * Exclusive lock only (EPERM otherwise): the entry's bytes, writable in
   * place (the kernel's writable view; with the raw codec they are the
   * value itself). Detached when the callback settles, so any copy of it
   * reads as empty; after set() of another size, read it again.
   */
  readonly bytes: Uint8Array
}

export interface EntryStat {
  gen: Gen
  size: number
  birth: Gen
}

export interface RegistryEvent {
  /** 'set' (created or changed), 'delete'; for key 0: 'clear', 'unlink', 'overflow'. */
  type: 'set' | 'delete' | 'clear' | 'unlink' | 'overflow'
  key: Key
  gen: Gen
  size?: number
  /** The WEAVE_EV_* bits of the record (weave(4)). */
  mask: number
}

export interface RegistryEvents {
  set: [RegistryEvent]
  delete: [RegistryEvent]
  change: [RegistryEvent]
  clear: [RegistryEvent]
  unlink: [RegistryEvent]
  overflow: [RegistryEvent]
}

export class Registry<V = any> extends EventEmitter {
  /** An anonymous registry of at most capacity entries (0: the module's limit). */
  constructor (capacity?: number, options?: OpenOptions)
  /** The registry of registry.data (a worker thread), with its own open file. */
  constructor (data: RegistryData, options?: OpenOptions)
  /** The registry of an inherited fd (a child process's stdio). */
  constructor (fd: { fd: number }, options?: OpenOptions)
  /** A registry by name, shared with other processes. */
  constructor (name: string, options?: OpenOptions)

  /** Remove a name, like shm_unlink(); its users keep the registry. */
  static unlink (name: string): void

  readonly id: bigint
  readonly name: string | undefined
  /** "registry 'name'" or "registry #id", as in error messages. */
  readonly label: string
  readonly codec: Codec
  readonly readOnly: boolean
  readonly closed: boolean
  /** The file descriptor, to hand to a child process (spawn's stdio). */
  readonly fd: number
  readonly data: RegistryData
  readonly size: number

  info (): Record<string, number>
  has (key: Key): boolean
  stat (key: Key): EntryStat | undefined
  gen (key: Key): Gen
  /** The entry's lock state (a snapshot), or undefined without an entry. */
  lockInfo (key: Key): { lock: number | 'exclusive', waiters: number,
    ownerDied: boolean } | undefined
  set (key: Key, value: V, options?: SetOptions): Promise<Gen>
  get (key: Key, options?: GetOptions): Promise<V | undefined>
  delete (key: Key, options?: DeleteOptions): Promise<boolean>
  clear (options?: { signal?: AbortSignal }): Promise<number>
  /** Like Atomics.waitAsync on the entry's gen (a missing entry has gen 0). */
  wait (key: Key, gen: Gen, timeout?: number,
    options?: { signal?: AbortSignal }): Promise<'ok' | 'not-equal' | 'timed-out'>
  lock<R> (key: Key, callback: (entry: LockedEntry<V>) => R | Promise<R>,
    options?: LockOptions): Promise<R>
  keys (): IterableIterator<Key>
  values (): IterableIterator<V>
  entries (): IterableIterator<[Key, V]>
  [Symbol.iterator] (): IterableIterator<[Key, V]>
  forEach (callback: (value: V, key: Key, registry: this) => void,
    thisArg?: unknown): void
  watch (key?: Key, options?: { signal?: AbortSignal }):
    AsyncIterableIterator<RegistryEvent>
  /** Listening no longer keeps the process alive. */
  unref (): this
  ref (): this
  close (): void

  on<E extends keyof RegistryEvents> (event: E,
    listener: (...args: RegistryEvents[E]) => void): this
  once<E extends keyof RegistryEvents> (event: E,
    listener: (...args: RegistryEvents[E]) => void): this
  off<E extends keyof RegistryEvents> (event: E,
    listener: (...args: RegistryEvents[E]) => void): this
}

/**
 * Kept for the original library's API: the kernel tells every thread and
 * process of changes, so there is nothing to bind. Returns the registry.
 */
export function bind<R extends Registry> (registry: R, worker?: Worker): R
