/**
 * The seller's views in headless Chromium against the real UI server, API service and SQLite store
 * (test/main/api/fixture.ts): the health banner and its fix buttons, the offer and the free-price
 * warning, bid outcomes and the market rate, exports and the signed statement (downloaded and checked),
 * the logs page, the policy forms (validation while typing, errors named by label, schedule, GPU,
 * thermal, snooze), settings errors while typing, the not-found page and the node going offline.
 * Screenshots in light and dark go to test-artifacts/seller-*.png. Waits on DOM state, never sleeps.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startUiServer, type UiServer } from '../../src/main/ui-server/index.js'
import { createMarketRateCollector, type MarketRateCollector } from '../../src/main/market-rate/index.js'
import { verifyStatementFile } from '../../src/main/export/index.js'
import { TypedEmitter, type MeshEvents } from '../../src/main/mesh/index.js'
import { formatTimestamp, generateIdentity, rawCid, signReceipt, verifyReceiptBlock } from '../../src/shared/protocol/index.js'
import { createFixture, type Fixture } from '../main/api/fixture.js'
import { ARTIFACTS, RENDERER_DIR, buildRenderer, launch } from './helpers.js'

let f: Fixture
let srv: UiServer
let browser: Browser
let light: BrowserContext
let dark: BrowserContext
let page: Page
let market: MarketRateCollector
const pageErrors: string[] = []

before(async () => {
  buildRenderer()
  // three public receipts of other executors, as the daemon's collector would have verified them
  market = createMarketRateCollector({ node: { events: new TypedEmitter<MeshEvents>(), getReceipt: async () => undefined, fetchBlock: async () => { throw new Error('none') } }, ownDid: 'did:key:z6MkSelf' })
  const others = [generateIdentity(), generateIdentity()]
  const buyer = generateIdentity()
  for (const [i, [price, fuel]] of [[4, 1_000_000], [30, 5_000_000], [90, 10_000_000]].entries()) {
    const ex = others[i % 2] ?? generateIdentity()
    market.addReceipt(signReceipt({
      announcement_id: `pub-${i}`, originator_did: buyer.did, executor_did: ex.did, wasm_cid: rawCid(new TextEncoder().encode('m')), status: 'CompletedSuccessfully',
      fuel_used: fuel ?? 1, resource_usage: { wall_ms: 1, peak_memory_bytes: 1, output_bytes: 1 }, price: price ?? 1, runtime: 'wasi-p1-fuel-v1',
      started_at: formatTimestamp(Date.now() - 60_000), finished_at: formatTimestamp(Date.now() - 30_000 + i)
    }, ex).bytes)
  }
  f = await createFixture({ marketRate: { samples: (s) => market.samples(s), stats: () => market.stats() } })
  srv = await startUiServer({ api: f.api, rendererDir: RENDERER_DIR })
  browser = await launch()
  light = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, colorScheme: 'light' })
  dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, colorScheme: 'dark' })
  page = await light.newPage()
  page.on('pageerror', (e) => { pageErrors.push(String(e)) })
  // (while the node is down the browser logs the refused connections: that is the test, not an error)
  page.on('console', (m) => { if (m.type() === 'error' && !/ERR_CONNECTION_(REFUSED|RESET)/.test(m.text())) pageErrors.push(`console: ${m.text()}`) })
  await page.goto(srv.url)
  await ready('overview')
})
after(async () => {
  await browser?.close()
  await srv?.close()
  await market?.close()
  f?.close()
})

async function ready (name: string, p: Page = page): Promise<void> {
  await p.waitForSelector(`html[data-ready="1"][data-page="${name}"]`)
}
async function go (name: string): Promise<void> {
  await page.goto(`${srv.origin}/#/${name}`)
  await ready(name)
}
/** The page now, in light and in dark. */
async function shots (name: string, hash: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `seller-${name}-light.png`), fullPage: true })
  const d = await dark.newPage()
  d.on('pageerror', (e) => { pageErrors.push(`dark: ${String(e)}`) })
  await d.goto(srv.url)
  await ready('overview', d)
  await d.goto(`${srv.origin}/${hash}`)
  await ready(hash.replace(/^#\//, '').split('/')[0] ?? 'overview', d)
  await d.screenshot({ path: join(ARTIFACTS, `seller-${name}-dark.png`), fullPage: true })
  await d.close()
}
const text = async (sel: string): Promise<string> => (await page.locator(sel).first().textContent()) ?? ''
const pushStatus = (): void => { f.events.emit('status:changed', f.api.status()) }

test('overview: what I offer, the price with its unit, and a health banner that names each reason with its fix', async () => {
  assert.match(await text('[data-testid="offer-price"]'), /^10 tokens per million fuel/)
  assert.equal(await text('[data-testid="offer-cpu"]'), '2 cores of 2 coresAMD EPYC 7B13')
  assert.match(await text('[data-testid="offer-gpu"]'), /NVIDIA RTX 4090 \(24\.0 GiB\)\s*offered/)
  assert.equal(await text('[data-testid="offer-temp"]'), '52 °C')
  assert.equal(await page.locator('[data-testid="health"]').getAttribute('data-can-bid'), '1')
  await shots('overview', '#/overview')

  // paused: the banner says so and its button resumes (a switch, not a policy version)
  f.runtime.pausedUntil = Date.now() + 3_600_000
  pushStatus()
  await page.locator('[data-testid="health"][data-can-bid="0"] li[data-code="paused"]').waitFor()
  assert.match(await text('[data-testid="health-summary"]'), /^No work can come: paused until/)
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'paused')
  await page.click('[data-testid="fix-paused"]')
  await page.locator('[data-testid="health"] li[data-code="paused"]').waitFor({ state: 'detached' })
  assert.equal(f.runtime.pausedUntil, null)

  // every other reason, as the daemon reports it
  f.runtime.running = []
  f.store.db.prepare("UPDATE jobs SET state = 'Completed' WHERE state = 'Running'").run()
  f.runtime.peers = 0
  f.runtime.health = {
    bootstrap: { configured: ['/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWPeer'], failures: [{ addr: '/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWPeer', error: 'connect ECONNREFUSED 203.0.113.7:4001', at: Date.now() }] },
    schedule: { inside: false, description: 'mon,tue,wed,thu,fri 18:00-08:00', timezone: 'Europe/Berlin' },
    onBattery: true,
    tooHot: { tempC: 93, stopAboveC: 85, resumeBelowC: 75 },
    free: true,
    priceText: '0 tokens per job'
  }
  f.runtime.offer = { ...(f.runtime.offer ?? (() => { throw new Error('no offer') })()), price: { mode: 'fixed', text: '0 tokens per job', free: true, fixed: '0', floor: null, ratePerMillionFuel: null, examples: [] } }
  pushStatus()
  for (const code of ['bootstrap_unreachable', 'outside_schedule', 'on_battery', 'too_hot', 'selling_free']) await page.locator(`[data-testid="health"] li[data-code="${code}"]`).waitFor()
  assert.match(await text('[data-testid="health"] li[data-code="bootstrap_unreachable"]'), /203\.0\.113\.7.*ECONNREFUSED.*Check the address/)
  assert.match(await text('[data-testid="health"] li[data-code="too_hot"]'), /CPU too hot \(93 °C\)/)
  assert.match(await text('[data-testid="free-warning"]'), /You are selling for free/)
  assert.equal(await text('[data-testid="peers"]'), 'not connected to any peer')
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'idle', 'not "bidding" while no work can come')
  await shots('overview-blocked', '#/overview')
  f.runtime.peers = 3
  f.runtime.health = undefined
  f.runtime.offer = { ...f.runtime.offer, price: { mode: 'per_mfuel', text: '10 tokens per million fuel', free: false, fixed: null, floor: null, ratePerMillionFuel: '10', examples: [{ maxFuel: '1000000', price: '10' }, { maxFuel: '100000000', price: '1000' }, { maxFuel: '10000000000', price: '100000' }] } }
  pushStatus()
  await page.locator('[data-testid="health"] li[data-code="too_hot"]').waitFor({ state: 'detached' })
})

test('market: won / lost / never assigned per bid, and the market rate from signed receipts with a suggestion', async () => {
  const lost = await f.announce(70, { maxPrice: 500, maxFuel: 1_000_000, at: Date.now() - 3 * 3_600_000 })
  f.store.markBidSent(lost, { ok: true })
  const failed = await f.announce(71, { maxPrice: 500, maxFuel: 1_000_000, at: Date.now() - 2 * 3_600_000 })
  f.store.markBidSent(failed, { ok: false, error: 'BidRefusedError: originator refused the bid: Stale' })
  await go('market')
  const row = (id: string): ReturnType<Page['locator']> => page.locator('[data-testid="announcements"] tr', { hasText: id })
  assert.equal(await row(lost).locator('[data-testid="outcome"]').getAttribute('data-outcome'), 'lost')
  assert.equal(await row(failed).locator('[data-testid="outcome"]').getAttribute('data-outcome'), 'not_sent')
  assert.match(await row(failed).textContent() ?? '', /never assigned: the bid was not delivered/)
  assert.equal(await row(f.completedIds[0] ?? '').locator('[data-testid="outcome"]').getAttribute('data-outcome'), 'won')
  const stats = await f.api.invoke('market.stats', {})
  assert.equal(await text('[data-testid="won-count"]'), String(stats.outcomes.won))
  assert.equal(await text('[data-testid="lost-count"]'), String(stats.outcomes.lost))
  // the market: jobs paid 4, 30 and 90 tokens (4, 6 and 9 per million fuel used) → median 30 per job
  assert.equal(await text('[data-testid="rate-price"]'), '30 tokens')
  assert.equal(await text('[data-testid="rate-median"]'), '6.00')
  assert.equal(await text('[data-testid="rate-samples"]'), '3')
  assert.match(await text('[data-testid="rate-suggest"]'), /Suggested price: 30 tokens per job/)
  assert.match(await text('[data-testid="rate-would"]'), /you would have bid on \d+/)
  await page.click('[data-testid="rate-try"]')
  await page.waitForSelector('[data-testid="sim-would-bid"]')
  assert.match(await page.inputValue('[data-testid="sim-policy"]'), /"mode": "fixed",\s*"price": 30/)
  await shots('market', '#/market')
})

test('exports: earnings and receipts as CSV and JSON for a period, and a signed statement that verifies offline and in the page', async () => {
  await go('receipts')
  const save = async (testid: string): Promise<{ name: string, body: string }> => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testid}"]`)])
    return { name: d.suggestedFilename(), body: readFileSync(await d.path(), 'utf8') }
  }
  const csv = await save('exp-earnings-csv')
  assert.match(csv.name, /^earnings_\d{4}-01-01_to_\d{4}-\d{2}-\d{2}\.csv$/)
  const rows = csv.body.trim().split('\r\n')
  assert.equal(rows[0], 'earned_at,announcement_id,description,originator_did,region,amount,unit,fuel_used,receipt_cid')
  const inYear = f.completedIds.filter((id) => (f.store.getJob(id)?.updatedAt ?? 0) >= new Date(new Date().getFullYear(), 0, 1).getTime())
  assert.equal(rows.length - 1, inYear.length)
  for (const r of rows.slice(1)) {
    const cid = r.split(',').at(-1) ?? ''
    assert.ok(verifyReceiptBlock(f.store.getReceipt(cid)?.bytes ?? new Uint8Array(), cid).ok, r)
  }
  const json = JSON.parse((await save('exp-receipts-json')).body) as { rows: Array<{ receipt_cid: string }> }
  assert.ok(json.rows.length > 0 && json.rows.every((r) => r.receipt_cid.startsWith('bafy')))
  assert.match((await save('exp-receipts-csv')).body, /^created_at,receipt_cid,announcement_id,description,status,failure_reason,fuel_used,price,earned,unit\r\n/)
  assert.match((await save('exp-earnings-json')).body, /"unit": "tokens"/)
  const st = await save('exp-statement')
  assert.match(st.name, /^earnings-statement_.*\.json$/)
  const check = verifyStatementFile(st.body)
  assert.equal(check.view.ok, true, JSON.stringify(check.view))
  // checked in the page, from the file
  await page.setInputFiles('[data-testid="verify-file"]', { name: st.name, mimeType: 'application/json', buffer: Buffer.from(st.body) })
  await page.waitForSelector('[data-testid="statement-ok"]')
  assert.match(await text('[data-testid="statement-ok"]'), new RegExp(`all ${inYear.length} receipts verified`))
  // a period that ends before it starts cannot be exported
  await page.fill('[data-testid="exp-to"]', '2000-01-01')
  await page.locator('[data-testid="export-error"]', { hasText: /end/ }).waitFor()
  assert.equal(await page.locator('[data-testid="exp-statement"]').isDisabled(), true)
  await shots('receipts', '#/receipts')
})

test('logs: newest first, filtered by level, part of the node and job, older lines on demand', async () => {
  await go('logs')
  await page.locator('[data-testid="log-lines"] li.logline').first().waitFor()
  const levels = await page.locator('[data-testid="log-lines"] li.logline').evaluateAll((els) => els.map((e) => e.getAttribute('data-level')))
  assert.ok(!levels.includes('debug'), 'info and up by default')
  assert.equal(levels[0], 'error')
  await page.selectOption('[data-testid="log-level"]', 'warn')
  await page.locator('[data-testid="log-lines"] li.logline[data-level="info"]').first().waitFor({ state: 'detached' })
  await page.selectOption('[data-testid="log-level"]', 'trace')
  await page.locator('[data-testid="log-lines"] li.logline[data-level="debug"]').first().waitFor()
  await page.check('[data-testid="log-sub-mesh"]')
  await page.locator('[data-testid="log-lines"] li.logline[data-sub="jobs"]').first().waitFor({ state: 'detached' })
  assert.match(await text('[data-testid="log-lines"]'), /bootstrap peer unreachable/)
  await page.uncheck('[data-testid="log-sub-mesh"]')
  const id = f.completedIds[0] ?? ''
  await page.goto(`${srv.origin}/#/logs/job/${id}`)
  await ready('logs')
  await page.locator('[data-testid="log-lines"] li.logline').first().waitFor()
  assert.equal(await page.locator('[data-testid="log-lines"] li.logline').count(), 1)
  assert.match(await text('[data-testid="log-lines"]'), /job finished/)
  await page.fill('[data-testid="log-job"]', '')
  await page.locator('[data-testid="log-lines"] li.logline').nth(1).waitFor()
  await shots('logs', '#/logs')
})

test('policies: forms for every field, defaults and units shown, errors named by label while typing, schedule, GPU, thermal, snooze', async () => {
  await go('policies')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  for (const k of ['pricing', 'offer', 'maxConcurrentJobs', 'schedule', 'idleOnly', 'stopOnBattery', 'thermalGuard', 'acceptedQos', 'allowInteractive', 'maxTimeoutSeconds', 'maxFuel', 'allowedRegions', 'allowedOriginators', 'blockedOriginators', 'minOriginatorRecord', 'bidMarginMs']) {
    assert.ok(await page.locator(`[data-testid="field-${k}"] .default`).count() === 1, `${k} shows its default`)
  }
  assert.match(await text('[data-testid="field-maxConcurrentJobs"] .default'), /^Default: 1 job$/)
  assert.match(await text('[data-testid="field-pricing"]'), /tokens per million fuel/)
  assert.equal(await page.locator('[data-testid="save"]').count(), 0)
  assert.equal(await page.locator('[data-testid="policy-save"]').isDisabled(), true, 'nothing changed yet')

  // errors while typing, named by the form's label (no JSON paths)
  await page.fill('[data-testid="price-rate"]', '-3')
  await page.locator('[data-testid="errors-pricing"] li', { hasText: 'Price — rate per million fuel: must be a whole number of 0 or more, got -3' }).waitFor()
  assert.equal(await page.locator('[data-testid="policy-save"]').isDisabled(), true)
  await page.fill('[data-testid="price-rate"]', '6')
  await page.locator('[data-testid="errors-pricing"] li').waitFor({ state: 'detached' })
  await page.fill('[data-testid="regions"]', 'EU West')
  await page.locator('[data-testid="errors-allowedRegions"] li', { hasText: /^Regions — entry 1: region "EU West" must be/ }).waitFor()
  await page.fill('[data-testid="regions"]', 'eu-west, us-east')
  await page.locator('[data-testid="errors-allowedRegions"] li').waitFor({ state: 'detached' })
  await page.fill('[data-testid="offer-cpu"]', '64')
  await page.locator('[data-testid="errors-offer"] li', { hasText: 'What you offer — CPU cores: this machine has 2 cores: offer at most 2' }).waitFor()
  await page.fill('[data-testid="offer-cpu"]', '1.5')
  await page.locator('[data-testid="errors-offer"] li').waitFor({ state: 'detached' })
  await page.fill('[data-testid="offer-ram"]', '1.5')
  await page.uncheck('[data-testid="offer-gpus"]')
  // schedule picker: weekday evenings in a time zone
  await page.check('[data-testid="schedule-on"]')
  await page.locator('[data-testid="window-1"]').waitFor()
  await page.click('[data-testid="window-1"] button')
  await page.locator('[data-testid="window-1"]').waitFor({ state: 'detached' })
  await page.fill('[data-testid="win-0-from"]', '19:00')
  await page.selectOption('[data-testid="schedule-tz"]', 'Europe/Berlin')
  // idle-only with its flapping guard, and the thermal guard (resume must be below stop)
  await page.check('[data-testid="idle-on"]')
  await page.fill('[data-testid="idle-grace"]', '90')
  await page.check('[data-testid="thermal-on"]')
  await page.fill('[data-testid="thermal-resume"]', '95')
  await page.locator('[data-testid="errors-thermalGuard"] li', { hasText: 'Thermal guard — resume below: must be below the stop temperature (85 °C), got 95' }).waitFor()
  await page.fill('[data-testid="thermal-resume"]', '70')
  await page.locator('[data-testid="errors-thermalGuard"] li').waitFor({ state: 'detached' })
  await page.uncheck('[data-testid="qos-GuaranteedCompletion"]')
  await page.fill('[data-testid="max-timeout"]', '600')
  await page.locator('[data-testid="policy-preview"]', { hasText: /With this draft, of the last \d+ jobs announced you would have bid on/ }).waitFor()
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await shots('policies', '#/policies')
  const versions = (await f.api.invoke('policy.get', {})).history.length
  await page.fill('#policy-note', 'evenings, half the machine')
  await page.click('[data-testid="policy-save"]')
  await page.locator('[data-testid="policy-saved"]', { hasText: /Saved as version/ }).waitFor()
  const cur = (await f.api.invoke('policy.get', {})).current?.policy as Record<string, unknown>
  assert.deepEqual(cur.pricing, { mode: 'per_mfuel', ratePerMillionFuel: 6 }, 'the rate typed in the form')
  assert.deepEqual(cur.allowedRegions, ['eu-west', 'us-east'])
  assert.deepEqual(cur.offer, { cpuCores: 1.5, ramBytes: 1.5 * 1024 ** 3, offerGpus: false })
  assert.deepEqual(cur.schedule, { timezone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '19:00', to: '08:00' }] })
  assert.deepEqual(cur.idleOnly, { maxLoadPerCore: 0.5, minUserIdleSeconds: 300, graceSeconds: 90 })
  assert.deepEqual(cur.thermalGuard, { stopAboveC: 85, resumeBelowC: 70 })
  assert.deepEqual(cur.acceptedQos, ['BestEffort', 'LowLatency', 'CostOptimized'])
  assert.equal(cur.maxTimeoutSeconds, 600)
  assert.equal((await f.api.invoke('policy.get', {})).history.length, versions + 1)

  // the snooze picker pauses the node: a switch, no new version
  const until = new Date(Date.now() + 2 * 3_600_000)
  const local = `${until.getFullYear()}-${String(until.getMonth() + 1).padStart(2, '0')}-${String(until.getDate()).padStart(2, '0')}T${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`
  await page.fill('[data-testid="snooze-at"]', local)
  await page.click('[data-testid="snooze"]')
  await page.locator('[data-testid="snooze-status"]', { hasText: /Paused until/ }).waitFor()
  assert.ok((f.runtime.pausedUntil ?? 0) > Date.now())
  await page.click('[data-testid="snooze-resume"]')
  await page.locator('[data-testid="snooze-status"]', { hasText: 'Not paused.' }).waitFor()
  assert.equal((await f.api.invoke('policy.get', {})).history.length, versions + 1)

  // price 0: the form says it loudly
  await page.check('[data-testid="mode-fixed"]')
  await page.fill('[data-testid="price-fixed"]', '0')
  await page.locator('[data-testid="policy-free"]:visible').waitFor()
})

test('settings: every problem named by its label while typing, with a suggestion; limits live in Policies', async () => {
  await go('settings')
  await page.fill('[data-testid="set-region"]', 'EU West')
  await page.locator('[data-testid="err-region"]', { hasText: 'did you mean "eu-west"?' }).waitFor()
  await page.fill('[data-testid="set-boot"]', '/ip4/203.0.113.7/tcp/4001')
  await page.locator('[data-testid="settings-errors"] li', { hasText: /^Bootstrap peers: / }).waitFor()
  assert.equal(await page.locator('[data-testid="settings-errors"] li').count(), 2, 'both problems at once')
  assert.equal(await page.locator('[data-testid="settings-save"]').isDisabled(), true)
  await shots('settings-errors', '#/settings')
  await page.fill('[data-testid="set-region"]', 'eu-west')
  await page.fill('[data-testid="set-boot"]', '')
  await page.locator('[data-testid="settings-errors"] li').first().waitFor({ state: 'detached' })
  assert.equal(await page.locator('[data-testid="settings-save"]').isDisabled(), false)
  assert.ok(await page.locator('a[href="#/policies"]', { hasText: 'What you offer' }).count() > 0)
})

test('not found: an unknown route says so instead of showing the overview', async () => {
  await page.goto(`${srv.origin}/#/nowhere`)
  await page.waitForSelector('html[data-ready="1"][data-page="not-found"]')
  assert.match(await text('[data-testid="not-found"]'), /Page not found/)
})

test('the node stops: the page says it is not running, controls are off, and it comes back by itself', async () => {
  await go('overview')
  await page.waitForSelector('html[data-conn="live"]')
  const d = await dark.newPage()
  await d.goto(srv.url)
  await ready('overview', d)
  await d.waitForSelector('html[data-conn="live"]')
  const port = srv.port
  await srv.close()
  await page.waitForSelector('html[data-conn="offline"]')
  await d.waitForSelector('html[data-conn="offline"]')
  await d.locator('[data-testid="offline"]').waitFor()
  await d.screenshot({ path: join(ARTIFACTS, 'seller-offline-dark.png'), fullPage: true })
  await d.close()
  await page.locator('[data-testid="offline"]', { hasText: 'The node is not running.' }).waitFor()
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'offline')
  assert.equal(await page.locator('[data-testid="health"] li[data-code="offline"]').count(), 1)
  assert.equal(await page.evaluate('document.getElementById("main").inert'), true)
  await page.screenshot({ path: join(ARTIFACTS, 'seller-offline-light.png'), fullPage: true })
  srv = await startUiServer({ api: f.api, rendererDir: RENDERER_DIR, port, token: srv.token })
  await page.waitForSelector('html[data-conn="live"]')
  await page.locator('[data-testid="offline"]').waitFor({ state: 'detached' })
  await ready('overview')
  assert.notEqual(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'offline')
})

test('no page errors', () => {
  assert.deepEqual(pageErrors, [])
})
