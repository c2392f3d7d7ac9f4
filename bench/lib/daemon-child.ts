/**
 * A real executor daemon (`startDaemon`) in its own process, as on a seller's machine, driven by its
 * parent over stdio (JSON lines). Used by bench/roundtrip.ts.
 *
 *   argv[2]  JSON: { policy, trace?: boolean, bootstrap?: string[], dataDir?: string }
 *   stdout   {"ready":true,"peerId","did","multiaddrs","t"} (t: epoch ms when startDaemon resolved), then answers {"id","ok"|"error"|"value"} and,
 *            with trace, {"mark":step,"t":epochMs} for each daemon event
 *   stdin    {"id","cmd":"dial","addr"} | {"id","cmd":"topicPeers","topic"} | {"id","cmd":"stop"}
 *   BENCH_DEBUG_DECISIONS=1  prints each announcement the daemon did not bid on, with why, on stderr
 */
import '../../src/main/polyfills.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { startDaemon } from '../../src/main/daemon/index.js'

const cfg = JSON.parse(process.argv[2] ?? '{}') as { policy?: unknown, trace?: boolean, bootstrap?: string[], dataDir?: string }
const send = (o: object): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const now = (): number => performance.timeOrigin + performance.now()

const dir = cfg.dataDir ?? await mkdtemp(join(tmpdir(), 'bench-daemon-'))
const d = await startDaemon({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, policy: cfg.policy, ...(cfg.bootstrap !== undefined ? { bootstrap: cfg.bootstrap } : {}) })
const readyAt = now()
if (cfg.trace === true) {
  const mark = (step: string): void => { send({ mark: step, t: now() }) }
  d.node.events.on('message:received', (e) => { if (e.message.variant === 'JobAnnouncementV1') mark('exec:announcement_received') })
  d.events.on('announcement:decided', () => { mark('exec:decided') })
  d.events.on('bid:sent', () => { mark('exec:bid_answered') })
  d.events.on('job:accepted', () => { mark('exec:assignment_accepted') })
  d.events.on('job:state', (e) => { mark(`exec:state_${e.state}`) })
  d.events.on('job:finished', () => { mark('exec:finished') })
  d.events.on('receipt:published', () => { mark('exec:dht_published') })
  d.events.on('capability:published', (e) => { mark(`exec:capability_published_to_${e.recipients}`) })
}
if (process.env.BENCH_DEBUG_DECISIONS !== undefined) d.events.on('announcement:decided', (e) => { if (!e.bid) console.error('no bid:', e.announcementId, e.reasons.filter((r) => !r.ok).map((r) => r.text).join('; ')) })
send({ ready: true, peerId: d.identity.peerId, did: d.identity.did, multiaddrs: d.node.multiaddrs(), t: readyAt })

const lines = createInterface({ input: process.stdin })
// the bench died (its end of our stdin closed): stop too, rather than live on as an orphan
lines.on('close', () => {
  void d.stop({ graceMs: 0 }).finally(async () => {
    if (cfg.dataDir === undefined) await rm(dir, { recursive: true, force: true })
    process.exit(0)
  })
})
lines.on('line', (line) => {
  const m = JSON.parse(line) as { id: number, cmd: string, addr?: string, topic?: string }
  void (async () => {
    try {
      if (m.cmd === 'dial') { await d.node.dial(m.addr as string); send({ id: m.id, ok: true }) }
      else if (m.cmd === 'topicPeers') send({ id: m.id, value: d.node.topicPeers(m.topic as string) })
      else if (m.cmd === 'stop') {
        await d.stop({ graceMs: 0 })
        if (cfg.dataDir === undefined) await rm(dir, { recursive: true, force: true })
        send({ id: m.id, ok: true })
        process.exit(0)
      }
    } catch (err) {
      send({ id: m.id, error: err instanceof Error ? err.message : String(err) })
    }
  })()
})
