#!/usr/bin/env node
// Offline packaging check: builds the renderer + Electron bundles, runs electron-builder for an
// unpacked Linux directory against a STUB Electron dist (no download, no native rebuild), then
// asserts the package holds the compiled main, preload, the native sandbox host (it runs --version),
// renderer, icons and the sample jobs (assets/jobs/*.wasm). Exit code 0 = OK.
// The sandbox host must be built first (`npm run package:check` does: build-sandbox-host.mjs --required).
// Usage: node scripts/package-check.mjs [--keep]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, existsSync, readdirSync, statSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const keep = process.argv.includes('--keep')
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) { console.error(`package:check: ${cmd} ${args.join(' ')} failed (${r.status})`); process.exit(1) }
}

run(process.execPath, [join(root, 'scripts/build-renderer.mjs'), '--electron'])

// A stub Electron distribution: electron-builder copies it and renames the binary.
const work = mkdtempSync(join(tmpdir(), 'mesh-pkg-'))
const stub = join(work, 'electron-dist')
mkdirSync(join(stub, 'resources'), { recursive: true })
writeFileSync(join(stub, 'electron'), '#!/bin/sh\necho "stub electron binary (package:check)"\n')
chmodSync(join(stub, 'electron'), 0o755)
writeFileSync(join(stub, 'LICENSE'), 'stub')
writeFileSync(join(stub, 'version'), JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version)
const out = join(work, 'out')
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version

run(join(root, 'node_modules/.bin/electron-builder'), [
  '--linux', 'dir', '--x64',
  '--config', 'electron-builder.yml',
  `-c.electronDist=${stub}`,
  `-c.electronVersion=${electronVersion}`,
  `-c.directories.output=${out}`,
  '-c.npmRebuild=false',
  '--publish', 'never'
], { env: { ...process.env, ELECTRON_BUILDER_OFFLINE: 'true', CSC_IDENTITY_AUTO_DISCOVERY: 'false' } })

const unpacked = readdirSync(out).map((d) => join(out, d)).find((d) => statSync(d).isDirectory() && d.endsWith('-unpacked'))
if (unpacked === undefined) { console.error('package:check: no *-unpacked directory produced'); process.exit(1) }
const app = join(unpacked, 'resources', 'app')
const must = [
  'package.json',
  'dist/main/electron/main.js',
  'dist/main/electron/preload.cjs',
  'dist/renderer/index.html',
  'dist/renderer/app.js',
  'dist/renderer/app.css',
  'assets/icons/tray-idle.png',
  'assets/icons/tray-bidding.png',
  'assets/icons/tray-running.png',
  'assets/icons/tray-paused.png',
  'assets/icons/tray-error.png',
  'assets/icons/app-512.png',
  'node_modules/better-sqlite3/package.json'
]
const missing = must.filter((p) => !existsSync(join(app, p)))
// the sample jobs: every built module in assets/jobs must be in the package
const jobsDir = join(root, 'assets', 'jobs')
const jobs = readdirSync(jobsDir).filter((n) => n.endsWith('.wasm')).map((n) => relative(root, join(jobsDir, n)))
if (jobs.length === 0) missing.push('assets/jobs/*.wasm (no sample jobs in the repo)')
for (const f of jobs) if (!existsSync(join(app, f))) missing.push(f)
// the native sandbox host, as an extra resource next to app/ (outside any asar), and runnable
const hostBin = join(unpacked, 'resources', 'sandbox-host', process.platform === 'win32' ? 'mesh-sandbox-host.exe' : 'mesh-sandbox-host')
if (!existsSync(hostBin)) missing.push(relative(unpacked, hostBin))
else {
  const v = spawnSync(hostBin, ['--version'], { encoding: 'utf8' })
  if (v.status !== 0 || !/wasmtime \d+\.\d+\.\d+/.test(v.stdout)) missing.push(`${relative(unpacked, hostBin)} does not run (--version: ${v.status ?? v.signal} ${v.stdout}${v.stderr})`)
}
const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
if (pkg.main !== 'dist/main/electron/main.js') missing.push(`package.json main = ${pkg.main}`)
if (!existsSync(join(unpacked, 'mesh-executor'))) missing.push('executable mesh-executor')
if (missing.length > 0) {
  console.error(`package:check: FAILED, missing from ${unpacked}:\n  ${missing.join('\n  ')}`)
  process.exit(1)
}
console.log(`package:check: OK — ${unpacked} holds main, preload, the sandbox host binary, renderer, icons and ${jobs.length} sample jobs`)
if (!keep) rmSync(work, { recursive: true, force: true })
