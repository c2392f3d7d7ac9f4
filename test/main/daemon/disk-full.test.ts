/**
 * A seller's disk fills up while the daemon runs (its data dir on a 96 MiB tmpfs; root only). Found by
 * hand: the node went on bidding until SQLite failed ("database or disk is full"), the dashboard said
 * "12 MiB of 12 MiB free" (the figure probed at start) and showed the failure only as a vague node error.
 * Now the `disk` rule stops bids below DISK_RESERVE_BYTES free, the health says so, the free figure is
 * live, and bidding resumes by itself once space is freed — or, when the node's own old outputs are what
 * fills the disk, once it has removed those older than 10 minutes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, statfs, utimes, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../../../src/main/daemon/index.js'
import { createDaemonApi } from '../../../src/main/api/daemon-adapter.js'
import { DISK_RESERVE_BYTES } from '../../../src/shared/policy/index.js'
import { rawCid } from '../../../src/shared/protocol/index.js'
import { openStore } from '../../../src/main/store/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator } from '../../../src/main/originator/index.js'
import { spawn, until } from '../mesh/helpers.js'

const asset = (n: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../assets/jobs/${n}`, import.meta.url)))

test('a disk that fills up while the node runs: no bids (rule disk), the health says how full, bids resume once space is freed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mesh-disk-'))
  const mnt = join(root, 'mnt')
  await mkdir(mnt)
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mnt]).status !== 0) { await rm(root, { recursive: true }); t.skip('cannot mount a tmpfs here (not root?)'); return }
  const daemon = await startDaemon({ dataDir: join(mnt, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, policy: { pricing: { mode: 'fixed', price: 1 }, bidMarginMs: 0 }, timers: { machineGuardMs: 50 } })
  const api = createDaemonApi(daemon)
  const blocks = new AccessBlockStore()
  const o = await spawn({ blockStore: blocks })
  const originator = createOriginator({ node: o.node, identity: o.id, blocks })
  t.after(async () => {
    // whatever failed, the tmpfs is unmounted
    originator.close()
    await o.node.stop().catch(() => {})
    await daemon.stop({ graceMs: 1000 }).catch(() => {})
    // a helper process of the daemon may take a moment to exit: then detach the mount lazily
    if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt])
    await rm(root, { recursive: true, force: true })
  })
  await o.node.dial(daemon.node.multiaddrs()[0] as string)
  await until(() => o.node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(daemon.identity.peerId), 'executor subscribed')
  const job = { module: asset('fuel_basic.wasm'), maxFuel: 1_000_000, timeoutSeconds: 20, biddingWindowMs: 1000, selection: 'first-valid-bid' as const }
  const free = (): number | undefined => daemon.decisionSources.machine?.()?.dataDirFreeBytes
  /** free bytes now (the daemon's figure is a sample) */
  const freeNow = async (): Promise<number> => { const st = await statfs(mnt); return Number(st.bavail) * Number(st.bsize) }

  const first = await originator.submit(job)
  assert.equal(first.receipt.status, 'CompletedSuccessfully', 'a job before the disk fills')
  const blocksDir = join(mnt, 'node', 'blocks')
  const firstOutput = rawCid(first.output)

  // another program fills the disk to 20 MiB free
  const pad = join(mnt, 'pad')
  await writeFile(pad, Buffer.alloc(Math.max(0, await freeNow() - 20 * 1024 * 1024)))
  await until(() => (free() ?? Infinity) < DISK_RESERVE_BYTES, 'the low free space sampled')
  await assert.rejects(originator.submit(job), (err: Error) => err.name === 'NoBidsError' || /no executor bid/.test(err.message))
  const declined = daemon.store.listAnnouncements({ firstFailedRule: 'disk' })
  assert.equal(declined.length, 1, 'the decision is recorded with rule disk (there is room for the record, not for a job)')
  const st = await api.api.invoke('node.status', {})
  const reason = st.health?.reasons.find((r) => r.code === 'disk_full')
  assert.ok(reason !== undefined && reason.severity === 'blocking', JSON.stringify(st.health))
  assert.match(reason.detail, /has (19|20)(\.\d)? MiB free; a job needs 64 MiB/)
  assert.match(st.health?.summary ?? '', /^No work can come: the disk is almost full/)
  const shown = st.offer?.diskBytes.machineFree ?? Infinity
  assert.ok(shown < DISK_RESERVE_BYTES, `the Overview's free figure is live (${shown})`)

  assert.ok(existsSync(join(blocksDir, firstOutput)), 'the low-disk pass never removes an output younger than 10 minutes')

  // the owner frees space: bidding resumes by itself
  await rm(pad)
  await until(() => (free() ?? 0) > DISK_RESERVE_BYTES, 'the freed space sampled')
  assert.equal((await originator.submit(job)).receipt.status, 'CompletedSuccessfully', 'a job after space was freed')
  assert.equal((await api.api.invoke('node.status', {})).health?.reasons.some((r) => r.code === 'disk_full'), false)

  // the node's own old outputs fill the disk: it removes those older than 10 minutes and sells again
  const old = join(blocksDir, rawCid(new TextEncoder().encode('an old output')))
  await writeFile(old, Buffer.alloc(60 * 1024 * 1024))
  const twentyMinutesAgo = new Date(Date.now() - 20 * 60_000)
  await utimes(old, twentyMinutesAgo, twentyMinutesAgo)
  await writeFile(pad, Buffer.alloc(Math.max(0, await freeNow() - 10 * 1024 * 1024)))
  await until(() => !existsSync(old), 'the old output removed')
  await until(() => (free() ?? 0) > DISK_RESERVE_BYTES, 'the space sampled')
  assert.ok(existsSync(join(blocksDir, firstOutput)), 'the recent outputs stay')
  assert.equal((await originator.submit(job)).receipt.status, 'CompletedSuccessfully', 'a job once the old outputs are gone')

  // stopped on a disk with no byte left: the stop completes (the final WAL checkpoint cannot run), nothing is lost
  await writeFile(join(mnt, 'fill'), Buffer.alloc(200 * 1024 * 1024)).catch(() => {})
  assert.ok(await freeNow() < 64 * 1024, 'the disk is full')
  const shutdownErrors: string[] = []
  daemon.events.on('daemon:error', (e) => { shutdownErrors.push(`${e.where}: ${e.error}`) })
  await daemon.stop({ graceMs: 1000 })
  await rm(join(mnt, 'fill'))
  await rm(pad)
  const reopened = openStore(join(mnt, 'node'))
  try {
    assert.equal(reopened.listJobs().filter((j) => j.state === 'Completed').length, 3, 'every job is still recorded: ' + shutdownErrors.join('; '))
  } finally { reopened.close() }
})
