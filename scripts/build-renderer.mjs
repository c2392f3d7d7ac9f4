#!/usr/bin/env node
// Builds the UI bundle (one build for Electron and the browser) into dist/renderer/:
// index.html, app.css, app.js (+ map) and icons. With --electron it also bundles the Electron main
// process: the desktop shell only (dist/main/electron/main.js, ESM, + main.meta.json, esbuild's
// metafile); the daemon it starts is the tsc output in dist/main (npm run build).
// Usage: node scripts/build-renderer.mjs [--electron] [--out <dir>]
import { build } from 'esbuild'
import { mkdirSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const outIdx = args.indexOf('--out')
const outDir = outIdx >= 0 ? args[outIdx + 1] : join(root, 'dist', 'renderer')
const electron = args.includes('--electron')

mkdirSync(outDir, { recursive: true })
// Every file is written to a temp name and renamed into place, so a server reading dist/renderer
// while another build runs (tests run in parallel) never sees a half-written file.
const put = (name, data) => {
  const tmp = join(outDir, `.${name}.${process.pid}.tmp`)
  writeFileSync(tmp, data)
  renameSync(tmp, join(outDir, name))
}
const ui = await build({
  entryPoints: [join(root, 'src/renderer/main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120'],
  outfile: join(outDir, 'app.js'),
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  write: false
})
for (const f of ui.outputFiles) put(basename(f.path), f.contents)
put('index.html', readFileSync(join(root, 'src/renderer/index.html')))
put('app.css', readFileSync(join(root, 'src/renderer/app.css')))
const icon = join(root, 'assets/icons/app-64.png')
if (existsSync(icon)) put('icon.png', readFileSync(icon))

if (electron) {
  // The desktop shell's main process: the shell only (tray, window, daemon supervisor, API client).
  // The node runs in its own process (dist/main/bin.js, compiled by tsc), so this bundle must not
  // reach the daemon, mesh, store or sandbox code: package-check asserts it from the metafile.
  // The window has no preload (the renderer talks HTTP to the daemon like a browser).
  const mainOut = join(root, 'dist', 'main', 'electron')
  mkdirSync(mainOut, { recursive: true })
  const shell = await build({
    entryPoints: {
      main: join(root, 'src/main/electron/main.ts')
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    packages: 'external',
    outdir: mainOut,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning'
  })
  writeFileSync(join(mainOut, 'main.meta.json'), JSON.stringify(shell.metafile))
  rmSync(join(mainOut, 'preload.cjs'), { force: true }) // the IPC preload of earlier versions
}
console.log(`built renderer → ${outDir}${electron ? ' and the electron shell → dist/main/electron/main.js' : ''}`)
