/**
 * A minimal WASI preview1 implementation with no ambient authority: no preopened directories
 * (every path operation fails), no sockets, empty environment, args = ["job"], stdin from the job
 * input, stdout/stderr to callbacks. Clocks and random are allowed (profile section 7).
 */
import { WASI_ALLOWLIST } from './check.js'
import type { WasmMemory } from './wasm-api.js'

export const ERRNO = {
  SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, IO: 29, NOSYS: 52, NOTSUP: 58, SPIPE: 70, NOTCAPABLE: 76
} as const

/** Thrown through the wasm stack by proc_exit. */
export class ProcExit {
  constructor (readonly code: number) {}
}

/** Thrown through the wasm stack to stop the job (e.g. OutputLimit). */
export class JobStop {
  constructor (readonly reason: 'OutputLimit', readonly detail: string) {}
}

export interface WasiIo {
  /** Blocks until stdin bytes are available; returns up to `max` bytes, or null at end of input. */
  readStdin (max: number): Uint8Array | null
  /** May throw JobStop. */
  writeStdout (bytes: Uint8Array): void
  writeStderr (bytes: Uint8Array): void
  /** Called at every WASI call (fuel is synced to the global then). */
  onCall? (): void
  /** Blocks the thread for `ms` (poll_oneoff clock subscriptions). */
  sleep (ms: number): void
}

type WasiFn = (...args: Array<number | bigint>) => number | undefined

const ARGS = [new TextEncoder().encode('job\0')]
const RIGHTS_STDIO = (1n << 1n) | (1n << 6n) | (1n << 27n) // fd_read | fd_write | poll_fd_readwrite

export function createWasiImports (io: WasiIo, getMemory: () => WasmMemory): Record<string, WasiFn> {
  let buf: ArrayBuffer | undefined
  let view = new DataView(new ArrayBuffer(0))
  let u8 = new Uint8Array(0)
  const mem = (): DataView => {
    const b = getMemory().buffer
    if (b !== buf) {
      buf = b
      view = new DataView(b)
      u8 = new Uint8Array(b)
    }
    return view
  }
  const bytesAt = (ptr: number, len: number): Uint8Array => {
    mem()
    if (ptr + len > u8.length) throw new RangeError('out of bounds')
    return u8.subarray(ptr, ptr + len)
  }
  const iovecs = (iovs: number, n: number): Array<[number, number]> => {
    const v = mem()
    const out: Array<[number, number]> = []
    for (let i = 0; i < n; i++) out.push([v.getUint32(iovs + i * 8, true), v.getUint32(iovs + i * 8 + 4, true)])
    return out
  }
  const isStd = (fd: number): boolean => fd >= 0 && fd <= 2

  const impl: Record<string, (...a: number[]) => number> = {
    args_sizes_get: (argc, size) => {
      const v = mem()
      v.setUint32(argc, ARGS.length, true)
      v.setUint32(size, ARGS.reduce((s, a) => s + a.length, 0), true)
      return ERRNO.SUCCESS
    },
    args_get: (argv, argvBuf) => {
      const v = mem()
      let p = argvBuf
      ARGS.forEach((a, i) => {
        v.setUint32(argv + i * 4, p, true)
        bytesAt(p, a.length).set(a)
        p += a.length
      })
      return ERRNO.SUCCESS
    },
    environ_sizes_get: (count, size) => {
      const v = mem()
      v.setUint32(count, 0, true)
      v.setUint32(size, 0, true)
      return ERRNO.SUCCESS
    },
    environ_get: () => ERRNO.SUCCESS,
    clock_res_get: (id, ptr) => {
      if (id < 0 || id > 3) return ERRNO.INVAL
      mem().setBigUint64(ptr, 1000n, true)
      return ERRNO.SUCCESS
    },
    clock_time_get: (id, _precision, ptr) => {
      let ns: bigint
      if (id === 0) ns = BigInt(Date.now()) * 1_000_000n
      else if (id >= 1 && id <= 3) ns = process.hrtime.bigint()
      else return ERRNO.INVAL
      mem().setBigUint64(ptr, ns, true)
      return ERRNO.SUCCESS
    },
    random_get: (ptr, len) => {
      const target = bytesAt(ptr, len)
      for (let off = 0; off < len; off += 65536) crypto.getRandomValues(target.subarray(off, Math.min(len, off + 65536)))
      return ERRNO.SUCCESS
    },
    proc_exit: (code) => { throw new ProcExit(code >>> 0) },
    proc_raise: () => ERRNO.NOSYS,
    sched_yield: () => ERRNO.SUCCESS,
    fd_read: (fd, iovs, n, nread) => {
      if (fd !== 0) return ERRNO.BADF
      let total = 0
      // Fill the first non-empty buffer with what is available (blocking only for that one).
      const first = iovecs(iovs, n).find(([, len]) => len > 0)
      if (first !== undefined) {
        const [ptr, len] = first
        const dest = bytesAt(ptr, len)
        const chunk = io.readStdin(len)
        if (chunk !== null) {
          dest.set(chunk)
          total = chunk.length
        }
      }
      mem().setUint32(nread, total, true)
      return ERRNO.SUCCESS
    },
    fd_write: (fd, iovs, n, nwritten) => {
      if (fd !== 1 && fd !== 2) return ERRNO.BADF
      const parts = iovecs(iovs, n).filter(([, len]) => len > 0).map(([ptr, len]) => bytesAt(ptr, len))
      let total = 0
      for (const p of parts) total += p.length
      let data: Uint8Array
      if (parts.length === 1) data = parts[0] as Uint8Array
      else {
        data = new Uint8Array(total)
        let off = 0
        for (const p of parts) { data.set(p, off); off += p.length }
      }
      if (total > 0) {
        if (fd === 1) io.writeStdout(data)
        else io.writeStderr(data)
      }
      mem().setUint32(nwritten, total, true)
      return ERRNO.SUCCESS
    },
    fd_fdstat_get: (fd, ptr) => {
      if (!isStd(fd)) return ERRNO.BADF
      const v = mem()
      bytesAt(ptr, 24).fill(0)
      v.setUint8(ptr, 0) // filetype unknown (a pipe-like stream, not a tty)
      v.setUint16(ptr + 2, fd === 0 ? 0 : 1, true) // APPEND for outputs
      v.setBigUint64(ptr + 8, RIGHTS_STDIO, true)
      v.setBigUint64(ptr + 16, 0n, true)
      return ERRNO.SUCCESS
    },
    fd_fdstat_set_flags: (fd) => (isStd(fd) ? ERRNO.NOTSUP : ERRNO.BADF),
    fd_fdstat_set_rights: (fd) => (isStd(fd) ? ERRNO.NOTCAPABLE : ERRNO.BADF),
    fd_filestat_get: (fd, ptr) => {
      if (!isStd(fd)) return ERRNO.BADF
      bytesAt(ptr, 64).fill(0)
      return ERRNO.SUCCESS
    },
    fd_close: (fd) => (isStd(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
    fd_seek: (fd) => (isStd(fd) ? ERRNO.SPIPE : ERRNO.BADF),
    fd_tell: (fd) => (isStd(fd) ? ERRNO.SPIPE : ERRNO.BADF),
    fd_prestat_get: () => ERRNO.BADF,
    fd_prestat_dir_name: () => ERRNO.BADF,
    poll_oneoff: (inPtr, outPtr, nsubs, neventsPtr) => {
      const v = mem()
      if (nsubs === 0) return ERRNO.INVAL
      const events: Array<{ userdata: bigint, type: number, error: number }> = []
      let sleepNs = -1n
      const clocks: Array<{ userdata: bigint }> = []
      for (let i = 0; i < nsubs; i++) {
        const s = inPtr + i * 48
        const userdata = v.getBigUint64(s, true)
        const tag = v.getUint8(s + 8)
        if (tag === 0) {
          const id = v.getUint32(s + 16, true)
          const timeout = v.getBigUint64(s + 24, true)
          const flags = v.getUint16(s + 40, true)
          let rel = timeout
          if ((flags & 1) !== 0) {
            const now = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint()
            rel = timeout > now ? timeout - now : 0n
          }
          if (sleepNs < 0n || rel < sleepNs) sleepNs = rel
          clocks.push({ userdata })
        } else if (tag === 1 || tag === 2) {
          const fd = v.getUint32(s + 16, true)
          const ok = (tag === 1 && fd === 0) || (tag === 2 && (fd === 1 || fd === 2))
          events.push({ userdata, type: tag, error: ok ? ERRNO.SUCCESS : ERRNO.BADF })
        } else {
          return ERRNO.INVAL
        }
      }
      if (events.length === 0) {
        if (sleepNs > 0n) io.sleep(Number(sleepNs / 1_000_000n))
        for (const c of clocks) events.push({ userdata: c.userdata, type: 0, error: ERRNO.SUCCESS })
      }
      const v2 = mem()
      events.forEach((e, i) => {
        const o = outPtr + i * 32
        bytesAt(o, 32).fill(0)
        v2.setBigUint64(o, e.userdata, true)
        v2.setUint16(o + 8, e.error, true)
        v2.setUint8(o + 10, e.type)
        if (e.type !== 0) v2.setBigUint64(o + 16, 1n, true)
      })
      v2.setUint32(neventsPtr, events.length, true)
      return ERRNO.SUCCESS
    }
  }

  const out: Record<string, WasiFn> = {}
  for (const name of Object.keys(WASI_ALLOWLIST)) {
    const f = impl[name]
    let fn: (...a: number[]) => number
    if (f === undefined) {
      // Everything else touches files, paths or sockets: there are none.
      fn = name.startsWith('path_') ? () => ERRNO.NOTCAPABLE : name.startsWith('fd_') || name.startsWith('sock_') ? () => ERRNO.BADF : () => ERRNO.NOSYS
    } else {
      fn = f
    }
    out[name] = (...args: Array<number | bigint>): number | undefined => {
      io.onCall?.()
      try {
        return fn(...(args as number[]))
      } catch (e) {
        if (e instanceof RangeError) return ERRNO.FAULT
        throw e
      }
    }
  }
  return out
}
