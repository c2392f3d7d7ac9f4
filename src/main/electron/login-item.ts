/**
 * Start at login. Electron's `app.setLoginItemSettings` exists on macOS and Windows only; on Linux the
 * desktop standard is an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/mesh-executor.desktop`
 * (default `~/.config/autostart`), which every major desktop (GNOME, KDE, Xfce, …) runs at login.
 * Electron-free apart from the `app` passed in, so it is tested in plain Node.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** Where and what to start: the platform, the environment (XDG_CONFIG_HOME, APPIMAGE), the binary, the home dir. */
export interface LoginItemTarget {
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  execPath: string
  home: string
}

export interface LoginItemApp {
  setLoginItemSettings(settings: { openAtLogin: boolean, args?: string[] }): void
}

export function autostartPath (t: Pick<LoginItemTarget, 'env' | 'home'>): string {
  const config = t.env.XDG_CONFIG_HOME !== undefined && t.env.XDG_CONFIG_HOME !== '' ? t.env.XDG_CONFIG_HOME : join(t.home, '.config')
  return join(config, 'autostart', 'mesh-executor.desktop')
}

/** One Exec argument, quoted as the Desktop Entry spec asks (", `, $ and \ escaped inside quotes). */
function execArg (s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["`$\\])/g, '\\$1')}"`
}

/** The autostart entry. An AppImage runs from a temporary mount: its own path ($APPIMAGE) is what must start. */
export function autostartEntry (t: Pick<LoginItemTarget, 'env' | 'execPath'>, minimized: boolean): string {
  const binary = t.env.APPIMAGE !== undefined && t.env.APPIMAGE !== '' ? t.env.APPIMAGE : t.execPath
  const exec = [binary, ...(minimized ? ['--minimized'] : [])].map(execArg).join(' ')
  return ['[Desktop Entry]', 'Type=Application', 'Name=Mesh Executor', 'Comment=Sell spare compute on the ICN mesh',
    `Exec=${exec}`, 'Terminal=false', 'X-GNOME-Autostart-enabled=true', ''].join('\n')
}

/** Turns start-at-login on or off the platform's way. */
export async function applyLoginItem (app: LoginItemApp, openAtLogin: boolean, minimized: boolean, t: LoginItemTarget): Promise<void> {
  if (t.platform !== 'linux') {
    app.setLoginItemSettings({ openAtLogin, args: minimized ? ['--minimized'] : [] })
    return
  }
  const path = autostartPath(t)
  if (!openAtLogin) {
    await rm(path, { force: true })
    return
  }
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, autostartEntry(t, minimized), { mode: 0o644 })
  await rename(tmp, path)
}

export function processLoginTarget (home: string): LoginItemTarget {
  return { platform: process.platform, env: process.env, execPath: process.execPath, home }
}
