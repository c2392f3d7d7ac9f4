/**
 * libp2p's component logger when debug output is off (no `DEBUG` in the environment).
 *
 * js-libp2p makes a logger for every connection, stream and protocol handler it runs
 * (`log.newScope(…)`), and @libp2p/logger builds each one from `weald` debug instances, even when
 * every namespace is disabled: a colour pick, an `isatty` call and a namespace match per instance,
 * 2.7 % of the CPU of a dial-and-hang-up cycle in a `npm run bench -- connect` profile
 * (docs/ARCHITECTURE.md, "What a connection costs"). Disabled, each of them only ever returned
 * without doing anything, so one shared no-op logger behaves the same. With `DEBUG` set libp2p gets its
 * own default logger, and the namespaces print as usual.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

const noop = (): void => {}

const disabled: Logger = Object.assign(noop.bind(null), {
  enabled: false,
  error: noop,
  trace: noop,
  newScope: (): Logger => disabled
})

const quiet: ComponentLogger = { forComponent: () => disabled }

/** The logger to hand libp2p: the no-op one unless `DEBUG` asks for libp2p's own output. */
export function libp2pLogger (env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  return (env.DEBUG ?? '').trim() === '' ? quiet : undefined
}
