/**
 * `mesh-executor dashboard`: prints the address (with its access token) of the dashboard of the daemon
 * running on this data dir, and with --open opens it in the default browser. The token is the one kept
 * in `<dataDir>/ui-token`, so the owner can always get back in. Exit 1 when no dashboard is running.
 */
import { spawn } from 'node:child_process'
import { homedir } from 'node:os'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { readUiState, readUiToken } from '../ui-server/access.js'
import { dataDirFrom, parseFlags, UsageError, type CliIo } from './io.js'

export const DASHBOARD_USAGE = `usage: mesh-executor dashboard [--data-dir DIR] [--open] [--json]

Prints the address of the running daemon's dashboard, with its access token (the token is kept in
DIR/ui-token and stays the same across restarts). The daemon serves a dashboard when started with
--ui-port, e.g. \`mesh-executor start --ui-port 8787\`.

  --data-dir DIR   the daemon's data directory (default ~/.mesh-executor, or $MESH_EXECUTOR_DATA_DIR)
  --open           also open it in the default browser
  --json           {"url":…,"origin":…,"pid":…} on stdout
`

async function answers (origin: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/api/node.status`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}', signal: AbortSignal.timeout(3000)
    })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

/** Opens a URL in the desktop's browser (detached; errors are reported, not thrown). */
function openInBrowser (url: string, io: CliIo): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  const child = spawn(cmd as string, args as string[], { detached: true, stdio: 'ignore' })
  child.on('error', (err) => { io.stderr.write(`mesh-executor dashboard: cannot open a browser (${err.message}); open the address above yourself\n`) })
  child.unref()
}

export async function runDashboard (argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, open: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } })
  if (values.help === true) { io.stdout.write(DASHBOARD_USAGE); return 0 }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const dir = resolve(dataDirFrom(values['data-dir'] as string | undefined, io.env, homedir()))
  const state = await readUiState(dir)
  const token = await readUiToken(dir)
  if (!existsSync(join(dir, 'identity.json'))) {
    io.stderr.write(`mesh-executor dashboard: ${dir} is not a node's data directory (no identity.json): pass the --data-dir the daemon was started with\n`)
    return 1
  }
  if (state === undefined || token === undefined || !await answers(state.origin, token)) {
    io.stderr.write(`mesh-executor dashboard: no dashboard is running for ${dir}; start the daemon with --ui-port, e.g. mesh-executor start --data-dir ${dir} --ui-port 8787\n`)
    return 1
  }
  const url = `${state.origin}/?token=${token}`
  if (values.json === true) io.stdout.write(JSON.stringify({ url, origin: state.origin, pid: state.pid }) + '\n')
  else io.stdout.write(url + '\n')
  if (values.open === true) openInBrowser(url, io)
  return 0
}
