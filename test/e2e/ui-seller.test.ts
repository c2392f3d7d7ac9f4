/**
 * A new seller's node, end to end: the real daemon PROCESS (`mesh-executor start --ui-port P`) watched
 * in headless Chromium, with a competing executor process and a real originator on 127.0.0.1.
 * Each state the Overview must explain is produced for real: a dead bootstrap peer, connected and
 * ready, paused (and resumed: no policy version), on battery (node.setMachineState), too hot (a
 * sensor file the probe reads) and cooled again, outside the schedule; then bids won and lost (the
 * cheaper executor ran it), a price above what buyers pay, the market rate from the other executor's
 * signed receipt, the period export and a signed statement checked by `mesh-executor receipt verify`,
 * the Logs page over the daemon's own log, the 401 page and favicon, and the daemon stopping and
 * coming back. Screenshots in light and dark go to test-artifacts/e2e-seller-*.png.
 * Waits on app state and events, never on sleeps.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { generateIdentity } from '../../src/shared/protocol/index.js'
import { createMeshNode, JOBS_ANNOUNCE_TOPIC, type MeshNode } from '../../src/main/mesh/index.js'
import { AccessBlockStore, createOriginator, NoBidsError, type Originator } from '../../src/main/originator/index.js'
import type { ApiArgs, ApiMethod, ApiResult } from '../../src/shared/api/index.js'
import { ARTIFACTS, buildRenderer, launch } from '../renderer/helpers.js'

const BIN = fileURLToPath(new URL('../../bin/mesh-executor.js', import.meta.url))
const JOBS = new URL('../../assets/jobs/', import.meta.url)
const DEAD = `/ip4/127.0.0.1/tcp/9/p2p/${generateIdentity().peerId}`

interface Daemon { child: ChildProcess, exited: Promise<number | null>, ready: Record<string, unknown> }

let dir: string
let thermal: string
let uiPort: number
let seller: Daemon
let rival: Daemon
let node: MeshNode
let originator: Originator
let browser: Browser
let light: BrowserContext
let dark: BrowserContext
let page: Page
let url: string

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => { resolve(p) }) })
  })
}

async function startDaemon (args: string[], env: Record<string, string> = {}): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', '--lan', '--no-nat', '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let e: Record<string, unknown>
      try { e = JSON.parse(line) as Record<string, unknown> } catch { return }
      if (e.event === 'ready') resolve(e)
    })
    void exited.then((code) => { reject(new Error(`daemon exited ${String(code)} before ready`)) })
  })
  return { child, exited, ready }
}
const startSeller = async (): Promise<Daemon> => await startDaemon(['--data-dir', join(dir, 'seller'), '--policy', join(dir, 'seller.json'), '--ui-port', String(uiPort), '--region', 'eu-west', '--bootstrap', DEAD], { MESH_EXECUTOR_THERMAL_FILE: thermal })

async function stop (d: Daemon | undefined): Promise<void> {
  if (d === undefined || d.child.exitCode !== null) return
  d.child.kill('SIGTERM')
  await d.exited
}

/** The seller's API, as a script would call it (Bearer token from the printed URL). */
async function call<M extends ApiMethod> (method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
  const u = new URL(url)
  const res = await fetch(`${u.origin}/api/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${u.searchParams.get('token') ?? ''}` }, body: JSON.stringify(args) })
  const body = await res.json() as { ok: boolean, result: ApiResult<M>, error?: { message: string } }
  if (!body.ok) throw new Error(body.error?.message)
  return body.result
}

async function until (what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

before(async () => {
  buildRenderer()
  dir = await mkdtemp(join(tmpdir(), 'mesh-seller-'))
  thermal = join(dir, 'cpu-temp')
  await writeFile(thermal, '45000\n')
  uiPort = await freePort()
  await writeFile(join(dir, 'seller.json'), JSON.stringify({ pricing: { mode: 'fixed', price: 8 }, maxConcurrentJobs: 2, bidMarginMs: 0 }))
  await writeFile(join(dir, 'rival.json'), JSON.stringify({ pricing: { mode: 'fixed', price: 3 }, maxConcurrentJobs: 2, stopOnBattery: false, bidMarginMs: 0 }))
  seller = await startSeller()
  url = String(seller.ready.ui)
  browser = await launch()
  light = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, colorScheme: 'light' })
  dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' })
  page = await light.newPage()
})

after(async () => {
  await browser?.close()
  originator?.close()
  await node?.stop()
  await stop(seller)
  await stop(rival)
  await rm(dir, { recursive: true, force: true })
})

async function ready (name: string, p: Page = page): Promise<void> {
  await p.waitForSelector(`html[data-ready="1"][data-page="${name}"]`)
}
async function go (name: string): Promise<void> {
  await page.click(`#nav a[href="#/${name}"]`)
  await ready(name)
}
async function shots (name: string, hash: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `e2e-seller-${name}-light.png`), fullPage: true })
  const d = await dark.newPage()
  await d.goto(url)
  await ready('overview', d)
  if (hash !== '#/overview') { await d.goto(`${new URL(url).origin}/${hash}`); await ready(hash.slice(2).split('/')[0] ?? 'overview', d) }
  await d.screenshot({ path: join(ARTIFACTS, `e2e-seller-${name}-dark.png`), fullPage: true })
  await d.close()
}
const reason = (code: string): ReturnType<Page['locator']> => page.locator(`[data-testid="health"] li[data-code="${code}"]`)

test('without the token: a page that says how to get in; the favicon is there', async () => {
  const origin = new URL(url).origin
  const fresh = await browser.newContext()
  const p = await fresh.newPage()
  const res = await p.goto(`${origin}/`)
  assert.equal(res?.status(), 401)
  assert.match(await p.locator('[data-testid="login-command"]').textContent() ?? '', /mesh-executor dashboard --open/)
  await p.screenshot({ path: join(ARTIFACTS, 'e2e-seller-401.png') })
  const ico = await p.request.get(`${origin}/favicon.ico`)
  assert.equal(ico.status(), 200)
  assert.equal(ico.headers()['content-type'], 'image/png')
  await fresh.close()
  // and the CLI prints the address that gets in
  const printed = spawnSync(process.execPath, [BIN, 'dashboard', '--data-dir', join(dir, 'seller')], { encoding: 'utf8' })
  assert.equal(printed.stdout.trim(), url)
})

test('a new node whose bootstrap peer is dead says so, with the fix; what it offers and at what price', async () => {
  await page.goto(url)
  await ready('overview')
  await reason('bootstrap_unreachable').waitFor()
  assert.match(await reason('bootstrap_unreachable').textContent() ?? '', new RegExp(`${DEAD.replace(/[/.]/g, '\\$&')}`))
  assert.equal(await page.locator('[data-testid="health"]').getAttribute('data-can-bid'), '0')
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'idle', 'not a green "bidding"')
  assert.equal(await page.locator('[data-testid="peers"]').textContent(), 'not connected to any peer')
  assert.match(await page.locator('[data-testid="offer-cpu"]').textContent() ?? '', new RegExp(`of ${cpus().length} core`))
  assert.match(await page.locator('[data-testid="offer-price"]').textContent() ?? '', /^8 tokens per job/)
  assert.equal(await page.locator('[data-testid="offer-temp"]').textContent(), '45 °C')
  await shots('dead-bootstrap', '#/overview')
})

test('connected: ready for work; pause and resume are switches, not policy versions', async () => {
  rival = await startDaemon(['--data-dir', join(dir, 'rival'), '--policy', join(dir, 'rival.json')])
  const id = generateIdentity()
  const blocks = new AccessBlockStore()
  node = await createMeshNode({ identity: id, listen: ['/ip4/127.0.0.1/tcp/0'], lan: true, nat: false, blockStore: blocks, heartbeatMs: 200 })
  await node.start()
  originator = createOriginator({ node, identity: id, blocks })
  for (const d of [seller, rival]) await node.dial((d.ready.multiaddrs as string[])[0] as string)
  await until('both executors on the announce topic', () => [seller, rival].every((d) => node.topicPeers(JOBS_ANNOUNCE_TOPIC).includes(String(d.ready.peerId))))
  await page.locator('[data-testid="node-state"][data-state="bidding"]').waitFor()
  assert.equal(await page.locator('[data-testid="health"]').getAttribute('data-can-bid'), '1')
  assert.equal(await reason('bootstrap_unreachable').count(), 0)

  const versions = (await call('policy.get', {})).history.length
  await page.click('[data-testid="pause-1h"]')
  await reason('paused').waitFor()
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'paused')
  await page.click('[data-testid="fix-paused"]')
  await reason('paused').waitFor({ state: 'detached' })
  await page.click('[data-testid="toggle-autobid"]')
  await reason('autobid_off').waitFor()
  await page.click('[data-testid="fix-autobid_off"]')
  await reason('autobid_off').waitFor({ state: 'detached' })
  assert.equal((await call('policy.get', {})).history.length, versions, 'no policy version for switches')
})

test('on battery, too hot (and cooled down), outside the schedule: each named with its fix', async () => {
  // the desktop shell reports the battery through the API
  await call('node.setMachineState', { userIdleSeconds: null, onBattery: true })
  await reason('on_battery').waitFor()
  await call('node.setMachineState', { userIdleSeconds: null, onBattery: false })
  await reason('on_battery').waitFor({ state: 'detached' })

  // the thermal guard, switched on in the Policies form
  await go('policies')
  await page.check('[data-testid="thermal-on"]')
  await page.fill('[data-testid="thermal-stop"]', '80')
  await page.fill('[data-testid="thermal-resume"]', '70')
  await page.waitForSelector('[data-testid="policy-errors"] .ok')
  await page.click('[data-testid="policy-save"]')
  await page.locator('[data-testid="policy-saved"]', { hasText: /Saved as version/ }).waitFor()
  await go('overview')
  await writeFile(thermal, '91000\n')
  await reason('too_hot').waitFor()
  assert.match(await reason('too_hot').textContent() ?? '', /CPU too hot \(91 °C\).*resumes below 70 °C/)
  await shots('too-hot', '#/overview')
  await writeFile(thermal, '74000\n')
  await page.locator('[data-testid="offer-temp"]', { hasText: '74 °C' }).waitFor()
  assert.equal(await reason('too_hot').count(), 1, 'between the limits the guard still holds')
  await writeFile(thermal, '60000\n')
  await reason('too_hot').waitFor({ state: 'detached' })

  // working hours that exclude now
  const cur = (await call('policy.get', {})).current?.policy ?? {}
  const h = new Date().getUTCHours()
  const at = (x: number): string => `${String((h + x) % 24).padStart(2, '0')}:00`
  await call('policy.save', { policy: { ...cur, schedule: { timezone: 'UTC', windows: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: at(2), to: at(3) }] } }, note: 'e2e: outside' })
  await reason('outside_schedule').waitFor()
  await call('policy.save', { policy: cur, note: 'e2e: always' })
  await reason('outside_schedule').waitFor({ state: 'detached' })
})

test('bids won and lost, a price above what buyers pay, and the market rate from the other executor\'s signed receipt', async () => {
  const module = new Uint8Array(await readFile(new URL('wordcount.wasm', JOBS)))
  const input = new TextEncoder().encode('the quick brown fox jumps over the lazy dog\n'.repeat(50))
  // both bid; the buyer weighs only the price: the rival (3 tokens) runs it, our bid (8) loses
  const lost = await originator.submit({ module, input, maxFuel: 1_000_000_000, timeoutSeconds: 20, biddingWindowMs: 1500, maxPrice: 20, priceWeight: 1000, repWeight: 0, description: 'word count for the rival' })
  // only we serve eu-west: we win
  const won = await originator.submit({ module, input, maxFuel: 1_000_000_000, timeoutSeconds: 20, biddingWindowMs: 1500, maxPrice: 20, region: 'eu-west', description: 'word count, eu-west' })
  // two jobs that pay less than our 8 tokens
  for (let i = 0; i < 2; i++) {
    await assert.rejects(originator.submit({ module, input, maxFuel: 1_000_000_000, timeoutSeconds: 20, biddingWindowMs: 800, maxPrice: 5, region: 'eu-west', description: `cheap job ${i}` }), (e: unknown) => e instanceof NoBidsError)
  }
  await go('overview')
  await reason('price_above_buyers').waitFor()
  assert.match(await reason('price_above_buyers').textContent() ?? '', /2 of the last 4 jobs offered less than your price \(you ask 8 tokens, the best offered 5 tokens\)/)

  await go('market')
  const row = (id: string): ReturnType<Page['locator']> => page.locator('[data-testid="announcements"] tr', { hasText: id })
  await row(won.announcementId).locator('[data-outcome="won"]').waitFor()
  // lost as soon as the rival's receipt announcement is heard
  await until('the lost bid', async () => {
    await page.reload()
    await ready('market')
    return await row(lost.announcementId).locator('[data-outcome="lost"]').count() === 1
  })
  assert.match(await row(lost.announcementId).textContent() ?? '', /lost: another executor ran it/)
  assert.match(await row(won.announcementId).textContent() ?? '', /word count, eu-west/)
  // the rival's receipt, fetched and verified, is the market rate
  await until('a market sample', async () => (await call('market.rate', {})).samples >= 1, 30_000)
  await page.reload()
  await ready('market')
  await page.locator('[data-testid="rate-samples"]', { hasText: '1' }).waitFor()
  await shots('market', '#/market')
})

test('exports from the real node: CSV rows with receipt CIDs, and a signed statement `mesh-executor receipt verify` accepts', async () => {
  await go('receipts')
  const save = async (testid: string): Promise<{ name: string, body: string }> => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testid}"]`)])
    return { name: d.suggestedFilename(), body: await readFile(await d.path(), 'utf8') }
  }
  const csv = await save('exp-earnings-csv')
  const lines = csv.body.trim().split('\r\n')
  assert.equal(lines.length, 2, csv.body)
  assert.match(lines[1] ?? '', /,word count\\, eu-west,|,"word count, eu-west",/)
  assert.match(lines[1] ?? '', /,8,tokens,\d+,bafy[a-z2-7]+$/)
  const st = await save('exp-statement')
  const path = join(dir, st.name)
  await writeFile(path, st.body)
  const v = spawnSync(process.execPath, [BIN, 'receipt', 'verify', path], { encoding: 'utf8' })
  assert.equal(v.status, 0, v.stdout + v.stderr)
  assert.match(v.stdout, /earnings statement VALID/)
  assert.match(v.stdout, /total {14}8 tokens/)
})

test('the Logs page reads the daemon\'s own log: the bootstrap failure, by level and part of the node', async () => {
  await go('logs')
  await page.selectOption('[data-testid="log-level"]', 'warn')
  await page.check('[data-testid="log-sub-mesh"]')
  await page.locator('[data-testid="log-lines"] li.logline', { hasText: 'bootstrap peer unreachable' }).first().waitFor()
  assert.ok(await page.locator('[data-testid="log-lines"] li.logline').evaluateAll((els) => els.every((e) => e.getAttribute('data-sub') === 'mesh' && ['warn', 'error', 'fatal'].includes(e.getAttribute('data-level') ?? ''))))
  await shots('logs', '#/logs')
})

test('the daemon stops: every page says the node is not running; started again, the page comes back by itself', async () => {
  await go('overview')
  await stop(seller)
  await page.waitForSelector('html[data-conn="offline"]')
  await page.locator('[data-testid="offline"]').waitFor()
  assert.equal(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'offline')
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-seller-offline-light.png'), fullPage: true })
  seller = await startSeller()
  await page.waitForSelector('html[data-conn="live"]')
  await page.locator('[data-testid="offline"]').waitFor({ state: 'detached' })
  await ready('overview')
  assert.notEqual(await page.locator('[data-testid="node-state"]').getAttribute('data-state'), 'offline')
})
