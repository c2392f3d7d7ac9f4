/** The typed handler table: one handler per API method, grouped by the method's prefix. */
import type { ApiArgs, ApiMethod, ApiResult } from '../../../shared/api/index.js'

/** Runs one method on validated arguments (throws ApiError). */
export type Handler<M extends ApiMethod> = (args: ApiArgs<M>) => ApiResult<M> | Promise<ApiResult<M>>
/** A handler for each of the methods K: a method without one does not compile. */
export type Handlers<K extends ApiMethod> = { [M in K]: Handler<M> }
/** The methods of a group, by prefix: `MethodsOf<'node'>` is every `node.*` method of the contract. */
export type MethodsOf<P extends string> = Extract<ApiMethod, `${P}.${string}`>
