/**
 * The end of a switch that must handle every member of a union (protocol variants, job states, event
 * types): a member added later and not handled fails to compile here instead of being ignored at run time.
 */
export function unreachable (x: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`)
}
