/**
 * How the owner gets back into the dashboard: the access token lives in `<dataDir>/ui-token` (mode
 * 0600, created once, so a bookmark keeps working across restarts), and a running dashboard records
 * its address in `<dataDir>/ui.json` (removed when it stops). `mesh-executor dashboard` reads both.
 */
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const TOKEN_FILE = 'ui-token'
const STATE_FILE = 'ui.json'
const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/

export interface UiState { origin: string, port: number, pid: number, startedAt: number }

/** The dashboard token of this data dir, created (0600) on first use. A damaged file is replaced. */
export async function loadOrCreateUiToken (dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE)
  try {
    const t = (await readFile(path, 'utf8')).trim()
    if (TOKEN_RE.test(t)) {
      await chmod(path, 0o600)
      return t
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('base64url')
  const tmp = `${path}.${process.pid}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(token + '\n')
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  return token
}

/** The token, if this data dir has one (never creates it). */
export async function readUiToken (dataDir: string): Promise<string | undefined> {
  try {
    const t = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim()
    return TOKEN_RE.test(t) ? t : undefined
  } catch {
    return undefined
  }
}

export async function writeUiState (dataDir: string, s: UiState): Promise<void> {
  const path = join(dataDir, STATE_FILE)
  await writeFile(`${path}.tmp`, JSON.stringify(s) + '\n', { mode: 0o600 })
  await rename(`${path}.tmp`, path)
}

export async function readUiState (dataDir: string): Promise<UiState | undefined> {
  try {
    const s = JSON.parse(await readFile(join(dataDir, STATE_FILE), 'utf8')) as Partial<UiState>
    if (typeof s.origin === 'string' && typeof s.port === 'number' && typeof s.pid === 'number') return s as UiState
  } catch { /* none, or unreadable: no dashboard recorded */ }
  return undefined
}

export async function removeUiState (dataDir: string, pid = process.pid): Promise<void> {
  const s = await readUiState(dataDir)
  if (s === undefined || s.pid === pid) await rm(join(dataDir, STATE_FILE), { force: true })
}
