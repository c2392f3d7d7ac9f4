import type { ReasonCode } from './types.js'

/** A protocol-level rejection carrying one reason code of the wire profile (sections 7 and 8). */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
  readonly reason: ReasonCode
  constructor (reason: ReasonCode, message: string) {
    super(message)
    this.reason = reason
  }
}

