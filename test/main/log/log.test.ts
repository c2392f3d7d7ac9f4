/** The log file: levels by name, size rotation, current.log, a full disk, and what the daemon writes there. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatTimestamp, signMessage } from '../../../src/shared/protocol/index.js'
import { openLogFile } from '../../../src/main/log/index.js'
import { startDaemon } from '../../../src/main/daemon/index.js'
import { JOBS_ANNOUNCE_TOPIC } from '../../../src/main/mesh/index.js'
import { announcement, corruptSignature, spawn, until } from '../mesh/helpers.js'

const lines = async (file: string): Promise<Array<Record<string, unknown>>> =>
  (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)

test('log file: JSON lines with level names, rotated by size, current.log points at the newest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-log-'))
  try {
    const f = await openLogFile(dir, { level: 'debug', maxFileBytes: 4096, keepFiles: 2 })
    for (let i = 0; i < 300; i++) {
      f.log.child({ sub: 'test' }).info({ job: `job-${i}` }, 'x'.repeat(40))
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    f.log.debug('the last line')
    await f.close()
    f.log.warn('after close: dropped, never thrown')
    const files = (await readdir(f.dir)).sort()
    const rolled = files.filter((n) => /^mesh-executor\.\d+\.log$/.test(n))
    assert.ok(rolled.length >= 2 && rolled.length <= 3, `rotated and pruned to keep 2 + the active one: ${files.join(' ')}`)
    const current = await readlink(join(f.dir, 'current.log'))
    const newest = rolled.map((n) => Number(/\.(\d+)\.log$/.exec(n)?.[1])).sort((a, b) => b - a)[0]
    assert.equal(current, `mesh-executor.${newest}.log`)
    const last = (await lines(join(f.dir, 'current.log'))).at(-1)
    assert.equal(last?.level, 'debug')
    assert.equal(last?.msg, 'the last line')
    const first = (await lines(join(f.dir, current)))[0]
    assert.equal(first?.level, 'info')
    assert.equal(first?.sub, 'test')
    assert.match(String(first?.job), /^job-\d+$/)
    assert.match(String(first?.time), /^\d{4}-\d\d-\d\dT/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a full disk under the log is reported once and never takes the process down (tmpfs; root only)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-log-'))
  const mnt = join(dir, 'full')
  await mkdir(mnt)
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status !== 0) { t.skip('cannot mount tmpfs here'); await rm(dir, { recursive: true }); return }
  try {
    const errors: Error[] = []
    const f = await openLogFile(mnt, { onError: (e) => errors.push(e) })
    await writeFile(join(mnt, 'pad'), Buffer.alloc(60 * 1024)).catch(() => {})
    for (let i = 0; i < 2000; i++) f.log.info('y'.repeat(200))
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    await f.close()
    assert.equal(errors.length, 1, 'told once')
    assert.match(String((errors[0] as NodeJS.ErrnoException).code), /ENOSPC/)
  } finally {
    // the file's descriptor is closed asynchronously: retry the unmount for a moment
    for (let i = 0; i < 50 && spawnSync('umount', [mnt]).status !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    await rm(dir, { recursive: true, force: true })
  }
})

test('the daemon logs to <dataDir>/logs with subsystems and job ids; gossip rejections and direct refusals are logged and counted', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-log-'))
  const d = await startDaemon({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, logLevel: 'debug', policy: { pricing: { mode: 'fixed', price: 2 } } })
  const peer = await spawn({ heartbeatMs: 100 })
  try {
    await peer.node.dial(d.node.multiaddrs()[0] as string)
    await until(() => peer.node.meshPeers(JOBS_ANNOUNCE_TOPIC).includes(d.identity.peerId), 'gossip mesh')
    // a forged announcement: Rejected by the validator (the peer is penalised)
    await peer.node.libp2p.services.pubsub.publish(JOBS_ANNOUNCE_TOPIC, corruptSignature(announcement(peer.id)))
    // a direct message the executor refuses: an assignment for a job it never saw
    const assign = signMessage('AssignJobV1', { announcement_id: 'never-seen', originator_did: peer.id.did, executor_did: d.identity.did, timestamp: formatTimestamp(Date.now()) }, peer.id).bytes
    const answer = await peer.node.sendDirect(d.identity.peerId, assign)
    assert.equal(answer.ok, false)
    await until(() => (d.meshStats().rejected['gossip:reject:BadSignature'] ?? 0) >= 1, 'the rejection counted')
    assert.equal(d.meshStats().rejected['direct:answer:UnknownJob'], 1)
    // a real announcement we bid on: its job id appears on the market line
    const id = `log-test-${Date.now()}`
    const ann = signMessage('JobAnnouncementV1', {
      announcement_id: id, originator_did: peer.id.did, timestamp: formatTimestamp(Date.now()),
      job_params: { wasm_cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', description: 'log test', resources_required: { CPU: '1c' }, max_fuel: 1_000_000, timeout_seconds: 30, is_interactive: false, qos_profile: 'BestEffort' }
    }, peer.id).bytes
    await peer.node.libp2p.services.pubsub.publish(JOBS_ANNOUNCE_TOPIC, ann)
    await until(() => d.store.hasAnnouncement(id), 'the announcement decided')
  } finally {
    await peer.node.stop()
    await d.stop({ graceMs: 0 })
  }
  try {
    const log = await lines(join(dataDir, 'logs', 'current.log'))
    const find = (pred: (l: Record<string, unknown>) => boolean, what: string): Record<string, unknown> => {
      const l = log.find(pred)
      assert.ok(l !== undefined, `${what} in the log:\n${log.map((x) => JSON.stringify(x)).join('\n')}`)
      return l
    }
    find((l) => l.sub === 'daemon' && l.msg === 'ready', 'ready')
    const rej = find((l) => l.sub === 'mesh' && /gossip message rejected/.test(String(l.msg)), 'the gossip rejection')
    assert.equal(rej.level, 'warn')
    assert.equal(rej.reason, 'BadSignature')
    find((l) => l.sub === 'mesh' && /direct message refused: UnknownJob/.test(String(l.msg)), 'the direct refusal')
    find((l) => l.sub === 'market' && typeof l.job === 'string' && String(l.job).startsWith('log-test-'), 'the announcement with its job id')
    find((l) => l.sub === 'daemon' && l.msg === 'stopped', 'stopped')
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
