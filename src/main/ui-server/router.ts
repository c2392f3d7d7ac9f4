/**
 * Request routing: security headers on every answer, the guard (403, or 401 — a page for a person
 * in a browser), no preflights (405), then `/api/<method>` to the API handler and the rest to the
 * renderer's static files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { handleApi } from './api-handler.js'
import type { UiContext } from './context.js'
import type { Guard } from './guard.js'
import { sendError, sendHtml, setSecurityHeaders, wantsHtml } from './http.js'
import { UNAUTHORIZED_PAGE } from './pages.js'
import { handleStatic, PUBLIC_FILES } from './static-files.js'

/** Answers a refused request; returns false when it may proceed. */
function refused (guard: Guard, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const denied = guard(req, url, req.method === 'GET' || req.method === 'HEAD' ? PUBLIC_FILES.has(url.pathname) : false)
  if (denied === undefined) return false
  if (denied[0] === 401 && wantsHtml(req) && !url.pathname.startsWith('/api/')) {
    // a person in a browser: say how to get in, not a JSON error
    sendHtml(req, res, 401, UNAUTHORIZED_PAGE)
    return true
  }
  sendError(res, denied[0] === 401 ? 'Unauthorized' : 'Forbidden', denied[1])
  return true
}

export function createRouter (ctx: UiContext, guard: Guard): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    setSecurityHeaders(res, ctx.port())
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1')
    } catch {
      sendError(res, 'BadRequest', 'bad request URL')
      return
    }
    if (refused(guard, req, res, url)) return
    if (req.method === 'OPTIONS') {
      res.writeHead(405, { Allow: 'GET, HEAD, POST' })
      res.end()
      return
    }
    const task = url.pathname.startsWith('/api/')
      ? handleApi(ctx, req, res, url.pathname.slice('/api/'.length))
      : handleStatic(ctx, req, res, url)
    task.catch((err: unknown) => {
      ctx.log.error({ err, path: url.pathname }, 'request failed')
      if (!res.headersSent) sendError(res, 'Internal', err instanceof Error ? err.message : 'internal error')
      else res.destroy()
    })
  }
}
