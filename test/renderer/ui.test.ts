/**
 * The dashboard in real headless Chromium against the real UI server, API service, SQLite store,
 * policy engine and auto-bidder (see test/main/api/fixture.ts). Waits on DOM state and app events,
 * never on sleeps. Screenshots of every page go to test-artifacts/.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startUiServer, type UiServer } from '../../src/main/ui-server/index.js'
import { formatAmount, formatTokens, reachabilityText, type ReachabilityView } from '../../src/shared/api/index.js'
import { EVALUATED_RULES } from '../../src/shared/policy/index.js'
import { createFixture, INITIAL_POLICY, type Fixture } from '../main/api/fixture.js'
import { ARTIFACTS, RENDERER_DIR, buildRenderer, launch } from './helpers.js'

let f: Fixture
let srv: UiServer
let browser: Browser
let context: BrowserContext
let page: Page
const requests: string[] = []
const cspErrors: string[] = []
const pageErrors: string[] = []

const RELAY = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
/** A node at home behind a NAT, holding one relay reservation (what the daemon adapter reports in that case). */
const BEHIND_NAT: ReachabilityView = {
  state: 'relayed',
  autonat: 'private',
  natDetected: true,
  listenAddrs: ['/ip4/10.231.1.2/tcp/4101'],
  relayAddrs: [`/ip4/198.51.100.1/tcp/4001/p2p/${RELAY}/p2p-circuit`],
  publicAddrs: [],
  observedAddrs: ['198.51.100.11:40312'],
  observedPublicAddr: '/ip4/198.51.100.11/tcp/40312',
  checks: { ok: 0, failed: 2 },
  connections: { direct: 2, relayed: 1 },
  holePunched: 0,
  changedAt: Date.now() - 60_000
}

before(async () => {
  buildRenderer()
  f = await createFixture()
  f.runtime.reachability = BEHIND_NAT
  srv = await startUiServer({ api: f.api, rendererDir: RENDERER_DIR })
  browser = await launch()
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await context.newPage()
  page.on('request', (r) => { requests.push(r.url()) })
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text()) })
  page.on('pageerror', (e) => { pageErrors.push(String(e)) })
})
after(async () => {
  await browser?.close()
  await srv?.close()
  f?.close()
})

async function ready (name: string): Promise<void> {
  await page.waitForSelector(`html[data-ready="1"][data-page="${name}"]`)
}
async function go (name: string): Promise<void> {
  await page.click(`#nav a[href="#/${name}"]`)
  await ready(name)
}
async function shot (name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `ui-${name}.png`), fullPage: true })
}
const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** Waits until the element's whole text equals `want` (or matches `want`). */
async function waitText (sel: string, want: string | RegExp): Promise<void> {
  await page.locator(sel, { hasText: typeof want === 'string' ? new RegExp(`^${esc(want)}$`) : want }).first().waitFor()
}
const text = async (sel: string): Promise<string> => (await page.locator(sel).first().textContent()) ?? ''

test('overview: status, earnings from the store, live fuel progress without reload', async () => {
  await page.goto(srv.url)
  assert.equal(new URL(page.url()).search, '', 'the token is dropped from the address bar')
  await ready('overview')
  await page.waitForSelector('html[data-conn="live"]')
  const e = await f.api.invoke('earnings.get', {})
  assert.equal(await text('[data-testid="earn-all"]'), formatTokens(e.allTime))
  assert.equal(await text('[data-testid="earn-7d"]'), formatTokens(e.last7d))
  assert.equal(await text('[data-testid="paid-jobs"]'), String(e.paidJobs))
  assert.ok(BigInt(e.allTime) > 0n)
  assert.equal(await page.locator('[data-testid="by-originator"] tbody tr').count(), e.byOriginator.length)
  assert.ok(await page.locator('[data-testid="earnings-chart"] rect.bar:not(.zero)').count() > 0)
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'running')

  // Reachability and the addresses in use: behind NAT, reachable via the relay.
  assert.equal(await page.locator('[data-testid="network"] [data-testid="reachability"]').getAttribute('data-state'), 'relayed')
  assert.equal(await text('[data-testid="network"] [data-testid="reachability-text"]'), reachabilityText('relayed'))
  assert.match(await text('[data-testid="status"]'), /via relay/)
  assert.equal(await text('[data-testid="network"] [data-testid="relay-addrs"] li .mono'), BEHIND_NAT.relayAddrs[0])
  assert.equal(await text('[data-testid="network"] [data-testid="listen-addrs"] li .mono'), '/ip4/10.231.1.2/tcp/4101')
  assert.equal(await text('[data-testid="network"] [data-testid="observed-public"]'), '/ip4/198.51.100.11/tcp/40312')
  assert.match(await text('[data-testid="network"] [data-testid="nat"]'), /^detected · reachability checks by peers \(AutoNAT\): private \(0 ok, 2 failed\)$/)
  assert.equal(await text('[data-testid="network"] [data-testid="conn-kinds"]'), '2 direct, 1 relayed')

  const fuelSel = `[data-testid="fuel-${f.runningId}"]`
  const before = await text(fuelSel)
  const job = f.store.getJob(f.runningId)
  assert.ok(job !== undefined)
  const used = job.maxFuel / 2n
  const rt = f.runtime.running[0]
  assert.ok(rt !== undefined)
  rt.fuelUsed = used
  f.events.emit('job:progress', { announcementId: f.runningId, fuelUsed: used.toString(), maxFuel: job.maxFuel.toString(), fuelFraction: 0.5, at: Date.now() })
  await waitText(fuelSel, new RegExp(`^${esc(formatAmount(used.toString()))} /`))
  assert.notEqual(await text(fuelSel), before)
  assert.equal(await page.locator('[data-testid="running-jobs"] progress').first().getAttribute('value'), '500')
  await shot('overview')

  // The job completes: the list and today's earnings update live, without a reload.
  const todayBefore = BigInt((await f.api.invoke('earnings.get', {})).today)
  const done = f.finishRunningJob(used + 1234n)
  f.events.emit('job:updated', { announcementId: f.runningId, state: 'Completed', failureReason: null, at: Date.now() })
  f.events.emit('earnings:changed', { announcementId: f.runningId, amount: done.price.toString() })
  const wantToday = formatTokens((todayBefore + done.price).toString())
  await waitText('[data-testid="earn-today"]', wantToday)
  await page.waitForSelector('[data-testid="running-jobs"]', { state: 'detached' })
  assert.ok(done.price > 0n)

  // Auto-bid toggle round trip through the API.
  await page.click('[data-testid="toggle-autobid"]')
  await waitText('[data-testid="autobid"]', 'off')
  assert.equal(f.runtime.autoBid, false)
  await page.click('[data-testid="toggle-autobid"]')
  await waitText('[data-testid="autobid"]', 'on')

  // A hole punch upgrades the relayed connection; AutoNAT later confirms a forwarded port: live, no reload.
  f.runtime.reachability = { ...BEHIND_NAT, connections: { direct: 3, relayed: 0 }, holePunched: 1 }
  f.events.emit('reachability:changed', f.runtime.reachability)
  await waitText('[data-testid="network"] [data-testid="conn-kinds"]', '3 direct, 0 relayed, 1 upgraded by hole punching')
  const pub: ReachabilityView = {
    ...BEHIND_NAT, state: 'public', autonat: 'public', relayAddrs: [], publicAddrs: ['/ip4/198.51.100.11/tcp/4101'],
    observedPublicAddr: '/ip4/198.51.100.11/tcp/4101', checks: { ok: 2, failed: 0 }, changedAt: Date.now()
  }
  f.runtime.reachability = pub
  f.events.emit('reachability:changed', pub)
  await waitText('[data-testid="network"] [data-testid="reachability-text"]', reachabilityText('public'))
  assert.equal(await text('[data-testid="network"] [data-testid="observed-public"]'), '/ip4/198.51.100.11/tcp/4101')
  assert.equal(await text('[data-testid="network"] [data-testid="relay-addrs"]'), 'not needed')
  f.runtime.reachability = BEHIND_NAT
  f.events.emit('reachability:changed', BEHIND_NAT)
  await waitText('[data-testid="network"] [data-testid="reachability-text"]', reachabilityText('relayed'))
})

test('jobs: list and job page with timeline and live log', async () => {
  await go('jobs')
  const jobs = await f.api.invoke('jobs.list', { limit: 200 })
  assert.equal(await page.locator('[data-testid="jobs-table"] tbody tr').count(), jobs.length)
  await shot('jobs')
  const id = f.completedIds[0] ?? ''
  await page.click(`[data-testid="jobs-table"] a[href="#/jobs/${id}"]`)
  await ready('jobs')
  await page.waitForSelector('[data-testid="timeline"] li')
  assert.equal(await page.locator('[data-testid="timeline"] li').count(), 5)
  assert.match(await text('[data-testid="job-state"]'), /Completed/)
  f.events.emit('job:log', { announcementId: id, stream: 'stdout', text: 'live line from the sandbox\n', at: Date.now() })
  await waitText('[data-testid="job-log"]', /live line from the sandbox/)
  await shot('job')
})

test('market: decisions with every reason, counters, and a simulator that matches the engine', async () => {
  await go('market')
  const stats = await f.api.invoke('market.stats', {})
  const price = stats.skipped.find((s) => s.rule === 'price')
  assert.ok(price !== undefined)
  assert.match(await text('[data-testid="skip-counters"]'), new RegExp(`${price.count} skipped: job pays less than our price`))
  assert.equal(await text('[data-testid="seen"]'), String(stats.total))
  const firstReasons = page.locator('[data-testid="announcements"] details').first()
  await firstReasons.locator('summary').click()
  assert.equal(await firstReasons.locator('li').count(), EVALUATED_RULES.length, 'every rule of the engine is shown')

  const draft = { ...INITIAL_POLICY, pricing: { mode: 'per_mfuel', ratePerMillionFuel: 20 } }
  await page.fill('[data-testid="sim-policy"]', JSON.stringify(draft))
  await page.fill('[data-testid="sim-n"]', '14')
  await page.click('[data-testid="sim-run"]')
  await page.waitForSelector('[data-testid="sim-would-bid"]')
  const engine = await f.engine.simulate(draft, 14)
  assert.equal(await text('[data-testid="sim-would-bid"]'), String(engine.wouldBid))
  assert.equal(await text('[data-testid="sim-earnings"]'), formatAmount(engine.impliedEarnings))
  assert.equal(await text('[data-testid="sim-considered"]'), '14')
  await shot('market')
})

test('policies: validation messages, save as new version, and the node bids by it next', async () => {
  await go('policies')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-json-box"] summary')
  await page.fill('[data-testid="policy-json"]', JSON.stringify({ ...INITIAL_POLICY, maxFuel: -5, pricing: { mode: 'auction' } }, null, 2))
  await page.waitForSelector('[data-testid="policy-errors"] li[data-path="maxFuel"]')
  assert.match(await text('[data-testid="policy-errors"]'), /Price — how you charge: must be "fixed" \(one price per job\)/)
  assert.match(await text('[data-testid="errors-maxFuel"]'), /^Most work per job: must be a whole number of 0 or more, got -5$/)
  assert.equal(await page.locator('[data-testid="policy-save"]').isDisabled(), true)
  await shot('policies-invalid')

  // Raise the rate to 40 per million fuel through the form-backed JSON editor.
  await page.fill('[data-testid="policy-json"]', JSON.stringify({ ...INITIAL_POLICY, pricing: { mode: 'per_mfuel', ratePerMillionFuel: 40 } }, null, 2))
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.fill('#policy-note', 'rate 40')
  await page.click('[data-testid="policy-save"]')
  await waitText('[data-testid="policy-saved"]', /Saved as version 2/)
  assert.equal(await text('[data-testid="policy-version"]'), 'version 2')
  await shot('policies')

  // Under v1 (10/Mfuel) a 1M-fuel job at max_price 30 would be bid at 10; under v2 our price is 40.
  const skipped = await f.announce(100, { maxPrice: 30, maxFuel: 1_000_000 })
  const a1 = f.store.getAnnouncement(skipped)
  assert.equal(a1?.decision, 'no_bid')
  assert.equal(a1?.firstFailedRule, 'price')
  assert.equal(a1?.policyVersion, 2)
  const taken = await f.announce(101, { maxPrice: 50, maxFuel: 1_000_000 })
  const a2 = f.store.getAnnouncement(taken)
  assert.equal(a2?.decision, 'bid')
  assert.equal(a2?.price, 40n)
})

test('receipts: every field, verify succeeds, a tampered block fails, export gives the raw block', async () => {
  await go('receipts')
  const rows = await f.api.invoke('receipts.list', {})
  assert.equal(await page.locator('[data-testid="receipts-table"] tbody tr').count(), rows.length)
  await shot('receipts')
  const cid = f.completedIds.length > 0 ? (f.store.receiptsForJob(f.completedIds[0] ?? '')[0]?.cid ?? '') : ''
  await page.click(`a[href="#/receipts/${cid}"]`)
  await ready('receipts')
  await page.waitForSelector('[data-testid="receipt-fields"]')
  const fields = await text('[data-testid="receipt-fields"]')
  for (const k of ['announcement_id', 'executor_did', 'wasm_cid', 'output_cid', 'fuel_used', 'resource_usage', 'signature', 'started_at', 'finished_at']) assert.ok(fields.includes(k), k)
  await page.click('[data-testid="verify"]')
  await page.waitForSelector('[data-testid="verify-ok"]')

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export"]')])
  const path = await download.path()
  const stored = f.store.getReceipt(cid)
  assert.ok(stored !== undefined)
  assert.deepEqual(new Uint8Array(readFileSync(path)), stored.bytes)
  assert.equal(download.suggestedFilename(), `${cid}.cbor`)
  await shot('receipt')

  // Tamper one byte of the fuel/status area and verify the file through the UI.
  const tampered = Buffer.from(stored.bytes)
  const i = tampered.indexOf(Buffer.from('CompletedSuccessfully'))
  assert.ok(i > 0)
  tampered[i] = 'c'.charCodeAt(0)
  await go('receipts')
  await page.setInputFiles('[data-testid="verify-file"]', { name: 'tampered.cbor', mimeType: 'application/octet-stream', buffer: tampered })
  await page.waitForSelector('[data-testid="verify-failed"]')
  assert.match(await text('[data-testid="verify-failed"]'), /^✗ (Not a valid receipt block: |BadSignature: )/)
  // files that are no receipt at all: named in words, not as the API's argument check
  const wrong: Array<[string, Buffer, RegExp]> = [
    ['empty.cbor', Buffer.alloc(0), /^✗ empty\.cbor is empty: choose a receipt block \(\.cbor\) or an earnings statement \(\.json\)\.$/],
    ['photo.png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /^✗ Not a valid receipt block: malformed CBOR/],
    ['backup.tar', Buffer.alloc(2 * 1024 * 1024, 1), /^✗ Not a valid receipt block: backup\.tar is 2 MiB, and a receipt block is a few hundred bytes$/],
    ['video.mp4', Buffer.alloc(5 * 1024 * 1024, 1), /^✗ video\.mp4 is 5 MiB, larger than any receipt block or statement checked here/]
  ]
  for (const [name, buffer, expected] of wrong) {
    await page.setInputFiles('[data-testid="verify-file"]', { name, mimeType: 'application/octet-stream', buffer })
    await page.locator('[data-testid="verify-failed"]', { hasText: expected }).waitFor()
  }
})

test('settings: identity with copy buttons, saving settings', async () => {
  await go('settings')
  assert.equal(await text('[data-testid="did"]'), f.executor.did)
  assert.equal(await text('[data-testid="peer-id"]'), f.executor.peerId)
  const net = '[data-testid="settings-network"]'
  assert.equal(await page.locator(`${net} [data-testid="reachability"]`).getAttribute('data-state'), 'relayed')
  assert.equal(await text(`${net} [data-testid="relay-addrs"] li .mono`), BEHIND_NAT.relayAddrs[0])
  assert.equal(await text(`${net} [data-testid="observed-addrs"]`), '198.51.100.11:40312')
  assert.equal(await text(`${net} [data-testid="public-addrs"]`), 'none confirmed')
  // an unreachable node says so, live
  f.runtime.reachability = { ...BEHIND_NAT, state: 'unreachable', relayAddrs: [], connections: { direct: 2, relayed: 0 } }
  f.events.emit('reachability:changed', f.runtime.reachability)
  await waitText(`${net} [data-testid="reachability-text"]`, reachabilityText('unreachable'))
  assert.equal(await text(`${net} [data-testid="relay-addrs"]`), 'no relay reservation')
  await page.locator(net).screenshot({ path: join(ARTIFACTS, 'ui-settings-unreachable.png') })
  f.runtime.reachability = BEHIND_NAT
  f.events.emit('reachability:changed', BEHIND_NAT)
  await waitText(`${net} [data-testid="reachability-text"]`, reachabilityText('relayed'))
  await page.fill('[data-testid="set-region"]', 'us-east')
  await page.check('[data-testid="set-login"]')
  await page.click('[data-testid="settings-save"]')
  await page.waitForSelector('[data-testid="settings-result"] .ok')
  const s = await f.api.invoke('settings.get', {})
  assert.equal(s.region, 'us-east')
  assert.equal(s.startAtLogin, true)
  await shot('settings')
})

test('keyboard navigation and small windows', async () => {
  await page.goto(`${srv.origin}/#/overview`)
  await page.reload()
  await ready('overview')
  await page.keyboard.press('Tab')
  assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  assert.equal(await page.evaluate('document.activeElement?.getAttribute("href")'), '#/jobs')
  await page.keyboard.press('Enter')
  await ready('jobs')

  await page.setViewportSize({ width: 360, height: 740 })
  for (const name of ['overview', 'jobs', 'market', 'policies', 'receipts', 'logs', 'settings']) {
    await page.goto(`${srv.origin}/#/${name}`)
    await ready(name)
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
    assert.ok(overflow <= 0, `${name} overflows horizontally by ${overflow}px at 360px`)
  }
  await page.goto(`${srv.origin}/#/overview`)
  await ready('overview')
  await shot('overview-narrow')
})

test('no external requests, no CSP violations, no page errors', () => {
  const foreign = requests.filter((u) => !u.startsWith(srv.origin) && !u.startsWith('blob:') && !u.startsWith('data:'))
  assert.deepEqual(foreign, [])
  assert.deepEqual(cspErrors, [])
  assert.deepEqual(pageErrors, [])
})
