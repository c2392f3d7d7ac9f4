/** Window hardening: secure webPreferences, navigation/window.open blocked, permissions denied, no network. */
import type { WebPreferences } from 'electron'

export function secureWebPreferences (preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
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

/** Same document ignoring the #hash route. */
export function makeTrustedUrl (indexUrl: string): (url: string) => boolean {
  const base = indexUrl.split('#')[0]
  return (url) => typeof url === 'string' && url.split('#')[0] === base
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

/** Denies every permission but clipboard writes; cancels every request that is not our local files. */
export function hardenSession (session: SessionLike, isLocal: (url: string) => boolean): void {
  session.setPermissionRequestHandler((_wc, permission, cb) => { cb(ALLOWED_PERMISSIONS.has(permission)) })
  session.setPermissionCheckHandler((_wc, permission) => ALLOWED_PERMISSIONS.has(permission))
  session.webRequest.onBeforeRequest((details, cb) => {
    cb({ cancel: !(isLocal(details.url) || details.url.startsWith('devtools://') || details.url.startsWith('blob:') || details.url.startsWith('data:')) })
  })
}
