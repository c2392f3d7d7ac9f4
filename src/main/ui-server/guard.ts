/**
 * Who may use the server: DNS-rebinding defence (the Host header must be 127.0.0.1:<port> or
 * localhost:<port>; an Origin header, when present, that same origin; `Sec-Fetch-Site: cross-site`
 * refused), then the token (`?token=`, `Authorization: Bearer`, or the cookie).
 */
import type { IncomingMessage } from 'node:http'
import { timingSafeEqual } from 'node:crypto'

export const TOKEN_COOKIE = 'mesh_ui_token'

/** Why a request is refused: [status, message]. */
export type Denial = [number, string]
/** Returns a denial, or undefined when the request may proceed (a public file needs no token). */
export type Guard = (req: IncomingMessage, url: URL, publicFile?: boolean) => Denial | undefined

function sameToken (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

export function createGuard (token: string, port: () => number): Guard {
  const allowedHosts = (): string[] => [`127.0.0.1:${port()}`, `localhost:${port()}`]
  const allowedOrigins = (): string[] => [`http://127.0.0.1:${port()}`, `http://localhost:${port()}`]
  return (req, url, publicFile = false) => {
    const host = req.headers.host
    if (host === undefined || !allowedHosts().includes(host.toLowerCase())) return [403, 'forbidden: unexpected Host header']
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins().includes(origin.toLowerCase())) return [403, 'forbidden: cross-origin request']
    if (req.headers['sec-fetch-site'] === 'cross-site') return [403, 'forbidden: cross-site request']
    if (publicFile) return undefined
    const auth = req.headers.authorization
    const bearer = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7).trim() : undefined
    const candidates = [url.searchParams.get('token') ?? undefined, bearer, cookieValue(req.headers.cookie, TOKEN_COOKIE)]
    if (!candidates.some((c) => c !== undefined && sameToken(c, token))) return [401, 'unauthorized: run `mesh-executor dashboard` for the address with the access token (it is also printed by `mesh-executor start`)']
    return undefined
  }
}
