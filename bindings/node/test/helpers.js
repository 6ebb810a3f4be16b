// SPDX-License-Identifier: LGPL-2.1-or-later
// Shared by the suites: names, sleeps, child processes.
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, symlinkSync, cpSync, rmSync } from 'node:fs'
import { stripVTControlCharacters } from 'node:util'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

let seq = 0

// A registry name no other test (or earlier run) uses.
export function uniqueName (what) {
  return `node-${what}-${process.pid}-${++seq}`
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function fixture (name) {
  return fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
}

// Runs a command; resolves with { code, signal, stdout, stderr, bytes }
// (bytes: stdout as a Buffer).
export function run (cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    const out = []
    let stderr = ''
    child.stdout?.on('data', (d) => out.push(d))
    child.stderr?.on('data', (d) => { stderr += d })
    child.on('error', reject)
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin?.end()
    child.on('close', (code, signal) => {
      const bytes = Buffer.concat(out)
      resolve({ code, signal, stdout: bytes.toString(), stderr, bytes })
    })
  })
}

// Runs a fixture script with node.
export function runNode (name, args = [], opts = {}) {
  return run(process.execPath, [fixture(name), ...args], opts)
}

// Resolves once cond() is true, polling; rejects after ms.
export async function until (cond, ms = 5000, what = 'condition') {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

// The package's directory.
export const pkg = dirname(dirname(fileURLToPath(import.meta.url)))

// The examples as a user has them: next to node_modules/@weave-kernel/weave.
function exampleDir () {
  const dir = mkdtempSync(join(tmpdir(), 'weave-example-'))
  mkdirSync(join(dir, 'node_modules', '@weave-kernel'), { recursive: true })
  symlinkSync(pkg, join(dir, 'node_modules', '@weave-kernel', 'weave'))
  // make node stages examples/node there.
  cpSync(join(pkg, 'examples'), dir, { recursive: true })
  return dir
}

// Runs examples/node/SCRIPT there with node; resolves with its output
// (without colours) once it exited 0 with nothing on stderr.
export async function runExample (script) {
  const dir = exampleDir()
  const res = await run(process.execPath, [script], { cwd: dir })
  rmSync(dir, { recursive: true })
  if (res.code !== 0 || res.stderr !== '') {
    throw new Error(`${script} exited with ${res.code}: ${res.stderr}`)
  }
  return stripVTControlCharacters(res.stdout)
}
