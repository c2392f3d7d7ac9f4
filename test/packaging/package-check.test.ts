/** `npm run package:check`: an unpacked Linux app built offline holds the shell, the daemon (and runs it), renderer, sandbox and the sample jobs. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

test('package:check builds an unpacked Linux directory with everything the app needs', { timeout: 240_000 }, () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const r = spawnSync(process.execPath, ['scripts/package-check.mjs'], { cwd: root, encoding: 'utf8', timeout: 230_000 })
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
  assert.match(r.stdout, /package:check: OK — .* holds the shell \(.*\), the daemon \(ran it: .*\), the sandbox host binary, renderer, icons and \d+ sample jobs/)
})
