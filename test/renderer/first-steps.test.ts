/**
 * A new seller's first steps, the way the README starts a node. The first price: a real daemon with no policy saved
 * (the built-in default in force), its dashboard in headless Chromium. Typing a price into the form
 * it shows ("One price per job" is selected) must give a valid policy that saves and that the node
 * then uses — not "Price — how you charge: must be "fixed"… got nothing" (the draft of a node with no
 * saved policy had no pricing, and the typed price went in without a mode).
 * Also: the draft's preview never sends the node a policy that became invalid after the edit that
 * scheduled it.
 * Then the first setting: a node started with --listen shows the listen address it was given (not the
 * interface addresses and port it resolved to), and saving a region stores only the region: it used
 * to store this run's resolved addresses too, pinning every later start to that IP and port.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startDaemon, type Daemon } from '../../src/main/daemon/index.js'
import { startDaemonUi, type DaemonUi } from '../../src/main/ui-server/daemon-ui.js'
import { RENDERER_DIR, buildRenderer, launch } from './helpers.js'

let dataDir: string
let daemon: Daemon
let ui: DaemonUi
let browser: Browser
let page: Page
const pageErrors: string[] = []

before(async () => {
  buildRenderer()
  dataDir = await mkdtemp(join(tmpdir(), 'mesh-first-policy-'))
  daemon = await startDaemon({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true })
  ui = await startDaemonUi(daemon, { port: 0, rendererDir: RENDERER_DIR })
  browser = await launch()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('pageerror', (e) => { pageErrors.push(String(e)) })
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`) })
  await page.goto(ui.url)
  await page.waitForSelector('html[data-ready="1"][data-page="overview"]')
})
after(async () => {
  await browser?.close()
  await ui?.close()
  await daemon?.stop()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

test('no policy saved: a price typed into the form is a valid fixed price, saved and used by the node', async () => {
  assert.equal(daemon.store.currentPolicy(), undefined, 'a fresh node has no saved policy')
  await page.goto(new URL('#/policies', ui.url).toString())
  await page.waitForSelector('html[data-ready="1"][data-page="policies"]')
  assert.equal(await page.isChecked('[data-testid="mode-fixed"]'), true, 'the form shows one price per job')
  await page.fill('[data-testid="price-fixed"]', '7')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  assert.match(await page.innerText('[data-testid="price-example"]'), /^7 tokens per job\./)
  // cleared, the price is missing (named as such), not the pricing mode; the price in words goes
  // (it used to keep saying "7 tokens per job")
  await page.fill('[data-testid="price-fixed"]', '')
  await page.locator('[data-testid="errors-pricing"] li', { hasText: 'Price — price per job: must be a whole number of 0 or more, got nothing' }).waitFor()
  assert.equal(await page.innerText('[data-testid="price-example"]'), '')
  // an error in another field leaves the price in words alone
  await page.fill('[data-testid="price-fixed"]', '7')
  await page.fill('[data-testid="regions"]', 'EU West')
  await page.locator('[data-testid="errors-allowedRegions"] li').waitFor()
  assert.match(await page.innerText('[data-testid="price-example"]'), /^7 tokens per job\./)
  await page.fill('[data-testid="regions"]', '')
  // a valid edit, then at once an invalid one: the preview (400 ms later) simulates the valid draft;
  // it used to send the draft as it was when its timer fired, and the node answered 400
  const simulated = page.waitForResponse((r) => r.url().endsWith('/api/market.simulate'))
  await page.fill('[data-testid="price-fixed"]', '8')
  await page.fill('[data-testid="price-fixed"]', '-8')
  assert.equal((await simulated).status(), 200)
  await page.fill('[data-testid="price-fixed"]', '7')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-save"]')
  await page.locator('[data-testid="policy-saved"]', { hasText: /Saved as version/ }).waitFor()
  const saved = daemon.store.currentPolicy()?.policy as Record<string, unknown> | undefined
  assert.deepEqual(saved?.pricing, { mode: 'fixed', price: 7 })
  await page.goto(new URL('#/overview', ui.url).toString())
  await page.waitForSelector('html[data-ready="1"][data-page="overview"]')
  await page.locator('text=7 tokens per job').first().waitFor()
  assert.deepEqual(pageErrors, [])
})

test('settings: the listen addresses as started, and saving the region stores only the region', async () => {
  await page.goto(new URL('#/settings', ui.url).toString())
  await page.waitForSelector('html[data-ready="1"][data-page="settings"]')
  assert.equal(await page.inputValue('[data-testid="set-listen"]'), '/ip4/127.0.0.1/tcp/0', 'as configured, port 0 included')
  assert.equal(await page.inputValue('[data-testid="set-boot"]'), '')
  await page.fill('[data-testid="set-region"]', 'eu-west')
  await page.click('[data-testid="settings-save"]')
  await page.locator('[data-testid="settings-result"] .ok', { hasText: 'Saved. The region takes effect when the node restarts.' }).waitFor()
  assert.equal(daemon.store.getSetting('region'), 'eu-west')
  assert.equal(daemon.store.getSetting('listenAddrs'), undefined, 'listen addresses not stored')
  assert.equal(daemon.store.getSetting('bootstrapPeers'), undefined, 'bootstrap peers not stored')
  assert.equal(daemon.store.getSetting('startAtLogin'), undefined)
  await page.click('[data-testid="settings-save"]')
  await page.locator('[data-testid="settings-result"] .ok', { hasText: 'Nothing changed.' }).waitFor()
  assert.deepEqual(pageErrors, [])
})
