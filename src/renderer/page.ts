import type { ApiClient, ApiEvent } from '../shared/api/contract.js'
import type { ConnState } from './client.js'

export interface PageCtx {
  api: ApiClient & { state(): ConnState }
  /** Route parameters after the page name, e.g. ['ann-001'] for #/jobs/ann-001. */
  params: string[]
}
export interface Page {
  title: string
  el: HTMLElement
  onEvent?(e: ApiEvent): void
  /** The connection to the node changed (e.g. it stopped). */
  onConn?(s: ConnState): void
  dispose?(): void
}
export type PageFactory = (ctx: PageCtx) => Promise<Page>

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
