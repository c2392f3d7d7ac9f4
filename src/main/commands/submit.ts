/**
 * `mesh-executor submit`: submit one job to the mesh as an originator and write its output.
 *
 *   mesh-executor submit --module FILE.wasm [--input FILE|-] [--max-price N] [--region R] [--max-fuel N]
 *     [--timeout S] [--bidding-window DURATION] [--selection window|first-valid-bid] [--min-reputation N]
 *     [--rep-weight N] [--price-weight N] [--description TEXT] [--interactive] [--bootstrap MULTIADDR]...
 *     [--listen MULTIADDR]... [--data-dir DIR] [--peer-wait S] [--json]
 *
 * Starts its own mesh node (LAN mode, default listen /ip4/127.0.0.1/tcp/0), joins through the
 * bootstrap peers, waits until they are subscribed to the announce topic, submits, verifies the
 * receipt, writes the output to stdout and saves the receipt block in <data-dir>/receipts/<cid> (a
 * failed or cancelled job's verified receipt too).
 * Without --json a readable log goes to stderr; with --json, JSON lines go to stdout (events, then
 * one {"event":"result",…} or {"event":"failed",…}) and nothing else is written there. The node's
 * reachability (public / behind NAT via relay / unreachable / unknown, docs/NETWORKING.md) is
 * forwarded as {"event":"reachability:changed",…} lines and included in the result/failed line.
 * Exit codes: 0 ok, 1 other error, 2 usage, 3 no bids, 4 no valid bids, 5 executor failed,
 * 6 receipt invalid, 7 timeout.
 */
import '../polyfills.js'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { isValidRegion, loadOrCreateIdentityFile, parseDuration, peerIdFromDid, QOS_PROFILES } from '../../shared/protocol/index.js'
import type { Identity, QosProfile } from '../../shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../mesh/index.js'
import type { ConnectionInfo, MeshNode, ReachabilityStatus } from '../mesh/index.js'
import { DataDirLockedError, openStore } from '../store/index.js'
import type { Store } from '../store/index.js'
import { AccessBlockStore, createOriginator, ExecutorFailedError, OriginatorError } from '../originator/index.js'
import type { OriginatorEvent, SubmitJob, SubmitResult } from '../originator/index.js'
import { checkMultiaddrs, dataDirFrom, parseFlags, UsageError, type CliIo } from './io.js'
import { shortId } from '../../shared/text.js'
import { unreachable } from '../../shared/exhaustive.js'
import { openLogFile, type LogFile, type Logger } from '../log/index.js'


export const EXIT = { ok: 0, other: 1, usage: 2, noBids: 3, noValidBids: 4, executorFailed: 5, receiptInvalid: 6, timeout: 7 } as const

export const SUBMIT_USAGE = `usage: mesh-executor submit --module FILE.wasm [options]

  --module FILE          the job: a WASI preview1 command module (required)
  --input FILE           the job's stdin ("-" reads our stdin); not with --interactive
  --max-price N          the most we pay (tokens); bids above are refused
  --region R             only executors bidding from region R; also announced on R's topic
  --max-fuel N           fuel budget (instructions; default 1000000000)
  --timeout S            the job's wall-clock limit in seconds (default 60)
  --bidding-window D     how long bids are collected: PT5S, 5s, 500ms or seconds (default 5s)
  --selection MODE       window (default: best bid when the window closes) | first-valid-bid
  --min-reputation N     0–100, from our own history with the executor (strangers count 50)
  --rep-weight N         per-mille weight of reputation in the selection (default 300)
  --price-weight N       per-mille weight of price in the selection (default 700)
  --qos P                BestEffort (default), LowLatency, CostOptimized, GuaranteedCompletion
  --description TEXT     shown to executors (≤ 1 KiB; default: the module's file name)
  --interactive          pipe our stdin to the job and its output to our stdout as it runs
  --bootstrap MA         a peer to join through, with /p2p/<PeerId> (repeatable; required)
  --listen MA            our listen address (repeatable; default /ip4/127.0.0.1/tcp/0)
  --data-dir DIR         our key, history and receipts (default ~/.mesh-executor/originator,
                         or $MESH_EXECUTOR_DATA_DIR/originator)
  --peer-wait S          how long to wait for the bootstrap peers' subscriptions (default 15)
  --json                 JSON lines on stdout (events, then "result" or "failed")

exit codes: 0 ok, 1 other error, 2 usage, 3 no bids, 4 no valid bids, 5 executor failed,
            6 receipt invalid, 7 timeout
`


/** Parses a bidding window: ISO 8601 (PT5S), "5s", "500ms", "2m" or plain seconds. Returns ms. */
export function parseWindow (s: string): number {
  const t = s.trim()
  let ms: number
  if (/^P/i.test(t)) {
    try { ms = parseDuration(t.toUpperCase()) } catch (err) { throw new UsageError(`--bidding-window ${JSON.stringify(s)}: ${(err as Error).message}`) }
  } else {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(t)
    if (m === null) throw new UsageError(`--bidding-window ${JSON.stringify(s)}: want PT5S, 5s, 500ms, 2m or seconds`)
    const n = Number(m[1])
    ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
  }
  ms = Math.round(ms)
  if (!(ms > 0) || ms > 3_600_000) throw new UsageError(`--bidding-window ${JSON.stringify(s)}: must be more than 0 and at most 1 hour`)
  return ms
}

function intArg (name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} ${JSON.stringify(v)}: want an integer ${min}–${max}`)
  return Number(v)
}

function bigArg (name: string, v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || BigInt(v) >= 1n << 64n) throw new UsageError(`--${name} ${JSON.stringify(v)}: want a non-negative integer`)
  return BigInt(v)
}

/** A fuel budget of 0 runs nothing: refused before we join the mesh, naming the flag. */
function positive (name: string, v: bigint | undefined): bigint | undefined {
  if (v === 0n) throw new UsageError(`--${name} 0: want a positive integer (the job's fuel budget, in instructions)`)
  return v
}

async function readAll (stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
  return new Uint8Array(Buffer.concat(chunks))
}

async function * chunksOf (stream: NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const c of stream) yield typeof c === 'string' ? new TextEncoder().encode(c) : new Uint8Array(c)
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x))
const short = (s: string): string => shortId(s)

/** One readable line per event (stderr log of the non-JSON mode). */
export function describeEvent (e: OriginatorEvent): string | undefined {
  switch (e.type) {
    case 'job:announced': return `announced ${e.announcementId} (module ${short(e.wasmCid)}) on ${e.topics.join(', ')} to ${e.recipients} peer(s); bidding ${e.biddingWindowMs} ms`
    case 'bid:received': return `bid from ${short(e.executorDid)}: price ${e.price ?? 'free'}${e.region !== undefined ? `, region ${e.region}` : ''}`
    case 'bid:refused': return `bid from ${short(e.executorDid)} refused: ${e.reason} ${e.detail}`
    case 'selection:made': {
      const lines = [`selected ${e.chosen === undefined ? 'nobody' : short(e.chosen)} from ${e.ranking.length} eligible bid(s)`]
      for (const r of e.refused) lines.push(`  not ${short(r.bid.executorDid)}: ${r.reasons.join('; ')}`)
      return lines.join('\n')
    }
    case 'job:assigned': return `assigned to ${short(e.executorDid)} (attempt ${e.attempt}${e.price !== undefined ? `, price ${e.price}` : ''})`
    case 'assign:refused': return `${short(e.executorDid)} refused the assignment: ${e.error} ${e.message}`
    case 'assignee:silent': return `${short(e.executorDid)} sent no status within ${e.waitedMs} ms; trying the next bidder`
    case 'status:received': return `status ${e.status}${e.details !== undefined ? ` (${e.details})` : ''}`
    case 'stdin:failed': return `sending stdin failed: ${e.error}`
    case 'receipt:available': return `receipt ${e.receiptCid} available (${e.channel})`
    case 'receipt:fetched': return `receipt fetched from ${e.via === 'dht' ? 'the DHT' : 'the executor'} in ${e.ms} ms`
    case 'receipt:verified': return `receipt verified: ${e.status}${e.failureReason !== undefined ? ` ${e.failureReason}` : ''}`
    case 'receipt:invalid': return `receipt INVALID (${e.check}): ${e.detail}`
    // progress of the streams: the interactive output itself is what the user sees
    case 'stdin:sent': case 'output:received': return undefined
    default: return unreachable(e, 'originator event')
  }
}

/** One readable line for a reachability change (stderr log of the non-JSON mode). */
export function describeReachability (s: ReachabilityStatus): string {
  const what = s.reachability === 'public'
    ? 'public'
    : s.reachability === 'relayed' ? 'behind NAT, reachable via relay' : s.reachability
  const parts = [`reachability ${what}`, `autonat ${s.autonat}`]
  if (s.natDetected) parts.push('NAT detected')
  if (s.observedAddrs.length > 0) parts.push(`seen as ${s.observedAddrs[0] ?? ''}`)
  if (s.relayAddrs.length > 0) parts.push(`relay address ${s.relayAddrs.join(' ')}`)
  return parts.join(', ')
}

function executorPeerId (did: string): string | undefined {
  try { return peerIdFromDid(did) } catch { return undefined }
}

/** What the result line reports about our reachability and the connections to the executor. */
function networkOf (node: MeshNode, executorPeerId?: string): { reachability: ReachabilityStatus, executorConnections?: ConnectionInfo[] } {
  const out: { reachability: ReachabilityStatus, executorConnections?: ConnectionInfo[] } = { reachability: node.reachability() }
  if (executorPeerId !== undefined) out.executorConnections = node.connections(executorPeerId)
  return out
}

function exitCodeOf (err: unknown): number {
  if (!(err instanceof OriginatorError)) return EXIT.other
  switch (err.code) {
    case 'NoBids': return EXIT.noBids
    case 'NoValidBids': return EXIT.noValidBids
    case 'ExecutorFailed': return EXIT.executorFailed
    case 'ReceiptInvalid': return EXIT.receiptInvalid
    case 'Timeout': return EXIT.timeout
    case 'InvalidJob': return EXIT.usage
    default: return EXIT.other
  }
}

interface SubmitPlan {
  job: SubmitJob
  bootstrap: string[]
  listen: string[]
  dataDir: string
  peerWaitMs: number
  /** --input -: the job's input is our stdin, read once the flags are known to be fine */
  inputFromStdin: boolean
  json: boolean
}

async function readArg (flag: string, file: string): Promise<Uint8Array> {
  try { return new Uint8Array(await readFile(resolve(file))) } catch (err) { throw new UsageError(`cannot read --${flag} ${file}: ${(err as Error).message}`) }
}

/** A WebAssembly binary starts with "\0asm" and version 1; anything else is refused before we join the mesh. */
function wasmModule (file: string, bytes: Uint8Array): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new UsageError(`--module ${file} is not a WebAssembly module (a .wasm file starts with \\0asm, version 1); compile the job to wasm32-wasi first`)
  }
  return bytes
}

function checkAddrs (bootstrap: string[], listen: string[]): void {
  if (bootstrap.length === 0) throw new UsageError('at least one --bootstrap MULTIADDR (with /p2p/<PeerId>) is required to reach the mesh')
  checkMultiaddrs('--bootstrap', bootstrap, true)
  checkMultiaddrs('--listen', listen, false)
}

type Flags = ReturnType<typeof parseFlags>['values']
const str = (v: Flags, k: string): string | undefined => typeof v[k] === 'string' ? v[k] : undefined

/** The job's market terms from the flags (selection, QoS, price, region, reputation, weights, description). */
function jobTerms (v: Flags): Omit<SubmitJob, 'module' | 'interactive'> {
  const region = str(v, 'region')
  if (region !== undefined && !isValidRegion(region)) throw new UsageError(`--region ${JSON.stringify(region)}: use 1–63 characters of a-z, 0-9 and -`)
  const selection = str(v, 'selection') ?? 'window'
  if (selection !== 'window' && selection !== 'first-valid-bid') throw new UsageError(`--selection ${JSON.stringify(selection)}: want window or first-valid-bid`)
  const qos = str(v, 'qos') ?? 'BestEffort'
  if (!(QOS_PROFILES as readonly string[]).includes(qos)) throw new UsageError(`--qos ${JSON.stringify(qos)}: want one of ${QOS_PROFILES.join(', ')}`)
  const description = str(v, 'description')
  if (description !== undefined && Buffer.byteLength(description) > 1024) throw new UsageError('--description must be at most 1 KiB')
  const window = str(v, 'bidding-window')
  const optional = {
    maxPrice: bigArg('max-price', str(v, 'max-price')),
    region,
    minReputation: intArg('min-reputation', str(v, 'min-reputation'), 0, 100),
    repWeight: intArg('rep-weight', str(v, 'rep-weight'), 0, 1000),
    priceWeight: intArg('price-weight', str(v, 'price-weight'), 0, 1000),
    description
  }
  return {
    maxFuel: positive('max-fuel', bigArg('max-fuel', str(v, 'max-fuel'))) ?? 1_000_000_000n,
    timeoutSeconds: intArg('timeout', str(v, 'timeout'), 1, 86_400) ?? 60,
    biddingWindowMs: window === undefined ? 5000 : parseWindow(window),
    qos: qos as QosProfile,
    selection,
    ...Object.fromEntries(Object.entries(optional).filter(([, x]) => x !== undefined))
  }
}

/** The flags, checked (UsageError otherwise); undefined for --help. */
async function submitPlan (argv: string[], env: NodeJS.ProcessEnv): Promise<SubmitPlan | undefined> {
  const { values: v, positionals } = parseFlags(argv, {
    module: { type: 'string' }, input: { type: 'string' }, 'max-price': { type: 'string' }, region: { type: 'string' },
    'max-fuel': { type: 'string' }, timeout: { type: 'string' }, 'bidding-window': { type: 'string' }, selection: { type: 'string' },
    'min-reputation': { type: 'string' }, 'rep-weight': { type: 'string' }, 'price-weight': { type: 'string' }, qos: { type: 'string' },
    description: { type: 'string' }, interactive: { type: 'boolean' }, bootstrap: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true }, 'data-dir': { type: 'string' }, 'peer-wait': { type: 'string' },
    json: { type: 'boolean' }, help: { type: 'boolean' }
  })
  if (v.help === true) return undefined
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const modulePath = str(v, 'module')
  if (modulePath === undefined) throw new UsageError('--module FILE.wasm is required')
  const interactive = v.interactive === true
  const inputPath = str(v, 'input')
  if (inputPath !== undefined && interactive) throw new UsageError('--input and --interactive exclude each other (interactive jobs read our stdin)')
  const bootstrap = (v.bootstrap as string[] | undefined) ?? []
  const listen = (v.listen as string[] | undefined) ?? ['/ip4/127.0.0.1/tcp/0']
  checkAddrs(bootstrap, listen)
  const job: SubmitJob = { module: wasmModule(modulePath, await readArg('module', modulePath)), interactive, ...jobTerms(v) }
  // sellers see the description in every list: without one, the module's file name says what the job is
  job.description ??= basename(modulePath).slice(0, 200)
  if (inputPath !== undefined && inputPath !== '-') job.input = await readArg('input', inputPath)
  return {
    job, bootstrap, listen,
    dataDir: resolve(dataDirFrom(str(v, 'data-dir'), env, homedir(), 'originator')),
    peerWaitMs: (intArg('peer-wait', str(v, 'peer-wait'), 1, 3600) ?? 15) * 1000,
    inputFromStdin: inputPath === '-',
    json: v.json === true
  }
}

/** How the command speaks: JSON lines on stdout (--json) or a readable log on stderr. */
interface Voice {
  json: boolean
  emit: (o: Record<string, unknown>) => void
  log: (line: string) => void
}

function voiceOf (io: CliIo, jsonMode: boolean): Voice {
  return {
    json: jsonMode,
    emit: (o) => { io.stdout.write(json(o) + '\n') },
    log: (line) => { if (!jsonMode) io.stderr.write(`[submit] ${line}\n`) }
  }
}

/** Waits until the bootstrap peers we reached are subscribed to the announce topic; false after `ms`. */
async function awaitPeers (node: MeshNode, bootstrap: string[], ms: number): Promise<boolean> {
  const bootPeers = bootstrap.map((b) => multiaddr(b).getComponents().find((c) => c.name === 'p2p')?.value).filter((x): x is string => x !== undefined)
  const deadline = Date.now() + ms
  const ready = (): boolean => {
    const subs = node.topicPeers(JOBS_ANNOUNCE_TOPIC)
    const connected = node.connectedPeers()
    return subs.length > 0 && bootPeers.every((p) => !connected.includes(p) || subs.includes(p))
  }
  while (!ready()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

function reportResult (io: CliIo, voice: Voice, node: MeshNode, plan: SubmitPlan, result: SubmitResult, ms: number, dir: string): void {
  if (!voice.json) {
    if (plan.job.interactive !== true) io.stdout.write(result.output)
    voice.log(`done in ${ms} ms: executor ${short(result.executorDid)}, price ${result.price ?? 'free'}, fuel ${result.receipt.fuel_used}, receipt ${result.receiptCid} (saved in ${dir})`)
    return
  }
  voice.emit({
    event: 'result',
    announcementId: result.announcementId,
    executorDid: result.executorDid,
    price: result.price ?? null,
    bids: result.bidCount,
    attempts: result.attempts,
    receiptCid: result.receiptCid,
    receiptVia: result.receiptVia,
    status: result.receipt.status,
    fuelUsed: result.receipt.fuel_used,
    outputCid: result.receipt.output_cid ?? null,
    output: result.output,
    outputText: Buffer.from(result.output).toString('utf8'),
    ms,
    ...networkOf(node, executorPeerId(result.executorDid))
  })
}

/** Writes a verified receipt block to <data-dir>/receipts/<cid>; returns that directory. */
async function saveReceipt (dataDir: string, cid: string, bytes: Uint8Array): Promise<string> {
  const dir = join(dataDir, 'receipts')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, cid), bytes)
  return dir
}

/** After Ctrl+C: what becomes of the job on its executor. */
function givenUpNote (err: unknown, job: SubmitJob, left: { executorDid?: string, running?: boolean, stdinClosed?: boolean }): string | undefined {
  if (!(err instanceof OriginatorError) || err.code !== 'Aborted' || left.executorDid === undefined) return undefined
  const who = short(left.executorDid)
  if (left.stdinClosed === true) return `its stdin was closed: the job ends on ${who} when it reads the end of its input`
  return `the job stays with ${who} until it ends or reaches its ${job.timeoutSeconds} s time limit (the protocol has no cancel message)${left.running === true || job.interactive !== true ? '' : '; its stdin could not be closed: it had not started yet'}`
}

function reportFailure (io: CliIo, voice: Voice, node: MeshNode, err: unknown, after: { savedIn?: string | undefined, note?: string | undefined } = {}): number {
  const { savedIn, note } = after
  const code = exitCodeOf(err)
  const e = err as Error & { code?: string, reason?: string, why?: unknown, check?: string, receiptCid?: string }
  if (voice.json) {
    voice.emit({ event: 'failed', code: e.code ?? e.name, message: e.message, reason: e.reason, check: e.check, why: e.why, receiptCid: e.receiptCid, ...(savedIn !== undefined ? { receiptSavedIn: savedIn } : {}), ...(note !== undefined ? { note } : {}), exitCode: code, ...networkOf(node) })
    return code
  }
  io.stderr.write(`mesh-executor submit: ${e.message}\n`)
  if (savedIn !== undefined) io.stderr.write(`  receipt ${e.receiptCid ?? ''} saved in ${savedIn}\n`)
  if (note !== undefined) io.stderr.write(`  ${note}\n`)
  if (Array.isArray(e.why)) {
    for (const w of e.why as Array<{ executorDid: string, reasons: string[] }>) io.stderr.write(`  ${short(w.executorDid)}: ${w.reasons.join('; ')}\n`)
  }
  return code
}

interface Session { io: CliIo, voice: Voice, plan: SubmitPlan, node: MeshNode, identity: Identity, store: Store, blocks: AccessBlockStore, log: Logger }

/** Submits the job on a started node, saves the receipt, reports the outcome; returns the exit code. */
async function submitOn (s: Session): Promise<number> {
  const { io, voice, plan, node } = s
  const originator = createOriginator({ node, identity: s.identity, store: s.store, blocks: s.blocks, log: s.log })
  const ctl = new AbortController()
  const onSig = (): void => { ctl.abort() }
  process.once('SIGINT', onSig)
  const started = Date.now()
  // what the executor still has when the buyer gives up (Ctrl+C): V1 has no cancel message
  const left: { executorDid?: string, running?: boolean, stdinClosed?: boolean } = {}
  try {
    const result = await originator.submit(plan.job, {
      signal: ctl.signal,
      onEvent: (e) => {
        if (e.type === 'job:assigned') left.executorDid = e.executorDid
        else if (e.type === 'status:received' && (e.status === 'Running' || e.status === 'AwaitingInput')) left.running = true
        else if (e.type === 'stdin:sent' && e.isFinal) left.stdinClosed = true
        if (voice.json) voice.emit({ event: e.type, ...e, type: undefined })
        else {
          const line = describeEvent(e)
          if (line !== undefined) voice.log(line)
        }
      },
      ...(plan.job.interactive === true
        ? { stdin: chunksOf(io.stdin), onOutput: (chunk: Uint8Array) => { if (voice.json) voice.emit({ event: 'output', data: chunk }); else io.stdout.write(chunk) } }
        : {})
    })
    const dir = await saveReceipt(plan.dataDir, result.receiptCid, result.receiptBytes)
    reportResult(io, voice, node, plan, result, Date.now() - started, dir)
    return EXIT.ok
  } catch (err) {
    // a failed job's verified receipt is kept too: the executor's signed word on how the job ended
    const saved = err instanceof ExecutorFailedError && err.receiptCid !== undefined && err.receiptBytes !== undefined
      ? await saveReceipt(plan.dataDir, err.receiptCid, err.receiptBytes).catch((e: unknown) => { io.stderr.write(`mesh-executor submit: the failed job's receipt could not be saved: ${e instanceof Error ? e.message : String(e)}\n`); return undefined })
      : undefined
    return reportFailure(io, voice, node, err, { savedIn: saved, note: givenUpNote(err, plan.job, left) })
  } finally {
    process.removeListener('SIGINT', onSig)
    originator.close()
  }
}

/** Starts our node, joins the mesh and submits; `store`, `identity` and `log` come from the data dir. */
async function joinAndSubmit (io: CliIo, voice: Voice, plan: SubmitPlan, identity: Identity, store: Store, log: Logger): Promise<number> {
  log.info({ sub: 'submit', did: identity.did, bootstrap: plan.bootstrap }, 'submitting')
  const blocks = new AccessBlockStore()
  const node = await createMeshNode({ identity, listen: plan.listen, bootstrap: plan.bootstrap, lan: true, blockStore: blocks, heartbeatMs: 200, jobAnnouncements: false, log })
  try {
    node.events.on('reachability:changed', (st) => {
      if (voice.json) voice.emit({ event: 'reachability:changed', ...st })
      else voice.log(describeReachability(st))
    })
    const dialFailures = new Map<string, string>()
    node.events.on('bootstrap:failed', (e) => { dialFailures.set(e.addr, e.error) })
    // start() dials every bootstrap peer once (the next try is 30 s later, after --peer-wait)
    await node.start()
    voice.log(`originator ${identity.did} (peer ${identity.peerId}) joining through ${plan.bootstrap.length} bootstrap peer(s)`)
    const unreachable = node.connectedPeers().length === 0 && dialFailures.size === plan.bootstrap.length
    if (unreachable || !await awaitPeers(node, plan.bootstrap, plan.peerWaitMs)) {
      const msg = unreachable
        ? `cannot reach ${plan.bootstrap.length === 1 ? 'the bootstrap peer' : 'any bootstrap peer'}: ${[...dialFailures].map(([addr, error]) => `${addr}: ${error}`).join('; ')}`
        : `no mesh peer subscribed to ${JOBS_ANNOUNCE_TOPIC} within ${plan.peerWaitMs / 1000} s (connected: ${node.connectedPeers().length})`
      if (voice.json) voice.emit({ event: 'failed', code: 'NoPeers', message: msg, exitCode: EXIT.other, ...networkOf(node) })
      else io.stderr.write(`mesh-executor submit: ${msg}\n`)
      return EXIT.other
    }
    voice.log(`connected to ${node.connectedPeers().length} peer(s), ${node.topicPeers(JOBS_ANNOUNCE_TOPIC).length} subscribed to job announcements`)
    return await submitOn({ io, voice, plan, node, identity, store, blocks, log })
  } finally {
    await node.stop().catch((err: unknown) => { log.warn({ sub: 'submit', err }, 'stopping the mesh node failed') })
  }
}

export async function runSubmit (argv: string[], io: CliIo): Promise<number> {
  let plan: SubmitPlan | undefined
  try {
    plan = await submitPlan(argv, io.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`mesh-executor submit: ${err.message}\n`)
    return EXIT.usage
  }
  if (plan === undefined) { io.stdout.write(SUBMIT_USAGE); return EXIT.ok }
  if (plan.inputFromStdin) plan.job.input = await readAll(io.stdin)
  let store: Store | undefined
  let logFile: LogFile | undefined
  let identity: Identity
  try {
    store = openStore(plan.dataDir)
    identity = await loadOrCreateIdentityFile(join(plan.dataDir, 'identity.json'))
    logFile = await openLogFile(plan.dataDir)
  } catch (err) {
    store?.close()
    // two submissions at once from one data dir: say how to run the second
    const hint = err instanceof DataDirLockedError ? '; another submission may still be running: wait for it, or give this one its own --data-dir' : ''
    io.stderr.write(`mesh-executor submit: data dir ${plan.dataDir}: ${(err as Error).message}${hint}\n`)
    return EXIT.usage
  }
  try {
    return await joinAndSubmit(io, voiceOf(io, plan.json), plan, identity, store, logFile.log)
  } finally {
    store.close()
    await logFile.close()
  }
}
