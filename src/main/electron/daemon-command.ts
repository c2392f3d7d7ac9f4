/**
 * The command the desktop shell runs its daemon with (plain Node; main.ts passes Electron's values):
 *
 *   <Electron binary> <app>/dist/main/bin.js start --json --ui-port 0 --data-dir <dir> --grace <s>
 *   env ELECTRON_RUN_AS_NODE=1              the Electron binary runs as plain Node (same ABI as the app's
 *                                           native modules, rebuilt for Electron by electron-builder)
 *       MESH_SANDBOX_HOST=<resources>/sandbox-host/mesh-sandbox-host   (packaged app; process.resourcesPath
 *                                           is not set in a process run as Node)
 *       MESH_EXECUTOR_PARENT_PID=<shell pid> the daemon stops gracefully when the shell is gone
 *
 * A checkout without `npm run build` has no dist/main/bin.js: then bin/mesh-executor.js runs, which says
 * to build first (exit 2) — the supervisor shows that line as the reason the daemon cannot start.
 * MESH_EXECUTOR_DAEMON_NODE overrides the Node binary (development: a system node whose ABI matches
 * node_modules when better-sqlite3 was not rebuilt for Electron).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { DaemonCommand } from './daemon-process.js'

export interface DesktopDaemonOptions {
  /** process.execPath of the Electron main process. */
  execPath: string
  /** The app directory (holds package.json, dist/, node_modules/). */
  appRoot: string
  dataDir: string
  /** process.resourcesPath of the Electron main process (packaged app), if any. */
  resourcesPath?: string
  /** The shell's pid (MESH_EXECUTOR_PARENT_PID). */
  parentPid: number
  graceSeconds: number
  env: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  exists?: (path: string) => boolean
}

export function desktopDaemonCommand (o: DesktopDaemonOptions): DaemonCommand {
  const exists = o.exists ?? existsSync
  const compiled = join(o.appRoot, 'dist', 'main', 'bin.js')
  const entry = exists(compiled) ? compiled : join(o.appRoot, 'bin', 'mesh-executor.js')
  const override = o.env.MESH_EXECUTOR_DAEMON_NODE
  const file = override !== undefined && override !== '' ? override : o.execPath
  const env: NodeJS.ProcessEnv = { ...o.env, MESH_EXECUTOR_PARENT_PID: String(o.parentPid) }
  if (file === o.execPath) env.ELECTRON_RUN_AS_NODE = '1'
  else delete env.ELECTRON_RUN_AS_NODE
  const hostName = (o.platform ?? process.platform) === 'win32' ? 'mesh-sandbox-host.exe' : 'mesh-sandbox-host'
  if (o.resourcesPath !== undefined && (env.MESH_SANDBOX_HOST === undefined || env.MESH_SANDBOX_HOST === '')) {
    const host = join(o.resourcesPath, 'sandbox-host', hostName)
    if (exists(host)) env.MESH_SANDBOX_HOST = host
  }
  return {
    file,
    args: [entry, 'start', '--json', '--ui-port', '0', '--data-dir', o.dataDir, '--grace', String(o.graceSeconds)],
    env,
    cwd: o.appRoot
  }
}
