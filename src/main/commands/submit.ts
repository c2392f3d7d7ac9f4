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
 * receipt, writes the output to stdout and saves the receipt block in <data-dir>/receipts/<cid>.
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
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { isValidRegion, loadOrCreateIdentityFile, parseDuration, peerIdFromDid, QOS_PROFILES } from '../../shared/protocol/index.js'
import type { Identity, QosProfile } from '../../shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC } from '../mesh/index.js'
import type { ConnectionInfo, MeshNode, ReachabilityStatus } from '../mesh/index.js'
import { openStore } from '../store/index.js'
import type { Store } from '../store/index.js'
import { AccessBlockStore, createOriginator, OriginatorError } from '../originator/index.js'
import type { OriginatorEvent, SubmitJob } from '../originator/index.js'
import { UsageError, type CliIo } from './io.js'
import { shortId } from '../../shared/text.js'
import { openLogFile, type LogFile } from '../log/index.js'

export type SubmitIo = CliIo

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
  --description TEXT     shown to executors (≤ 1 KiB)
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
    default: return undefined
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

export async function runSubmit (argv: string[], io: SubmitIo): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        module: { type: 'string' }, input: { type: 'string' }, 'max-price': { type: 'string' }, region: { type: 'string' },
        'max-fuel': { type: 'string' }, timeout: { type: 'string' }, 'bidding-window': { type: 'string' }, selection: { type: 'string' },
        'min-reputation': { type: 'string' }, 'rep-weight': { type: 'string' }, 'price-weight': { type: 'string' }, qos: { type: 'string' },
        description: { type: 'string' }, interactive: { type: 'boolean' }, bootstrap: { type: 'string', multiple: true },
        listen: { type: 'string', multiple: true }, 'data-dir': { type: 'string' }, 'peer-wait': { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean' }
      }
    }).values
  } catch (err) {
    io.stderr.write(`mesh-executor submit: ${(err as Error).message}\n${SUBMIT_USAGE}`)
    return EXIT.usage
  }
  if (values.help === true) { io.stdout.write(SUBMIT_USAGE); return EXIT.ok }
  const jsonMode = values.json === true
  const emitJson = (o: Record<string, unknown>): void => { io.stdout.write(json(o) + '\n') }
  const log = (line: string): void => { if (!jsonMode) io.stderr.write(`[submit] ${line}\n`) }

  let job: SubmitJob
  let bootstrap: string[]
  let listen: string[]
  let dataDir: string
  let peerWaitMs: number
  let readStdinInput = false
  try {
    if (typeof values.module !== 'string') throw new UsageError('--module FILE.wasm is required')
    let module: Uint8Array
    try { module = new Uint8Array(await readFile(resolve(values.module))) } catch (err) { throw new UsageError(`cannot read --module ${values.module}: ${(err as Error).message}`) }
    const interactive = values.interactive === true
    let input: Uint8Array | undefined
    if (typeof values.input === 'string') {
      if (interactive) throw new UsageError('--input and --interactive exclude each other (interactive jobs read our stdin)')
      if (values.input === '-') readStdinInput = true
      else {
        try { input = new Uint8Array(await readFile(resolve(values.input))) } catch (err) { throw new UsageError(`cannot read --input ${values.input}: ${(err as Error).message}`) }
      }
    }
    bootstrap = (values.bootstrap as string[] | undefined) ?? []
    if (bootstrap.length === 0) throw new UsageError('at least one --bootstrap MULTIADDR (with /p2p/<PeerId>) is required to reach the mesh')
    for (const b of bootstrap) {
      try {
        if (multiaddr(b).getComponents().every((c) => c.name !== 'p2p')) throw new Error('missing /p2p/<PeerId>')
      } catch (err) { throw new UsageError(`--bootstrap ${JSON.stringify(b)}: ${(err as Error).message}`) }
    }
    listen = (values.listen as string[] | undefined) ?? ['/ip4/127.0.0.1/tcp/0']
    for (const l of listen) {
      try { multiaddr(l) } catch (err) { throw new UsageError(`--listen ${JSON.stringify(l)}: ${(err as Error).message}`) }
    }
    const region = values.region as string | undefined
    if (region !== undefined && !isValidRegion(region)) throw new UsageError(`--region ${JSON.stringify(region)}: use 1–63 characters of a-z, 0-9 and -`)
    const selection = (values.selection as string | undefined) ?? 'window'
    if (selection !== 'window' && selection !== 'first-valid-bid') throw new UsageError(`--selection ${JSON.stringify(selection)}: want window or first-valid-bid`)
    const qos = (values.qos as string | undefined) ?? 'BestEffort'
    if (!(QOS_PROFILES as readonly string[]).includes(qos)) throw new UsageError(`--qos ${JSON.stringify(qos)}: want one of ${QOS_PROFILES.join(', ')}`)
    job = {
      module,
      maxFuel: bigArg('max-fuel', values['max-fuel'] as string | undefined) ?? 1_000_000_000n,
      timeoutSeconds: intArg('timeout', values.timeout as string | undefined, 1, 86_400) ?? 60,
      biddingWindowMs: values['bidding-window'] === undefined ? 5000 : parseWindow(values['bidding-window'] as string),
      interactive,
      qos: qos as QosProfile,
      selection
    }
    if (input !== undefined) job.input = input
    const maxPrice = bigArg('max-price', values['max-price'] as string | undefined)
    if (maxPrice !== undefined) job.maxPrice = maxPrice
    if (region !== undefined) job.region = region
    const minRep = intArg('min-reputation', values['min-reputation'] as string | undefined, 0, 100)
    if (minRep !== undefined) job.minReputation = minRep
    const rw = intArg('rep-weight', values['rep-weight'] as string | undefined, 0, 1000)
    if (rw !== undefined) job.repWeight = rw
    const pw = intArg('price-weight', values['price-weight'] as string | undefined, 0, 1000)
    if (pw !== undefined) job.priceWeight = pw
    if (typeof values.description === 'string') {
      if (Buffer.byteLength(values.description) > 1024) throw new UsageError('--description must be at most 1 KiB')
      job.description = values.description
    }
    peerWaitMs = (intArg('peer-wait', values['peer-wait'] as string | undefined, 1, 3600) ?? 15) * 1000
    const base = io.env.MESH_EXECUTOR_DATA_DIR ?? join(homedir(), '.mesh-executor')
    dataDir = resolve((values['data-dir'] as string | undefined) ?? join(base, 'originator'))
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`mesh-executor submit: ${err.message}\n`)
      return EXIT.usage
    }
    throw err
  }
  if (readStdinInput) job.input = await readAll(io.stdin)

  let store: Store | undefined
  let node: MeshNode | undefined
  let identity: Identity
  let logFile: LogFile | undefined
  try {
    try {
      store = openStore(dataDir)
      identity = await loadOrCreateIdentityFile(join(dataDir, 'identity.json'))
      logFile = await openLogFile(dataDir)
    } catch (err) {
      store?.close()
      io.stderr.write(`mesh-executor submit: data dir ${dataDir}: ${(err as Error).message}\n`)
      return EXIT.usage
    }
    const fileLog = logFile.log
    fileLog.info({ sub: 'submit', did: identity.did, bootstrap }, 'submitting')
    const blocks = new AccessBlockStore()
    node = await createMeshNode({ identity, listen, bootstrap, lan: true, blockStore: blocks, heartbeatMs: 200, log: fileLog })
    node.events.on('reachability:changed', (s) => {
      if (jsonMode) emitJson({ event: 'reachability:changed', ...s })
      else log(describeReachability(s))
    })
    await node.start()
    log(`originator ${identity.did} (peer ${identity.peerId}) joining through ${bootstrap.length} bootstrap peer(s)`)
    // wait until the bootstrap peers we reached are subscribed to the announce topic
    const bootPeers = bootstrap.map((b) => multiaddr(b).getComponents().find((c) => c.name === 'p2p')?.value).filter((x): x is string => x !== undefined)
    const deadline = Date.now() + peerWaitMs
    const ready = (): boolean => {
      const subs = node?.topicPeers(JOBS_ANNOUNCE_TOPIC) ?? []
      const connected = node?.connectedPeers() ?? []
      return subs.length > 0 && bootPeers.every((p) => !connected.includes(p) || subs.includes(p))
    }
    while (!ready()) {
      if (Date.now() > deadline) {
        const msg = `no mesh peer subscribed to ${JOBS_ANNOUNCE_TOPIC} within ${peerWaitMs / 1000} s (connected: ${node.connectedPeers().length})`
        if (jsonMode) emitJson({ event: 'failed', code: 'NoPeers', message: msg, exitCode: EXIT.other, ...networkOf(node) })
        else io.stderr.write(`mesh-executor submit: ${msg}\n`)
        return EXIT.other
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    log(`connected to ${node.connectedPeers().length} peer(s), ${node.topicPeers(JOBS_ANNOUNCE_TOPIC).length} subscribed to job announcements`)

    const originator = createOriginator({ node, identity, store, blocks, log: fileLog })
    const ctl = new AbortController()
    const onSig = (): void => { ctl.abort() }
    process.once('SIGINT', onSig)
    const started = Date.now()
    try {
      const result = await originator.submit(job, {
        signal: ctl.signal,
        onEvent: (e) => {
          if (jsonMode) emitJson({ event: e.type, ...e, type: undefined })
          else {
            const line = describeEvent(e)
            if (line !== undefined) log(line)
          }
        },
        ...(job.interactive === true
          ? {
              stdin: chunksOf(io.stdin),
              onOutput: (chunk: Uint8Array) => {
                if (jsonMode) emitJson({ event: 'output', data: chunk })
                else io.stdout.write(chunk)
              }
            }
          : {})
      })
      const dir = join(dataDir, 'receipts')
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, result.receiptCid), result.receiptBytes)
      if (jsonMode) {
        emitJson({
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
          ms: Date.now() - started,
          ...networkOf(node, executorPeerId(result.executorDid))
        })
      } else {
        if (job.interactive !== true) io.stdout.write(result.output)
        log(`done in ${Date.now() - started} ms: executor ${short(result.executorDid)}, price ${result.price ?? 'free'}, fuel ${result.receipt.fuel_used}, receipt ${result.receiptCid} (saved in ${dir})`)
      }
      return EXIT.ok
    } catch (err) {
      const code = exitCodeOf(err)
      const e = err as Error & { code?: string, reason?: string, why?: unknown, check?: string, receiptCid?: string }
      if (jsonMode) {
        emitJson({ event: 'failed', code: e.code ?? e.name, message: e.message, reason: e.reason, check: e.check, why: e.why, receiptCid: e.receiptCid, exitCode: code, ...networkOf(node) })
      } else {
        io.stderr.write(`mesh-executor submit: ${e.message}\n`)
        if (Array.isArray(e.why)) {
          for (const w of e.why as Array<{ executorDid: string, reasons: string[] }>) io.stderr.write(`  ${short(w.executorDid)}: ${w.reasons.join('; ')}\n`)
        }
      }
      return code
    } finally {
      process.removeListener('SIGINT', onSig)
      originator.close()
    }
  } finally {
    await node?.stop().catch((err: unknown) => { logFile?.log.warn({ sub: 'submit', err }, 'stopping the mesh node failed') })
    store?.close()
    await logFile?.close()
  }
}
