/**
 * `mesh-executor service install|uninstall`: a systemd user unit for headless Linux machines, so the
 * daemon starts at login (or at boot with lingering) and is restarted if it dies. The unit runs this
 * same installation (`<node> <bin/mesh-executor.js> start …`) with a fixed dashboard port.
 */
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile, rename } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dataDirFrom, parseFlags, UsageError, type CliIo } from './io.js'

export const SERVICE_USAGE = `usage: mesh-executor service install [options] [-- START_OPTIONS…]
       mesh-executor service uninstall [--name NAME] [--unit-dir DIR]

install writes a systemd user unit that runs \`mesh-executor start\` with your options; uninstall
removes it. Then: systemctl --user daemon-reload && systemctl --user enable --now NAME
(on a machine nobody logs into, also: loginctl enable-linger $USER).

  --data-dir DIR   the daemon's data directory (default ~/.mesh-executor, or $MESH_EXECUTOR_DATA_DIR)
  --ui-port N      the dashboard's port on 127.0.0.1 (default 8787; 'none' for no dashboard)
  --grace S        how long running jobs may finish when the service stops (default 30)
  --name NAME      the unit's name (default mesh-executor)
  --unit-dir DIR   where the unit goes (default $XDG_CONFIG_HOME/systemd/user or ~/.config/systemd/user)
  --               everything after it is passed to \`mesh-executor start\` (e.g. --bootstrap, --region, --policy)
`

/** One ExecStart word, quoted for systemd ("…", with \\ " and % escaped). */
function word (s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) && !s.includes('%')) return s
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`
}

export interface UnitOptions { node: string, bin: string, dataDir: string, uiPort?: number, graceSeconds: number, startArgs: string[] }

/** The unit file's text. */
export function systemdUnit (o: UnitOptions): string {
  const exec = [o.node, o.bin, 'start', '--data-dir', o.dataDir, ...(o.uiPort !== undefined ? ['--ui-port', String(o.uiPort)] : []), '--grace', String(o.graceSeconds), ...o.startArgs]
  return `# Written by \`mesh-executor service install\`; remove with \`mesh-executor service uninstall\`.
[Unit]
Description=Mesh Executor: sells this machine's spare compute on the ICN mesh
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec.map(word).join(' ')}
# a configuration error (exit 2) is not fixed by restarting
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=2
KillSignal=SIGTERM
TimeoutStopSec=${o.graceSeconds + 15}
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`
}

function unitDir (flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) return resolve(flag)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd', 'user')
}

export async function runService (argv: string[], io: CliIo): Promise<number> {
  const dash = argv.indexOf('--')
  const own = dash >= 0 ? argv.slice(0, dash) : argv
  const startArgs = dash >= 0 ? argv.slice(dash + 1) : []
  const { values, positionals } = parseFlags(own, {
    'data-dir': { type: 'string' }, 'ui-port': { type: 'string' }, grace: { type: 'string' }, name: { type: 'string' }, 'unit-dir': { type: 'string' }, help: { type: 'boolean' }
  })
  if (values.help === true) { io.stdout.write(SERVICE_USAGE); return 0 }
  const [action, ...extra] = positionals
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  const name = (values.name as string | undefined) ?? 'mesh-executor'
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: use letters, digits, _ . @ -`)
  const file = join(unitDir(values['unit-dir'] as string | undefined, io.env), `${name}.service`)
  if (action === 'uninstall') {
    if (!existsSync(file)) { io.stdout.write(`no unit at ${file}: nothing to remove\n`); return 0 }
    await rm(file)
    io.stdout.write(`removed ${file}\nrun: systemctl --user disable --now ${name}; systemctl --user daemon-reload\n`)
    return 0
  }
  if (action !== 'install') throw new UsageError(action === undefined ? 'say install or uninstall (see mesh-executor service --help)' : `unknown action ${JSON.stringify(action)}: install or uninstall`)
  if (process.platform !== 'linux') throw new UsageError('systemd services are for Linux; on other systems use the desktop app or your service manager')
  const portArg = values['ui-port'] as string | undefined
  const uiPort = portArg === 'none' ? undefined : Number(portArg ?? 8787)
  if (uiPort !== undefined && (!Number.isInteger(uiPort) || uiPort < 1 || uiPort > 65535)) throw new UsageError(`--ui-port ${String(portArg)}: want a port 1–65535 or none`)
  const grace = Number(values.grace ?? 30)
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace ${String(values.grace)}: want a number of seconds`)
  const dataDir = resolve(dataDirFrom(values['data-dir'] as string | undefined, io.env, homedir()))
  const bin = fileURLToPath(new URL('../../../bin/mesh-executor.js', import.meta.url))
  const text = systemdUnit({ node: process.execPath, bin, dataDir, uiPort, graceSeconds: grace, startArgs })
  await mkdir(join(file, '..'), { recursive: true })
  await writeFile(`${file}.tmp`, text, { mode: 0o644 })
  await rename(`${file}.tmp`, file)
  io.stdout.write(`wrote ${file}\nrun: systemctl --user daemon-reload && systemctl --user enable --now ${name}\n` +
    (uiPort !== undefined ? `dashboard: mesh-executor dashboard --data-dir ${dataDir}\n` : '') +
    'on a machine nobody logs into, also: loginctl enable-linger $USER\n')
  return 0
}
