// SPDX-License-Identifier: LGPL-2.1-or-later
// @weave-kernel/weave: the original weave library's Registry, on the
// /dev/weave kernel module, shared by worker threads and processes.
export { Registry, bind } from './lib/registry.js'
export { CODECS } from './lib/codec.js'
