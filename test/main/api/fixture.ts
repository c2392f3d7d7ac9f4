/**
 * A real executor data set for API/UI tests: a real SQLite store (src/main/store) filled by the real
 * auto-bidder and policy engine (src/main/market) from really signed announcements, then jobs with
 * timelines and logs, real signed receipts and ledger rows. The node runtime (peers, auto-bid, pause,
 * live fuel) is a small in-memory NodeControl standing in for the daemon that owns it in production;
 * sent bids are collected instead of going over a mesh.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type Store } from '../../../src/main/store/index.js'
import {
  generateIdentity, signBytes, signMessage, signReceipt, formatTimestamp, rawCid, decodeMessage, type Identity
} from '../../../src/shared/protocol/index.js'
import {
  createApiService, createApiEventHub, createStoreSettings, createMarketPolicyEngine,
  type ApiEventHub, type ApiService, type MarketRateSource, type NodeRuntime, type PolicyEngine
} from '../../../src/main/api/index.js'
import { createAutoBidder, parsePolicy, storeDecisionSources, type AutoBidder } from '../../../src/main/market/index.js'
import type { Offer } from '../../../src/main/probe/offer.js'
import type { JsonObject } from '../../../src/shared/api/index.js'

export const OFFER: Offer = { cpu: 2, ramBytes: 2 * 1024 ** 3, diskBytes: 10 * 1024 ** 3, gpus: {} }
export const RUNTIMES = ['wasi-preview1'] as const
/** Price = 10 tokens per million fuel; no job above 5M fuel. */
export const INITIAL_POLICY: JsonObject = { pricing: { mode: 'per_mfuel', ratePerMillionFuel: 10 }, maxFuel: 5_000_000, maxConcurrentJobs: 4, stopOnBattery: false }

export interface Fixture {
  dir: string
  store: Store
  executor: Identity
  originators: Identity[]
  events: ApiEventHub
  api: ApiService
  runtime: NodeRuntime
  runningId: string
  completedIds: string[]
  receiptCids: string[]
  engine: PolicyEngine
  bidder: AutoBidder
  /** Bids handed to the (stand-in) mesh: originator peer id + signed bytes. */
  sentBids: Array<{ peerId: string, bytes: Uint8Array }>
  /** Signs announcement `i` (originator i % 2) and feeds it to the real auto-bidder. */
  announce(i: number, o: { maxPrice: number, maxFuel: number, at?: number }): Promise<string>
  /** The node's log directory (two files of JSON lines, as the daemon's logger writes them). */
  logDir: string
  /** Completes the running job now with a signed receipt and a ledger row, as the executor would. */
  finishRunningJob(fuelUsed: bigint): { cid: string, price: bigint }
  close(): void
}

export async function createFixture (opts: { announcements?: number, marketRate?: MarketRateSource } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-ui-'))
  const store = openStore(dir)
  const executor = generateIdentity()
  const originators = [generateIdentity(), generateIdentity()]
  const now = Date.now()
  const version = store.savePolicy(INITIAL_POLICY, 'initial')
  const sentBids: Array<{ peerId: string, bytes: Uint8Array }> = []
  let clock = now
  const sources = storeDecisionSources(store, { offer: () => OFFER, runtimes: () => RUNTIMES, region: () => 'eu-west' })
  const bidder = createAutoBidder({
    store,
    identity: executor,
    sources,
    getPolicy: () => {
      const cur = store.currentPolicy()
      return { policy: parsePolicy(cur?.policy ?? INITIAL_POLICY), version: cur?.version ?? version }
    },
    sendBid: async (peerId, bytes) => { sentBids.push({ peerId, bytes }) },
    now: () => clock
  })
  const regions = ['eu-west', 'us-east', 'ap-south']
  const announce = async (i: number, o: { maxPrice: number, maxFuel: number, at?: number }): Promise<string> => {
    const org = originators[i % 2] as Identity
    const at = o.at ?? Date.now()
    clock = at
    const { bytes, message } = signMessage('JobAnnouncementV1', {
      announcement_id: `ann-${String(i).padStart(3, '0')}`,
      originator_did: org.did,
      job_params: {
        wasm_cid: rawCid(new TextEncoder().encode(`module ${i % 3}`)),
        description: ['word count', 'mandelbrot tile', 'sha256 chain'][i % 3] as string,
        resources_required: { CPU: '1c', RAM: '64MiB' },
        max_fuel: o.maxFuel,
        timeout_seconds: 60,
        is_interactive: false,
        qos_profile: 'BestEffort',
        execution_policy: { max_price: o.maxPrice, rep_weight: 500, price_weight: 500 }
      },
      timestamp: formatTimestamp(at)
    }, org)
    await bidder.handleAnnouncement(message.body, { raw: bytes, receivedAt: at, topicRegion: regions[i % 3] as string })
    clock = Date.now()
    return message.body.announcement_id
  }
  const n = opts.announcements ?? 14
  const bidIds: string[] = []
  for (let i = 0; i < n; i++) {
    const maxFuel = 1_000_000 * (1 + (i % 7))
    const id = await announce(i, { maxPrice: 5 + 5 * i, maxFuel, at: now - (n - i) * 3_600_000 * 14 })
    if (store.getAnnouncement(id)?.decision === 'bid') bidIds.push(id)
  }
  // Bids won: all but the last become jobs; the last-but-one fails, the last one is running.
  const completedIds: string[] = []
  const receiptCids: string[] = []
  let runningId = ''
  bidIds.forEach((id, k) => {
    const ann = store.getAnnouncement(id)
    if (ann === undefined) throw new Error('missing announcement')
    const d = decodeMessage(ann.raw)
    if (d.kind !== 'message' || d.message.variant !== 'JobAnnouncementV1') throw new Error('bad fixture')
    const p = d.message.body.job_params
    const at = ann.receivedAt + 60_000
    store.createJob({ announcementId: id, originatorDid: ann.originatorDid, price: ann.price ?? 0n, wasmCid: p.wasm_cid, maxFuel: p.max_fuel, timeoutSeconds: p.timeout_seconds, region: ann.region ?? 'unknown', at })
    store.transitionJob(id, 'Accepted', { at: at + 100 })
    store.transitionJob(id, 'FetchingInputs', { at: at + 200 })
    store.transitionJob(id, 'Running', { at: at + 900 })
    store.appendJobLog(id, 'stdout', `starting ${p.description}\n`, at + 950)
    if (k === bidIds.length - 1) { runningId = id; return }
    const failed = k === bidIds.length - 2
    const fuelUsed = Math.floor(Number(p.max_fuel) * (failed ? 1 : 0.4))
    const unsigned = {
      announcement_id: id,
      originator_did: ann.originatorDid,
      executor_did: executor.did,
      wasm_cid: p.wasm_cid,
      ...(failed ? {} : { output_cid: rawCid(new TextEncoder().encode(`output of ${id}`)) }),
      status: failed ? 'Failed' as const : 'CompletedSuccessfully' as const,
      ...(failed ? { failure_reason: 'FuelExhausted' as const } : {}),
      fuel_used: fuelUsed,
      resource_usage: { wall_ms: 1234 + k, peak_memory_bytes: 2_097_152, output_bytes: failed ? 0 : 42 },
      ...(failed ? {} : { price: Number(ann.price ?? 0n) }),
      runtime: 'wasmtime-wasi-p1',
      started_at: formatTimestamp(at + 900),
      finished_at: formatTimestamp(at + 2134 + k)
    }
    const r = signReceipt(unsigned, executor)
    store.appendJobLog(id, failed ? 'stderr' : 'stdout', failed ? 'fuel exhausted\n' : `done: ${fuelUsed} fuel\n`, at + 2100)
    store.transitionJob(id, failed ? 'Failed' : 'Completed', {
      at: at + 2200,
      ...(failed ? { failureReason: 'FuelExhausted', details: 'FuelExhausted: used all fuel' } : {}),
      receipt: { cid: r.cid, bytes: r.bytes, announcementId: id, status: unsigned.status, fuelUsed, ...(failed ? { failureReason: 'FuelExhausted' } : { price: ann.price ?? 0n }), createdAt: at + 2200 }
    })
    if (!failed) completedIds.push(id)
    receiptCids.push(r.cid)
  })

  const runtime: NodeRuntime = {
    online: true,
    peers: 3,
    autoBid: true,
    pausedUntil: null,
    draining: false,
    error: null,
    listenAddrs: ['/ip4/127.0.0.1/tcp/4101'],
    region: 'eu-west',
    running: runningId === '' ? [] : [{ announcementId: runningId, fuelUsed: 0, startedAt: now - 5000 }],
    // what the daemon adapter reports for a 2-core, 2 GiB machine with one GPU, at the policy's rate
    offer: {
      cpu: { offered: 2, machine: 2, model: 'AMD EPYC 7B13' },
      ramBytes: { offered: 2 * 1024 ** 3, machine: 2 * 1024 ** 3 },
      diskBytes: { offered: 10 * 1024 ** 3, machineFree: 40 * 1024 ** 3 },
      gpus: [{ name: 'GPU_NVIDIA_RTX_4090', model: 'RTX 4090', vendor: 'NVIDIA', vramBytes: 24 * 1024 ** 3, offered: true }],
      maxConcurrentJobs: 4,
      price: { mode: 'per_mfuel', text: '10 tokens per million fuel', free: false, fixed: null, floor: null, ratePerMillionFuel: '10', examples: [{ maxFuel: '1000000', price: '10' }, { maxFuel: '100000000', price: '1000' }, { maxFuel: '10000000000', price: '100000' }] },
      cpuTemperatureC: 52
    }
  }
  // a log directory like the daemon's: an older rotated file and the current one, JSON lines
  const logDir = join(dir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const line = (at: number, level: string, sub: string, msg: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ level, time: new Date(at).toISOString(), pid: 1, sub, ...extra, msg }) + '\n'
  writeFileSync(join(logDir, 'mesh-executor.1.log'), line(now - 7200_000, 'info', 'daemon', 'ready') + line(now - 7100_000, 'warn', 'mesh', 'bootstrap peer unreachable: connection refused', { addr: '/ip4/203.0.113.7/tcp/4001' }))
  writeFileSync(join(logDir, 'mesh-executor.2.log'), [
    ...completedIds.map((id, i) => line(now - 3600_000 + i * 1000, 'info', 'jobs', 'job finished', { job: id, status: 'CompletedSuccessfully' })),
    line(now - 1000, 'debug', 'market', 'not bidding', { job: 'ann-000' }),
    line(now - 500, 'error', 'sandbox', 'host crashed', { job: runningId })
  ].join(''))
  const events = createApiEventHub()
  const engine = createMarketPolicyEngine({ store, sources })
  const api = createApiService({
    store,
    identity: { did: executor.did, peerId: executor.peerId },
    node: {
      status: () => runtime,
      setAutoBid: (on) => { runtime.autoBid = on },
      pauseUntil: (until) => { runtime.pausedUntil = until },
      machine: () => ({ cpuCores: 2, ramBytes: 2 * 1024 ** 3, diskFreeBytes: 10 * 1024 ** 3 }),
      logDir: () => logDir
    },
    sign: (bytes) => signBytes(executor, bytes),
    ...(opts.marketRate !== undefined ? { marketRate: opts.marketRate } : {}),
    policy: engine,
    settings: createStoreSettings(store, {
      dataDir: dir,
      region: 'eu-west',
      listenAddrs: runtime.listenAddrs,
      bootstrapPeers: [],
      caps: { cpu: 2, ramBytes: 2 * 1024 ** 3, diskBytes: 10 * 1024 ** 3, maxConcurrentJobs: 2 },
      startAtLogin: false,
      startMinimized: true
    }),
    events
  })
  const finishRunningJob = (fuelUsed: bigint): { cid: string, price: bigint } => {
    const job = store.getJob(runningId)
    if (job === undefined) throw new Error('no running job')
    const at = Date.now()
    const price = job.price ?? 0n
    const r = signReceipt({
      announcement_id: runningId,
      originator_did: job.originatorDid,
      executor_did: executor.did,
      wasm_cid: job.wasmCid,
      output_cid: rawCid(new TextEncoder().encode(`output of ${runningId}`)),
      status: 'CompletedSuccessfully',
      fuel_used: fuelUsed,
      resource_usage: { wall_ms: at - job.createdAt, peak_memory_bytes: 1_048_576, output_bytes: 12 },
      price,
      runtime: 'wasmtime-wasi-p1',
      started_at: formatTimestamp(job.createdAt),
      finished_at: formatTimestamp(at)
    }, executor)
    store.transitionJob(runningId, 'Completed', { at, receipt: { cid: r.cid, bytes: r.bytes, announcementId: runningId, status: 'CompletedSuccessfully', fuelUsed, price, createdAt: at } })
    runtime.running = []
    completedIds.push(runningId)
    receiptCids.push(r.cid)
    return { cid: r.cid, price }
  }
  return {
    finishRunningJob,
    dir, logDir, store, executor, originators, events, api, runtime, runningId, completedIds, receiptCids, engine, bidder, sentBids, announce,
    close () {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
