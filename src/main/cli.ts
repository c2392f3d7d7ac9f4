/**
 * `mesh-executor` command line: one file per command in commands/, dispatched here.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage/configuration error (one line on stderr, never a stack
 * trace). `mesh-executor <command> --help` describes each command.
 */
import './polyfills.js'
import { readFileSync } from 'node:fs'
import { UsageError, type CliIo } from './commands/io.js'

export { UsageError, type CliIo } from './commands/io.js'

interface Command { summary: string, run: (argv: string[], io: CliIo) => Promise<number> }

const COMMANDS: Record<string, Command> = {
  start: { summary: 'run the executor daemon (bids on jobs, runs them, returns receipts)', run: async (a, io) => await (await import('./commands/start.js')).runStart(a, io) },
  dashboard: { summary: "print (--open: open) the running daemon's dashboard address", run: async (a, io) => await (await import('./commands/dashboard.js')).runDashboard(a, io) },
  identity: { summary: "print this node's DID and PeerId", run: async (a, io) => await (await import('./commands/identity.js')).runIdentity(a, io) },
  submit: { summary: 'submit a job to the mesh as an originator', run: async (a, io) => await (await import('./commands/submit.js')).runSubmit(a, io) },
  receipt: { summary: 'verify <CID|FILE>: verify an execution receipt offline', run: async (a, io) => await (await import('./commands/receipt.js')).runReceipt(a, io) },
  relay: { summary: 'run a bootstrap + relay node for others (operators)', run: async (a, io) => await (await import('./commands/relay.js')).runRelay(a, io) },
  demo: { summary: 'a whole local market on 127.0.0.1: three executors, an originator, sample jobs', run: async (a, io) => await (await import('./commands/demo.js')).runDemoCommand(a, io) },
  service: { summary: 'install|uninstall: run the daemon as a systemd user service (Linux)', run: async (a, io) => await (await import('./commands/service.js')).runService(a, io) }
}

const USAGE = `usage: mesh-executor <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

  mesh-executor <command> --help   options of one command
  mesh-executor --version          the version
`

/** The package version (package.json next to src/ or dist/). */
export function version (): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/**
 * A failing stdout/stderr (EPIPE when the reader of `… | head` exits or a log supervisor restarts,
 * ENOSPC on a full disk) must not kill the process: the daemon keeps running, and writes to the
 * broken stream become no-ops (a destroyed stream reports them to this listener).
 */
function survive (io: CliIo): void {
  const streams: Array<[string, NodeJS.WritableStream]> = [['stdout', io.stdout], ['stderr', io.stderr]]
  for (const [name, stream] of streams) {
    let told = false
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (told) return
      told = true
      if (name === 'stdout') {
        try { io.stderr.write(`mesh-executor: stdout failed (${err.code ?? err.message}); carrying on without it\n`) } catch { /* stderr is gone too */ }
      }
    })
  }
}

export async function main (argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv
  survive(io)
  try {
    switch (cmd) {
      case undefined: case 'help': case '--help': case '-h':
        io.stdout.write(USAGE)
        return cmd === undefined ? 2 : 0
      case '--version': case '-V': case 'version':
        io.stdout.write(`mesh-executor ${version()}\n`)
        return 0
    }
    const command = COMMANDS[cmd]
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(cmd)} (see mesh-executor --help)`)
    return await command.run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`mesh-executor: ${err.message}\n`)
      return 2
    }
    io.stderr.write(`mesh-executor: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    return 1
  }
}
