/**
 * The interactive handle: stdin written while the job runs, with back-pressure (the host
 * acknowledges the bytes the guest has read, and write() waits while too many are in flight), and
 * stdout streamed to a listener that may register late (chunks already emitted are replayed).
 */
import { SandboxError } from './errors.js'
import type { JobHooks, Started } from './host-job.js'
import { T_STDIN, T_STDIN_END, frame } from './protocol.js'
import type { InteractiveHandle, SandboxResult } from './types.js'

/** Starts the job with the given hooks (may throw, like the sandbox's own start). */
export type StartInteractive = (hooks: JobHooks) => Started | Promise<SandboxResult>

export function startInteractive (start: StartInteractive, highWater: number): InteractiveHandle {
  const chunks: Uint8Array[] = []
  let listener: ((c: Uint8Array) => void) | undefined
  const stdin = stdinWindow(highWater)
  let started: Started | Promise<SandboxResult>
  try {
    started = start({
      onStdout: (c) => { chunks.push(c); listener?.(c) },
      onAck: (bytes) => { stdin.acked(bytes) }
    })
  } catch (e) {
    started = Promise.reject(e)
  }
  const hp = started instanceof Promise ? undefined : started.hp
  const result = (started instanceof Promise ? started : started.result).then((r) => {
    stdin.drained()
    return r
  })
  let ended = false
  let finished = false
  result.then(() => { finished = true }, () => { finished = true })
  return {
    write (chunk) {
      if (ended) return Promise.reject(new SandboxError('BadJob', 'write after end()'))
      if (finished || chunk.length === 0 || hp === undefined) return Promise.resolve()
      const room = stdin.sent(chunk.length)
      hp.child.stdin?.write(frame(T_STDIN, chunk))
      return room
    },
    end () {
      if (ended) return
      ended = true
      hp?.child.stdin?.write(frame(T_STDIN_END))
    },
    onStdout (cb) {
      for (const c of chunks) cb(c)
      listener = cb
    },
    result
  }
}

/** Bytes in flight to the guest, and the writers waiting for them to fall under `highWater`. */
function stdinWindow (highWater: number): { sent (n: number): Promise<void>, acked (n: number): void, drained (): void } {
  let inflight = 0
  let waiters: Array<() => void> = []
  const release = (): void => {
    if (inflight >= highWater) return
    const w = waiters
    waiters = []
    for (const f of w) f()
  }
  return {
    sent (n) {
      inflight += n
      if (inflight < highWater) return Promise.resolve()
      return new Promise<void>((resolve) => { waiters.push(resolve) })
    },
    acked (n) { inflight -= n; release() },
    // the job is over: nothing more will be acknowledged, so nobody may keep waiting
    drained () { inflight = 0; release() }
  }
}
