import type { ApiClient, ApiEvent } from '../shared/api/contract.js'

export interface PageCtx {
  api: ApiClient
  /** Route parameters after the page name, e.g. ['ann-001'] for #/jobs/ann-001. */
  params: string[]
}
export interface Page {
  title: string
  el: HTMLElement
  onEvent?(e: ApiEvent): void
  dispose?(): void
}
export type PageFactory = (ctx: PageCtx) => Promise<Page>

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
