/**
 * $MESH_EXECUTOR_PARENT_PID: the process that started this daemon (the desktop shell, `mesh-executor demo`).
 * When it is gone — crashed, killed with -9 — the daemon stops gracefully by itself, so nobody is left
 * holding the data dir, the ports and the owner's compute.
 */

/** The parent pid from the environment, when one is set. */
export function parentPidFrom (env: NodeJS.ProcessEnv): number | undefined {
  const pid = Number(env.MESH_EXECUTOR_PARENT_PID)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

/** Calls `onGone` once when process `pid` is no longer our parent or no longer exists (checked every `intervalMs`). */
export function watchParent (pid: number, onGone: () => void, intervalMs = 1000): () => void {
  const alive = (): boolean => {
    if (process.platform !== 'win32' && process.ppid !== pid) return false // re-parented: the parent died
    try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
  }
  const timer = setInterval(() => {
    if (alive()) return
    clearInterval(timer)
    onGone()
  }, intervalMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
