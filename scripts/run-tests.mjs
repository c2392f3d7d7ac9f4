#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node's test runner (through tsx).
// Usage: node scripts/run-tests.mjs [filter...]   (filters are substrings of the file path)
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { spawn, spawnSync } from 'node:child_process'

const root = new URL('..', import.meta.url).pathname
const filters = process.argv.slice(2)
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.ts')) files.push(relative(root, p))
  }
}
walk(join(root, 'test'))
const selected = filters.length > 0 ? files.filter((f) => filters.some((x) => f.includes(x))) : files
if (selected.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// the CLI processes the tests start run the compiled dist/, as users get it: build it first (incremental)
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' })
if (built.status !== 0) process.exit(built.status ?? 1)
const child = spawn(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  ...selected
], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] })
// pass the spec output through, and end with one line in the form CI reads: "N passed, N failed"
process.stdout.on('error', () => { /* a closed reader (npm test | head) must not kill the run */ })
const totals = { pass: 0, fail: 0, todo: 0 }
let tail = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  const lines = (tail + chunk.toString('utf8')).split('\n')
  tail = lines.pop() ?? ''
  for (const line of lines) {
    const m = /^ℹ (pass|fail|todo) (\d+)$/.exec(line)
    if (m !== null) totals[m[1]] = Number(m[2])
  }
})
child.on('exit', (code, signal) => {
  console.log(`${totals.pass} passed, ${totals.fail} failed${totals.todo > 0 ? `, ${totals.todo} todo` : ''}`)
  process.exit(code ?? (signal ? 1 : 0))
})
