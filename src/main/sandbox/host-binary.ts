/**
 * Finding the mesh-sandbox-host binary and asking it whether it runs (`--version`). The sandbox
 * advertises no runtime when this fails, so the reason has to tell a seller how to fix it.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const HOST_BINARY_NAME = process.platform === 'win32' ? 'mesh-sandbox-host.exe' : 'mesh-sandbox-host'

export interface HostBinary {
  path: string
  /** every location looked at, for the "not built" message */
  tried: string[]
}

/** What `--version` said: the Wasmtime version, or why the binary is missing or does not run. */
export interface HostProbe {
  version?: string
  reason?: string
}

/** Where the host binary is: explicit option, env override, packaged resources, dev build output. */
export function resolveHostBinary (explicit?: string): HostBinary {
  if (explicit !== undefined) return { path: explicit, tried: [explicit] }
  const env = process.env.MESH_SANDBOX_HOST
  if (env !== undefined && env !== '') return { path: env, tried: [env] }
  const tried: string[] = []
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath
  if (resources !== undefined) tried.push(join(resources, 'sandbox-host', HOST_BINARY_NAME))
  // this file: src/main/sandbox/host-binary.ts (tsx), dist/main/sandbox/host-binary.js (tsc) or
  // dist/main/electron/main.js (bundled, run from the repo)
  tried.push(fileURLToPath(new URL(`./host/target/release/${HOST_BINARY_NAME}`, import.meta.url)))
  tried.push(fileURLToPath(new URL(`../../../src/main/sandbox/host/target/release/${HOST_BINARY_NAME}`, import.meta.url)))
  const found = tried.find((p) => existsSync(p))
  return { path: found ?? tried.at(-2) ?? '', tried }
}

/** Runs `<binary> --version` (synchronously: once per sandbox, the caller keeps the answer). */
export function probeHostBinary (binary: HostBinary): HostProbe {
  const hint = 'It is built by the install step (`npm install` runs `cargo build --release --locked` in src/main/sandbox/host); ' +
    'if cargo was not available then, install Rust (https://rustup.rs) and run `npm run build:sandbox-host`.'
  if (!existsSync(binary.path)) {
    return { reason: `sandbox host not built: ${binary.tried.join(' or ')} does not exist. ${hint}` }
  }
  const r = spawnSync(binary.path, ['--version'], { encoding: 'utf8', timeout: 15_000 })
  const m = /wasmtime (\S+)/.exec(r.stdout ?? '')
  if (r.status !== 0 || m === null) {
    return { reason: `sandbox host ${binary.path} does not run (${r.error?.message ?? `exit ${r.status ?? r.signal}`}). ${hint}` }
  }
  return { version: m[1] }
}
