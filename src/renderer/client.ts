/**
 * The renderer's API client: the contract over `POST /api/<method>` and the `/api/events` WebSocket,
 * authenticated by the cookie the server set from the start URL's token (the desktop window loads the
 * same page from the daemon, so it is the same path).
 *
 * Connection state: `live` (event stream open), `connecting`, `offline` (the daemon does not answer:
 * stopped or restarting; retried with backoff) and `unauthorized` (the daemon answers but not to us —
 * the access token changed or the cookie is gone). A call that cannot reach the daemon fails with a
 * ClientError('Offline') whose message says so in plain words, never the browser's "Failed to fetch".
 */
import type { ApiArgs, ApiClient, ApiEvent, ApiMethod, ApiResult, ApiResponse } from '../shared/api/contract.js'

export class ClientError extends Error {
  override name = 'ClientError'
  constructor (readonly code: string, message: string) { super(message) }
}

export type ConnState = 'connecting' | 'live' | 'offline' | 'unauthorized'

export const OFFLINE_MESSAGE = 'The node is not answering: it has stopped or is restarting. Nothing was changed.'
export const UNAUTHORIZED_MESSAGE = 'This page lost its access to the node (its access token changed).'

export function createClient (onConn: (s: ConnState) => void): ApiClient & { state(): ConnState, reconnectNow(): void } {
  const listeners = new Set<(e: ApiEvent) => void>()
  let ws: WebSocket | undefined
  let retry = 500
  let state: ConnState = 'connecting'
  let timer: ReturnType<typeof setTimeout> | undefined
  const set = (s: ConnState): void => {
    if (s === state) return
    state = s
    onConn(s)
  }
  const connect = (): void => {
    if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    if (state !== 'offline' && state !== 'unauthorized') set('connecting')
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const socket = new WebSocket(`${proto}//${location.host}/api/events`)
    ws = socket
    socket.addEventListener('open', () => { retry = 500; set('live') })
    socket.addEventListener('message', (m) => {
      let e: ApiEvent
      try { e = JSON.parse(String(m.data)) as ApiEvent } catch { return }
      for (const l of [...listeners]) l(e)
    })
    socket.addEventListener('close', () => {
      if (ws !== socket) return
      // was it the daemon going away, or the daemon refusing us? one cheap call tells
      void probe().then((s) => {
        set(s)
        timer = setTimeout(connect, retry)
        retry = Math.min(retry * 2, 5000)
      })
    })
  }
  /** offline (no answer) or unauthorized (401) */
  const probe = async (): Promise<ConnState> => {
    try {
      const res = await fetch('/api/node.status', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', credentials: 'same-origin', cache: 'no-store' })
      return res.status === 401 ? 'unauthorized' : 'offline'
    } catch {
      return 'offline'
    }
  }
  connect()
  return {
    state: () => state,
    reconnectNow: () => { retry = 500; connect() },
    async call<M extends ApiMethod> (method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      let res: Response
      try {
        res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(args),
          credentials: 'same-origin'
        })
      } catch {
        set('offline')
        throw new ClientError('Offline', OFFLINE_MESSAGE)
      }
      let body: ApiResponse<ApiResult<M>>
      try { body = await res.json() as ApiResponse<ApiResult<M>> } catch { throw new ClientError('Internal', `The node answered with HTTP ${res.status} and no result.`) }
      if (!body.ok) {
        if (body.error.code === 'Unauthorized') { set('unauthorized'); throw new ClientError('Unauthorized', UNAUTHORIZED_MESSAGE) }
        throw new ClientError(body.error.code, body.error.message)
      }
      return body.result
    },
    onEvent (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
