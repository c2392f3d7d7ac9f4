#!/usr/bin/env node
// Builds what `mesh-executor` runs: the TypeScript of src/main and src/shared compiled to JavaScript
// in dist/ (tsc -p tsconfig.build.json, incremental), and the dashboard bundle in dist/renderer.
// bin/mesh-executor.js and the daemon run dist/ with plain node — no compiler at run time.
// Run by `npm run build`, by `prepare` (npm ci / npm install in a clone, npm pack) and by `npm test`.
// Usage: node scripts/build.mjs [--electron]   (--electron also bundles the desktop shell)
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
const step = (what, args) => {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`build: ${what} failed (${r.status ?? r.signal})`)
    process.exit(1)
  }
  return Date.now() - t0
}
const tsc = step('tsc', [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')])
const ui = step('renderer', [join(root, 'scripts/build-renderer.mjs'), ...process.argv.slice(2)])
console.log(`build: dist/ compiled in ${tsc} ms, renderer in ${ui} ms`)
