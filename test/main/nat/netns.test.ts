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
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
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
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Proc(name, child)
}

const skipReason = canCreateNamespaces()
if (skipReason !== undefined) {
  console.error(`\n${'!'.repeat(78)}\n!! SKIPPING the NAT network-namespace suite: ${skipReason}.\n!! Run it as root on Linux (.ci/run does) to exercise AutoNAT, relays and hole punching.\n${'!'.repeat(78)}\n`)
}

test('two homes behind NAT: both learn it, a job crosses from one to the other through a relay, receipt verified', { skip: skipReason, timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-nat-'))
  const procs: Proc[] = []
  t.after(async () => {
    await Promise.all(procs.map(async (p) => { await p.stop().catch(() => {}) }))
    // every process's events, for a post-mortem
    await writeFile(join(tmpdir(), 'mesh-nat-last-run.json'), JSON.stringify(procs.map((p) => ({ name: p.name, events: p.events, stderr: p.stderr.slice(-200000) })), null, 1)).catch(() => {})
    destroyTopology()
    await rm(dir, { recursive: true, force: true })
  })
  buildTopology()

  // ---- the public side: two bootstrap + relay nodes (two AutoNAT servers: verdicts need 2 peers)
  const relayA = start('relay A', NS.pub, ['relay', '--listen', '/ip4/198.51.100.1/tcp/4001', '--data-dir', join(dir, 'relayA'), '--lan', '--json'])
  procs.push(relayA)
  const readyA = await relayA.waitFor('ready', (e) => e.event === 'ready', 30_000)
  const addrA = `/ip4/198.51.100.1/tcp/4001/p2p/${String(readyA.peerId)}`
  const relayB = start('relay B', NS.pub, ['relay', '--listen', '/ip4/198.51.100.2/tcp/4001', '--bootstrap', addrA, '--data-dir', join(dir, 'relayB'), '--lan', '--json'])
  procs.push(relayB)
  const readyB = await relayB.waitFor('ready', (e) => e.event === 'ready', 30_000)
  const addrB = `/ip4/198.51.100.2/tcp/4001/p2p/${String(readyB.peerId)}`
  const boot = ['--bootstrap', addrA, '--bootstrap', addrB]

  // ---- home 1: the executor
  const exec = start('executor', NS.home1, ['start', '--data-dir', join(dir, 'executor'), '--listen', '/ip4/0.0.0.0/tcp/4001', ...boot, '--lan', '--json', '--grace', '1'])
  procs.push(exec)
  const execReady = await exec.waitFor('ready', (e) => e.event === 'ready', 40_000)
  const execPeer = String(execReady.peerId)
  const behind = await exec.waitFor('reachability "relayed" with AutoNAT verdict private',
    (e) => e.event === 'reachability:changed' && e.reachability === 'relayed' && e.autonat === 'private', 30_000)
  assert.equal(behind.natDetected, true, 'the executor saw its address translated')
  assert.ok((behind.observedAddrs as string[]).some((a) => a.startsWith('198.51.100.11:')), `observed through NAT 1: ${JSON.stringify(behind.observedAddrs)}`)
  assert.ok((behind.relayAddrs as string[]).every((a) => a.includes('/p2p-circuit')) && (behind.relayAddrs as string[]).length > 0)

  // ---- home 2: the originator submits a job
  const input = join(dir, 'input.txt')
  await writeFile(input, 'hello from home 2\n')
  const sub = start('submit', NS.home2, ['submit', '--module', WASM, '--input', input, ...boot, '--listen', '/ip4/0.0.0.0/tcp/4001',
    '--data-dir', join(dir, 'originator'), '--bidding-window', '6s', '--selection', 'first-valid-bid', '--timeout', '30', '--json'])
  procs.push(sub)
  const outcome = await sub.waitFor('result', (e) => e.event === 'result' || e.event === 'failed', 100_000)
  const code = await sub.exited
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
})
