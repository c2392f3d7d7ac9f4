/** What every `mesh-executor` command gets, and the one error that means "the user asked for something wrong". */
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'

export interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
  /** resolves when the process is asked to stop (SIGINT/SIGTERM); tests pass their own */
  stopSignal?: Promise<void>
}

/** A bad flag, file or setting: reported as one line on stderr, exit code 2, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A stop request: the caller's `stopSignal`, or SIGINT/SIGTERM (handlers installed at once). */
export function stopRequested (io: CliIo): Promise<void> {
  return io.stopSignal ?? new Promise<void>((resolve) => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
  })
}

/** The data directory from --data-dir, else $MESH_EXECUTOR_DATA_DIR, else ~/.mesh-executor (optionally a subdirectory). */
export function dataDirFrom (flag: string | undefined, env: NodeJS.ProcessEnv, home: string, sub?: string): string {
  if (flag !== undefined) return flag
  const base = env.MESH_EXECUTOR_DATA_DIR ?? `${home}/.mesh-executor`
  return sub === undefined ? base : `${base}/${sub}`
}

type FlagOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options']

/** Strict flag parsing; a bad flag is a UsageError. */
export function parseFlags (argv: string[], options: FlagOptions): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError(flagError(err as Error & { code?: string }))
  }
}

/** node:util parseArgs' messages, shortened to one plain line ("unknown option --x; see --help"). */
function flagError (err: Error & { code?: string }): string {
  const flag = /'(-[^']*)'/.exec(err.message)?.[1]
  if (flag === undefined) return err.message
  const name = flag.split(/[ ,]/)[0] ?? flag
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${name} (see --help)`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /ambiguous/.test(err.message)
        ? `${name} needs a value; for a value that starts with "-" write ${name}=VALUE`
        : `${name} ${/argument missing/.test(err.message) ? 'needs a value' : 'takes no value'}`
    default: return err.message
  }
}

/** Every value must be a multiaddr (with /p2p/<PeerId> when `needPeer`); a UsageError names the flag otherwise. */
export function checkMultiaddrs (flag: string, values: readonly string[], needPeer: boolean): void {
  for (const v of values) {
    try {
      const ma = multiaddr(v)
      if (needPeer && ma.getComponents().every((c) => c.name !== 'p2p')) throw new Error('missing /p2p/<PeerId>')
    } catch (err) {
      throw new UsageError(`${flag} ${JSON.stringify(v)} is not a valid multiaddr: ${(err as Error).message}`)
    }
  }
}
