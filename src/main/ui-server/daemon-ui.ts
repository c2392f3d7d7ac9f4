/**
 * `mesh-executor start --ui-port N`: the dashboard of a headless daemon. Binds the API to the
 * daemon and serves the renderer bundle on 127.0.0.1:N. Builds the bundle first when it is missing
 * (fresh clone) and the build script is present.
 */
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Daemon } from '../daemon/index.js'
import { createDaemonApi, type DaemonHost } from '../api/daemon-adapter.js'
import { startUiServer, UiServerError, type UiServer } from './server.js'

export interface DaemonUi {
  url: string
  server: UiServer
  close(): Promise<void>
}

/** dist/renderer of this checkout/package (env MESH_EXECUTOR_RENDERER_DIR overrides). */
export function findRendererDir (): string {
  const env = process.env.MESH_EXECUTOR_RENDERER_DIR
  if (env !== undefined && env !== '') return resolve(env)
  const here = fileURLToPath(new URL('.', import.meta.url))
  const candidates = [join(here, '..', '..', '..', 'dist', 'renderer'), join(here, '..', '..', 'renderer'), join(here, '..', '..', '..', 'renderer')]
  // a built bundle has app.js next to index.html (src/renderer has only the source index.html)
  return candidates.find((d) => existsSync(join(d, 'index.html')) && existsSync(join(d, 'app.js'))) ?? (candidates[0] as string)
}

export function ensureRendererBuilt (dir: string): void {
  if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'))) return
  const root = resolve(dir, '..', '..')
  const script = join(root, 'scripts', 'build-renderer.mjs')
  if (!existsSync(script)) throw new UiServerError('NoRenderer', `renderer bundle not found in ${dir}; run \`node scripts/build-renderer.mjs\``)
  const r = spawnSync(process.execPath, [script, '--out', dir], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0) throw new UiServerError('NoRenderer', `building the renderer failed: ${r.stderr}`)
}

export async function startDaemonUi (daemon: Daemon, opts: { port: number, rendererDir?: string, version?: string, token?: string, host?: DaemonHost }): Promise<DaemonUi> {
  const rendererDir = opts.rendererDir ?? findRendererDir()
  ensureRendererBuilt(rendererDir)
  const bound = createDaemonApi(daemon, { ...(opts.version !== undefined ? { version: opts.version } : {}), ...(opts.host !== undefined ? { host: opts.host } : {}) })
  let server: UiServer
  try {
    server = await startUiServer({ api: bound.api, rendererDir, port: opts.port, log: daemon.log, ...(opts.token !== undefined ? { token: opts.token } : {}) })
  } catch (err) {
    bound.dispose()
    throw err
  }
  return {
    url: server.url,
    server,
    async close () {
      bound.dispose()
      await server.close()
    }
  }
}
