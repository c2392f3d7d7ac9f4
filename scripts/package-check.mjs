#!/usr/bin/env node
// Offline packaging check: builds dist/ (tsc), the renderer and the Electron shell bundle, checks the
// shell bundle holds no node code (esbuild metafile: no input under src/main/{daemon,mesh,store,
// sandbox,…}, no import of libp2p, @libp2p/*, better-sqlite3…, small), runs electron-builder for an
// unpacked Linux directory against a STUB Electron dist (no download, no native rebuild), asserts the
// package holds the shell, the daemon (dist/main, dist/shared, production node_modules), the native
// sandbox host (it runs --version), renderer, icons and the sample jobs (assets/jobs/*.wasm), then
// RUNS the packaged daemon the way the shell does (`dist/main/bin.js start --json --ui-port 0`, with
// MESH_SANDBOX_HOST from the resources; plain node stands in for Electron-as-Node): ready line, API,
// dashboard page, node.shutdown → exit 0. Exit code 0 = OK.
// The sandbox host must be built first (`npm run package:check` does: build-sandbox-host.mjs --required).
// Usage: node scripts/package-check.mjs [--keep]
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, existsSync, readdirSync, statSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const keep = process.argv.includes('--keep')
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) { console.error(`package:check: ${cmd} ${args.join(' ')} failed (${r.status})`); process.exit(1) }
}
const fail = (msg) => { console.error(`package:check: FAILED, ${msg}`); process.exit(1) }

run(process.execPath, [join(root, 'scripts/build.mjs'), '--electron'])

// The shell bundle: only the shell. The node (libp2p, SQLite, the sandbox client) runs in the daemon process.
const SHELL_MAX_BYTES = 256 * 1024
const FORBIDDEN_DIRS = ['daemon', 'mesh', 'store', 'sandbox', 'jobs', 'market', 'probe', 'originator', 'api', 'ui-server', 'commands'].map((d) => `src/main/${d}/`)
const FORBIDDEN_PACKAGES = [/^better-sqlite3/, /^libp2p/, /^@libp2p\//, /^@chainsafe\//, /^@multiformats\//, /^systeminformation/, /^multiformats/, /^@ipld\//]
const meta = JSON.parse(readFileSync(join(root, 'dist/main/electron/main.meta.json'), 'utf8'))
const shellProblems = []
for (const input of Object.keys(meta.inputs)) {
  if (FORBIDDEN_DIRS.some((d) => input.startsWith(d)) || input === 'src/main/cli.ts' || input.includes('node_modules/')) shellProblems.push(`input ${input}`)
  // the shell's own files, the API contract it speaks, and the job-state list that contract names
  if (!input.startsWith('src/main/electron/') && !input.startsWith('src/shared/api/') && input !== 'src/shared/job-states.ts') shellProblems.push(`input outside the shell: ${input}`)
}
const mainOut = Object.entries(meta.outputs).find(([p]) => p.endsWith('main.js'))
if (mainOut === undefined) fail('no main.js in the shell metafile')
const externals = [...new Set(mainOut[1].imports.filter((i) => i.external).map((i) => i.path))]
for (const x of externals) {
  if (FORBIDDEN_PACKAGES.some((re) => re.test(x))) shellProblems.push(`imports ${x}`)
  else if (!x.startsWith('node:') && x !== 'electron' && x !== 'ws') shellProblems.push(`imports ${x} (not in the shell's allow-list: electron, ws, node:*)`)
}
if (mainOut[1].bytes > SHELL_MAX_BYTES) shellProblems.push(`main.js is ${mainOut[1].bytes} bytes (> ${SHELL_MAX_BYTES})`)
if (shellProblems.length > 0) fail(`the Electron main bundle reaches node code:\n  ${shellProblems.join('\n  ')}`)
const shellSummary = `${Object.keys(meta.inputs).length} inputs, ${(mainOut[1].bytes / 1024).toFixed(0)} KiB, imports ${externals.join(' ')}`

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
  // the daemon process: the compiled CLI and everything it loads
  'dist/main/bin.js',
  'dist/main/cli.js',
  'dist/main/commands/start.js',
  'dist/main/daemon/index.js',
  'dist/main/ui-server/server.js',
  'dist/shared/api/index.js',
  'dist/shared/protocol/index.js',
  'dist/renderer/index.html',
  'dist/renderer/app.js',
  'dist/renderer/app.css',
  'assets/icons/tray-idle.png',
  'assets/icons/tray-bidding.png',
  'assets/icons/tray-running.png',
  'assets/icons/tray-paused.png',
  'assets/icons/tray-error.png',
  'assets/icons/app-512.png',
  'node_modules/better-sqlite3/package.json',
  'node_modules/libp2p/package.json',
  'node_modules/ws/package.json'
]
const missing = must.filter((p) => !existsSync(join(app, p)))
for (const gone of ['dist/main/electron/preload.cjs', 'dist/main/electron/main.meta.json', 'dist/.tsbuildinfo', 'node_modules/electron/package.json', 'node_modules/typescript/package.json']) {
  if (existsSync(join(app, gone))) missing.push(`${gone} must not be in the package`)
}
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

// Run the packaged daemon as the shell does (src/main/electron/daemon-command.ts), from the package
// only (the work dir is outside the repo, so nothing resolves from the repo's node_modules).
const ran = await runPackagedDaemon(app, hostBin, join(work, 'data'))
if (ran !== undefined) fail(`the packaged daemon: ${ran}`)

console.log(`package:check: OK — ${unpacked} holds the shell (${shellSummary}), the daemon (ran it: ready, API, dashboard, node.shutdown → exit 0), the sandbox host binary, renderer, icons and ${jobs.length} sample jobs`)
if (!keep) rmSync(work, { recursive: true, force: true })

/** Starts <app>/dist/main/bin.js start --json --ui-port 0 …; returns a problem, or undefined when all went well. */
async function runPackagedDaemon (appDir, sandboxHost, dataDir) {
  const child = spawn(process.execPath, [join(appDir, 'dist/main/bin.js'), 'start', '--json', '--ui-port', '0', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dataDir, '--grace', '5'], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dataDir, MESH_SANDBOX_HOST: sandboxHost, MESH_EXECUTOR_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stderr = []
  createInterface({ input: child.stderr }).on('line', (l) => { stderr.push(l) })
  const exited = new Promise((resolve) => { child.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  const lines = []
  const ready = await new Promise((resolve) => {
    const t = setTimeout(() => { resolve(undefined) }, 60_000)
    createInterface({ input: child.stdout }).on('line', (l) => {
      let e
      try { e = JSON.parse(l) } catch { return }
      lines.push(e)
      if (e.event === 'ready') { clearTimeout(t); resolve(e) }
    })
    void exited.then(() => { clearTimeout(t); resolve(undefined) })
  })
  const problem = async (text) => {
    child.kill('SIGKILL')
    await exited
    return `${text}\n  stderr: ${stderr.slice(-5).join('\n  ')}`
  }
  if (ready === undefined) return await problem('no ready line within 60 s')
  const sandboxError = lines.find((e) => e.event === 'daemon:error' && e.where === 'sandbox')
  if (sandboxError !== undefined) return await problem(`sandbox unavailable: ${sandboxError.error}`)
  const ui = new URL(ready.ui)
  const token = ui.searchParams.get('token')
  const api = async (method, args) => {
    const res = await fetch(new URL(`/api/${method}`, ui.origin), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(args) })
    return await res.json()
  }
  const status = await api('node.status', {})
  if (status.ok !== true || status.result.did !== ready.did || status.result.online !== true) return await problem(`node.status: ${JSON.stringify(status).slice(0, 300)}`)
  const first = await fetch(ready.ui, { redirect: 'manual' })
  const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]
  const page = await fetch(new URL('/', ui.origin), { headers: { cookie } })
  if (first.status !== 303 || page.status !== 200 || !(await page.text()).includes('app.js')) return await problem(`dashboard page: ${first.status} then ${page.status}`)
  const shutdown = await api('node.shutdown', { graceSeconds: 2 })
  if (shutdown.ok !== true) return await problem(`node.shutdown: ${JSON.stringify(shutdown)}`)
  const timeout = new Promise((resolve) => { setTimeout(() => { resolve(undefined) }, 20_000).unref() })
  const exit = await Promise.race([exited, timeout])
  if (exit === undefined) return await problem('did not exit within 20 s of node.shutdown')
  if (exit.code !== 0) return `exit ${exit.code ?? exit.signal} after node.shutdown\n  stderr: ${stderr.slice(-5).join('\n  ')}`
  return undefined
}
