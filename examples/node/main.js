// SPDX-License-Identifier: LGPL-2.1-or-later
// The original library's README example, unchanged but for the imports
// (and its slip of `map` for `registry`). Run: node main.js
import { Registry } from "@weave-kernel/weave"
import { bind } from "@weave-kernel/weave/node"
import { Worker } from "worker_threads"
// Make a map with an initial size of 1,000
const registry = new Registry(1_000)
// Create and bind worker events
const worker = new Worker("./worker.js", { workerData: registry.data })
bind(registry, worker)

await registry.set(1, { foo: "bar", array: new Uint8Array(new SharedArrayBuffer(4)) })
