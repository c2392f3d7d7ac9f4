/** What the UI server's request handlers share: the API, the renderer bundle, the token, the limits, the log and the bound port. */
import type { Logger } from '../log/index.js'
import type { ApiEvent } from '../../shared/api/index.js'

/** The API as the server uses it (an ApiService, or a test double). */
export interface UiApi {
  call(method: unknown, args: unknown): Promise<unknown>
  onEvent(listener: (event: ApiEvent) => void): () => void
}

export interface UiContext {
  api: UiApi
  /** Directory of the built renderer (index.html, app.js, app.css). */
  rendererDir: string
  token: string
  /** Max JSON body in bytes. */
  maxBodyBytes: number
  log: Logger
  /** The port the server listens on (known once it listens). */
  port(): number
}
