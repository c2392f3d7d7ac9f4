/**
 * End to end over real libp2p on 127.0.0.1, every party its own process:
 * an executor started by the CLI (`mesh-executor start --json --lan …`) and the `submit` CLI.
 * A sha256 job returns the right digest and a receipt that verifies (our own check of the saved
 * block + `receipt verify` against both data dirs); a hostile loop ends FuelExhausted → exit 5.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createServer, type AddressInfo } from 'node:net'
import { generateIdentity, rawCid, verifyReceiptBlock } from '../../src/shared/protocol/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin', 'mesh-executor.js')
const asset = (name: string): string => join(ROOT, 'assets', 'jobs', name)

interface Run { code: number | null, stdout: Buffer, stderr: string }

/** Runs the CLI to completion as a child process. */
async function cli (argv: string[], children: Set<ChildProcessWithoutNullStreams>): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } })
  children.add(child)
  child.stdin.end()
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const code = await new Promise<number | null>((resolve) => { child.on('close', (c) => { resolve(c) }) })
  children.delete(child)
  return { code, stdout: Buffer.concat(out), stderr }
}

type DaemonEvent = Record<string, unknown> & { event: string }

test('submit CLI against an executor process over loopback libp2p', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-e2e-'))
  const children = new Set<ChildProcessWithoutNullStreams>()
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ pricing: { mode: 'fixed', price: 7 } }))
  const exec = spawn(process.execPath, [BIN, 'start', '--json', '--lan', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, 'exec'),
    '--region', 'eu-west', '--policy', join(dir, 'policy.json'), '--grace', '1'], { cwd: ROOT, stdio: 'pipe' })
  children.add(exec)
  t.after(async () => {
    // every child we started goes away, even when an assertion failed
    await Promise.all([...children].map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return
      const gone = new Promise<void>((resolve) => { c.once('exit', () => { resolve() }) })
      c.kill('SIGTERM')
      const timer = setTimeout(() => { c.kill('SIGKILL') }, 8000)
      await gone
      clearTimeout(timer)
    }))
    await rm(dir, { recursive: true, force: true })
  })

  // the executor's JSON events, awaited by predicate
  const events: DaemonEvent[] = []
  let waiters: Array<() => void> = []
  let execStderr = ''
  exec.stderr.setEncoding('utf8').on('data', (c: string) => { execStderr += c })
  createInterface({ input: exec.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as DaemonEvent)
    const w = waiters
    waiters = []
    for (const f of w) f()
  })
  exec.on('exit', () => { const w = waiters; waiters = []; for (const f of w) f() })
  const eventWhere = async (pred: (e: DaemonEvent) => boolean, what: string, ms = 60_000): Promise<DaemonEvent> => {
    const deadline = Date.now() + ms
    for (;;) {
      const found = events.find(pred)
      if (found !== undefined) return found
      if (exec.exitCode !== null) throw new Error(`executor exited (${exec.exitCode}) before ${what}:\n${execStderr}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${what} from the executor within ${ms} ms:\n${execStderr}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left)
        function done (): void { clearTimeout(timer); resolve() }
        waiters.push(done)
      })
    }
  }

  const ready = await eventWhere((e) => e.event === 'ready', 'ready line')
  const addr = (ready.multiaddrs as string[]).find((a) => a.startsWith('/ip4/127.0.0.1/') && a.includes('/p2p/'))
  assert.ok(addr !== undefined, JSON.stringify(ready))
  assert.equal(ready.region, 'eu-west')
  const executorDid = ready.did as string

  const text = 'hello from the e2e test\n'
  const inputFile = join(dir, 'input.txt')
  await writeFile(inputFile, text)
  const origDir = join(dir, 'orig')
  const common = ['--bootstrap', addr, '--data-dir', origDir, '--bidding-window', '800ms', '--timeout', '20']

  await t.test('sha256: the digest on stdout and a receipt that verifies', async () => {
    const r = await cli(['submit', '--module', asset('sha256.wasm'), '--input', inputFile, '--max-price', '10', ...common], children)
    assert.equal(r.code, 0, r.stderr)
    const digest = createHash('sha256').update(text).digest('hex')
    assert.equal(r.stdout.toString(), `${digest}\n`)
    assert.match(r.stderr, /bid from .* price 7, region eu-west/)
    assert.match(r.stderr, /receipt verified: CompletedSuccessfully/)
    const cid = /receipt (bafyrei[a-z2-7]+) \(saved in/.exec(r.stderr)?.[1]
    assert.ok(cid !== undefined, r.stderr)

    // our own check of the saved block: CID, signature, fields
    const bytes = new Uint8Array(await readFile(join(origDir, 'receipts', cid)))
    const v = verifyReceiptBlock(bytes, cid)
    assert.ok(v.ok, v.ok ? '' : `${v.reason}: ${v.detail}`)
    const rc = v.receipt
    assert.equal(rc.executor_did, executorDid)
    assert.equal(rc.status, 'CompletedSuccessfully')
    assert.equal(rc.wasm_cid, rawCid(new Uint8Array(await readFile(asset('sha256.wasm')))))
    assert.equal(rc.input_data_cid, rawCid(new TextEncoder().encode(text)))
    assert.equal(rc.output_cid, rawCid(new Uint8Array(r.stdout)))
    assert.equal(String(rc.price), '7')

    // the executor finished that very job with that very receipt
    const fin = await eventWhere((e) => e.event === 'job:finished' && e.announcementId === rc.announcement_id, 'job:finished')
    assert.equal(fin.receiptCid, cid)
    assert.equal(fin.status, 'CompletedSuccessfully')
    assert.ok(events.some((e) => e.event === 'announcement:decided' && e.announcementId === rc.announcement_id && e.bid === true))

    // `receipt verify` from the originator's saved receipts and from the executor's store
    for (const dataDir of [origDir, join(dir, 'exec')]) {
      const ver = await cli(['receipt', 'verify', cid, '--data-dir', dataDir, '--json'], children)
      assert.equal(ver.code, 0, ver.stderr + ver.stdout.toString())
      const j = JSON.parse(ver.stdout.toString()) as Record<string, unknown>
      assert.equal(j.cid, cid)
      assert.match(ver.stdout.toString(), new RegExp(executorDid))
    }
  })

  await t.test('a hostile loop with a small fuel budget: exit 5, FuelExhausted', async () => {
    const r = await cli(['submit', '--module', asset('hostile_loop.wasm'), '--max-fuel', '1000000', ...common], children)
    assert.equal(r.code, 5, r.stderr)
    assert.match(r.stderr, /receipt verified: Failed FuelExhausted/)
    assert.match(r.stderr, /mesh-executor submit: job .* failed on did:key:\S+: FuelExhausted/)
    assert.doesNotMatch(r.stderr, /FuelExhausted \(FuelExhausted|FuelExhausted: FuelExhausted/, 'the reason is named once')
    assert.equal(r.stdout.byteLength, 0, 'no output on stdout')
    // the failed job's receipt is kept like any other: `receipt verify` finds it in the buyer's data dir
    const failedCid = /receipt (bafyrei[a-z2-7]+) saved in (\S+)/.exec(r.stderr)
    assert.ok(failedCid !== null, `the saved receipt is named: ${r.stderr}`)
    assert.equal(failedCid[2], join(origDir, 'receipts'))
    const kept = await cli(['receipt', 'verify', failedCid[1] ?? '', '--data-dir', origDir, '--json'], children)
    assert.equal(kept.code, 0, kept.stderr + kept.stdout.toString())
    assert.match(kept.stdout.toString(), /"failure_reason":"FuelExhausted"/)

    const json = await cli(['submit', '--module', asset('hostile_loop.wasm'), '--max-fuel', '1000000', '--json', ...common], children)
    assert.equal(json.code, 5, json.stderr)
    const lines = json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const last = lines.at(-1)
    assert.equal(last?.event, 'failed')
    assert.equal(last?.code, 'ExecutorFailed')
    assert.equal(last?.reason, 'FuelExhausted')
    assert.equal(last?.exitCode, 5)
    assert.equal(last?.receiptSavedIn, join(origDir, 'receipts'))
    await eventWhere((e) => e.event === 'job:finished' && e.failureReason === 'FuelExhausted' && e.receiptCid === last?.receiptCid, 'job:finished FuelExhausted')
  })

  await t.test('a bootstrap peer that cannot be reached: exit 1 at once (not after --peer-wait), saying why', async () => {
    const other = generateIdentity().peerId
    const wrongId = addr.replace(/\/p2p\/\S+$/, `/p2p/${other}`)
    const wrong = await cli(['submit', '--module', asset('sha256.wasm'), '--input', inputFile, '--bootstrap', wrongId, '--data-dir', origDir, '--peer-wait', '60'], children)
    assert.equal(wrong.code, 1, wrong.stderr)
    assert.match(wrong.stderr, new RegExp(`cannot reach the bootstrap peer: \\S+: a different node answers there \\(PeerId ${ready.peerId as string}, not ${other}\\): correct the /p2p/ part of the address`))
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const closedPort = (blocker.address() as AddressInfo).port
    await new Promise<void>((resolve) => blocker.close(() => { resolve() }))
    const started = Date.now()
    const dead = await cli(['submit', '--module', asset('sha256.wasm'), '--input', inputFile, '--bootstrap', `/ip4/127.0.0.1/tcp/${closedPort}/p2p/${other}`, '--data-dir', origDir, '--peer-wait', '60'], children)
    assert.equal(dead.code, 1, dead.stderr)
    assert.match(dead.stderr, /cannot reach the bootstrap peer: \S+: .*ECONNREFUSED/)
    assert.ok(Date.now() - started < 50_000, 'not after the 60 s --peer-wait')
  })

  await t.test('the executor stops cleanly on SIGTERM', async () => {
    exec.kill('SIGTERM')
    await eventWhere((e) => e.event === 'daemon:stopped', 'daemon:stopped', 20_000)
    const code = await new Promise<number | null>((resolve) => {
      if (exec.exitCode !== null) resolve(exec.exitCode)
      else exec.once('exit', (c) => { resolve(c) })
    })
    assert.equal(code, 0)
  })
})
