/** Response basics: the security headers every answer carries (strict CSP, no framing, no-store) and JSON answers. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HTTP_STATUS, type ApiErrorCode } from '../../shared/api/index.js'

export function contentSecurityPolicy (port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}

export function setSecurityHeaders (res: ServerResponse, port: number): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(port))
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
  res.setHeader('Cache-Control', 'no-store')
}

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

export function sendError (res: ServerResponse, code: ApiErrorCode, message: string): void {
  sendJson(res, HTTP_STATUS[code], { ok: false, error: { code, message } })
}

/** Did a browser ask for a page (not a script, an API client or an asset)? */
export const wantsHtml = (req: IncomingMessage): boolean => (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html')

/** An HTML page answer (no body for HEAD). */
export function sendHtml (req: IncomingMessage, res: ServerResponse, status: number, page: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' })
  res.end(req.method === 'HEAD' ? undefined : page)
}
