/** `mesh-executor` command line: clear errors (exit 2) for every bad configuration, and a clean start/stop. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/main/cli.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[], stopSignal: Promise<void> = Promise.resolve()): Promise<Run> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d: Buffer) => { out += d.toString() })
  stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {}, stopSignal })
  return { code, stdout: out, stderr: err }
}

const BIN = fileURLToPath(new URL('../../bin/mesh-executor.js', import.meta.url))
const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--lan']

test('usage errors exit 2 with a clear message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  try {
    const cases: Array<[string[], RegExp]> = [
      [['start', '--bogus'], /Unknown option '--bogus'/],
      [['start', '--listen', 'not-a-multiaddr'], /--listen "not-a-multiaddr" is not a valid multiaddr/],
      [['start', '--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /--bootstrap .* missing \/p2p\/<PeerId>/],
      [['start', '--region', 'EU West'], /--region "EU West"/],
      [['start', '--ui-port', '99999'], /--ui-port 99999/],
      [['start', '--data-dir', dir, '--policy', join(dir, 'missing.json')], /cannot read policy file .*missing\.json/],
      [['frobnicate'], /unknown command "frobnicate"/]
    ]
    for (const [argv, pattern] of cases) {
      const r = await run(argv)
      assert.equal(r.code, 2, argv.join(' '))
      assert.match(r.stderr, pattern)
    }
    await writeFile(join(dir, 'bad.json'), '{ "pricing": ')
    const notJson = await run(['start', '--data-dir', dir, ...LOOPBACK, '--policy', join(dir, 'bad.json')])
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /is not valid JSON/)
    await writeFile(join(dir, 'invalid.json'), JSON.stringify({ pricing: { mode: 'fixed', price: -3 }, maxConcurrentJobs: 'many' }))
    const invalid = await run(['start', '--data-dir', dir, ...LOOPBACK, '--policy', join(dir, 'invalid.json')])
    assert.equal(invalid.code, 2)
    assert.match(invalid.stderr, /invalid policy/)
    assert.match(invalid.stderr, /pricing\.price/)
    assert.match(invalid.stderr, /maxConcurrentJobs/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a data dir in use and a port in use are clear errors; a normal start prints ready and stops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const busyPort = (blocker.address() as AddressInfo).port
  // the first instance is another process: the data-dir lock is per process
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dir, ...LOOPBACK, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('"event":"ready"')) resolve() })
      child.once('exit', (code) => { reject(new Error(`first instance exited ${String(code)}`)) })
    })
    const ready = JSON.parse(out.split('\n')[0] as string) as Record<string, unknown>
    assert.equal(ready.event, 'ready')
    assert.match(String(ready.did), /^did:key:z6Mk/)
    const second = await run(['start', '--data-dir', dir, ...LOOPBACK])
    assert.equal(second.code, 2)
    assert.match(second.stderr, /in use|locked/i)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.match(out, /"event":"daemon:stopped"/)

    const other = await mkdtemp(join(tmpdir(), 'mesh-cli-'))
    try {
      const busy = await run(['start', '--data-dir', other, '--lan', '--listen', `/ip4/127.0.0.1/tcp/${busyPort}`])
      assert.equal(busy.code, 2, busy.stderr)
      assert.match(busy.stderr, /in use/)
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    blocker.close()
    await rm(dir, { recursive: true, force: true })
  }
})
