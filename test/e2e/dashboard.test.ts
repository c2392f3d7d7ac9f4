/**
 * The dashboard end to end: a headless executor daemon PROCESS (`mesh-executor start --ui-port 0`)
 * in a real local mesh with an originator that submits real jobs, watched in headless Chromium.
 * Jobs, earnings and receipts appear without a reload; a receipt verifies in the UI; a policy
 * saved in the UI changes what the node bids on next, and the Market page says why.
 * Waits on app state and events, never on sleeps.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { generateIdentity } from '../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC, type MeshNode } from '../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, NoBidsError, type Originator } from '../../src/main/originator/index.js'
import { ARTIFACTS, buildRenderer, launch } from '../renderer/helpers.js'

const BIN = fileURLToPath(new URL('../../bin/mesh-executor.js', import.meta.url))
const JOBS = new URL('../../assets/jobs/', import.meta.url)

let dir: string
let child: ChildProcess
let exited: Promise<number | null>
let ready: Record<string, unknown>
let node: MeshNode
let originator: Originator
let browser: Browser
let page: Page
const events: Array<Record<string, unknown>> = []

before(async () => {
  buildRenderer()
  dir = await mkdtemp(join(tmpdir(), 'mesh-dash-'))
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ pricing: { mode: 'fixed', price: 5 }, stopOnBattery: false, bidMarginMs: 0 }))
  child = spawn(process.execPath, [BIN, 'start', '--json', '--lan', '--no-nat', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, 'exec'),
    '--policy', join(dir, 'policy.json'), '--ui-port', '0', '--region', 'eu-west'], { stdio: ['ignore', 'pipe', 'inherit'] })
  exited = new Promise((resolve) => child.once('exit', resolve))
  ready = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let e: Record<string, unknown>
      try { e = JSON.parse(line) as Record<string, unknown> } catch { return }
      events.push(e)
      if (e.event === 'ready') resolve(e)
    })
    void exited.then((code) => { reject(new Error(`executor exited ${String(code)} before ready`)) })
  })
  assert.match(String(ready.ui), /^http:\/\/127\.0\.0\.1:\d+\/\?token=/)

  const id = generateIdentity()
  const blocks = new AccessBlockStore()
  node = await createMeshNode({ identity: id, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, blockStore: blocks, heartbeatMs: 200 })
  await node.start()
  originator = createOriginator({ node, identity: id, blocks })
  await node.dial((ready.multiaddrs as string[])[0] as string)
  const deadline = Date.now() + 20_000
  while (!node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(String(ready.peerId))) {
    if (Date.now() > deadline) throw new Error('the executor never joined the announce topic')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  browser = await launch()
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
})

after(async () => {
  await browser?.close()
  originator?.close()
  await node?.stop()
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGTERM')
    await exited
  }
  await rm(dir, { recursive: true, force: true })
})

async function ready_ (name: string): Promise<void> {
  await page.waitForSelector(`html[data-ready="1"][data-page="${name}"]`)
}
async function go (name: string): Promise<void> {
  await page.click(`#nav a[href="#/${name}"]`)
  await ready_(name)
}

test('jobs run by the real daemon appear live, earn, and their receipts verify in the dashboard', { timeout: 120_000 }, async () => {
  await page.goto(String(ready.ui))
  await ready_('overview')
  await page.waitForSelector('html[data-conn="live"]')
  await page.locator('[data-testid="peers"]', { hasText: /connected to \d+ peer/ }).waitFor()
  const earnBefore = (await page.locator('[data-testid="earn-all"]').textContent()) ?? ''

  const module = new Uint8Array(await readFile(new URL('sha256.wasm', JOBS)))
  const input = new TextEncoder().encode('mesh executor dashboard e2e\n'.repeat(2000))
  const result = await originator.submit({ module, input, maxFuel: 10_000_000_000, timeoutSeconds: 30, biddingWindowMs: 2000, maxPrice: 20, selection: 'first-valid-bid' })
  assert.equal(new TextDecoder().decode(result.output).trim(), createHash('sha256').update(input).digest('hex'))

  // the overview's earnings moved without a reload (5 = our fixed price)
  await page.locator('[data-testid="earn-all"]', { hasNotText: new RegExp(`^${earnBefore}$`) }).waitFor()
  assert.equal(await page.locator('[data-testid="earn-all"]').textContent(), '5 tokens')

  await go('jobs')
  const row = page.locator(`[data-testid="jobs-table"] a[href="#/jobs/${result.announcementId}"]`)
  await row.waitFor()
  await row.click()
  await ready_('jobs')
  await page.locator('[data-testid="job-state"]', { hasText: /Completed/ }).waitFor()
  assert.equal(await page.locator('[data-testid="timeline"] li').count(), 5)
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-job.png'), fullPage: true })

  await go('receipts')
  await page.click(`a[href="#/receipts/${result.receiptCid}"]`)
  await ready_('receipts')
  await page.waitForSelector('[data-testid="receipt-fields"]')
  const fields = (await page.locator('[data-testid="receipt-fields"]').textContent()) ?? ''
  assert.ok(fields.includes(result.announcementId), 'the receipt detail shows its job')
  assert.ok(((await page.textContent('main')) ?? '').includes(result.receiptCid), 'and its CID')
  await page.click('[data-testid="verify"]')
  await page.waitForSelector('[data-testid="verify-ok"]')
})

test('a policy saved in the dashboard changes what the node bids on next, and the Market page says why', { timeout: 120_000 }, async () => {
  await go('policies')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-json-box"] summary')
  await page.fill('[data-testid="policy-json"]', JSON.stringify({ pricing: { mode: 'fixed', price: 50 }, stopOnBattery: false, bidMarginMs: 0 }, null, 2))
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-save"]')
  await page.locator('[data-testid="policy-saved"]', { hasText: /Saved as version/ }).waitFor()

  // the same kind of job, max_price 20: our price is now 50, so no bid
  const module = new Uint8Array(await readFile(new URL('wordcount.wasm', JOBS)))
  await assert.rejects(
    originator.submit({ module, input: new TextEncoder().encode('a b c'), maxFuel: 1_000_000_000, timeoutSeconds: 10, biddingWindowMs: 1500, maxPrice: 20 }),
    (err: unknown) => err instanceof NoBidsError
  )
  await go('market')
  const skipped = page.locator('[data-testid="announcements"] tr', { hasText: /skipped: price/ }).first()
  await skipped.waitFor()
  await skipped.locator('summary').click()
  await skipped.locator('li', { hasText: /price: .*50.*20|price: .*20.*50/ }).first().waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-market.png'), fullPage: true })
  // the daemon's own log agrees: the announcement was decided no-bid on the price rule
  const decided = events.filter((e) => e.event === 'announcement:decided')
  const last = decided.at(-1)
  assert.equal(last?.bid, false)
  assert.ok((last?.reasons as Array<{ rule: string, ok: boolean }>).some((r) => r.rule === 'price' && !r.ok))
})

const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)

test('a compute-bound job shows live fuel and elapsed time; selling for free shows a warning', { timeout: 120_000 }, async () => {
  // price 0 (the default a new seller starts with), typed in the price form: the Overview says so, loudly
  await go('policies')
  await page.check('[data-testid="mode-fixed"]')
  await page.fill('[data-testid="price-fixed"]', '0')
  await page.locator('[data-testid="policy-free"]:visible').waitFor()
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-save"]')
  await page.locator('[data-testid="policy-saved"]', { hasText: /Saved as version/ }).waitFor()
  await go('overview')
  await page.locator('[data-testid="free-warning"]', { hasText: /selling for free/ }).waitFor()
  await page.locator('[data-testid="health"] li[data-code="selling_free"]').waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-price-zero.png'), fullPage: true })
  await page.locator('[data-testid="policy-version"]', { hasText: /version \d+/ }).waitFor()

  // a tight loop that never calls WASI: fuel and elapsed still move while it runs (until its 6 s timeout)
  const module = new Uint8Array(await readFile(new URL('hostile_loop.wasm', JOBS)))
  const run = originator.submit({ module, maxFuel: 1_000_000_000_000, timeoutSeconds: 6, biddingWindowMs: 1000, selection: 'first-valid-bid' }).catch((err: unknown) => err)
  const fuel = page.locator('[data-testid^="fuel-"]').first()
  await fuel.waitFor()
  const elapsed = page.locator('[data-testid^="elapsed-"]').first()
  const readings: Array<{ fuel: string, elapsed: string }> = []
  for (let i = 0; i < 3; i++) {
    const before = { fuel: (await fuel.textContent()) ?? '', elapsed: (await elapsed.textContent()) ?? '' }
    readings.push(before)
    // wait for both to change (app events and the 1 s ticker), never a sleep
    await fuel.filter({ hasNotText: exactly(before.fuel) }).waitFor({ timeout: 5000 })
    await elapsed.filter({ hasNotText: exactly(before.elapsed) }).waitFor({ timeout: 5000 })
  }
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-live-progress.png'), fullPage: true })
  const err = await run
  assert.equal((err as { reason?: string }).reason, 'Timeout', String(err))
  assert.equal(new Set(readings.map((r) => r.fuel)).size, 3, `fuel moved: ${JSON.stringify(readings)}`)
})
