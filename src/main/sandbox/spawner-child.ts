/**
 * The spawner process (forked by spawner.ts): starts sandbox host processes for the app and hands
 * their stdio pipes back over the IPC channel, so the app's own event loop never pays for a fork.
 *
 * Messages in: {spawn: id, binary, args} and {kill: id, signal}. Out: {ready: true};
 * {id, pid, fd: 'stdin'|'stdout'|'stderr'} with the pipe as the handle (three per spawn);
 * {id, error} when the host could not be started; {id, exit: code, signal} once it is gone.
 * It exits when the app goes (the channel closes, or this process is reparented), killing the hosts
 * it still holds.
 */
import { spawn, type ChildProcess } from 'node:child_process'

interface SpawnRequest { spawn: number, binary: string, args: string[] }
interface KillRequest { kill: number, signal: NodeJS.Signals }

const children = new Map<number, ChildProcess>()
const send = (m: object, handle?: unknown): void => {
  if (process.connected) process.send?.(m, handle as never)
}

function start (r: SpawnRequest): void {
  const child = spawn(r.binary, r.args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let settled = false
  child.on('error', (e) => {
    if (child.pid === undefined && !settled) { settled = true; send({ id: r.spawn, error: e.message }) }
  })
  if (child.pid === undefined) return // the 'error' event says why
  // Node's sockets start reading at once: stop them before this loop reads a byte, or a frame the
  // host writes before its pipe reaches the app (HELLO, even a RESULT) would be consumed here
  for (const s of [child.stdout, child.stderr]) (s as unknown as { _handle?: { readStop?: () => void } } | null)?._handle?.readStop?.()
  children.set(r.spawn, child)
  settled = true
  send({ id: r.spawn, pid: child.pid, fd: 'stdin' }, child.stdin)
  send({ id: r.spawn, fd: 'stdout' }, child.stdout)
  send({ id: r.spawn, fd: 'stderr' }, child.stderr)
  child.on('exit', (code, signal) => {
    children.delete(r.spawn)
    send({ id: r.spawn, exit: code, signal })
  })
}

process.on('message', (m: SpawnRequest | KillRequest) => {
  if ('spawn' in m) start(m)
  else if ('kill' in m) children.get(m.kill)?.kill(m.signal)
})
const shutdown = (): void => {
  for (const c of children.values()) c.kill('SIGKILL')
  process.exit(0)
}
process.on('disconnect', shutdown)
// The app may be gone without a 'disconnect' reaching us: killed while a pipe was on its way (its
// handle not yet acknowledged; seen on Node 20), or before this module finished loading (the event
// fired with no listener). The app passes its pid: not being its child any more says it is gone.
const app = Number(process.argv[2])
const appGone = (): boolean => !process.connected || (Number.isSafeInteger(app) && app > 0 && process.ppid !== app)
if (appGone()) shutdown()
setInterval(() => { if (appGone()) shutdown() }, 200)
send({ ready: true })
