/**
 * Named errors of the sandbox. `code` is a FailureReason when the error maps to one.
 * `Unavailable`: the sandbox host binary is missing or does not run (see `Sandbox.unavailableReason()`).
 */
import type { FailureReason } from '../../shared/protocol/types.js'

export type SandboxErrorCode = FailureReason | 'BadJob' | 'Closed' | 'Unavailable'

export class SandboxError extends Error {
  override name = 'SandboxError'
  readonly code: SandboxErrorCode
  constructor (code: SandboxErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
