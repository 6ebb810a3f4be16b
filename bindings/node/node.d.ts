// SPDX-License-Identifier: LGPL-2.1-or-later
export { bind } from './index.js'
