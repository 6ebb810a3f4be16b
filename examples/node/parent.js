// SPDX-License-Identifier: LGPL-2.1-or-later
// The README example across two processes: an anonymous registry handed
// to a child process as its fd 3. Run: node parent.js
//
// Unrelated processes share a named registry instead: both do
//   const registry = new Registry("example", { mode: 0o600 })
import { Registry } from "@weave-kernel/weave"
import { spawn } from "node:child_process"
import { once } from "node:events"

const registry = new Registry(1_000)
await registry.set(1, { foo: "bar", array: new Uint8Array(4) })

// The child gets its own open file of the registry (see child.js); the
// fd in stdio is only how it finds the registry.
const child = spawn(process.execPath, ["child.js"], {
  stdio: ["inherit", "inherit", "inherit", registry.fd]
})
// The child answers on key 2; wait for its gen to move from 0.
await registry.wait(2, 0)
console.log("parent got", await registry.get(2))
await once(child, "exit")
registry.close()
