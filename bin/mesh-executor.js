#!/usr/bin/env node
// The `mesh-executor` command: runs the compiled CLI (dist/main/bin.js) with plain node.
// dist/ is built by `npm run build` (and by npm ci / npm install in a clone, via `prepare`).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/main/bin.js', import.meta.url))
if (!existsSync(compiled)) {
  process.stderr.write('mesh-executor: not built yet: run `npm run build` in the project directory (or reinstall the package)\n')
  process.exit(2)
}
await import(pathToFileURL(compiled).href)
