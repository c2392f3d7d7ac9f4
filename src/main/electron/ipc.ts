/**
 * Main-side IPC: one invoke channel (`mesh:call`) answered by the API service, and live events sent
 * on `mesh:event` to our own windows only. Every call is checked: the sender must be one of our
 * windows' main frame showing our renderer URL; arguments are validated again (never trust the
 * preload). Written against minimal structural types so it is unit-testable with stubs.
 */
import { ApiError, type ApiEvent, type ApiResponse } from '../../shared/api/index.js'
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.js'

export interface SenderFrameLike { url: string, parent?: unknown }
export interface WebContentsLike { id: number, send(channel: string, ...args: unknown[]): void, isDestroyed(): boolean }
export interface InvokeEventLike { sender: WebContentsLike, senderFrame: SenderFrameLike | null }
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}
export interface CallableApi {
  call(method: unknown, args: unknown): Promise<unknown>
  onEvent(listener: (event: ApiEvent) => void): () => void
}

export interface IpcOptions {
  ipcMain: IpcMainLike
  api: CallableApi
  /** True when `url` is our renderer (e.g. file:///…/dist/renderer/index.html#/jobs). */
  isTrustedUrl(url: string): boolean
  /** Our windows' webContents (events go only to these; calls are only accepted from these). */
  windows(): WebContentsLike[]
  onRejected?(reason: string): void
}

export interface IpcBridge { dispose(): void }

export function registerApiIpc (o: IpcOptions): IpcBridge {
  o.ipcMain.handle(CALL_CHANNEL, async (event, method, args): Promise<ApiResponse<unknown>> => {
    const frame = event.senderFrame
    const ours = o.windows().some((w) => w.id === event.sender.id)
    const topLevel = frame !== null && (frame.parent === null || frame.parent === undefined)
    if (!ours || frame === null || !topLevel || !o.isTrustedUrl(frame.url)) {
      const reason = `IPC call from an untrusted sender (${frame?.url ?? 'no frame'})`
      o.onRejected?.(reason)
      return { ok: false, error: { code: 'Forbidden', message: reason } }
    }
    try {
      return { ok: true, result: await o.api.call(method, args) }
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: err.message } }
      return { ok: false, error: { code: 'Internal', message: err instanceof Error ? err.message : 'internal error' } }
    }
  })
  const off = o.api.onEvent((e) => {
    for (const w of o.windows()) if (!w.isDestroyed()) w.send(EVENT_CHANNEL, e)
  })
  return {
    dispose () {
      off()
      o.ipcMain.removeHandler(CALL_CHANNEL)
    }
  }
}
