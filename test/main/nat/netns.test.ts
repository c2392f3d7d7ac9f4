/**
 * Real network stacks: two homes, each behind its own NAT (iptables MASQUERADE), and a "public"
 * network with two bootstrap+relay nodes, built from Linux network namespaces and veth pairs.
 *
 *   home1 (executor)  10.231.1.2 ── 10.231.1.1 nat1 198.51.100.11 ──┐
 *                                                                    ├─ bridge in pub: relay A 198.51.100.1, relay B 198.51.100.2
 *   home2 (originator) 10.231.2.2 ── 10.231.2.1 nat2 198.51.100.12 ──┘
 *
 * Only documentation/private addresses, only inside namespaces this test creates (none of them is
 * connected to the host's network). Needs root (CAP_NET_ADMIN); skipped loudly otherwise.
 *
 * 1. relays with the default limits (128 KiB per relayed connection): both homes learn they are
 *    behind NAT, a small job crosses through a relay; a job whose blocks (4 MiB module, 8 MiB input)
 *    cannot cross such a relay gets no bid, and the executor says why;
 * 2. relays whose limits allow it (32 MiB, 10 min): that job crosses, receipt and output verified.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = join(REPO, 'bin/mesh-executor.js')
const WASM = join(REPO, 'assets/jobs/sha256.wasm')
const P = `m8${process.pid % 100000}`
const NS = { pub: `${P}pub`, nat1: `${P}n1`, nat2: `${P}n2`, home1: `${P}h1`, home2: `${P}h2` }

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}
function inNs (ns: string, ...cmd: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] })
}

function canCreateNamespaces (): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not running as root'
  const probe = `${P}probe`
  try {
    ip('netns', 'add', probe)
    ip('netns', 'del', probe)
    execFileSync('iptables', ['--version'], { stdio: 'ignore' })
    return undefined
  } catch (err) {
    try { ip('netns', 'del', probe) } catch { /* not created */ }
    return `cannot create network namespaces or run iptables: ${(err as Error).message}`
  }
}

function buildTopology (): void {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns)
  for (const ns of Object.values(NS)) inNs(ns, 'ip', 'link', 'set', 'lo', 'up')
  // the "internet": a bridge in pub with both relays' addresses, and each NAT's outside leg
  inNs(NS.pub, 'ip', 'link', 'add', 'br0', 'type', 'bridge')
  inNs(NS.pub, 'ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'br0')
  inNs(NS.pub, 'ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'br0')
  inNs(NS.pub, 'ip', 'link', 'set', 'br0', 'up')
  for (const [i, nat, home] of [[1, NS.nat1, NS.home1], [2, NS.nat2, NS.home2]] as const) {
    // NAT outside leg: nat <-> pub bridge
    ip('link', 'add', `${P}o${i}`, 'type', 'veth', 'peer', 'name', `${P}p${i}`)
    ip('link', 'set', `${P}o${i}`, 'netns', nat)
    ip('link', 'set', `${P}p${i}`, 'netns', NS.pub)
    inNs(NS.pub, 'ip', 'link', 'set', `${P}p${i}`, 'master', 'br0')
    inNs(NS.pub, 'ip', 'link', 'set', `${P}p${i}`, 'up')
    inNs(nat, 'ip', 'addr', 'add', `198.51.100.1${i}/24`, 'dev', `${P}o${i}`)
    inNs(nat, 'ip', 'link', 'set', `${P}o${i}`, 'up')
    // home LAN: home <-> nat
    ip('link', 'add', `${P}i${i}`, 'type', 'veth', 'peer', 'name', `${P}l${i}`)
    ip('link', 'set', `${P}i${i}`, 'netns', nat)
    ip('link', 'set', `${P}l${i}`, 'netns', home)
    inNs(nat, 'ip', 'addr', 'add', `10.231.${i}.1/24`, 'dev', `${P}i${i}`)
    inNs(nat, 'ip', 'link', 'set', `${P}i${i}`, 'up')
    inNs(home, 'ip', 'addr', 'add', `10.231.${i}.2/24`, 'dev', `${P}l${i}`)
    inNs(home, 'ip', 'link', 'set', `${P}l${i}`, 'up')
    inNs(home, 'ip', 'route', 'add', 'default', 'via', `10.231.${i}.1`)
    // the home router: forward and masquerade; other homes' private ranges are unreachable (fail fast)
    inNs(nat, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward')
    inNs(nat, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', `${P}o${i}`, '-j', 'MASQUERADE')
    inNs(nat, 'ip', 'route', 'add', 'unreachable', '10.231.0.0/16')
    // answer every such SYN with host-unreachable (the kernel rate-limits ICMP errors per destination by default)
    inNs(nat, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/icmp_ratelimit')
  }
}

function destroyTopology (): void {
  for (const ns of Object.values(NS)) {
    try { ip('netns', 'del', ns) } catch { /* already gone */ }
  }
}

type Event = Record<string, unknown> & { event: string }

class Proc {
  readonly events: Event[] = []
  stderr = ''
  readonly exited: Promise<number>
  private waiters: Array<{ pred: (e: Event) => boolean, resolve: (e: Event) => void }> = []
  constructor (readonly name: string, readonly child: ChildProcess) {
    let buf = ''
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString()
      let i: number
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        let e: Event
        try { e = JSON.parse(line) as Event } catch { continue }
        this.events.push(e)
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(e)) return true
          w.resolve(e)
          return false
        })
      }
    })
    child.stderr?.on('data', (c: Buffer) => { this.stderr += c.toString() })
    this.exited = new Promise((resolve) => { child.once('exit', (code, sig) => { resolve(code ?? (sig !== null ? 128 : 1)) }) })
  }

  async waitFor (what: string, pred: (e: Event) => boolean, ms: number): Promise<Event> {
    const found = this.events.find(pred)
    if (found !== undefined) return found
    return await new Promise<Event>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no ${what} within ${ms} ms\nevents: ${this.events.map((e) => e.event).join(', ')}\nstderr: ${this.stderr.slice(-3000)}`))
      }, ms)
      void this.exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`${this.name} exited (${code}) before ${what}\nstderr: ${this.stderr.slice(-3000)}`))
      })
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e) } })
    })
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const t = setTimeout(() => { this.child.kill('SIGKILL') }, 5000)
    await this.exited
    clearTimeout(t)
  }
}

function start (name: string, ns: string, args: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESH_LOG_LEVEL: process.env.MESH_LOG_LEVEL ?? 'debug' } })
  return new Proc(name, child)
}

const skipReason = canCreateNamespaces()
if (skipReason !== undefined) {
  console.error(`\n${'!'.repeat(78)}\n!! SKIPPING the NAT network-namespace suite: ${skipReason}.\n!! Run it as root on Linux (.ci/run does) to exercise AutoNAT, relays and hole punching.\n${'!'.repeat(78)}\n`)
}

/** `bytes` padded with a custom section to at least `size` bytes: the same program, a bigger module. */
function padModule (bytes: Uint8Array, size: number): Uint8Array {
  const name = new TextEncoder().encode('padding')
  const leb = (n: number): number[] => { const out: number[] = []; do { let b = n & 0x7f; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0); return out }
  const payloadLen = Math.max(0, size - bytes.length - 16)
  const content = [...leb(name.length), ...name]
  const section = new Uint8Array([0, ...leb(content.length + payloadLen), ...content])
  const out = new Uint8Array(bytes.length + section.length + payloadLen)
  out.set(bytes, 0)
  out.set(section, bytes.length)
  out.set(randomBytes(payloadLen), bytes.length + section.length)
  return out
}

interface Homes { dir: string, relayA: Proc, relayB: Proc, exec: Proc, execPeer: string, boot: string[], procs: Proc[], readyB: Event }

/** The topology, two relays (extra relay flags), and the executor in home 1 behind NAT. */
async function setUp (t: { after: (fn: () => Promise<void>) => void }, relayFlags: string[]): Promise<Homes> {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-nat-'))
  const procs: Proc[] = []
  t.after(async () => {
    await Promise.all(procs.map(async (p) => { await p.stop().catch(() => {}) }))
    // every process's events and the executor's and originator's debug logs, for a post-mortem
    const logs: Record<string, string> = {}
    for (const who of ['executor', 'originator']) {
      logs[who] = await readFile(join(dir, who, 'logs', 'current.log'), 'utf8').then((l) => l.slice(-300000), () => '')
    }
    await writeFile(join(tmpdir(), 'mesh-nat-last-run.json'), JSON.stringify({ procs: procs.map((p) => ({ name: p.name, events: p.events, stderr: p.stderr.slice(-200000) })), logs }, null, 1)).catch(() => {})
    destroyTopology()
    await rm(dir, { recursive: true, force: true })
  })
  buildTopology()

  // ---- the public side: two bootstrap + relay nodes (two AutoNAT servers: verdicts need 2 peers)
  const relayA = start('relay A', NS.pub, ['relay', '--listen', '/ip4/198.51.100.1/tcp/4001', '--data-dir', join(dir, 'relayA'), '--lan', '--json', ...relayFlags])
  procs.push(relayA)
  const readyA = await relayA.waitFor('ready', (e) => e.event === 'ready', 30_000)
  const addrA = `/ip4/198.51.100.1/tcp/4001/p2p/${String(readyA.peerId)}`
  const relayB = start('relay B', NS.pub, ['relay', '--listen', '/ip4/198.51.100.2/tcp/4001', '--bootstrap', addrA, '--data-dir', join(dir, 'relayB'), '--lan', '--json', ...relayFlags])
  procs.push(relayB)
  const readyB = await relayB.waitFor('ready', (e) => e.event === 'ready', 30_000)
  const addrB = `/ip4/198.51.100.2/tcp/4001/p2p/${String(readyB.peerId)}`
  const boot = ['--bootstrap', addrA, '--bootstrap', addrB]

  // ---- home 1: the executor
  const exec = start('executor', NS.home1, ['start', '--data-dir', join(dir, 'executor'), '--listen', '/ip4/0.0.0.0/tcp/4001', ...boot, '--lan', '--json', '--grace', '1'])
  procs.push(exec)
  const execReady = await exec.waitFor('ready', (e) => e.event === 'ready', 40_000)
  return { dir, relayA, relayB, exec, execPeer: String(execReady.peerId), boot, procs, readyB }
}

/** `mesh-executor submit` in home 2; resolves with its result/failed line and exit code. */
async function submit (h: Homes, name: string, module: string, input: string, extra: string[] = []): Promise<{ proc: Proc, outcome: Event, code: number }> {
  const sub = start(name, NS.home2, ['submit', '--module', module, '--input', input, ...h.boot, '--listen', '/ip4/0.0.0.0/tcp/4001',
    '--data-dir', join(h.dir, 'originator'), '--bidding-window', '6s', '--selection', 'first-valid-bid', '--timeout', '60', '--json', ...extra])
  h.procs.push(sub)
  const outcome = await sub.waitFor('result', (e) => e.event === 'result' || e.event === 'failed', 120_000)
  return { proc: sub, outcome, code: await sub.exited }
}

/** A 4 MiB module (sha256.wasm padded) and an 8 MiB input, as files; the expected output. */
async function bigJob (dir: string): Promise<{ module: string, input: string, digest: string }> {
  const module = join(dir, 'big.wasm')
  const input = join(dir, 'big-input.bin')
  const data = randomBytes(8 * 1024 * 1024)
  await writeFile(module, padModule(new Uint8Array(await readFile(WASM)), 4 * 1024 * 1024))
  await writeFile(input, data)
  return { module, input, digest: createHash('sha256').update(data).digest('hex') }
}

test('two homes behind NAT: both learn it, a job crosses from one to the other through a relay, receipt verified', { skip: skipReason, timeout: 200_000 }, async (t) => {
  const h = await setUp(t, [])
  const { dir, relayA, relayB, exec, execPeer, readyB } = h
  const behind = await exec.waitFor('reachability "relayed" with AutoNAT verdict private',
    (e) => e.event === 'reachability:changed' && e.reachability === 'relayed' && e.autonat === 'private', 30_000)
  assert.equal(behind.natDetected, true, 'the executor saw its address translated')
  assert.ok((behind.observedAddrs as string[]).some((a) => a.startsWith('198.51.100.11:')), `observed through NAT 1: ${JSON.stringify(behind.observedAddrs)}`)
  assert.ok((behind.relayAddrs as string[]).every((a) => a.includes('/p2p-circuit')) && (behind.relayAddrs as string[]).length > 0)

  // ---- home 2: the originator submits a job
  const input = join(dir, 'input.txt')
  await writeFile(input, 'hello from home 2\n')
  const { proc: sub, outcome, code } = await submit(h, 'submit', WASM, input)
  assert.equal(outcome.event, 'result', `submit failed: ${JSON.stringify(outcome)}\n${sub.stderr.slice(-2000)}\nexecutor: ${JSON.stringify(exec.events.filter((e) => e.event !== 'capability:published'))}`)
  assert.equal(code, 0)
  const origPeer = String((await relayA.waitFor('originator dial-back', (e) => e.event === 'autonat:served' && e.peerId !== execPeer && e.peerId !== readyB.peerId, 5_000)).peerId)

  // the executor bid on, was assigned and ran the job, and published its receipt
  const bid = await exec.waitFor('bid:sent', (e) => e.event === 'bid:sent', 5_000)
  const accepted = await exec.waitFor('job:accepted', (e) => e.event === 'job:accepted' && e.announcementId === bid.announcementId, 5_000)
  const finished = await exec.waitFor('job:finished', (e) => e.event === 'job:finished' && e.announcementId === accepted.announcementId, 20_000)
  assert.equal(finished.status, 'CompletedSuccessfully')
  const digest = createHash('sha256').update('hello from home 2\n').digest('hex')
  assert.equal(outcome.receiptCid, finished.receiptCid, 'the originator fetched the executor\'s receipt')
  assert.ok(sub.events.some((e) => e.event === 'receipt:verified' && e.receiptCid === finished.receiptCid && e.status === 'CompletedSuccessfully'), 'receipt verified by the originator')
  const output = outcome.output as { data?: number[] } | undefined
  assert.equal(Buffer.from(output?.data ?? []).toString(), `${digest}\n`, 'the job computed sha256 of the input')

  // both homes learned they are behind NAT: every relay dialed each home back at the address it saw and failed
  for (const peer of [execPeer, origPeer]) {
    for (const relay of [relayA, relayB]) {
      const served = await relay.waitFor(`dial-back for ${peer}`, (e) => e.event === 'autonat:served' && e.peerId === peer, 10_000)
      assert.equal(served.status, 'dial-error', `${relay.name} could not dial ${peer} back through its NAT: ${JSON.stringify(served)}`)
    }
  }
  // and each home holds a relay reservation: the executor says so, and reached the originator at its circuit address
  assert.ok(exec.events.some((e) => e.event === 'connection:opened' && e.peerId === origPeer && String(e.remoteAddr).includes(`/p2p-circuit/p2p/${origPeer}`)),
    'a relayed connection between the homes')

  // the receipt the originator saved verifies offline
  const receipts = await readdir(join(dir, 'originator', 'receipts'))
  assert.ok(receipts.length >= 1)
  const verify = spawn(process.execPath, [BIN, 'receipt', 'verify', join(dir, 'originator', 'receipts', receipts[0] ?? '')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  const vp = new Proc('receipt verify', verify)
  assert.equal(await vp.exited, 0, `receipt verify: ${vp.stderr}`)

  // how did the executor and the originator talk?
  const withOrig = exec.events.filter((e) => e.event === 'connection:opened' && e.peerId === origPeer)
  assert.ok(withOrig.length > 0, 'the executor had a connection with the originator')
  const relayed = withOrig.some((e) => e.relayed === true)
  const punched = withOrig.some((e) => e.upgraded === true)
  const path = punched ? 'hole-punched (DCUtR upgraded the relayed connection to a direct one)' : relayed ? 'relayed (no direct upgrade)' : 'direct'
  t.diagnostic(`executor <-> originator path: ${path}; connections: ${JSON.stringify(withOrig.map((e) => ({ addr: e.remoteAddr, relayed: e.relayed, upgraded: e.upgraded, limits: e.limits })))}`)
  assert.ok(relayed || punched, 'two homes behind NAT cannot have a plain direct connection')

  // ---- a job whose blocks cannot cross these relays (128 KiB per relayed connection): no bid, and the executor says why
  // (market rule relay: the limit of the only path to the originator vs. the announcement's wasm_size + input_size).
  await t.test('a 4 MiB module + 8 MiB input is not bid on through a 128 KiB relay, with the reason', async (st) => {
    const big = await bigJob(dir)
    const r = await submit(h, 'submit big (small relays)', big.module, big.input, ['--bidding-window', '4s'])
    assert.equal(r.outcome.event, 'failed', `the job crossed a relay too small for it: ${JSON.stringify(r.outcome)}`)
    const announced = r.proc.events.find((e) => e.event === 'job:announced')
    assert.ok(announced !== undefined, 'the big job was announced')
    const decided = await exec.waitFor('the decision on the big job', (e) => e.event === 'announcement:decided' && e.announcementId === announced.announcementId, 10_000)
    assert.ok(decided.bid === false, `the executor bid: ${JSON.stringify(decided)}`)
    const why = (decided.reasons as Array<{ ok: boolean, text: string }>).filter((x) => !x.ok).map((x) => x.text).join('; ')
    assert.match(why, /relay/i, `the reason names the relay limit: ${why}`)
    st.diagnostic(`executor's reason: ${why}`)
  })
})

test('two homes behind NAT, relays whose limits allow it: a 4 MiB module and 8 MiB input cross, receipt and output verified', { skip: skipReason, timeout: 200_000 }, async (t) => {
  const h = await setUp(t, ['--relay-data-limit', String(32 * 1024 * 1024), '--relay-duration-limit', '600'])
  await h.exec.waitFor('reachability "relayed"', (e) => e.event === 'reachability:changed' && e.reachability === 'relayed', 30_000)
  const big = await bigJob(h.dir)
  const t0 = Date.now()
  const { proc: sub, outcome, code } = await submit(h, 'submit big', big.module, big.input, ['--max-fuel', '5000000000'])
  assert.equal(outcome.event, 'result', `submit failed: ${JSON.stringify(outcome)}\n${sub.stderr.slice(-2000)}\nexecutor: ${JSON.stringify(h.exec.events.filter((e) => e.event !== 'capability:published').slice(-20))}`)
  assert.equal(code, 0)
  const output = outcome.output as { data?: number[] } | undefined
  assert.equal(Buffer.from(output?.data ?? []).toString(), `${big.digest}\n`, 'sha256 of the 8 MiB input')
  const finished = await h.exec.waitFor('job:finished', (e) => e.event === 'job:finished' && e.receiptCid === outcome.receiptCid, 10_000)
  assert.equal(finished.status, 'CompletedSuccessfully')
  const conns = (outcome.executorConnections as Array<{ relayed: boolean, limits?: { bytes?: string } }> | undefined) ?? []
  t.diagnostic(`big job through the relay in ${Date.now() - t0} ms; originator's connections to the executor: ${JSON.stringify(conns)}`)
  assert.ok(conns.length > 0 && conns.every((c) => c.relayed), 'the blocks went through a relay (no direct path between two NATs)')
})
