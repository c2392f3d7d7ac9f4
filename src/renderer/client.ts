/**
 * The renderer's API client. In Electron the preload exposes `window.meshApi` (IPC); in a browser
 * (headless node) the same contract goes over `POST /api/<method>` and the `/api/events` WebSocket,
 * authenticated by the cookie the server set from the start URL's token.
 */
import type { ApiArgs, ApiClient, ApiEvent, ApiMethod, ApiResult, ApiResponse } from '../shared/api/contract.js'

export interface BridgeApi {
  call(method: string, args: unknown): Promise<unknown>
  onEvent(listener: (event: unknown) => void): () => void
}

declare global {
  interface Window { meshApi?: BridgeApi }
}

export class ClientError extends Error {
  override name = 'ClientError'
  constructor (readonly code: string, message: string) { super(message) }
}

export type ConnState = 'connecting' | 'live' | 'offline'

export function createClient (onConn: (s: ConnState) => void): ApiClient {
  const bridge = window.meshApi
  if (bridge !== undefined) {
    onConn('live')
    return {
      call: async <M extends ApiMethod>(method: M, args: ApiArgs<M>) => await bridge.call(method, args) as ApiResult<M>,
      onEvent: (listener) => bridge.onEvent((e) => { listener(e as ApiEvent) })
    }
  }
  return httpClient(onConn)
}

function httpClient (onConn: (s: ConnState) => void): ApiClient {
  const listeners = new Set<(e: ApiEvent) => void>()
  let ws: WebSocket | undefined
  let retry = 500
  const connect = (): void => {
    onConn('connecting')
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    ws = new WebSocket(`${proto}//${location.host}/api/events`)
    ws.addEventListener('open', () => { retry = 500; onConn('live') })
    ws.addEventListener('message', (m) => {
      let e: ApiEvent
      try { e = JSON.parse(String(m.data)) as ApiEvent } catch { return }
      for (const l of [...listeners]) l(e)
    })
    ws.addEventListener('close', () => {
      onConn('offline')
      setTimeout(connect, retry)
      retry = Math.min(retry * 2, 10_000)
    })
  }
  connect()
  return {
    async call<M extends ApiMethod> (method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      const res = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
        credentials: 'same-origin'
      })
      let body: ApiResponse<ApiResult<M>>
      try { body = await res.json() as ApiResponse<ApiResult<M>> } catch { throw new ClientError('Internal', `HTTP ${res.status}`) }
      if (!body.ok) throw new ClientError(body.error.code, body.error.message)
      return body.result
    },
    onEvent (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
