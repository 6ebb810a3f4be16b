// SPDX-License-Identifier: LGPL-2.1-or-later
// How values become the bytes of an entry, and back.
//
// 'structured' (the default): v8.serialize() of the value, so anything
// structuredClone() accepts (and Buffers and typed arrays, as copies);
// the entry holds exactly v8.serialize()'s bytes (they start with 0xFF,
// the serializer's version tag), readable by v8.deserialize() anywhere.
//
// 'raw': the value must be a Buffer, TypedArray, DataView, ArrayBuffer or
// SharedArrayBuffer, and the entry holds exactly its bytes, nothing added
// (what a C program writes with weave_set() and reads with weave_get());
// get() returns a Buffer of the entry's bytes.
import v8 from 'node:v8'
import { Buffer } from 'node:buffer'
import { invalidArgType, invalidArgValue, weaveError } from './errors.js'

export const CODECS = ['structured', 'raw']

export function checkCodec (codec, name = 'options.codec') {
  if (codec === undefined) return undefined
  if (!CODECS.includes(codec)) {
    throw invalidArgValue(name, codec, "must be 'structured' or 'raw'")
  }
  return codec
}

function rawBytes (value) {
  if (ArrayBuffer.isView(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  if (value instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer === 'function' &&
       value instanceof SharedArrayBuffer)) {
    return Buffer.from(value)
  }
  throw invalidArgType('value',
    'a Buffer, TypedArray, DataView, ArrayBuffer or SharedArrayBuffer ' +
    "with codec 'raw'", value)
}

export function encode (codec, value) {
  return codec === 'raw' ? rawBytes(value) : v8.serialize(value)
}

export function decode (codec, bytes, label, key) {
  if (bytes === null) return undefined
  if (codec === 'raw') return bytes
  try {
    return v8.deserialize(bytes)
  } catch (cause) {
    const err = weaveError('ERR_WEAVE_DECODE',
      "the entry is not a v8.serialize() value (read it with codec 'raw')",
      'get', label, key)
    err.cause = cause
    throw err
  }
}
