// SPDX-License-Identifier: LGPL-2.1-or-later
// The npm package as installed in the packaging test's chroot: both
// entries load (the addon finds the system's libweave.so.0), and with no
// /dev/weave (a chroot has no module) opening fails with ENODEV, as
// weave_open(3) says.
import assert from 'node:assert/strict'
import { Registry, bind, CODECS } from '@weave-kernel/weave'
import { bind as bindNode } from '@weave-kernel/weave/node'

assert.equal(typeof Registry, 'function')
assert.equal(bind, bindNode)
assert.deepEqual(CODECS, ['structured', 'raw'])
assert.throws(() => new Registry(-1), { code: 'ERR_OUT_OF_RANGE' })
assert.throws(() => new Registry(0), { code: 'ENODEV' })
assert.throws(() => new Registry('smoke'), (err) => {
  assert.equal(err.code, 'ENODEV')
  assert.equal(err.message, "ENODEV: no such device, open 'smoke'")
  return true
})
console.log(`node ${process.version}: @weave-kernel/weave loads`)
