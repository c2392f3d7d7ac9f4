/**
 * What the preload exposes to the page through contextBridge: one tiny API, nothing else. Method
 * names and arguments are validated here (same validators as main and the HTTP server) before they
 * cross IPC, and again in main. Errors come back as plain `{ code, message }` objects so the page
 * never sees Electron's wrapped error text. Written against minimal structural types so tests can
 * pass a stub ipcRenderer.
 */
import { ApiError, API_EVENT_NAMES, validateCall, type ApiEvent, type ApiResponse } from '../../shared/api/index.js'
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js'

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

export interface MeshBridge {
  call(method: string, args: unknown): Promise<unknown>
  onEvent(listener: (event: ApiEvent) => void): () => void
}

export class BridgeError extends Error {
  override name = 'BridgeError'
  constructor (readonly code: string, message: string) { super(message) }
}

function isApiEvent (v: unknown): v is ApiEvent {
  return typeof v === 'object' && v !== null && (API_EVENT_NAMES as readonly unknown[]).includes((v as { type?: unknown }).type) && 'payload' in v
}

export function createPreloadApi (ipc: IpcRendererLike): MeshBridge {
  return Object.freeze({
    async call (method: string, args: unknown): Promise<unknown> {
      let checked
      try {
        checked = validateCall(method, args)
      } catch (err) {
        if (err instanceof ApiError) throw new BridgeError(err.code, err.message)
        throw err
      }
      const res = await ipc.invoke(CALL_CHANNEL, checked.method, checked.args) as ApiResponse<unknown>
      if (typeof res !== 'object' || res === null || typeof res.ok !== 'boolean') throw new BridgeError('Internal', 'malformed IPC response')
      if (!res.ok) throw new BridgeError(res.error.code, res.error.message)
      return res.result
    },
    onEvent (listener: (event: ApiEvent) => void): () => void {
      if (typeof listener !== 'function') throw new BridgeError('BadRequest', 'onEvent needs a function')
      const wrapped = (_e: unknown, payload: unknown): void => { if (isApiEvent(payload)) listener(payload) }
      ipc.on(EVENT_CHANNEL, wrapped)
      return () => { ipc.removeListener(EVENT_CHANNEL, wrapped) }
    }
  })
}
