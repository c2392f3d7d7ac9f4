import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { openStore } from '../../../src/main/store/index.js'

const WRITER = new URL('./fixtures/writer.ts', import.meta.url).pathname

function spawnWriter (dir: string, mode?: 'hold'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WRITER, dir, ...(mode === undefined ? [] : [mode])], { stdio: ['ignore', 'pipe', 'inherit'] })
}

/** Resolves once `pred` has accepted a stdout line (the child reports its own progress). */
async function waitForLine (child: ChildProcess, pred: (line: string, n: number) => boolean): Promise<void> {
  if (child.stdout === null) throw new Error('no stdout')
  const rl = createInterface({ input: child.stdout })
  let n = 0
  const exited = once(child, 'exit').then(([code, sig]) => { throw new Error(`writer exited early (${String(code)} ${String(sig)})`) })
  const seen = (async () => {
    for await (const line of rl) {
      n++
      if (pred(line, n)) return
    }
  })()
  await Promise.race([seen, exited])
}

async function kill9 (child: ChildProcess): Promise<void> {
  const exit = once(child, 'exit')
  child.kill('SIGKILL')
  const [code, signal] = await exit as [number | null, string | null]
  assert.equal(code, null)
  assert.equal(signal, 'SIGKILL')
}

test('kill -9 mid-write and mid-job: integrity ok, ledger and job states consistent after recovery', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-crash-'))
  try {
    let totalRecovered = 0
    for (let round = 0; round < 3; round++) {
      const child = spawnWriter(dir)
      let running = 0
      let done = 0
      // kill it while it is writing flat out, after it has finished some jobs and left some Running
      await waitForLine(child, (line) => {
        if (line.startsWith('running ')) running++
        if (line.startsWith('done ')) done++
        return running >= 2 && done >= 20 + round * 7
      })
      await kill9(child)

      const s = openStore(dir) // the dead child's lock is gone with it
      try {
        assert.equal(s.integrityCheck(), 'ok')
        const recovered = s.failInterruptedJobs()
        totalRecovered += recovered.length
        assert.ok(recovered.length >= 2, `round ${round}: the jobs left Running are recovered (${recovered.length})`)
        for (const r of recovered) {
          assert.equal(r.job.state, 'Failed')
          assert.equal(r.job.failureReason, 'InternalError')
          s.markFailureNotified(r.job.announcementId)
        }
        assert.equal(s.countActiveJobs(), 0)
        const db = s.db
        // every job's state equals its last transition; terminal jobs have exactly one terminal transition
        const bad = db.prepare(`SELECT j.announcement_id FROM jobs j WHERE j.state != (SELECT to_state FROM job_transitions t WHERE t.announcement_id = j.announcement_id ORDER BY t.id DESC LIMIT 1)`).all()
        assert.deepEqual(bad, [])
        const multiTerminal = db.prepare(`SELECT announcement_id FROM job_transitions WHERE to_state IN ('Completed','Failed','Cancelled') GROUP BY announcement_id HAVING count(*) > 1`).all()
        assert.deepEqual(multiTerminal, [])
        // ledger: exactly the completed jobs, once each, each with its receipt
        const completed = Number((db.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'Completed'").get() as { n: number | bigint }).n)
        const ledger = db.prepare('SELECT count(*) AS n, count(DISTINCT announcement_id) AS d, sum(amount) AS s FROM earnings').get() as { n: number, d: number, s: number }
        assert.equal(Number(ledger.n), completed)
        assert.equal(Number(ledger.d), completed)
        assert.equal(BigInt(ledger.s), BigInt(completed) * 7n)
        assert.equal(s.earningsSummary().allTime, BigInt(completed) * 7n)
        const orphan = db.prepare("SELECT e.announcement_id FROM earnings e JOIN jobs j USING (announcement_id) WHERE j.state != 'Completed'").all()
        assert.deepEqual(orphan, [])
        const noReceipt = db.prepare("SELECT announcement_id FROM jobs j WHERE state = 'Completed' AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.announcement_id = j.announcement_id)").all()
        assert.deepEqual(noReceipt, [])
        // every job has its announcement and bid (written before it)
        const noBid = db.prepare('SELECT announcement_id FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM bids b WHERE b.announcement_id = j.announcement_id)').all()
        assert.deepEqual(noBid, [])
        const h = s.originatorRecord('did:key:z6MkwriterOriginator')
        const jobs = Number((db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n)
        const failed = Number((db.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'Failed'").get() as { n: number }).n)
        assert.equal(h?.assigned, jobs)
        assert.equal(h?.completed, completed)
        assert.equal(h?.failed, failed)
      } finally {
        s.close()
      }
    }
    assert.ok(totalRecovered >= 6)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a live instance in another process holds the lock (DataDirLocked with its pid); kill -9 frees it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-lock-'))
  try {
    const child = spawnWriter(dir, 'hold')
    await waitForLine(child, (line) => line === 'locked')
    assert.throws(() => openStore(dir), (err: unknown) => {
      assert.equal((err as Error).name, 'DataDirLocked')
      assert.equal((err as { holderPid?: number }).holderPid, child.pid)
      return true
    })
    await kill9(child)
    const s = openStore(dir)
    assert.equal(s.integrityCheck(), 'ok')
    s.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
