/** Tray: icon per node state and the menu of a running node (pure builders; shell-view.ts adds the daemon's own states, app.ts wires them to Electron). */
import type { MenuItemConstructorOptions } from 'electron'
import type { NodeState, NodeStatus } from '../../shared/api/index.js'

export interface TrayActions {
  setAutoBid(enabled: boolean): void
  pauseUntil(untilMs: number): void
  resume(): void
  openDashboard(): void
  quitDraining(): void
}

export const HOUR_MS = 3_600_000

/** 08:00 local time tomorrow. */
export function tomorrowMorning (now: number): number {
  const d = new Date(now)
  d.setDate(d.getDate() + 1)
  d.setHours(8, 0, 0, 0)
  return d.getTime()
}

export function trayIconFile (state: NodeState): string {
  return `tray-${state}.png`
}

const STATE_TEXT: Record<NodeState, string> = {
  idle: 'idle (not bidding)',
  bidding: 'bidding on jobs',
  running: 'running jobs',
  paused: 'paused',
  error: 'error'
}

export function trayTooltip (s: NodeStatus): string {
  const parts = [`Mesh Executor — ${STATE_TEXT[s.state]}`]
  if (s.running.length > 0) parts.push(`${s.running.length} job${s.running.length === 1 ? '' : 's'} running`)
  if (s.pausedUntil !== null) parts.push(`paused until ${new Date(s.pausedUntil).toLocaleString()}`)
  if (s.error !== null) parts.push(s.error)
  if (s.draining) parts.push('draining before quit')
  return parts.join(' · ')
}

export function trayMenuTemplate (s: NodeStatus, actions: TrayActions, now: number): MenuItemConstructorOptions[] {
  const paused = s.pausedUntil !== null && s.pausedUntil > now
  return [
    { label: trayTooltip(s), enabled: false },
    { type: 'separator' },
    { id: 'autobid', label: 'Auto-bid', type: 'checkbox', checked: s.autoBid, enabled: !s.draining, click: () => { actions.setAutoBid(!s.autoBid) } },
    { id: 'pause-1h', label: 'Pause for 1 hour', enabled: !s.draining, click: () => { actions.pauseUntil(now + HOUR_MS) } },
    { id: 'pause-tomorrow', label: 'Pause until tomorrow', enabled: !s.draining, click: () => { actions.pauseUntil(tomorrowMorning(now)) } },
    { id: 'resume', label: 'Resume', enabled: paused && !s.draining, click: () => { actions.resume() } },
    { type: 'separator' },
    { id: 'open', label: 'Open dashboard', click: () => { actions.openDashboard() } },
    { type: 'separator' },
    {
      id: 'quit',
      label: s.running.length > 0 ? `Quit (finish ${s.running.length} running job${s.running.length === 1 ? '' : 's'} first)` : 'Quit',
      enabled: !s.draining,
      click: () => { actions.quitDraining() }
    }
  ]
}
