/** Errors of the mesh layer. Tests match them by `name` and `code`. */

export type MeshErrorCode =
  | 'InvalidOptions'
  | 'NotStarted'
  | 'AlreadyStarted'
  | 'TooLarge'
  | 'Timeout'
  | 'Aborted'
  | 'Transport'
  | 'BadAnswer'
  | 'NotFound'
  | 'RelayLimited'
  | 'CidMismatch'
  | 'InvalidInput'

export class MeshError extends Error {
  override name = 'MeshError'
  readonly code: MeshErrorCode
  constructor (code: MeshErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

