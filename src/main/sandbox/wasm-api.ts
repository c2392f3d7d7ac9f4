/**
 * Typed access to the engine's WebAssembly API (the project's `lib` has no DOM typings, and
 * @types/node only declares a partial `WebAssembly` namespace).
 */
export interface WasmMemory { readonly buffer: ArrayBuffer }
export interface WasmGlobal { value: unknown }
/** Opaque compiled module (structured-cloneable to workers). */
export interface WasmModule { readonly __brand?: 'WasmModule' }
export interface WasmInstance { readonly exports: Record<string, unknown> }
export type WasmImports = Record<string, Record<string, unknown>>

interface WasmApi {
  validate (bytes: Uint8Array): boolean
  compile (bytes: Uint8Array): Promise<WasmModule>
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance
  RuntimeError: new (message?: string) => Error
  CompileError: new (message?: string) => Error
  LinkError: new (message?: string) => Error
}

export const WA: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
