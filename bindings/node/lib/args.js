// SPDX-License-Identifier: LGPL-2.1-or-later
// Argument checks: keys, gens, timeouts, signals.
import { invalidArgType, outOfRange } from './errors.js'

const KEY_MAX = (1n << 64n) - 1n
const KEY_RANGE = 'an integer from 1 to 2^64-1 (a safe integer or a bigint)'

// A key is a positive safe integer or a bigint from 1 to 2^64-1; it is
// returned as given (the addon takes both).
export function checkKey (key, name = 'key') {
  if (typeof key === 'number') {
    if (Number.isSafeInteger(key) && key > 0) return key
    throw outOfRange(name, KEY_RANGE, key)
  }
  if (typeof key === 'bigint') {
    if (key > 0n && key <= KEY_MAX) return key
    throw outOfRange(name, KEY_RANGE, key)
  }
  throw invalidArgType(name, 'of type number or bigint', key)
}

// The same key as a bigint, to compare a number with a bigint.
export function keyId (key) {
  return typeof key === 'bigint' ? key : BigInt(key)
}

export function checkGen (gen, name = 'gen') {
  if (typeof gen === 'number') {
    if (Number.isSafeInteger(gen) && gen >= 0) return gen
    throw outOfRange(name, 'an integer from 0 to 2^64-1', gen)
  }
  if (typeof gen === 'bigint') {
    if (gen >= 0n && gen <= KEY_MAX) return gen
    throw outOfRange(name, 'an integer from 0 to 2^64-1', gen)
  }
  throw invalidArgType(name, 'of type number or bigint', gen)
}

// A timeout in milliseconds: undefined or Infinity for none, else >= 0.
// Returns -1 for none.
export function checkTimeout (timeout, name = 'timeout') {
  if (timeout === undefined || timeout === Infinity) return -1
  if (typeof timeout !== 'number') {
    throw invalidArgType(name, 'of type number', timeout)
  }
  if (!(timeout >= 0)) {
    throw outOfRange(name, 'a number of milliseconds >= 0', timeout)
  }
  return timeout
}

export function checkSignal (signal, name = 'options.signal') {
  if (signal === undefined) return undefined
  if (signal === null || typeof signal !== 'object' ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function') {
    throw invalidArgType(name, 'an instance of AbortSignal', signal)
  }
  return signal
}

export function checkOptions (opts, name = 'options') {
  if (opts === undefined) return {}
  if (opts === null || typeof opts !== 'object') {
    throw invalidArgType(name, 'of type object', opts)
  }
  return opts
}
