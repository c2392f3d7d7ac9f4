/**
 * Local HTTP + WebSocket server for the browser UI on headless nodes (`mesh-executor start --ui-port N`).
 *
 * - Bound to 127.0.0.1 only (never 0.0.0.0 / ::).
 * - Per-start secret token (32 random bytes, base64url). The URL printed at start carries it as
 *   `?token=`; the first page load swaps it for an HttpOnly SameSite=Strict cookie and redirects to
 *   a clean URL. API clients may also send `Authorization: Bearer <token>`.
 * - DNS-rebinding defence: the Host header must be 127.0.0.1:<port> or localhost:<port>; an Origin
 *   header, when present, must be that same origin; `Sec-Fetch-Site: cross-site` is refused.
 * - No CORS: no Access-Control-* headers are ever sent, preflights get 405.
 * - API: `POST /api/<method>` with a JSON object body → `{ ok, result | error }`; the arguments go
 *   through the same shared validators as the Electron IPC path (400 with a message).
 * - Live events: `GET /api/events` upgraded to a WebSocket; every ApiEvent is sent as JSON text.
 * - Serves the renderer bundle (dist/renderer) with a strict CSP. A browser without the token gets a
 *   page that says how to get in (`mesh-executor dashboard`); the icon and the stylesheet that page
 *   uses are the only files served without the token. Unknown files get a not-found page.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join, normalize, sep, extname } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { noLogger, type Logger } from '../log/index.js'
import { ApiError, HTTP_STATUS, type ApiErrorCode, type ApiEvent } from '../../shared/api/index.js'

export interface UiApi {
  call(method: unknown, args: unknown): Promise<unknown>
  onEvent(listener: (event: ApiEvent) => void): () => void
}

export interface UiServerOptions {
  api: UiApi
  /** Directory of the built renderer (index.html, app.js, app.css). */
  rendererDir: string
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Fixed token (tests); default 32 random bytes. */
  token?: string
  /** Max JSON body (default 4 MiB; receipt blocks are ≤ 1 MiB, base64). */
  maxBodyBytes?: number
  /** Where failed API calls and refused requests are logged (default: nowhere). */
  log?: Logger
}

export interface UiServer {
  readonly port: number
  readonly origin: string
  readonly token: string
  /** The URL to open (and to print at start): `http://127.0.0.1:<port>/?token=<token>`. */
  readonly url: string
  /** Number of open event-stream sockets. */
  connections(): number
  close(): Promise<void>
}

export class UiServerError extends Error {
  override name = 'UiServerError'
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

export const TOKEN_COOKIE = 'mesh_ui_token'

/** Files any local browser may load without the token: what the "how to get in" page shows (nothing secret). */
const PUBLIC_FILES = new Set(['/favicon.ico', '/icon.png', '/app.css'])

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A small page in the dashboard's style (its stylesheet is public), for 401 and 404 answers to browsers. */
export function infoPage (title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Mesh Executor</title><link rel="icon" href="/icon.png"><link rel="stylesheet" href="/app.css"></head>
<body><header class="top"><div class="brand"><span class="dot" aria-hidden="true"></span> Mesh Executor</div></header>
<main id="main"><section class="card wide info-page" data-testid="info-page"><h1>${escapeHtml(title)}</h1>${body}</section></main></body></html>
`
}

export const UNAUTHORIZED_PAGE = infoPage('Open the dashboard with its access address', `
<p>This is the dashboard of a Mesh Executor node on this computer. It only opens with its access address, which carries a secret token, so other programs and web pages cannot use it.</p>
<p>To get the address, run this in a terminal on this computer:</p>
<pre class="command" data-testid="login-command">mesh-executor dashboard --open</pre>
<p class="hint">It prints the address (and with <code>--open</code> opens it in your browser). If the node uses another data directory, add <code>--data-dir DIR</code>. The token stays the same across restarts, so a bookmark of that address keeps working.</p>
<p class="hint">No node running? Start one with <code>mesh-executor start --ui-port 8787</code>; the address is printed when it is ready.</p>`)

const NOT_FOUND_PAGE = infoPage('Page not found', `
<p>There is no such page on this dashboard.</p>
<p><a href="/">Go to the overview</a></p>`)

/** Did a browser ask for a page (not a script, an API client or an asset)? */
const wantsHtml = (req: IncomingMessage): boolean => (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html')
const HOST = '127.0.0.1'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8'
}

export function contentSecurityPolicy (port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}

function sameToken (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

export async function startUiServer (opts: UiServerOptions): Promise<UiServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url')
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new UiServerError('BadToken', 'token must be 16–128 base64url characters')
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024
  const log = (opts.log ?? noLogger).child({ sub: 'ui' })
  const requestedPort = opts.port ?? 0
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw new UiServerError('BadPort', `ui port must be an integer in 0..65535, got ${requestedPort}`)
  let port = requestedPort
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`]
  const allowedOrigins = (): string[] => [`http://127.0.0.1:${port}`, `http://localhost:${port}`]

  /** Returns an error [status, message] or undefined when the request may proceed. */
  function guard (req: IncomingMessage, url: URL, publicFile = false): [number, string] | undefined {
    const host = req.headers.host
    if (host === undefined || !allowedHosts().includes(host.toLowerCase())) return [403, 'forbidden: unexpected Host header']
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins().includes(origin.toLowerCase())) return [403, 'forbidden: cross-origin request']
    if (req.headers['sec-fetch-site'] === 'cross-site') return [403, 'forbidden: cross-site request']
    if (publicFile) return undefined
    const auth = req.headers.authorization
    const bearer = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7).trim() : undefined
    const candidates = [url.searchParams.get('token') ?? undefined, bearer, cookieValue(req.headers.cookie, TOKEN_COOKIE)]
    if (!candidates.some((c) => c !== undefined && sameToken(c, token))) return [401, 'unauthorized: run `mesh-executor dashboard` for the address with the access token (it is also printed by `mesh-executor start`)']
    return undefined
  }

  function baseHeaders (res: ServerResponse): void {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port))
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('X-Frame-Options', 'DENY')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
    res.setHeader('Cache-Control', 'no-store')
  }

  function sendJson (res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  function sendError (res: ServerResponse, code: ApiErrorCode, message: string): void {
    sendJson(res, HTTP_STATUS[code], { ok: false, error: { code, message } })
  }

  async function readBody (req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      const b = chunk as Buffer
      size += b.length
      if (size > maxBody) throw new ApiError('BadRequest', `request body larger than ${maxBody} bytes`)
      chunks.push(b)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  async function handleApi (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      sendError(res, 'BadRequest', `use POST /api/${method} with a JSON body`)
      return
    }
    const ct = req.headers['content-type'] ?? ''
    if (!ct.toLowerCase().startsWith('application/json')) {
      sendError(res, 'BadRequest', 'Content-Type must be application/json')
      return
    }
    try {
      const text = await readBody(req)
      let args: unknown
      try {
        args = text.trim().length === 0 ? {} : JSON.parse(text)
      } catch {
        throw new ApiError('BadRequest', 'request body is not valid JSON')
      }
      const result = await opts.api.call(method, args)
      sendJson(res, 200, { ok: true, result })
    } catch (err) {
      if (err instanceof ApiError) sendError(res, err.code, err.message)
      else {
        log.error({ err, method }, 'API call failed')
        sendError(res, 'Internal', err instanceof Error ? err.message : 'internal error')
      }
    }
  }

  async function handleStatic (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('method not allowed')
      return
    }
    if (url.searchParams.has('token')) {
      // Swap the URL token for a cookie and drop it from the address bar and history.
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
      url.searchParams.delete('token')
      res.writeHead(303, { Location: '/' + url.pathname.replace(/^\/+/, '') + (url.search.length > 1 ? url.search : '') + url.hash })
      res.end()
      return
    }
    let rel: string
    try { rel = decodeURIComponent(url.pathname) } catch { rel = '/invalid.none' }
    if (rel.includes('..') || rel.includes('\0')) rel = '/invalid.none'
    if (rel === '/' || !extname(rel)) rel = '/index.html' // client-side routes use #hash, but be lenient
    if (rel === '/favicon.ico') rel = '/icon.png'
    const file = normalize(join(opts.rendererDir, rel))
    const type = MIME[extname(file)]
    const notFound = (text: string): void => {
      if (wantsHtml(req)) {
        res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' })
        res.end(req.method === 'HEAD' ? undefined : NOT_FOUND_PAGE)
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
        res.end(text)
      }
    }
    if (!file.startsWith(normalize(opts.rendererDir) + sep) || type === undefined) {
      notFound('not found')
      return
    }
    let body: Buffer
    try {
      body = await readFile(file)
    } catch {
      notFound(rel === '/index.html' ? 'renderer bundle not built: run `node scripts/build-renderer.mjs`' : 'not found')
      return
    }
    // the icon and the stylesheet may be cached (they carry no state); everything else is no-store
    if (PUBLIC_FILES.has(url.pathname)) res.setHeader('Cache-Control', 'max-age=3600')
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const server = createServer((req, res) => {
    baseHeaders(res)
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1')
    } catch {
      sendError(res, 'BadRequest', 'bad request URL')
      return
    }
    const denied = guard(req, url, req.method === 'GET' || req.method === 'HEAD' ? PUBLIC_FILES.has(url.pathname) : false)
    if (denied !== undefined) {
      if (denied[0] === 401 && wantsHtml(req) && !url.pathname.startsWith('/api/')) {
        // a person in a browser: say how to get in, not a JSON error
        res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' })
        res.end(req.method === 'HEAD' ? undefined : UNAUTHORIZED_PAGE)
        return
      }
      sendError(res, denied[0] === 401 ? 'Unauthorized' : 'Forbidden', denied[1])
      return
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(405, { Allow: 'GET, HEAD, POST' })
      res.end()
      return
    }
    const task = url.pathname.startsWith('/api/')
      ? handleApi(req, res, url.pathname.slice('/api/'.length))
      : handleStatic(req, res, url)
    task.catch((err: unknown) => {
      log.error({ err, path: url.pathname }, 'request failed')
      if (!res.headersSent) sendError(res, 'Internal', err instanceof Error ? err.message : 'internal error')
      else res.destroy()
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  const sockets = new Set<WebSocket>()
  const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }
  const refuseUpgrade = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}`)
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // a client that resets mid-handshake must not surface as an unhandled 'error' (it would kill the daemon)
    socket.on('error', () => { socket.destroy() })
    try {
      upgrade(req, socket, head)
    } catch {
      // any request, however malformed, gets an answer and never reaches the process's top level
      if (!socket.destroyed) refuseUpgrade(socket, 400, 'bad request')
    }
  })
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1')
    } catch {
      refuseUpgrade(socket, 400, 'bad request URL')
      return
    }
    const denied = url.pathname === '/api/events' ? guard(req, url) : [404, 'not found'] as [number, string]
    if (denied !== undefined) {
      refuseUpgrade(socket, denied[0], denied[1])
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      const off = opts.api.onEvent((event) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event))
      })
      ws.on('message', () => { /* the event stream is one-way; commands go through POST /api */ })
      ws.on('close', () => { off(); sockets.delete(ws) })
      ws.on('error', () => { off(); sockets.delete(ws) })
      // Initial snapshot so clients know the stream is live.
      opts.api.call('node.status', {}).then((status) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'status:changed', payload: status }))
      }, (err: unknown) => { log.debug({ err }, 'no initial status for an event stream (the client will ask)') })
    })
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new UiServerError(err.code === 'EADDRINUSE' ? 'PortInUse' : 'ListenFailed',
        err.code === 'EADDRINUSE' ? `ui port ${requestedPort} on 127.0.0.1 is already in use` : `ui server cannot listen: ${err.message}`))
    }
    server.once('error', onError)
    server.listen(requestedPort, HOST, () => {
      server.off('error', onError)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const origin = `http://127.0.0.1:${port}`

  return {
    port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    connections: () => sockets.size,
    async close () {
      for (const ws of sockets) ws.terminate()
      sockets.clear()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
