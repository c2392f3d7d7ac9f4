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
 *
 * This file starts and stops the server; the parts: router.ts (routing), guard.ts (Host / Origin /
 * token), http.ts (security headers, JSON answers), api-handler.ts (POST /api), static-files.ts
 * (the bundle), event-stream.ts (the WebSocket), pages.ts (401 / 404 pages).
 */
import { createServer, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { noLogger, type Logger } from '../log/index.js'
import type { UiApi, UiContext } from './context.js'
import { createEventStream } from './event-stream.js'
import { createGuard } from './guard.js'
import { createRouter } from './router.js'

export type { UiApi } from './context.js'
export { TOKEN_COOKIE } from './guard.js'
export { contentSecurityPolicy } from './http.js'
export { infoPage, UNAUTHORIZED_PAGE } from './pages.js'

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

const HOST = '127.0.0.1'

/** The token to use (checked) and the port asked for (checked). */
function checkOptions (opts: UiServerOptions): { token: string, requestedPort: number } {
  const token = opts.token ?? randomBytes(32).toString('base64url')
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new UiServerError('BadToken', 'token must be 16–128 base64url characters')
  const requestedPort = opts.port ?? 0
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw new UiServerError('BadPort', `ui port must be an integer in 0..65535, got ${requestedPort}`)
  return { token, requestedPort }
}

async function listen (server: Server, requestedPort: number): Promise<number> {
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
  return (server.address() as AddressInfo).port
}

export async function startUiServer (opts: UiServerOptions): Promise<UiServer> {
  const { token, requestedPort } = checkOptions(opts)
  let port = requestedPort
  const ctx: UiContext = {
    api: opts.api,
    rendererDir: opts.rendererDir,
    token,
    maxBodyBytes: opts.maxBodyBytes ?? 4 * 1024 * 1024,
    log: (opts.log ?? noLogger).child({ sub: 'ui' }),
    port: () => port
  }
  const guard = createGuard(token, ctx.port)
  const server = createServer(createRouter(ctx, guard))
  const stream = createEventStream(ctx, guard)
  server.on('upgrade', stream.onUpgrade)

  port = await listen(server, requestedPort)
  const origin = `http://127.0.0.1:${port}`
  return {
    port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    connections: stream.connections,
    async close () {
      await stream.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
