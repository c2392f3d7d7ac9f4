/**
 * Module admission checks: size, validity, WASI preview1 import allowlist (name and signature),
 * required exports. Anything else is `InvalidModule`.
 */
import { InvalidModuleError } from './errors.js'
import { WA } from './wasm-api.js'
import { inspectModule, type ModuleInfo } from './instrument.js'

export const WASI_MODULE = 'wasi_snapshot_preview1'
export const DEFAULT_MAX_MODULE_BYTES = 16 * 1024 * 1024

/** Allowed preview1 functions and their signatures: params ":" results, i = i32, I = i64. */
export const WASI_ALLOWLIST: Readonly<Record<string, string>> = {
  args_get: 'ii:i',
  args_sizes_get: 'ii:i',
  environ_get: 'ii:i',
  environ_sizes_get: 'ii:i',
  clock_res_get: 'ii:i',
  clock_time_get: 'iIi:i',
  fd_advise: 'iIIi:i',
  fd_allocate: 'iII:i',
  fd_close: 'i:i',
  fd_datasync: 'i:i',
  fd_fdstat_get: 'ii:i',
  fd_fdstat_set_flags: 'ii:i',
  fd_fdstat_set_rights: 'iII:i',
  fd_filestat_get: 'ii:i',
  fd_filestat_set_size: 'iI:i',
  fd_filestat_set_times: 'iIIi:i',
  fd_pread: 'iiiIi:i',
  fd_prestat_get: 'ii:i',
  fd_prestat_dir_name: 'iii:i',
  fd_pwrite: 'iiiIi:i',
  fd_read: 'iiii:i',
  fd_readdir: 'iiiIi:i',
  fd_renumber: 'ii:i',
  fd_seek: 'iIii:i',
  fd_sync: 'i:i',
  fd_tell: 'ii:i',
  fd_write: 'iiii:i',
  path_create_directory: 'iii:i',
  path_filestat_get: 'iiiii:i',
  path_filestat_set_times: 'iiiiIIi:i',
  path_link: 'iiiiiii:i',
  path_open: 'iiiiiIIii:i',
  path_readlink: 'iiiiii:i',
  path_remove_directory: 'iii:i',
  path_rename: 'iiiiii:i',
  path_symlink: 'iiiii:i',
  path_unlink_file: 'iii:i',
  poll_oneoff: 'iiii:i',
  proc_exit: 'i:',
  proc_raise: 'i:i',
  sched_yield: ':i',
  random_get: 'ii:i',
  sock_accept: 'iii:i',
  sock_recv: 'iiiiii:i',
  sock_send: 'iiiii:i',
  sock_shutdown: 'ii:i'
}

const letter = (t: number): string => (t === 0x7f ? 'i' : t === 0x7e ? 'I' : t === 0x7d ? 'f' : t === 0x7c ? 'F' : '?')

export interface CheckOptions {
  maxModuleBytes?: number
}

/** Throws InvalidModuleError unless `bytes` is an acceptable job module; returns its structure. */
export function checkModule (bytes: Uint8Array, opts: CheckOptions = {}): ModuleInfo {
  const max = opts.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  if (bytes.length > max) throw new InvalidModuleError(`module is ${bytes.length} bytes, over the ${max}-byte limit`)
  if (!WA.validate(bytes)) throw new InvalidModuleError('not a valid WebAssembly module')
  const info = inspectModule(bytes)
  for (const imp of info.imports) {
    const what = `${imp.module}.${imp.name}`
    if (imp.module !== WASI_MODULE) throw new InvalidModuleError(`import ${what} is not allowed (only ${WASI_MODULE} functions)`)
    if (imp.kind !== 0 || imp.type === undefined) throw new InvalidModuleError(`import ${what} must be a function`)
    const want = WASI_ALLOWLIST[imp.name]
    if (want === undefined) throw new InvalidModuleError(`import ${what} is not in the WASI allowlist`)
    const got = imp.type.params.map(letter).join('') + ':' + imp.type.results.map(letter).join('')
    if (got !== want) throw new InvalidModuleError(`import ${what} has signature ${got}, expected ${want}`)
  }
  const start = info.exports.find((e) => e.name === '_start')
  if (start === undefined || start.kind !== 0) throw new InvalidModuleError('module must export a function _start')
  const memory = info.exports.find((e) => e.name === 'memory')
  if (memory === undefined || memory.kind !== 2) throw new InvalidModuleError('module must export its memory as "memory"')
  if (info.memories.length !== 1) throw new InvalidModuleError('module must define exactly one memory (imported memory is not allowed)')
  return info
}
