/**
 * `mesh-executor start`: the executor daemon (bids on jobs, runs them, returns receipts), with the
 * dashboard on 127.0.0.1 when --ui-port is given. --json: one JSON object per line on stdout, the first
 * {"event":"ready",…}. Exit codes: 0 ok, 1 runtime failure, 2 usage/configuration error (bad flag,
 * unreadable policy, data dir in use or unusable, port in use).
 */
import '../polyfills.js'
import { open } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { IdentityFileError, isValidRegion } from '../../shared/protocol/index.js'
import { startDaemon, type Daemon, type DaemonEvents } from '../daemon/index.js'
import { TypedEmitter } from '../mesh/index.js'
import { StoreError } from '../store/index.js'
import { MAX_POLICY_BYTES, ownerWarnings, PolicyValidationError } from '../market/index.js'
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../log/index.js'
import { checkMultiaddrs, dataDirFrom, parseFlags, stopRequested, UsageError, type CliIo } from './io.js'
import { shortId } from '../../shared/text.js'
import { createDaemonHost, type DaemonHost } from '../api/daemon-adapter.js'
import { parentPidFrom, watchParent } from './parent.js'

export const START_USAGE = `usage: mesh-executor start [options]

Runs the executor daemon: bids on jobs by your policy, runs them sandboxed, returns signed receipts.

options:
  --data-dir DIR       where the key, database and outputs live (default ~/.mesh-executor,
                       or $MESH_EXECUTOR_DATA_DIR)
  --listen MA          multiaddr to listen on (repeatable; default: the addresses saved in the
                       dashboard's Settings, else /ip4/0.0.0.0/tcp/0)
  --bootstrap MA       multiaddr of a peer to join the mesh through, with /p2p/<PeerId> (repeatable)
  --region R           our region, e.g. eu-west ([a-z0-9-], 1–63 chars)
  --policy FILE        bidding policy JSON (docs/POLICY.md); saved as a new policy version
  --lan                keep private/loopback addresses in the DHT (LAN and local test meshes)
  --json               one JSON object per line on stdout, the first {"event":"ready",…}
  --ui-port N          serve the dashboard on http://127.0.0.1:N (0 = any free port)
  --grace SECONDS      how long running jobs may finish on shutdown (default 30)
  --alias NAME         a human-readable name in our capability ad
  --upnp               ask the home router to forward our listen port (UPnP IGD)
  --relay-server       also relay connections for peers behind NAT (off on desktops)
  --public             this machine is directly reachable (public IP or port forward):
                       hold no relay reservation
  --no-nat             no AutoNAT, relay or hole punching (direct connections only)
  --log-level L        level of the log file DIR/logs/current.log: error, warn, info (default), debug,
                       trace or silent ($MESH_LOG_LEVEL)
`


/** Human-readable one-liners for the non-JSON log. */
function describe<K extends keyof DaemonEvents> (name: K, e: DaemonEvents[K]): string | undefined {
  const d = e as Record<string, unknown>
  const short = (s: unknown): string => shortId(String(s))
  switch (name) {
    case 'announcement:decided': {
      const reasons = (d.reasons as Array<{ ok: boolean, text: string }>).filter((r) => !r.ok).map((r) => r.text)
      return d.bid === true ? `bid on ${short(d.announcementId)} at price ${String(d.price)}` : `skipped ${short(d.announcementId)}: ${reasons.join('; ')}`
    }
    case 'bid:sent': return `bid sent for ${short(d.announcementId)} (${String(d.sinceReceivedMs)} ms after the announcement)`
    case 'bid:failed': return `bid for ${short(d.announcementId)} failed: ${String(d.error)}`
    case 'job:accepted': return `assigned ${short(d.announcementId)} by ${short(d.originatorDid)}`
    case 'job:refused': return `refused assignment ${short(d.announcementId)}: ${String(d.reason)} ${String(d.detail)}`
    case 'job:state': return `job ${short(d.announcementId)} → ${String(d.state)}${d.details !== undefined ? ` (${String(d.details)})` : ''}`
    case 'job:finished': return `job ${short(d.announcementId)} ${String(d.status)}${d.failureReason !== undefined ? ` ${String(d.failureReason)}` : ''}, fuel ${String(d.fuelUsed)}, receipt ${String(d.receiptCid)}`
    case 'receipt:published': return `receipt ${String(d.receiptCid)} published (${d.direct === true ? 'sent to the originator; ' : ''}${typeof d.dhtError === 'string' ? `not in the DHT: ${d.dhtError}` : `DHT peers ${String(d.dhtPeers)}`})`
    case 'policy:changed': return `policy version ${String(d.version)} in force`
    case 'runtime:changed': {
      const until = typeof d.pausedUntil === 'number' ? `paused until ${new Date(d.pausedUntil).toISOString()}` : d.pausedUntil === null ? 'resumed' : undefined
      return [until, d.autoBid === true ? 'auto-bid on' : d.autoBid === false ? 'auto-bid off' : undefined].filter((x) => x !== undefined).join(', ') || undefined
    }
    case 'daemon:error': return `error in ${String(d.where)}: ${String(d.error)}`
    case 'job:notify-pending': return `could not tell the originator of interrupted job ${short(d.announcementId)} yet (${String(d.error)}); retrying`
    case 'daemon:stopping': return `stopping: ${String(d.runningJobs)} job(s) running, draining…`
    case 'daemon:stopped': return 'stopped'
    case 'reachability:changed': {
      const label = d.reachability === 'relayed' ? 'behind NAT, reachable via relay' : String(d.reachability)
      return `reachability: ${label} (autonat ${String(d.autonat)}${d.natDetected === true ? ', NAT detected' : ''}; relay ${(d.relayAddrs as string[]).join(' ') || '-'})`
    }
    default: return undefined
  }
}

const FORWARDED: Array<keyof DaemonEvents> = [
  'announcement:decided', 'bid:sent', 'bid:failed', 'job:accepted', 'job:refused', 'job:state', 'job:finished',
  'receipt:published', 'capability:published', 'policy:changed', 'runtime:changed', 'daemon:error', 'job:notify-pending', 'daemon:stopping', 'daemon:stopped',
  'reachability:changed', 'connection:opened'
]

/** Most event bytes queued for a slow stdout reader before events are dropped (and counted). */
const MAX_QUEUED_OUTPUT = 1024 * 1024

/**
 * The daemon's event stream on stdout. Node writes to a pipe synchronously on Linux, so a reader
 * that does not keep up (a busy supervisor, `… | less` scrolled back) would stall the whole node —
 * bids, jobs, the dashboard. So the pipe is switched to non-blocking writes, at most
 * MAX_QUEUED_OUTPUT bytes wait in memory, and what does not fit is dropped with a count line when
 * the reader catches up. Files and terminals are written as usual.
 */
function eventOutput (stdout: NodeJS.WritableStream, json: boolean): (line: string) => void {
  const stream = stdout as NodeJS.WritableStream & { writableLength?: number, destroyed?: boolean, _handle?: { setBlocking?: (blocking: boolean) => unknown } }
  stream._handle?.setBlocking?.(false)
  let dropped = 0
  return (line) => {
    if (stream.destroyed === true) return
    if ((stream.writableLength ?? 0) > MAX_QUEUED_OUTPUT) { dropped++; return }
    if (dropped > 0) {
      stream.write(json ? JSON.stringify({ event: 'output:dropped', count: dropped }) + '\n' : `${new Date().toISOString()} ${dropped} event line(s) dropped: stdout was not read fast enough\n`)
      dropped = 0
    }
    stream.write(line)
  }
}

interface StartOptions {
  dataDir: string | undefined
  listen: string[] | undefined
  bootstrap: string[] | undefined
  region: string | undefined
  grace: number
  uiPort: number | undefined
  logLevel: LogLevel | undefined
  policyFile: string | undefined
  json: boolean
  lan: boolean
  alias: string | undefined
  nat: false | { upnp: boolean, relayServer: boolean, declaredPublic: boolean }
}

/** The flags, checked: a bad one is a UsageError; undefined for --help. */
function startOptions (argv: string[]): StartOptions | undefined {
  const { values, positionals } = parseFlags(argv, {
    'data-dir': { type: 'string' }, listen: { type: 'string', multiple: true }, bootstrap: { type: 'string', multiple: true },
    region: { type: 'string' }, policy: { type: 'string' }, lan: { type: 'boolean' }, json: { type: 'boolean' },
    'ui-port': { type: 'string' }, grace: { type: 'string' }, alias: { type: 'string' }, help: { type: 'boolean' },
    upnp: { type: 'boolean' }, 'relay-server': { type: 'boolean' }, public: { type: 'boolean' }, 'no-nat': { type: 'boolean' }, 'log-level': { type: 'string' }
  })
  if (values.help === true) return undefined
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  // without the flags, the daemon uses what the owner saved in Settings (or its defaults)
  const listen = values.listen as string[] | undefined
  const bootstrap = values.bootstrap as string[] | undefined
  checkMultiaddrs('--listen', listen ?? [], false)
  checkMultiaddrs('--bootstrap', bootstrap ?? [], true)
  const region = values.region as string | undefined
  if (region !== undefined && !isValidRegion(region)) throw new UsageError(`--region ${JSON.stringify(region)}: use 1–63 characters of a-z, 0-9 and -`)
  const grace = values.grace === undefined ? 30 : Number(values.grace)
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace ${String(values.grace)}: want a number of seconds`)
  let uiPort: number | undefined
  if (values['ui-port'] !== undefined) {
    uiPort = Number(values['ui-port'])
    if (!Number.isInteger(uiPort) || uiPort < 0 || uiPort > 65535) throw new UsageError(`--ui-port ${String(values['ui-port'])}: want a port number 0–65535`)
  }
  const level = values['log-level'] as string | undefined
  if (level !== undefined && !isLogLevel(level)) throw new UsageError(`--log-level ${JSON.stringify(level)}: want one of ${LOG_LEVELS.join(', ')}`)
  const logLevel = level
  return {
    dataDir: values['data-dir'] as string | undefined, listen, bootstrap, region, grace, uiPort, logLevel,
    policyFile: values.policy === undefined ? undefined : resolve(values.policy as string),
    json: values.json === true, lan: values.lan === true, alias: values.alias as string | undefined,
    nat: values['no-nat'] === true ? false : { upnp: values.upnp === true, relayServer: values['relay-server'] === true, declaredPublic: values.public === true }
  }
}

/** Every forwarded daemon event as a JSON line (--json) or a time-stamped text line. */
function forwardEvents (emit: (line: string) => void, json: boolean): TypedEmitter<DaemonEvents> {
  const events = new TypedEmitter<DaemonEvents>()
  for (const name of FORWARDED) {
    events.on(name, (e) => {
      if (json) emit(JSON.stringify({ event: name, ...(e as Record<string, unknown>) }) + '\n')
      else {
        const line = describe(name, e)
        if (line !== undefined) emit(`${new Date().toISOString()} ${line}\n`)
      }
    })
  }
  return events
}

/** A start-up failure the owner can fix (data dir in use, port taken, bad policy) as a UsageError. */
function startupError (err: unknown, listenFromFlags: boolean): unknown {
  if (err instanceof PolicyValidationError) return new UsageError(err.message)
  if (err instanceof StoreError && (err.code === 'DataDirLocked' || err.code === 'DataDirUnusable')) return new UsageError(err.message)
  if (err instanceof IdentityFileError) return new UsageError(err.message)
  const code = (err as NodeJS.ErrnoException).code
  const msg = err instanceof Error ? err.message : String(err)
  const where = listenFromFlags ? 'a --listen address' : 'a listen address saved in Settings (start with --listen ADDRESS to override it, then change it in Settings)'
  if (code === 'EADDRINUSE' || /EADDRINUSE/.test(msg)) {
    const addrs = [...msg.matchAll(/^\s*(\/\S+): Error: listen EADDRINUSE/gm)].map((m) => m[1])
    return new UsageError(`cannot listen on ${addrs.length > 0 ? addrs.join(', ') : where}: address already in use (is another mesh-executor running? choose another port)`)
  }
  if ((err as Error).name === 'UnsupportedListenAddressesError' || (err as Error).name === 'UnsupportedListenAddressError') {
    return new UsageError(`cannot listen on ${where}: ${listenFailures(msg)}`)
  }
  return err
}

/**
 * libp2p's "Some configured addresses failed to be listened on…" with every address's error and its
 * stack, as one line: each address with its error's first line, and a hint for an address this
 * machine does not have.
 */
function listenFailures (msg: string): string {
  const each = [...msg.matchAll(/^\s*(\/\S+): (?:\w*Error: )?(.+)$/gm)].map(([, addr, why]) => {
    const hint = /EADDRNOTAVAIL/.test(why ?? '') ? ' (this machine has no such IP address; did it change?)' : ''
    return `${addr ?? ''}: ${why ?? ''}${hint}`
  })
  return each.length > 0 ? each.join('; ') : (msg.split('\n')[0] ?? msg)
}

async function launch (o: StartOptions, io: CliIo, host: DaemonHost, events: TypedEmitter<DaemonEvents>): Promise<Daemon> {
  const policy = o.policyFile === undefined ? undefined : await readPolicyFile(o.policyFile)
  try {
    return await startDaemon({
      dataDir: dataDirFrom(o.dataDir, io.env, homedir()), listen: o.listen, bootstrap: o.bootstrap, region: o.region, policy, policySource: o.policyFile,
      lan: o.lan, alias: o.alias, events, logLevel: o.logLevel, userIdleSeconds: host.userIdleSeconds, onBattery: host.onBattery, nat: o.nat
    })
  } catch (err) {
    throw startupError(err, o.listen !== undefined)
  }
}

async function dashboardOf (daemon: Daemon, port: number | undefined, host: DaemonHost): Promise<{ url: string, close: () => Promise<void> } | undefined> {
  if (port === undefined) return undefined
  const { startDashboard } = await import('../dashboard.js')
  try {
    return await startDashboard(daemon, port, { host })
  } catch (err) {
    await daemon.stop({ graceMs: 0 })
    if ((err as { code?: string }).code === 'PortInUse') throw new UsageError(`--ui-port ${port}: ${(err as Error).message}`)
    throw err
  }
}

/** The ready event (--json) or the ready block of text. */
function readyOutput (daemon: Daemon, uiUrl: string | undefined, json: boolean): string {
  const ready = {
    did: daemon.identity.did, peerId: daemon.identity.peerId, multiaddrs: daemon.node.multiaddrs(), dataDir: daemon.dataDir, region: daemon.region ?? null, ui: uiUrl ?? null,
    runtimes: daemon.sandbox.runtimeIds(), runtimeUnavailable: daemon.sandbox.unavailableReason() ?? null,
    reachability: daemon.reachability(), policy: daemon.policyInfo(), warnings: ownerWarnings(daemon.policy().policy),
    log: daemon.logDir !== undefined ? join(daemon.logDir, 'current.log') : null
  }
  if (json) return JSON.stringify({ event: 'ready', ...ready }) + '\n'
  const lines = ['mesh-executor ready', `  DID     ${ready.did}`, `  PeerId  ${ready.peerId}`, `  data    ${ready.dataDir}`,
    ...ready.multiaddrs.map((a) => `  listen  ${a}`),
    `  runs    ${ready.runtimes.length > 0 ? ready.runtimes.join(', ') : `nothing: ${ready.runtimeUnavailable ?? 'no sandbox'} (no bids)`}`,
    `  policy  ${describePolicy(ready.policy)}`,
    ...(ready.log !== null ? [`  log     ${ready.log}`] : []),
    ...(uiUrl !== undefined ? [`  dashboard ${uiUrl}`] : []), ...ready.warnings.map((w) => `  warning ${w}`)]
  return lines.join('\n') + '\n'
}

export async function runStart (argv: string[], io: CliIo): Promise<number> {
  const o = startOptions(argv)
  if (o === undefined) { io.stdout.write(START_USAGE); return 0 }
  const emit = eventOutput(io.stdout, o.json)
  // listen for SIGINT/SIGTERM before anything starts: a signal during start-up still stops cleanly
  const stop = stopRequested(io)
  // node.setMachineState (the desktop shell's powerMonitor) and node.shutdown (its quit) through the API
  const host = createDaemonHost({ graceSeconds: o.grace })
  const daemon = await launch(o, io, host, forwardEvents(emit, o.json))
  const ui = await dashboardOf(daemon, o.uiPort, host)
  const parent = parentPidFrom(io.env)
  const stopWatching = parent === undefined ? () => {} : watchParent(parent, () => { host.requestShutdown() })
  emit(readyOutput(daemon, ui?.url, o.json))
  const asked = await Promise.race([stop.then(() => undefined), host.shutdownRequested])
  stopWatching()
  await ui?.close()
  await daemon.stop({ graceMs: (asked?.graceSeconds ?? o.grace) * 1000 })
  return 0
}

/** Reads a --policy file: a regular file of at most MAX_POLICY_BYTES, parsed as JSON. UsageError otherwise. */
async function readPolicyFile (file: string): Promise<unknown> {
  let text: string
  try {
    const fh = await open(file, 'r')
    try {
      const st = await fh.stat()
      if (!st.isFile()) throw new UsageError(`policy file ${file} is not a regular file`)
      if (st.size > MAX_POLICY_BYTES) throw new UsageError(`policy file ${file} is ${st.size} bytes; a policy is at most ${MAX_POLICY_BYTES / 1024} KiB`)
      const buf = Buffer.alloc(MAX_POLICY_BYTES + 1)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      if (bytesRead > MAX_POLICY_BYTES) throw new UsageError(`policy file ${file} is larger than ${MAX_POLICY_BYTES / 1024} KiB`)
      text = buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`cannot read policy file ${file}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`policy file ${file} is not valid JSON: ${(err as Error).message}`)
  }
}

function describePolicy (p: ReturnType<Daemon['policyInfo']>): string {
  const which = p.version === undefined ? 'built-in default' : `version ${p.version} (${p.source})`
  if (p.file === undefined) return which
  return p.file.applied ? `${which}; applied ${p.file.path}` : `${which}; ${p.file.path} unchanged since it was applied as version ${p.file.appliedVersion}, not re-applied`
}

