/** Shared setup of the renderer tests: build the bundle, launch headless Chromium. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const RENDERER_DIR = join(ROOT, 'dist', 'renderer')
export const ARTIFACTS = join(ROOT, 'test-artifacts')

/** Builds dist/renderer with scripts/build-renderer.mjs (always: it takes well under a second). */
export function buildRenderer (): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-renderer.mjs')], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`renderer build failed: ${r.stderr}`)
  if (!existsSync(join(RENDERER_DIR, 'app.js'))) throw new Error('renderer build produced no app.js')
  mkdirSync(ARTIFACTS, { recursive: true })
}

export function chromiumPath (): string {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p !== undefined && existsSync(p)) return p
  throw new Error('Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)')
}

export async function launch (): Promise<Browser> {
  return await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}
