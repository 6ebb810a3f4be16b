// SPDX-License-Identifier: LGPL-2.1-or-later
// The child of parent.js: the registry arrives as fd 3.
import { Registry } from "@weave-kernel/weave"

// Reopens the registry (its own open file: its own locks and events) and
// closes fd 3, the parent's file.
const registry = new Registry({ fd: 3 })
const value = await registry.get(1)
console.log("child got", value)
await registry.set(2, { reply: value.foo.toUpperCase() })
registry.close()
