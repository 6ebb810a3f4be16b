// SPDX-License-Identifier: LGPL-2.1-or-later
// The worker of the original README example (main.js starts it).
import { Registry } from "@weave-kernel/weave"
import { workerData } from "worker_threads"
const registry = new Registry(workerData)

await registry.get(1) // { foo: "bar", ... }

// Not in the original: show what arrived.
console.log(await registry.get(1))
