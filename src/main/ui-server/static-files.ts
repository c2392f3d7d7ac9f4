/**
 * The renderer bundle (dist/renderer): the first load swaps a `?token=` for the cookie, known file
 * types only, nothing outside the bundle's directory, a not-found page for browsers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join, normalize, sep, extname } from 'node:path'
import type { UiContext } from './context.js'
import { TOKEN_COOKIE } from './guard.js'
import { sendHtml, wantsHtml } from './http.js'
import { NOT_FOUND_PAGE } from './pages.js'

/** Files any local browser may load without the token: what the "how to get in" page shows (nothing secret). */
export const PUBLIC_FILES = new Set(['/favicon.ico', '/icon.png', '/app.css'])

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8'
}

/** Swap the URL token for a cookie and drop it from the address bar and history. */
function swapTokenForCookie (ctx: UiContext, res: ServerResponse, url: URL): void {
  res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${ctx.token}; HttpOnly; SameSite=Strict; Path=/`)
  url.searchParams.delete('token')
  res.writeHead(303, { Location: '/' + url.pathname.replace(/^\/+/, '') + (url.search.length > 1 ? url.search : '') + url.hash })
  res.end()
}

/** The bundle path a URL path names (unsafe or odd paths name a file that cannot exist). */
function bundlePath (pathname: string): string {
  let rel: string
  try { rel = decodeURIComponent(pathname) } catch { rel = '/invalid.none' }
  if (rel.includes('..') || rel.includes('\0')) rel = '/invalid.none'
  if (rel === '/' || !extname(rel)) rel = '/index.html' // client-side routes use #hash, but be lenient
  if (rel === '/favicon.ico') rel = '/icon.png'
  return rel
}

function notFound (req: IncomingMessage, res: ServerResponse, text: string): void {
  if (wantsHtml(req)) {
    sendHtml(req, res, 404, NOT_FOUND_PAGE)
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(text)
  }
}

export async function handleStatic (ctx: UiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('method not allowed')
    return
  }
  if (url.searchParams.has('token')) {
    swapTokenForCookie(ctx, res, url)
    return
  }
  const rel = bundlePath(url.pathname)
  const file = normalize(join(ctx.rendererDir, rel))
  const type = MIME[extname(file)]
  if (!file.startsWith(normalize(ctx.rendererDir) + sep) || type === undefined) {
    notFound(req, res, 'not found')
    return
  }
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    notFound(req, res, rel === '/index.html' ? 'renderer bundle not built: run `node scripts/build-renderer.mjs`' : 'not found')
    return
  }
  // the icon and the stylesheet may be cached (they carry no state); everything else is no-store
  if (PUBLIC_FILES.has(url.pathname)) res.setHeader('Cache-Control', 'max-age=3600')
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length })
  res.end(req.method === 'HEAD' ? undefined : body)
}
