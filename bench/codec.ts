/**
 * Codec benchmark. Last line: {"bench":"validate-vs-verify","ratio":R,...} where
 * R = full validation throughput of signed JobAnnouncementV1 messages / bare node:crypto Ed25519
 * verify throughput of the same signed bytes, measured in this run (medians of interleaved rounds).
 */
import { verify } from 'node:crypto'
import {
  createValidator, decodeMessage, encodeCanonical, formatTimestamp, generateIdentity, publicKeyObject, rawCid,
  ReplayCache, signedBytesOf, signMessage
} from '../src/shared/protocol/index.js'

const N = Number(process.env.BENCH_N ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const id = generateIdentity()
const now = Date.now()
const wire: Uint8Array[] = []
const signed: Uint8Array[] = []
const sigs: Uint8Array[] = []
for (let i = 0; i < N; i++) {
  const { bytes, message } = signMessage('JobAnnouncementV1', {
    announcement_id: `bench-${i}`, originator_did: id.did, timestamp: formatTimestamp(now), bidding_duration: 'PT30S',
    job_params: {
      wasm_cid: rawCid(new Uint8Array([i & 255])), input_data_cid: rawCid(new Uint8Array([1, i & 255])), description: 'sha256 of input',
      resources_required: { CPU: '1c', RAM: '256MiB' }, max_fuel: 5_000_000_000, timeout_seconds: 60, is_interactive: false,
      qos_profile: 'BestEffort', execution_policy: { region_filter: 'eu-west', max_price: 100, rep_weight: 500, price_weight: 500 }
    }
  }, id)
  wire.push(bytes)
  signed.push(signedBytesOf('JobAnnouncementV1', message.raw))
  sigs.push(message.body.signature)
}
const key = publicKeyObject(id.publicKey)
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }
const rate = (fn: () => void): number => { const t0 = performance.now(); fn(); return N / ((performance.now() - t0) / 1000) }

const verifyRates: number[] = []
const validateRates: number[] = []
const decodeRates: number[] = []
const encodeRates: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  verifyRates.push(rate(() => { for (let i = 0; i < N; i++) if (!verify(null, signed[i] as Uint8Array, key, sigs[i] as Uint8Array)) throw new Error('verify') }))
  const v = createValidator({ now: () => now, replay: new ReplayCache({ maxEntries: N * 2, now: () => now }) })
  validateRates.push(rate(() => { for (let i = 0; i < N; i++) if (!v.validate(wire[i] as Uint8Array).ok) throw new Error('validate') }))
  decodeRates.push(rate(() => { for (let i = 0; i < N; i++) if (decodeMessage(wire[i] as Uint8Array).kind !== 'message') throw new Error('decode') }))
  const decoded = wire.slice(0, 1).map((w) => decodeMessage(w))
  encodeRates.push(rate(() => { for (let i = 0; i < N; i++) { const d = decoded[0]; if (d?.kind === 'message') encodeCanonical({ JobAnnouncementV1: d.message.raw }) } }))
}
const out = (o: object): void => { console.log(JSON.stringify(o)) }
out({ bench: 'decode+schema', msg_per_s: Math.round(median(decodeRates)), bytes: wire[0]?.length })
out({ bench: 'canonical-encode', msg_per_s: Math.round(median(encodeRates)) })
out({ bench: 'ed25519-verify', verify_per_s: Math.round(median(verifyRates)) })
out({ bench: 'validate-vs-verify', ratio: Math.round(median(validateRates) / median(verifyRates) * 1000) / 1000, validate_per_s: Math.round(median(validateRates)), verify_per_s: Math.round(median(verifyRates)), n: N, rounds: ROUNDS })
