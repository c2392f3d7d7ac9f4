/**
 * The shell's bridge between the operating system and the running daemon (app.ts wires it):
 * powerMonitor's idle time and battery state → node.setMachineState, and the daemon's
 * start-at-login / start-minimized settings → the OS login item (checked every 30 s; on Linux an XDG
 * autostart entry, login-item.ts).
 */
import type { ElectronModules } from './app.js'
import type { DaemonSupervisor } from './daemon-process.js'
import { watchPower, type PowerState } from './power.js'
import { applyLoginItem, type LoginItemTarget } from './login-item.js'

const LOGIN_ITEM_SYNC_MS = 30_000

export interface SystemSync {
  /** Sends the last power state to the running daemon. */
  pushPower(): Promise<void>
  /** Applies the running daemon's login settings to the login item when they changed. */
  syncLoginItem(): Promise<void>
  /** Starts watching the power state and the login settings. */
  start(): void
  stop(): void
}

export function createSystemSync (e: Pick<ElectronModules, 'app' | 'powerMonitor'>, sup: DaemonSupervisor, log: (msg: string) => void, loginTarget: LoginItemTarget): SystemSync {
  let power: PowerState | undefined
  let loginItem: string | undefined
  let loginTimer: NodeJS.Timeout | undefined
  let stopPower: (() => void) | undefined

  const pushPower = async (): Promise<void> => {
    if (power === undefined || sup.state().phase !== 'running') return
    await sup.call('node.setMachineState', { userIdleSeconds: power.userIdleSeconds, onBattery: power.onBattery })
      .catch((err: unknown) => { log(`machine state: ${String(err)}`) })
  }
  const syncLoginItem = async (): Promise<void> => {
    if (sup.state().phase !== 'running') return
    try {
      const s = await sup.call('settings.get', {})
      const key = `${String(s.startAtLogin)}:${String(s.startMinimized)}`
      if (key === loginItem) return
      loginItem = key
      await applyLoginItem(e.app, s.startAtLogin, s.startMinimized, loginTarget)
    } catch (err) {
      log(`login item: ${String(err)}`)
    }
  }

  return {
    pushPower,
    syncLoginItem,
    start () {
      loginTimer = setInterval(() => { void syncLoginItem() }, LOGIN_ITEM_SYNC_MS)
      stopPower = watchPower(e.powerMonitor, (s) => { power = s; void pushPower() })
    },
    stop () {
      stopPower?.()
      clearInterval(loginTimer)
    }
  }
}
