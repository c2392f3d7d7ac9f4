/**
 * The shell's desktop notifications (app.ts feeds them the supervisor's events): a new node error,
 * a job completed or failed, the daemon stopped unexpectedly (not while quitting), it cannot start.
 */
import type { ApiEvent } from '../../shared/api/index.js'
import type { ElectronModules } from './app.js'
import type { CrashReport, SupervisorEvents } from './daemon-process.js'

export interface ShellNotifier {
  apiEvent(ev: ApiEvent): void
  crash(c: CrashReport): void
  failed(f: SupervisorEvents['failed']): void
}

export function createNotifier (e: Pick<ElectronModules, 'Notification'>, quitting: () => boolean): ShellNotifier {
  const notify = (title: string, body: string): void => {
    if (e.Notification.isSupported()) new e.Notification({ title, body, silent: true }).show()
  }
  let lastError: string | null = null
  return {
    apiEvent (ev) {
      if (ev.type === 'status:changed') {
        if (ev.payload.error !== null && ev.payload.error !== lastError) notify('Mesh Executor error', ev.payload.error)
        lastError = ev.payload.error
      } else if (ev.type === 'job:updated') {
        if (ev.payload.state === 'Completed') notify('Job completed', `${ev.payload.announcementId} finished; its receipt is signed and stored.`)
        else if (ev.payload.state === 'Failed') notify('Job failed', `${ev.payload.announcementId}: ${ev.payload.failureReason ?? 'failed'}`)
      }
    },
    crash (c) {
      if (!quitting()) notify('Mesh Executor: the node stopped', `${c.reason}. Restarting in ${Math.ceil(c.restartInMs / 1000)} s.`)
    },
    failed (f) {
      notify('Mesh Executor cannot start', f.reason)
    }
  }
}
