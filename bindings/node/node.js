// SPDX-License-Identifier: LGPL-2.1-or-later
// The original library's "weave/node" entry: bind() for worker threads.
export { bind } from './lib/registry.js'
