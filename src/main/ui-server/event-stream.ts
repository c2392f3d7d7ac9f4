/**
 * Live events: `GET /api/events` upgraded to a WebSocket (behind the same guard as every request);
 * every ApiEvent is sent as JSON text, starting with the current status. Anything else is refused
 * with a plain HTTP answer, and no upgrade, however malformed, reaches the process's top level.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { UiContext } from './context.js'
import type { Denial, Guard } from './guard.js'

export interface EventStream {
  /** The server's 'upgrade' listener. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Number of open event-stream sockets. */
  connections(): number
  /** Terminates every socket and closes the WebSocket server. */
  close(): Promise<void>
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }

function refuseUpgrade (socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}`)
}

/** Streams the API's events to one socket until it closes. */
function streamEvents (ctx: UiContext, ws: WebSocket, sockets: Set<WebSocket>): void {
  sockets.add(ws)
  const off = ctx.api.onEvent((event) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event))
  })
  ws.on('message', () => { /* the event stream is one-way; commands go through POST /api */ })
  ws.on('close', () => { off(); sockets.delete(ws) })
  ws.on('error', () => { off(); sockets.delete(ws) })
  // Initial snapshot so clients know the stream is live.
  ctx.api.call('node.status', {}).then((status) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'status:changed', payload: status }))
  }, (err: unknown) => { ctx.log.debug({ err }, 'no initial status for an event stream (the client will ask)') })
}

export function createEventStream (ctx: UiContext, guard: Guard): EventStream {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  const sockets = new Set<WebSocket>()
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1')
    } catch {
      refuseUpgrade(socket, 400, 'bad request URL')
      return
    }
    const denied = url.pathname === '/api/events' ? guard(req, url) : [404, 'not found'] as Denial
    if (denied !== undefined) {
      refuseUpgrade(socket, denied[0], denied[1])
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => { streamEvents(ctx, ws, sockets) })
  }
  return {
    onUpgrade (req, socket, head) {
      // a client that resets mid-handshake must not surface as an unhandled 'error' (it would kill the daemon)
      socket.on('error', () => { socket.destroy() })
      try {
        upgrade(req, socket, head)
      } catch {
        // any request, however malformed, gets an answer and never reaches the process's top level
        if (!socket.destroyed) refuseUpgrade(socket, 400, 'bad request')
      }
    },
    connections: () => sockets.size,
    async close () {
      for (const ws of sockets) ws.terminate()
      sockets.clear()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}
