/** `POST /api/<method>` with a JSON object body → `{ ok, result | error }` (the API validates the arguments). */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from '../../shared/api/index.js'
import type { UiContext } from './context.js'
import { sendError, sendJson } from './http.js'

async function readBody (req: IncomingMessage, maxBody: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const b = chunk as Buffer
    size += b.length
    if (size > maxBody) throw new ApiError('BadRequest', `request body larger than ${maxBody} bytes`)
    chunks.push(b)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The arguments of a call: an empty body is `{}`. */
async function readArgs (req: IncomingMessage, maxBody: number): Promise<unknown> {
  const text = await readBody(req, maxBody)
  try {
    return text.trim().length === 0 ? {} : JSON.parse(text)
  } catch {
    throw new ApiError('BadRequest', 'request body is not valid JSON')
  }
}

export async function handleApi (ctx: UiContext, req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST')
    sendError(res, 'BadRequest', `use POST /api/${method} with a JSON body`)
    return
  }
  const ct = req.headers['content-type'] ?? ''
  if (!ct.toLowerCase().startsWith('application/json')) {
    sendError(res, 'BadRequest', 'Content-Type must be application/json')
    return
  }
  try {
    const args = await readArgs(req, ctx.maxBodyBytes)
    const result = await ctx.api.call(method, args)
    sendJson(res, 200, { ok: true, result })
  } catch (err) {
    if (err instanceof ApiError) sendError(res, err.code, err.message)
    else {
      ctx.log.error({ err, method }, 'API call failed')
      sendError(res, 'Internal', err instanceof Error ? err.message : 'internal error')
    }
  }
}
