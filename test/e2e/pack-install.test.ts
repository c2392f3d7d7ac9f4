/**
 * The package as a user installs it: `npm pack` the project, install the tarball into an empty
 * directory (production dependencies only, built there), and start `mesh-executor start` from that
 * installation — plain node running the compiled dist/, no tsx — to its ready line, with the dashboard.
 * The sandbox host is not rebuilt in the installation (MESH_SKIP_SANDBOX_BUILD: a cold Wasmtime build
 * takes minutes); the daemon is pointed at this checkout's binary instead.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const HOST = join(ROOT, 'src', 'main', 'sandbox', 'host', 'target', 'release', 'mesh-sandbox-host')

test('npm pack → npm install the tarball in an empty directory → mesh-executor start reaches ready', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-pack-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const pack = spawnSync(npm, ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(pack.status, 0, pack.stderr)
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  assert.ok(tgz !== undefined, 'a tarball')
  const app = join(dir, 'app')
  await rm(app, { recursive: true, force: true })
  spawnSync('mkdir', ['-p', app])
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'mesh-pack-test', private: true }))
  const install = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', join(dir, tgz)], {
    cwd: app, encoding: 'utf8', env: { ...process.env, MESH_SKIP_SANDBOX_BUILD: '1' }
  })
  assert.equal(install.status, 0, install.stderr.slice(-2000))
  const pkg = join(app, 'node_modules', 'mesh-executor')
  assert.ok(existsSync(join(pkg, 'dist', 'main', 'bin.js')), 'the compiled CLI is in the package')
  assert.ok(!existsSync(join(pkg, 'src', 'main', 'cli.ts')), 'no TypeScript sources to run')
  assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'no compiler installed')

  const bin = join(app, 'node_modules', '.bin', 'mesh-executor')
  const child = spawn(bin, ['start', '--data-dir', join(dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0', '--lan', '--json', '--ui-port', '0'], {
    cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESH_SANDBOX_HOST: HOST, NODE_OPTIONS: '' }
  })
  t.after(() => { child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const t0 = Date.now()
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const e = JSON.parse(l) as Record<string, unknown>
      if (e.event === 'ready') resolve(e)
    })
    child.once('exit', (code) => { reject(new Error(`exited ${String(code)} before ready: ${stderr}`)) })
  })
  t.diagnostic(`installed package: ready ${Date.now() - t0} ms after spawn`)
  assert.match(String(ready.did), /^did:key:z6Mk/)
  const ui = new URL(String(ready.ui))
  const page = await fetch(`${ui.origin}/`, { headers: { Authorization: `Bearer ${ui.searchParams.get('token') ?? ''}` } })
  assert.equal(page.status, 200, 'the installed package serves its dashboard')
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})
