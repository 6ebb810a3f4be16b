// SPDX-License-Identifier: LGPL-2.1-or-later
// The compiled addon (src/), and the numbers it shares with libweave.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

// build/weave.node is what `make` (npm install, or the tree's `make node`)
// writes next to this package's files.
export const native = require('../build/weave.node')

// Operations of tryOp()/startOp(), as enum wn_op in src/weave_node.h.
export const OP = Object.freeze({
  SET: 0, GET: 1, DELETE: 2, CLEAR: 3, LOCK: 4, WAIT: 5
})

// weave_open() flags (include/weave.h).
export const OPEN = Object.freeze({
  CREATE: 1, EXCL: 2, PERSIST: 4, RDONLY: 8
})

// include/uapi/linux/weave.h
export const SET_NOREPLACE = 2
export const SET_NOCREATE = 4
export const OP_IF_GEN = 16
export const LOCK_SHARED = 2

export const EV = Object.freeze({
  NEW: 1,
  CHANGED: 2,
  RESIZED: 4,
  DELETED: 8,
  UNLOCKED: 16,
  OWNER_DIED: 32,
  CLEARED: 64,
  UNLINKED: 128,
  OVERFLOW: 256
})
