import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { WebSocket } from 'ws'
import { startUiServer, TOKEN_COOKIE, type UiServer } from '../../../src/main/ui-server/index.js'
import { createFixture, type Fixture } from '../api/fixture.js'

interface Res { status: number, headers: Record<string, string | string[] | undefined>, body: string }

async function http (srv: UiServer, path: string, o: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Res> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method: o.method ?? 'GET', headers: { host: `127.0.0.1:${srv.port}`, ...o.headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(o.body)
  })
}
const post = async (srv: UiServer, method: string, body: string, headers: Record<string, string> = {}): Promise<Res> =>
  await http(srv, `/api/${method}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${srv.token}`, ...headers } })

let f: Fixture
let srv: UiServer
let dir: string
before(async () => {
  f = await createFixture()
  dir = mkdtempSync(join(tmpdir(), 'mesh-ui-static-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>')
  srv = await startUiServer({ api: f.api, rendererDir: dir })
})
after(async () => {
  await srv.close()
  f.close()
  rmSync(dir, { recursive: true, force: true })
})

test('no token or a wrong token → 401; bearer, URL token and cookie are accepted', async () => {
  assert.equal((await http(srv, '/')).status, 401)
  assert.equal((await http(srv, '/api/node.status', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 401)
  assert.equal((await post(srv, 'node.status', '{}', { authorization: 'Bearer ' + 'x'.repeat(43) })).status, 401)
  const ok = await post(srv, 'node.status', '{}')
  assert.equal(ok.status, 200)
  assert.equal(JSON.parse(ok.body).result.did, f.executor.did)

  const first = await http(srv, `/?token=${srv.token}`)
  assert.equal(first.status, 303)
  assert.equal(first.headers.location, '/')
  const cookie = String(first.headers['set-cookie'])
  assert.match(cookie, /HttpOnly/)
  assert.match(cookie, /SameSite=Strict/)
  const page = await http(srv, '/', { headers: { cookie: `${TOKEN_COOKIE}=${srv.token}` } })
  assert.equal(page.status, 200)
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/)
  assert.equal(srv.url, `http://127.0.0.1:${srv.port}/?token=${srv.token}`)
})

test('a browser without the token gets a page that says how to get in; the icon is public; unknown files get a not-found page', async () => {
  const html = { accept: 'text/html,application/xhtml+xml' }
  const page = await http(srv, '/', { headers: html })
  assert.equal(page.status, 401)
  assert.match(String(page.headers['content-type']), /text\/html/)
  assert.match(page.body, /mesh-executor dashboard --open/)
  assert.match(page.body, /--data-dir DIR/)
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/)
  // scripts and API clients still get the JSON error, with the same hint
  const api = await http(srv, '/api/node.status', { method: 'POST', body: '{}', headers: { ...html, 'content-type': 'application/json' } })
  assert.equal(api.status, 401)
  assert.match(JSON.parse(api.body).error.message, /mesh-executor dashboard/)
  // the page's icon and stylesheet load without the token (nothing else does)
  writeFileSync(join(dir, 'icon.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  writeFileSync(join(dir, 'app.css'), 'body{}')
  const ico = await http(srv, '/favicon.ico')
  assert.equal(ico.status, 200)
  assert.equal(ico.headers['content-type'], 'image/png')
  assert.equal((await http(srv, '/app.css')).status, 200)
  assert.equal((await http(srv, '/index.html')).status, 401)
  assert.equal((await http(srv, '/favicon.ico', { headers: { host: `evil.example:${srv.port}` } })).status, 403, 'the Host check still applies')
  // a file that does not exist: a page for browsers, plain text otherwise
  const auth = { authorization: `Bearer ${srv.token}` }
  const nf = await http(srv, '/missing.js', { headers: { ...auth, ...html } })
  assert.equal(nf.status, 404)
  assert.match(nf.body, /Page not found/)
  assert.equal((await http(srv, '/missing.js', { headers: auth })).body, 'not found')
})

test('wrong Host or Origin → 403 even with the token (DNS rebinding); no CORS headers', async () => {
  const h = await http(srv, '/api/node.status', { method: 'POST', body: '{}', headers: { host: `evil.example:${srv.port}`, 'content-type': 'application/json', authorization: `Bearer ${srv.token}` } })
  assert.equal(h.status, 403)
  assert.match(JSON.parse(h.body).error.message, /Host/)
  const o = await post(srv, 'node.status', '{}', { origin: 'http://evil.example' })
  assert.equal(o.status, 403)
  const s = await post(srv, 'node.status', '{}', { 'sec-fetch-site': 'cross-site' })
  assert.equal(s.status, 403)
  assert.equal((await post(srv, 'node.status', '{}', { origin: `http://localhost:${srv.port}`, host: `localhost:${srv.port}` })).status, 200)
  const pre = await http(srv, '/api/node.status', { method: 'OPTIONS', headers: { origin: `http://127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}`, 'access-control-request-method': 'POST' } })
  assert.equal(pre.status, 405)
  for (const r of [h, o, pre]) assert.equal(Object.keys(r.headers).some((k) => k.startsWith('access-control-')), false)
})

test('malformed arguments → 400 with a message', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['jobs.get', '{}', /announcementId must be a non-empty string/],
    ['jobs.get', '{"announcementId": 5}', /announcementId must be a non-empty string/],
    ['node.setAutoBid', '{"enabled":"on"}', /enabled must be true or false/],
    ['node.frobnicate', '{}', /unknown API method/],
    ['jobs.list', '{not json', /not valid JSON/],
    ['market.simulate', '{"policy":{},"lastN":-3}', /lastN must be an integer/],
    ['market.simulate', '{"policy":{"maxFuel":-1},"lastN":3}', /invalid policy: Most work per job \(maxFuel\): must be a whole number of 0 or more, got -1/],
    ['receipts.verify', '{"blockBase64":"***"}', /standard base64/]
  ]
  for (const [m, body, re] of cases) {
    const r = await post(srv, m, body)
    assert.equal(r.status, 400, `${m} ${body}: ${r.body}`)
    const j = JSON.parse(r.body)
    assert.equal(j.ok, false)
    assert.equal(j.error.code, 'BadRequest')
    assert.match(j.error.message, re)
  }
  const nf = await post(srv, 'jobs.get', '{"announcementId":"nope"}')
  assert.equal(nf.status, 404)
  assert.equal((await post(srv, 'node.status', '{}', { 'content-type': 'text/plain' })).status, 400)
  assert.equal((await http(srv, '/api/node.status', { headers: { authorization: `Bearer ${srv.token}` } })).status, 400)
  assert.equal((await http(srv, '/..%2f..%2fetc%2fpasswd.js', { headers: { authorization: `Bearer ${srv.token}` } })).status, 404)
})

test('listens on 127.0.0.1 only', async () => {
  const others = Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && !a.internal && a.family === 'IPv4').map((a) => a?.address ?? '')
  for (const addr of ['::1', ...others]) {
    const sock = connect({ host: addr, port: srv.port })
    const [err] = await once(sock, 'error').catch((e: unknown) => [e]) as [NodeJS.ErrnoException]
    assert.ok(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH', 'EAFNOSUPPORT'].includes(err.code ?? ''), `${addr}: ${err.code}`)
    sock.destroy()
  }
  await assert.rejects(startUiServer({ api: f.api, rendererDir: dir, port: srv.port }), { name: 'UiServerError', code: 'PortInUse' })
})

test('event stream: needs the token and the right Origin; delivers live events', async () => {
  const url = `ws://127.0.0.1:${srv.port}/api/events`
  const refused = async (headers: Record<string, string>): Promise<number> => {
    const ws = new WebSocket(url, { headers })
    ws.on('error', () => {})
    const [req, res] = await once(ws, 'unexpected-response') as [{ destroy: () => void }, { statusCode: number }]
    req.destroy()
    return res.statusCode
  }
  assert.equal(await refused({}), 401)
  assert.equal(await refused({ authorization: `Bearer ${srv.token}`, origin: 'http://evil.example' }), 403)

  const ws = new WebSocket(url, { headers: { cookie: `${TOKEN_COOKIE}=${srv.token}`, origin: srv.origin } })
  const messages: Array<{ type: string, payload: Record<string, unknown> }> = []
  const next = async (type: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = messages.find((m) => m.type === type)
      if (found !== undefined) return found.payload
      const [data] = await once(ws, 'message') as [Buffer]
      messages.push(JSON.parse(data.toString('utf8')))
    }
  }
  const snap = await next('status:changed')
  assert.equal(snap.did, f.executor.did)
  assert.equal(srv.connections(), 1)
  f.events.emit('job:progress', { announcementId: f.runningId, fuelUsed: '10', maxFuel: '100', fuelFraction: 0.1, at: 1 })
  const p = await next('job:progress')
  assert.equal(p.announcementId, f.runningId)
  ws.close()
  await once(ws, 'close')
})

/** Sends raw bytes and returns what the server answers before closing (or '' on reset). */
async function raw (srv: UiServer, text: string): Promise<string> {
  const sock = connect(srv.port, '127.0.0.1')
  let out = ''
  sock.on('data', (d: Buffer) => { out += d.toString() })
  sock.on('error', () => {})
  sock.write(text)
  await Promise.race([once(sock, 'close'), new Promise((r) => setTimeout(r, 3000))])
  sock.destroy()
  return out
}

test('malformed upgrade requests are answered and never take the server down', async () => {
  const upgrade = (target: string, extra = ''): string =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  assert.match(await raw(srv, upgrade('//')), /^HTTP\/1\.1 400/)
  assert.match(await raw(srv, upgrade('//evil.example/api/events')), /^HTTP\/1\.1 40[01]/)
  assert.match(await raw(srv, upgrade('/api/events?token=%zz')), /^HTTP\/1\.1 40[01]/)
  assert.match(await raw(srv, upgrade('http://[::1')), /^HTTP\/1\.1 400/)
  // a client that resets mid-handshake
  const s = connect(srv.port, '127.0.0.1')
  s.on('error', () => {})
  s.write(upgrade(`/api/events?token=${srv.token}`).slice(0, 40))
  s.resetAndDestroy()
  // still serving
  assert.equal((await post(srv, 'node.status', '{}')).status, 200)
  // a well-formed event stream still works
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/events?token=${srv.token}`)
  await once(ws, 'open')
  ws.close()
})

test('the token redirect never points off-site (//host paths)', async () => {
  const r = await http(srv, `//evil.example/x?token=${srv.token}`)
  assert.equal(r.status, 303)
  const r2 = await http(srv, `/x/..//evil.example?token=${srv.token}`)
  assert.equal(r2.status, 303)
  assert.match(String(r2.headers.location), /^\/(?!\/)/)
  assert.equal(r.status, 303)
  assert.match(String(r.headers.location), /^\/(?!\/)/, 'a same-origin path')
})
