/**
 * The desktop shell's client of the daemon's local API — the same one the browser dashboard uses:
 * `POST /api/<method>` with `Authorization: Bearer <token>`, and the `/api/events` WebSocket.
 * Plain Node (fetch + ws); no Electron, no daemon code.
 */
import WebSocket from 'ws'
import { API_EVENT_NAMES, type ApiArgs, type ApiEvent, type ApiMethod, type ApiResponse, type ApiResult } from '../../shared/api/contract.js'

/** The daemon's dashboard address, from the ready line's `ui` (`http://127.0.0.1:PORT/?token=…`). */
export interface DaemonEndpoint {
  /** `http://127.0.0.1:PORT` */
  origin: string
  port: number
  token: string
  /** The URL that logs a window in (the token becomes a cookie on first load). */
  url: string
}

export function parseUiUrl (ui: string): DaemonEndpoint {
  let u: URL
  try { u = new URL(ui) } catch { throw new Error(`the daemon's dashboard address is not a URL: ${ui}`) }
  const token = u.searchParams.get('token')
  if (u.protocol !== 'http:' || (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') || u.port === '' || token === null || !/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
    throw new Error(`the daemon's dashboard address is not a loopback URL with a token: ${ui}`)
  }
  return { origin: u.origin, port: Number(u.port), token, url: ui }
}

/** The daemon answered with an API error (`code` as in the contract: BadRequest, NotFound, …). */
export class ApiCallError extends Error {
  override name = 'ApiCallError'
  constructor (readonly code: string, message: string) { super(message) }
}

/** The daemon could not be reached (not listening, connection reset, timeout). */
export class ApiUnreachableError extends Error {
  override name = 'ApiUnreachableError'
}

export interface DaemonApiClient {
  readonly endpoint: DaemonEndpoint
  call<M extends ApiMethod>(method: M, args: ApiArgs<M>, opts?: { timeoutMs?: number }): Promise<ApiResult<M>>
}

export function createApiClient (endpoint: DaemonEndpoint, opts: { timeoutMs?: number } = {}): DaemonApiClient {
  const defaultTimeout = opts.timeoutMs ?? 15_000
  return {
    endpoint,
    async call (method, args, o = {}) {
      let res: Response
      try {
        res = await fetch(`${endpoint.origin}/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.token}` },
          body: JSON.stringify(args),
          signal: AbortSignal.timeout(o.timeoutMs ?? defaultTimeout)
        })
      } catch (err) {
        throw new ApiUnreachableError(`${method}: the daemon is not reachable at ${endpoint.origin} (${describe(err)})`)
      }
      let body: ApiResponse<unknown>
      try {
        body = await res.json() as ApiResponse<unknown>
      } catch (err) {
        throw new ApiUnreachableError(`${method}: no answer from the daemon (HTTP ${res.status}, ${describe(err)})`)
      }
      if (typeof body !== 'object' || body === null || typeof body.ok !== 'boolean') throw new ApiCallError('Internal', `${method}: malformed answer (HTTP ${res.status})`)
      if (!body.ok) throw new ApiCallError(body.error.code, body.error.message)
      return body.result as ApiResult<typeof method>
    }
  }
}

function describe (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = (err as { cause?: unknown }).cause
  return cause instanceof Error ? `${err.message}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : err.message
}

function isApiEvent (v: unknown): v is ApiEvent {
  return typeof v === 'object' && v !== null && (API_EVENT_NAMES as readonly unknown[]).includes((v as { type?: unknown }).type) && 'payload' in v
}

export interface EventStream {
  /** True while the WebSocket is open. */
  connected(): boolean
  close(): void
}

export interface EventStreamOptions {
  onEvent(event: ApiEvent): void
  onOpen?(): void
  onClose?(reason: string): void
  /** Reconnect delays: doubles from `retryMs` (default 250) up to `maxRetryMs` (default 5000). */
  retryMs?: number
  maxRetryMs?: number
}

/**
 * The daemon's live events (`GET /api/events`, WebSocket). The server sends a status:changed
 * snapshot on connect. Reconnects until closed (the supervisor closes it when the daemon exits).
 */
export function openEventStream (endpoint: DaemonEndpoint, o: EventStreamOptions): EventStream {
  const first = o.retryMs ?? 250
  const max = o.maxRetryMs ?? 5000
  let retry = first
  let ws: WebSocket | undefined
  let open = false
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const connect = (): void => {
    if (closed) return
    const sock = new WebSocket(`ws://127.0.0.1:${endpoint.port}/api/events`, { headers: { authorization: `Bearer ${endpoint.token}` }, handshakeTimeout: 10_000 })
    ws = sock
    sock.on('open', () => { open = true; retry = first; o.onOpen?.() })
    sock.on('message', (data) => {
      let e: unknown
      try { e = JSON.parse(String(data)) } catch { return }
      if (isApiEvent(e)) o.onEvent(e)
    })
    sock.on('error', () => { /* followed by 'close' */ })
    sock.on('close', (code) => {
      const was = open
      open = false
      if (closed) return
      if (was) o.onClose?.(`event stream closed (${code})`)
      timer = setTimeout(connect, retry)
      timer.unref?.()
      retry = Math.min(retry * 2, max)
    })
  }
  connect()
  return {
    connected: () => open,
    close () {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      ws?.removeAllListeners('open')
      ws?.on('error', () => {})
      ws?.terminate()
      open = false
    }
  }
}
