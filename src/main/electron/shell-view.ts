/**
 * What the shell shows, from the supervisor's state and the daemon's last NodeStatus (pure; app.ts
 * puts it on the Electron tray and window): the tray icon, tooltip and menu, and the window's page
 * while the daemon is not serving one (starting, crashed, cannot start, stopping).
 */
import type { MenuItemConstructorOptions } from 'electron'
import type { NodeStatus } from '../../shared/api/index.js'
import type { SupervisorState } from './daemon-process.js'
import { trayIconFile, trayMenuTemplate, trayTooltip, type TrayActions } from './tray.js'

export interface ShellActions extends TrayActions {
  /** Restart the daemon now (after a crash or a start failure). */
  restartNode(): void
}

export interface TrayView { icon: string, tooltip: string, menu: MenuItemConstructorOptions[] }

export interface ShellInput {
  daemon: SupervisorState
  /** The last status the running daemon reported (undefined before the first one). */
  status: NodeStatus | undefined
  /** The app is quitting (draining the daemon). */
  quitting: boolean
}

/** The daemon's own situation when it cannot report a status, in one line; undefined when it is running. */
export function daemonProblem (d: SupervisorState, now: number): string | undefined {
  switch (d.phase) {
    case 'crashed': return `the node stopped: ${d.reason}; restarting in ${Math.max(0, Math.ceil((d.restartAt - now) / 1000))} s`
    case 'failed': return `the node cannot start: ${d.reason}`
    default: return undefined
  }
}

export function trayView (input: ShellInput, actions: ShellActions, now: number): TrayView {
  const { daemon: d, status } = input
  const tail = (label: string, extra: MenuItemConstructorOptions[] = []): MenuItemConstructorOptions[] => [
    { label, enabled: false },
    { type: 'separator' },
    ...extra,
    { id: 'open', label: 'Open dashboard', click: () => { actions.openDashboard() } },
    { type: 'separator' },
    { id: 'quit', label: 'Quit', enabled: !input.quitting, click: () => { actions.quitDraining() } }
  ]
  if (input.quitting) {
    const text = status !== undefined && d.phase !== 'crashed' && d.phase !== 'failed'
      ? trayTooltip({ ...status, draining: true })
      : 'Mesh Executor — quitting'
    return { icon: trayIconFile(status?.state ?? 'idle'), tooltip: text, menu: tail(text) }
  }
  if (d.phase === 'running' && status !== undefined) {
    return { icon: trayIconFile(status.state), tooltip: trayTooltip(status), menu: trayMenuTemplate(status, actions, now) }
  }
  const problem = daemonProblem(d, now)
  if (problem !== undefined) {
    const text = `Mesh Executor — ${problem}`
    const restart: MenuItemConstructorOptions = { id: 'restart', label: d.phase === 'failed' ? 'Try again' : 'Restart now', click: () => { actions.restartNode() } }
    return { icon: trayIconFile('error'), tooltip: text, menu: tail(text, [restart, { type: 'separator' }]) }
  }
  const text = d.phase === 'stopping' || d.phase === 'stopped' ? 'Mesh Executor — stopping the node' : 'Mesh Executor — starting the node…'
  return { icon: trayIconFile('idle'), tooltip: text, menu: tail(text) }
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

/** A static page (no script) for the window while the daemon serves none. */
export function statusPageUrl (title: string, detail: string): string {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Mesh Executor</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#0f1115;color:#e6e6e6}
main{max-width:40em;padding:2em}h1{font-size:1.3em}p{color:#b8b8b8;white-space:pre-wrap;word-break:break-word}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main></body></html>`
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`
}

/** The window's page for a daemon that is not serving the dashboard. */
export function daemonStatusPage (d: SupervisorState, now: number): string {
  switch (d.phase) {
    case 'crashed': return statusPageUrl('The node stopped unexpectedly', `${d.reason}\n\nRestarting in ${Math.max(0, Math.ceil((d.restartAt - now) / 1000))} s (attempt ${d.attempt}). The dashboard comes back by itself.`)
    case 'failed': return statusPageUrl('The node cannot start', `${d.reason}\n\nFix the problem, then choose “Try again” in the tray menu.`)
    case 'stopping': case 'stopped': return statusPageUrl('Stopping the node', 'Running jobs are finishing; the app quits when they are done.')
    default: return statusPageUrl('Starting the node…', 'The dashboard opens as soon as the node is up.')
  }
}
