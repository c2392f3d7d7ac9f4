#!/usr/bin/env node
// Builds the sandbox host (src/main/sandbox/host, Rust: Wasmtime + wasmtime-wasi) with
// `cargo build --release --locked`. Run by the install step (package.json "install": `npm ci` and
// `npm install` run it), by `npm run build:sandbox-host`, and by `npm run package` (with --required).
//
// Without cargo it prints why and exits 0, so installing still succeeds: the node then advertises no
// runtime, never bids, and the dashboard's market view says why. With --required (packaging) a
// missing cargo or a failed build is an error. MESH_SKIP_SANDBOX_BUILD=1 skips the build.
// cargo is looked up in $CARGO, PATH, $CARGO_HOME/bin and ~/.cargo/bin (rustup's default).
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const crate = join(root, 'src', 'main', 'sandbox', 'host')
const exe = process.platform === 'win32' ? '.exe' : ''
const binary = join(crate, 'target', 'release', `mesh-sandbox-host${exe}`)
const required = process.argv.includes('--required')

if (process.env.MESH_SKIP_SANDBOX_BUILD === '1' && !required) {
  console.log('sandbox host: build skipped (MESH_SKIP_SANDBOX_BUILD=1)')
  process.exit(0)
}

function findCargo () {
  const candidates = []
  if (process.env.CARGO) candidates.push(process.env.CARGO)
  candidates.push(`cargo${exe}`)
  if (process.env.CARGO_HOME) candidates.push(join(process.env.CARGO_HOME, 'bin', `cargo${exe}`))
  candidates.push(join(homedir(), '.cargo', 'bin', `cargo${exe}`))
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' })
    if (r.status === 0) return { cargo: c, version: r.stdout.trim() }
  }
  return undefined
}

const found = findCargo()
if (found === undefined) {
  const msg = [
    'sandbox host NOT built: cargo (Rust) was not found (looked in $CARGO, PATH, $CARGO_HOME/bin and ~/.cargo/bin).',
    'Mesh Executor runs jobs in a native Wasmtime host built from src/main/sandbox/host. Without it this node',
    'advertises no runtime and never bids (the market view says why). Install Rust (https://rustup.rs, 1.95 or',
    'newer), then run `npm run build:sandbox-host`.'
  ].join('\n  ')
  if (required) {
    console.error(`error: ${msg}`)
    process.exit(1)
  }
  console.warn(`warning: ${msg}`)
  process.exit(0)
}

const fresh = !existsSync(binary)
console.log(`sandbox host: cargo build --release --locked (${found.version})${fresh ? ' — a first build compiles Wasmtime and takes a few minutes' : ''}`)
const t0 = Date.now()
const r = spawnSync(found.cargo, ['build', '--release', '--locked'], { cwd: crate, stdio: 'inherit' })
if (r.status !== 0) {
  console.error(`error: building the sandbox host failed (cargo exit ${r.status ?? r.signal}). Jobs cannot run until it builds: fix the error above and run \`npm run build:sandbox-host\`.`)
  process.exit(1)
}
const size = (statSync(binary).size / 1048576).toFixed(1)
console.log(`sandbox host: built ${binary} (${size} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
