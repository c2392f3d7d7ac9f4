import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { runSubmit, parseWindow } from '../../../src/main/commands/submit.js'
import { runReceipt } from '../../../src/main/commands/receipt.js'
import { createSandbox } from '../../../src/main/sandbox/index.js'
import { openStore } from '../../../src/main/store/index.js'
import { startTestExecutor } from './test-executor.js'
import type { TestExecutor } from './test-executor.js'
import type { ReachabilityStatus } from '../../../src/main/mesh/index.js'

const asset = (name: string): string => fileURLToPath(new URL(`../../../assets/jobs/${name}`, import.meta.url))

interface Run { code: number, stdout: Buffer, stderr: string }

async function run (fn: typeof runSubmit, argv: string[], stdinText = ''): Promise<Run> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const stdin = new PassThrough()
  stdin.end(stdinText)
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (c: Buffer) => out.push(c))
  stderr.on('data', (c: Buffer) => err.push(c))
  const code = await fn(argv, { stdout, stderr, stdin, env: {} })
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }
}

function addrOf (e: TestExecutor): string {
  const a = e.node.multiaddrs().find((m) => m.includes('/p2p/')) ?? `${e.node.multiaddrs()[0] ?? ''}/p2p/${e.node.peerId}`
  return a
}

test('parseWindow accepts ISO, suffixed and plain durations', () => {
  assert.equal(parseWindow('PT5S'), 5000)
  assert.equal(parseWindow('500ms'), 500)
  assert.equal(parseWindow('2s'), 2000)
  assert.equal(parseWindow('1.5'), 1500)
  assert.equal(parseWindow('1m'), 60_000)
  assert.throws(() => parseWindow('soon'), { name: 'UsageError' })
  assert.throws(() => parseWindow('0s'), { name: 'UsageError' })
})

test('submit and receipt verify commands', async (t) => {
  const sandbox = createSandbox()
  const dir = await mkdtemp(join(tmpdir(), 'mesh-submit-'))
  const execs = await Promise.all([startTestExecutor({ sandbox, price: 4 }), startTestExecutor({ sandbox, price: 6 })])
  const [e1, e2] = execs as [TestExecutor, TestExecutor]
  await e2.node.dial(addrOf(e1))
  t.after(async () => {
    await Promise.all(execs.map(async (e) => { await e.stop() }))
    await sandbox.close()
    await rm(dir, { recursive: true, force: true })
  })
  const input = join(dir, 'input.txt')
  await writeFile(input, 'hello mesh\n')
  const digest = createHash('sha256').update('hello mesh\n').digest('hex') + '\n'
  const base = ['--module', asset('sha256.wasm'), '--input', input, '--bootstrap', addrOf(e1), '--bootstrap', addrOf(e2),
    '--data-dir', join(dir, 'orig'), '--bidding-window', '600ms', '--timeout', '20']

  let receiptCid = ''
  await t.test('sha256 job: the digest on stdout, exit 0, the receipt saved', async () => {
    const r = await run(runSubmit, base)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.toString(), digest)
    assert.match(r.stderr, /bid from .* price 4/)
    assert.match(r.stderr, /receipt verified: CompletedSuccessfully/)
    assert.match(r.stderr, /\[submit\] reachability unknown, autonat unknown, seen as 127\.0\.0\.1:\d+/)
    const m = /receipt (bafyrei[a-z2-7]+) \(saved/.exec(r.stderr)
    assert.ok(m?.[1] !== undefined, r.stderr)
    receiptCid = m[1]
    // without --description, sellers see the module's file name
    assert.ok([...e1.announcements.values()].some((a) => a.job_params.description === 'sha256.wasm'), 'default description')
  })

  await t.test('--json: JSON lines on stdout ending with the result', async () => {
    const r = await run(runSubmit, [...base, '--json', '--selection', 'first-valid-bid'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const events = lines.map((l) => l.event)
    assert.ok(events.includes('job:announced') && events.includes('job:assigned') && events.includes('receipt:verified'), events.join(','))
    const last = lines.at(-1)
    assert.equal(last?.event, 'result')
    assert.equal(last?.outputText, digest)
    assert.equal(last?.status, 'CompletedSuccessfully')
    // the originator's reachability: forwarded as it changes (identify tells how the executors saw us), and in the result
    const changes = lines.filter((l) => l.event === 'reachability:changed').map(({ event: _e, ...rest }) => rest) as unknown as ReachabilityStatus[]
    assert.ok(changes.length > 0, events.join(','))
    assert.ok(changes.some((c) => c.observedAddrs.some((a) => a.startsWith('127.0.0.1:'))), JSON.stringify(changes))
    assert.ok(events.indexOf('reachability:changed') < events.indexOf('result'))
    const reach = last?.reachability as ReachabilityStatus | undefined
    assert.ok(reach !== undefined && ['public', 'relayed', 'unreachable', 'unknown'].includes(reach.reachability), JSON.stringify(reach))
    assert.deepEqual(reach, changes.at(-1), 'the result carries the latest state')
    assert.equal(reach.natDetected, false, 'loopback: no NAT')
    assert.deepEqual(reach.relayAddrs, [], 'the test executors are no relays')
    const conns = last?.executorConnections as Array<{ peerId: string, relayed: boolean }> | undefined
    assert.ok(conns !== undefined && conns.length > 0 && conns.every((c) => !c.relayed), JSON.stringify(conns))
  })

  await t.test('receipt verify: by CID from the data dir, by file, and a tampered file', async () => {
    const ok = await run(runReceipt, ['verify', receiptCid, '--data-dir', join(dir, 'orig')])
    assert.equal(ok.code, 0, ok.stderr)
    for (const field of ['announcement_id', 'originator_did', 'executor_did', 'wasm_cid', 'input_data_cid', 'output_cid', 'status', 'fuel_used', 'resource_usage', 'price', 'runtime', 'started_at', 'finished_at', 'signature']) {
      assert.match(ok.stdout.toString(), new RegExp(`^  ${field} `, 'm'), `field ${field} printed`)
    }
    const file = join(dir, 'orig', 'receipts', receiptCid)
    const byFile = await run(runReceipt, ['verify', file, '--json'])
    assert.equal(byFile.code, 0)
    assert.equal((JSON.parse(byFile.stdout.toString()) as { cid: string }).cid, receiptCid)
    const bytes = await readFile(file)
    const i = bytes.indexOf(Buffer.from([0x58, 0x40]))
    bytes[i + 2] = (bytes[i + 2] ?? 0) ^ 1
    const bad = join(dir, 'tampered.cbor')
    await writeFile(bad, bytes)
    const refused = await run(runReceipt, ['verify', bad])
    assert.equal(refused.code, 6)
    assert.match(refused.stdout.toString(), /receipt INVALID: BadSignature/)
    const missing = await run(runReceipt, ['verify', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', '--data-dir', join(dir, 'orig')])
    assert.equal(missing.code, 1)
    assert.equal((await run(runReceipt, ['check', 'x'])).code, 2)
  })

  await t.test('exit codes: no valid bids 4, usage 2', async () => {
    const r = await run(runSubmit, [...base, '--max-price', '1'])
    assert.equal(r.code, 4, r.stderr)
    assert.match(r.stderr, /price 4 is above max_price 1/)
    assert.equal((await run(runSubmit, ['--input', input])).code, 2)
    assert.equal((await run(runSubmit, ['--module', asset('sha256.wasm')])).code, 2, 'no --bootstrap')
    assert.equal((await run(runSubmit, [...base, '--bidding-window', 'soon'])).code, 2)
  })

  await t.test('a second submission from a data dir in use: exit 2, one line saying how to run it', async () => {
    const held = openStore(join(dir, 'orig'))
    try {
      const r = await run(runSubmit, base)
      assert.equal(r.code, 2)
      assert.match(r.stderr, /^mesh-executor submit: data dir .* is in use by another mesh-executor instance .*; another submission may still be running: wait for it, or give this one its own --data-dir\n$/)
    } finally {
      held.close()
    }
  })
})
