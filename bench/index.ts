/**
 * Benchmark dispatcher: `npm run bench -- <name> [args]` runs bench/<name>.ts,
 * `npm run bench` runs them all. Every benchmark prints JSON lines on stdout.
 */
import { readdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const all = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3)).sort()
const [name, ...rest] = process.argv.slice(2)
const names = name === undefined ? all : [name]
let failed = false
for (const n of names) {
  if (!all.includes(n)) {
    console.error(`unknown benchmark "${n}"; available: ${all.join(', ')}`)
    process.exit(2)
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${n}.ts`), ...rest], { stdio: 'inherit' })
  if (r.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
