/**
 * Window hardening: secure webPreferences (no preload: the page talks HTTP to the daemon like any
 * browser), navigation only within the daemon's dashboard origin, window.open denied, permissions
 * denied, no network but the daemon's origin.
 */
import type { WebPreferences } from 'electron'

/** The in-memory session partition of the dashboard window (no "persist:": the token cookie dies with the app). */
export const DASHBOARD_PARTITION = 'mesh-dashboard'

export function secureWebPreferences (partition: string = DASHBOARD_PARTITION): WebPreferences {
  return {
    partition,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false
  }
}

function parse (url: string): URL | undefined {
  if (typeof url !== 'string') return undefined
  try { return new URL(url) } catch { return undefined }
}

/**
 * URL checks against the daemon's current dashboard origin (`http://127.0.0.1:PORT`; it changes
 * when the daemon restarts, so it is read at every check; undefined while no daemon runs).
 * `page`: a document the window may show (that exact origin). `request`: what the page may load —
 * its own origin, its event stream (`ws://` on the same host and port), and devtools/data/blob URLs.
 */
export function makeOriginChecks (currentOrigin: () => string | undefined): { page(url: string): boolean, request(url: string): boolean } {
  const page = (url: string): boolean => {
    const origin = currentOrigin()
    const u = parse(url)
    return origin !== undefined && u !== undefined && u.protocol === 'http:' && u.origin === origin
  }
  return {
    page,
    request (url) {
      if (page(url)) return true
      const u = parse(url)
      if (u === undefined) return false
      if (u.protocol === 'devtools:' || u.protocol === 'data:' || u.protocol === 'blob:') return true
      const origin = currentOrigin()
      return origin !== undefined && u.protocol === 'ws:' && `http://${u.host}` === origin
    }
  }
}

export interface PreventableLike { preventDefault(): void }
export interface WebContentsHardenLike {
  on(event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', listener: (e: PreventableLike, url: string) => void): unknown
  on(event: 'will-attach-webview', listener: (e: PreventableLike) => void): unknown
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

export function hardenWebContents (contents: WebContentsHardenLike, isTrustedUrl: (url: string) => boolean, onBlocked?: (what: string) => void): void {
  const guard = (kind: string) => (e: PreventableLike, url: string): void => {
    if (!isTrustedUrl(url)) { e.preventDefault(); onBlocked?.(`${kind} to ${url}`) }
  }
  contents.on('will-navigate', guard('navigation'))
  contents.on('will-redirect', guard('redirect'))
  contents.on('will-frame-navigate', guard('frame navigation'))
  contents.on('will-attach-webview', (e: PreventableLike) => { e.preventDefault(); onBlocked?.('webview') })
  contents.setWindowOpenHandler(({ url }) => { onBlocked?.(`window.open ${url}`); return { action: 'deny' } })
}

export interface SessionLike {
  setPermissionRequestHandler(handler: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | null): void
  setPermissionCheckHandler(handler: ((wc: unknown, permission: string) => boolean) | null): void
  webRequest: { onBeforeRequest(listener: ((details: { url: string }, callback: (response: { cancel?: boolean }) => void) => void) | null): void }
}

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write'])

/** Denies every permission but clipboard writes; cancels every request `isAllowed` refuses. */
export function hardenSession (session: SessionLike, isAllowed: (url: string) => boolean): void {
  session.setPermissionRequestHandler((_wc, permission, cb) => { cb(ALLOWED_PERMISSIONS.has(permission)) })
  session.setPermissionCheckHandler((_wc, permission) => ALLOWED_PERMISSIONS.has(permission))
  session.webRequest.onBeforeRequest((details, cb) => { cb({ cancel: !isAllowed(details.url) }) })
}
