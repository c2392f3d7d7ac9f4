/**
 * One daemon process (plain Node; daemon-process.ts supervises it): spawns the command and reads
 * its stdout JSON lines (the ready line, then the daemon's events) and its stderr lines, and reports
 * the exit once stderr has delivered its last lines (the reason).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { DaemonCommand } from './daemon-process.js'

export interface ChildExit { code: number | null, signal: string | null }

export interface ChildHooks {
  /** Every stdout line that is a JSON object (other lines are logged). */
  onJsonLine(proc: ChildProcess, e: Record<string, unknown>): void
  onStderrLine(line: string): void
  /** The process exited (after stderr closed, or 300 ms); `spawnError` when it could not be run. */
  onExit(proc: ChildProcess, exit: ChildExit, spawnError: Error | undefined): void
  log(line: string): void
}

export interface DaemonChild {
  proc: ChildProcess
  /** Resolves after `onExit` was called. */
  exited: Promise<ChildExit>
}

/** How long an exit waits for stderr's last lines. */
const STDERR_SETTLE_MS = 300

/** Spawns the daemon; throws when the command cannot even be spawned. */
export function spawnDaemonChild (cmd: DaemonCommand, hooks: ChildHooks): DaemonChild {
  const proc = spawn(cmd.file, cmd.args, { env: cmd.env ?? process.env, cwd: cmd.cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
  let markExited: (e: ChildExit) => void = () => {}
  const exited = new Promise<ChildExit>((resolve) => { markExited = resolve })
  let spawnError: Error | undefined
  proc.on('error', (err) => { spawnError = err; hooks.log(`daemon process error: ${err.message}`) })
  readJsonLines(proc, hooks)
  const stderrDone = readStderr(proc, hooks)
  proc.on('exit', (code, signal) => {
    // give stderr a moment to deliver its last lines (the reason)
    const settle = new Promise<void>((resolve) => { const t = setTimeout(resolve, STDERR_SETTLE_MS); t.unref?.() })
    void Promise.race([stderrDone, settle]).then(() => {
      hooks.onExit(proc, { code, signal }, spawnError)
      markExited({ code, signal })
    })
  })
  return { proc, exited }
}

function readJsonLines (proc: ChildProcess, hooks: ChildHooks): void {
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { hooks.log(`daemon: ${line}`); return }
    if (typeof e !== 'object' || e === null) return
    hooks.onJsonLine(proc, e)
  })
}

/** Resolves when stderr has closed. */
function readStderr (proc: ChildProcess, hooks: ChildHooks): Promise<void> {
  return new Promise<void>((resolve) => {
    const rl = createInterface({ input: proc.stderr as NodeJS.ReadableStream })
    rl.on('line', (line) => { hooks.onStderrLine(line) })
    rl.on('close', () => { resolve() })
  })
}
