/**
 * Named errors of the sandbox. `code` is a FailureReason when the error maps to one.
 */
import type { FailureReason } from '../../shared/protocol/types.js'

export class SandboxError extends Error {
  override name = 'SandboxError'
  readonly code: FailureReason | 'BadJob' | 'Closed'
  constructor (code: FailureReason | 'BadJob' | 'Closed', message: string) {
    super(message)
    this.code = code
  }
}

/** The module bytes are not an acceptable job module (maps to FailureReason `InvalidModule`). */
export class InvalidModuleError extends Error {
  override name = 'InvalidModuleError'
  readonly code = 'InvalidModule' as const
}

/** The module parsed but its initial memory is already above the memory cap (FailureReason `MemoryLimit`). */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError'
  readonly code = 'MemoryLimit' as const
}
