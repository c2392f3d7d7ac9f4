/**
 * A real executor data set for API/UI tests: a real SQLite store (src/main/store) filled with really
 * signed announcements, decisions of a policy engine, jobs with timelines and logs, real signed
 * receipts and ledger rows. The node runtime (peers, auto-bid, pause, live fuel) is a small
 * in-memory implementation of NodeControl, standing in for the daemon that owns it in production.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type Store, type DecisionReason } from '../../../src/main/store/index.js'
import {
  generateIdentity, signMessage, signReceipt, formatTimestamp, rawCid, decodeMessage, type Identity
} from '../../../src/shared/protocol/index.js'
import {
  createApiService, createApiEventHub, createStoreSettings, simulateFromStore,
  type ApiEventHub, type ApiService, type NodeRuntime, type PolicyEngine, type SimulatedDecision
} from '../../../src/main/api/index.js'
import type { JsonObject, PolicyIssue } from '../../../src/shared/api/index.js'

/** The fixture's policy engine: a price floor and a fuel cap (a stand-in until src/main/market's engine is wired by the daemon). */
export function validateTestPolicy (p: JsonObject): { ok: boolean, errors: PolicyIssue[] } {
  const errors: PolicyIssue[] = []
  for (const k of Object.keys(p)) if (k !== 'minPrice' && k !== 'maxFuel') errors.push({ path: k, message: 'unknown field' })
  if (typeof p.minPrice !== 'number' || !Number.isSafeInteger(p.minPrice) || p.minPrice < 0) errors.push({ path: 'minPrice', message: 'must be a non-negative integer' })
  if (typeof p.maxFuel !== 'number' || !Number.isSafeInteger(p.maxFuel) || p.maxFuel <= 0) errors.push({ path: 'maxFuel', message: 'must be a positive integer' })
  return { ok: errors.length === 0, errors }
}

export function decideTest (policy: JsonObject, raw: Uint8Array): SimulatedDecision {
  const d = decodeMessage(raw)
  if (d.kind !== 'message' || d.message.variant !== 'JobAnnouncementV1') throw new Error('not an announcement')
  const params = d.message.body.job_params
  const offered = BigInt(params.execution_policy?.max_price ?? 0)
  const fuel = BigInt(params.max_fuel)
  const floor = BigInt(Number(policy.minPrice))
  const cap = BigInt(Number(policy.maxFuel))
  const reasons: DecisionReason[] = [
    { rule: 'priceBelowFloor', ok: offered >= floor, text: `offered ${offered} vs floor ${floor}` },
    { rule: 'maxFuel', ok: fuel <= cap, text: `fuel ${fuel} vs cap ${cap}` }
  ]
  const ok = reasons.every((r) => r.ok)
  return ok ? { decision: 'bid', price: offered, reasons } : { decision: 'no_bid', reasons }
}

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
  close(): void
}

export function createFixture (opts: { announcements?: number } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-ui-'))
  const store = openStore(dir)
  const executor = generateIdentity()
  const originators = [generateIdentity(), generateIdentity()]
  const now = Date.now()
  const policy: JsonObject = { minPrice: 50, maxFuel: 5_000_000 }
  const version = store.savePolicy(policy, 'initial')
  const regions = ['eu-west', 'us-east', 'ap-south']
  const n = opts.announcements ?? 14
  const bidIds: string[] = []
  for (let i = 0; i < n; i++) {
    const org = originators[i % 2] as Identity
    const at = now - (n - i) * 3_600_000 * 5
    const { bytes, message } = signMessage('JobAnnouncementV1', {
      announcement_id: `ann-${String(i).padStart(3, '0')}`,
      originator_did: org.did,
      job_params: {
        wasm_cid: rawCid(new TextEncoder().encode(`module ${i % 3}`)),
        description: ['word count', 'mandelbrot tile', 'sha256 chain'][i % 3] as string,
        resources_required: { CPU: '1c', RAM: '64MiB' },
        max_fuel: 1_000_000 * (1 + (i % 7)),
        timeout_seconds: 60,
        is_interactive: false,
        qos_profile: 'BestEffort',
        execution_policy: { max_price: 20 + 10 * i, rep_weight: 500, price_weight: 500 }
      },
      timestamp: formatTimestamp(at)
    }, org)
    const d = decideTest(policy, bytes)
    const body = message.body
    store.recordAnnouncement({
      announcementId: body.announcement_id,
      originatorDid: org.did,
      raw: bytes,
      receivedAt: at,
      summary: { description: body.job_params.description, maxFuel: String(body.job_params.max_fuel), maxPrice: String(body.job_params.execution_policy?.max_price ?? '') },
      decision: d.decision,
      ...(d.price !== undefined ? { price: d.price } : {}),
      reasons: d.reasons,
      policyVersion: version,
      region: regions[i % 3] as string
    })
    if (d.decision === 'bid') {
      store.recordBid({ announcementId: body.announcement_id, originatorDid: org.did, price: d.price ?? 0, createdAt: at })
      store.markBidSent(body.announcement_id, { ok: true, at })
      bidIds.push(body.announcement_id)
    }
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
    running: runningId === '' ? [] : [{ announcementId: runningId, fuelUsed: 0, startedAt: now - 5000 }]
  }
  const events = createApiEventHub()
  const engine: PolicyEngine = {
    validate: validateTestPolicy,
    simulate: (p, lastN) => simulateFromStore(store, p, lastN, (pol, a) => decideTest(pol, a.raw))
  }
  const api = createApiService({
    store,
    identity: { did: executor.did, peerId: executor.peerId },
    node: {
      status: () => runtime,
      setAutoBid: (on) => { runtime.autoBid = on },
      pauseUntil: (until) => { runtime.pausedUntil = until }
    },
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
  return {
    dir, store, executor, originators, events, api, runtime, runningId, completedIds, receiptCids, engine,
    close () {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
