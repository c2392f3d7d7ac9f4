/** pino-roll ships no types: its default export builds a rolling SonicBoom stream (see its README). */
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events'
  interface RollStream extends EventEmitter {
    write(chunk: string): boolean
    flush(cb?: (err?: Error) => void): void
    end(): void
    destroy(): void
    file: string
  }
  interface RollOptions {
    file: string | (() => string)
    size?: number | string
    frequency?: number | string
    extension?: string
    symlink?: boolean
    mkdir?: boolean
    limit?: { count?: number, removeOtherLogFiles?: boolean }
    sync?: boolean
    minLength?: number
  }
  export default function build (opts: RollOptions): Promise<RollStream>
}
