#!/usr/bin/env node
// Builds the UI bundle (one build for Electron and the browser) into dist/renderer/:
// index.html, app.css, app.js (+ map) and icons. With --electron it also bundles the Electron main
// process (dist/main/electron/main.js, ESM, with the daemon and the sandbox host/worker next to it)
// and the sandboxed preload (dist/main/electron/preload.cjs).
// Usage: node scripts/build-renderer.mjs [--electron] [--out <dir>]
import { build } from 'esbuild'
import { cpSync, mkdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const outIdx = args.indexOf('--out')
const outDir = outIdx >= 0 ? args[outIdx + 1] : join(root, 'dist', 'renderer')
const electron = args.includes('--electron')

mkdirSync(outDir, { recursive: true })
await build({
  entryPoints: [join(root, 'src/renderer/main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120'],
  outfile: join(outDir, 'app.js'),
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning'
})
cpSync(join(root, 'src/renderer/index.html'), join(outDir, 'index.html'))
cpSync(join(root, 'src/renderer/app.css'), join(outDir, 'app.css'))
const icon = join(root, 'assets/icons/app-64.png')
if (existsSync(icon)) cpSync(icon, join(outDir, 'icon.png'))

if (electron) {
  const mainOut = join(root, 'dist', 'main', 'electron')
  mkdirSync(mainOut, { recursive: true })
  await build({
    entryPoints: [join(root, 'src/main/electron/preload.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node20'],
    external: ['electron'],
    outfile: join(mainOut, 'preload.cjs'),
    logLevel: 'warning'
  })
  // main.js bundles the daemon; the sandbox forks ./host.js and host starts ./worker.js relative to
  // their own module URL, so both are emitted next to main.js.
  await build({
    entryPoints: {
      main: join(root, 'src/main/electron/main.ts'),
      host: join(root, 'src/main/sandbox/host.ts'),
      worker: join(root, 'src/main/sandbox/worker.ts')
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    packages: 'external',
    outdir: mainOut,
    sourcemap: 'linked',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __mxCreateRequire } from 'node:module'; const require = __mxCreateRequire(import.meta.url);" }
  })
}
console.log(`built renderer → ${outDir}${electron ? ' and electron main/preload → dist/main/electron' : ''}`)
