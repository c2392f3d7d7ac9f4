/**
 * `mesh-executor relay`: a well-connected node for operators — bootstrap peer, DHT server, gossip
 * router, AutoNAT server and circuit relay v2 server (docs/NETWORKING.md).
 *
 *   mesh-executor relay [--listen MA]... [--announce MA]... [--bootstrap MA]... [--data-dir DIR] [--lan]
 *                       [--max-reservations N] [--relay-data-limit BYTES] [--relay-duration-limit SECONDS] [--json]
 *
 * With --json: one JSON object per line, first {"event":"ready",…}, then reachability, reservation and
 * connection events. Exit codes: 0 ok, 1 runtime failure, 2 usage.
 */
import '../polyfills.js'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadOrCreateIdentityFile } from '../../shared/protocol/index.js'
import { createMeshNode, DEFAULT_RELAY_SERVER } from '../mesh/index.js'
import type { MeshEvents } from '../mesh/index.js'
import { checkMultiaddrs, parseFlags, UsageError, type CliIo } from './io.js'



export const RELAY_USAGE = `usage: mesh-executor relay [options]

Runs a bootstrap + relay node: DHT server, gossip router, AutoNAT server, circuit relay v2 server.

  --listen MA                 listen address (repeatable; default /ip4/0.0.0.0/tcp/4001)
  --announce MA               address to announce instead of the listen addresses (repeatable)
  --bootstrap MA              another mesh peer to join through, with /p2p/<PeerId> (repeatable)
  --data-dir DIR              where the key lives (default ~/.mesh-executor/relay or $MESH_EXECUTOR_DATA_DIR/relay)
  --lan                       keep private addresses in the DHT and dial back private addresses (LAN/test meshes)
  --max-reservations N        relay reservations held at once (default ${DEFAULT_RELAY_SERVER.maxReservations})
  --relay-data-limit BYTES    bytes one relayed connection may carry (default ${DEFAULT_RELAY_SERVER.dataLimitBytes})
  --relay-duration-limit S    seconds one relayed connection may last (default ${DEFAULT_RELAY_SERVER.durationLimitSeconds})
  --json                      JSON lines on stdout
`


function positiveInt (flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${JSON.stringify(v)}: want a positive integer`)
  return n
}


export async function runRelay (argv: string[], io: Pick<CliIo, 'stdout' | 'stderr' | 'env' | 'stopSignal'>): Promise<number> {
  let values: ReturnType<typeof parseFlags>['values']
  try {
    const parsed = parseFlags(argv, {
      listen: { type: 'string', multiple: true },
      announce: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      lan: { type: 'boolean' },
      'max-reservations': { type: 'string' },
      'relay-data-limit': { type: 'string' },
      'relay-duration-limit': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' }
    })
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`)
    values = parsed.values
    if (values.help === true) { io.stdout.write(RELAY_USAGE); return 0 }
    const listen = (values.listen as string[] | undefined) ?? ['/ip4/0.0.0.0/tcp/4001']
    const announce = (values.announce as string[] | undefined) ?? []
    const bootstrap = (values.bootstrap as string[] | undefined) ?? []
    checkMultiaddrs('--listen', listen, false)
    checkMultiaddrs('--announce', announce, false)
    checkMultiaddrs('--bootstrap', bootstrap, true)
    const relayServer = {
      maxReservations: positiveInt('--max-reservations', values['max-reservations'] as string | undefined, DEFAULT_RELAY_SERVER.maxReservations),
      dataLimitBytes: positiveInt('--relay-data-limit', values['relay-data-limit'] as string | undefined, DEFAULT_RELAY_SERVER.dataLimitBytes),
      durationLimitSeconds: positiveInt('--relay-duration-limit', values['relay-duration-limit'] as string | undefined, DEFAULT_RELAY_SERVER.durationLimitSeconds)
    }
    const dataDir = resolve((values['data-dir'] as string | undefined) ?? join(io.env.MESH_EXECUTOR_DATA_DIR ?? join(homedir(), '.mesh-executor'), 'relay'))
    const json = values.json === true
    const out = (o: Record<string, unknown>): void => {
      if (json) io.stdout.write(JSON.stringify(o) + '\n')
    }
    const log = (line: string): void => {
      if (!json) io.stdout.write(`${new Date().toISOString()} ${line}\n`)
    }

    let identity
    try {
      identity = await loadOrCreateIdentityFile(join(dataDir, 'identity.json'))
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const node = await createMeshNode({
      identity, listen, announce, bootstrap, lan: values.lan === true,
      // a relay is publicly reachable by definition: it holds no reservations itself
      nat: { relayServer, relayClient: false, declaredPublic: true, dcutr: false }
    })
    const forward = <K extends keyof MeshEvents>(name: K, text: (e: MeshEvents[K]) => string): void => {
      node.events.on(name, (e) => {
        out({ event: name, ...(e as Record<string, unknown>) })
        log(text(e))
      })
    }
    forward('reachability:changed', (e) => `reachability ${e.reachability} (autonat ${e.autonat}, observed ${e.observedAddrs.join(' ') || '-'})`)
    forward('connection:opened', (e) => `connection from ${e.peerId} ${e.remoteAddr}${e.relayed ? ' (relayed)' : ''}`)
    forward('autonat:served', (e) => `autonat dial-back for ${e.peerId}: ${e.status} ${e.detail}`)
    forward('bootstrap:failed', (e) => `bootstrap ${e.addr} failed: ${e.error}`)
    try {
      await node.start()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`a listen address is already in use: ${(err as Error).message}`)
      throw err
    }
    const relay = node.libp2p.services.relay as { addEventListener?: (n: string, f: (e: CustomEvent<{ addr: { toString: () => string } }>) => void) => void } | undefined
    relay?.addEventListener?.('relay:reservation', (e) => {
      out({ event: 'relay:reservation', addr: e.detail.addr.toString() })
      log(`reservation for ${e.detail.addr.toString()}`)
    })
    const ready = { did: identity.did, peerId: identity.peerId, multiaddrs: node.multiaddrs(), dataDir, relay: relayServer }
    out({ event: 'ready', ...ready })
    if (!json) {
      io.stdout.write(`mesh-executor relay ready\n  PeerId  ${ready.peerId}\n`)
      for (const a of ready.multiaddrs) io.stdout.write(`  listen  ${a}\n`)
    }
    await (io.stopSignal ?? new Promise<void>((resolve) => {
      process.once('SIGINT', () => { resolve() })
      process.once('SIGTERM', () => { resolve() })
    }))
    await node.stop()
    out({ event: 'stopped' })
    return 0
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr.write(`mesh-executor relay: ${(err as Error).message}\n`)
      return 2
    }
    io.stderr.write(`mesh-executor relay: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    return 1
  }
}
