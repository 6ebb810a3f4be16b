// SPDX-License-Identifier: LGPL-2.1-or-later
// Errors raised by the JS layer itself, in the addon's format:
// "CODE: description, operation key K in registry 'name'".

export function weaveError (code, desc, op, label, key) {
  let msg = `${code}: ${desc}, ${op}`
  if (key !== undefined) msg += ` key ${key}`
  if (label) msg += ` in ${label}`
  const err = new Error(msg)
  err.code = code
  if (key !== undefined) err.key = key
  if (label) err.registry = label
  return err
}

export function closedError (op, label, key) {
  return weaveError('ERR_WEAVE_CLOSED', 'the registry is closed', op, label,
    key)
}

export function invalidArgType (name, expected, value) {
  const err = new TypeError(`The "${name}" argument must be ${expected}. ` +
    `Received ${describe(value)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

export function outOfRange (name, range, value) {
  const err = new RangeError(`The value of "${name}" is out of range. ` +
    `It must be ${range}. Received ${describe(value)}`)
  err.code = 'ERR_OUT_OF_RANGE'
  return err
}

export function invalidArgValue (name, value, reason) {
  const err = new TypeError(`The argument '${name}' ${reason}. ` +
    `Received ${describe(value)}`)
  err.code = 'ERR_INVALID_ARG_VALUE'
  return err
}

function describe (v) {
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return `'${v.length > 28 ? v.slice(0, 25) + '...' : v}'`
  if (typeof v === 'object') return `an instance of ${v.constructor?.name ?? 'Object'}`
  if (typeof v === 'function') return `function ${v.name}`
  return `type ${typeof v} (${String(v)})`
}
