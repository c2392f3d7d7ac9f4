/** The benchmarks' command line: `--name value` options and `--flag` switches. */
const argv = process.argv.slice(2)

function option (name: string): string | undefined {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : undefined
}

/** `--name N`; a value that is not a number ends the bench with exit 2 and one line. */
export function numberArg (name: string, dflt: number): number {
  const v = option(name)
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n)) {
    console.error(`--${name} must be a number, got "${v}"`)
    process.exit(2)
  }
  return n
}

export const stringArg = (name: string, dflt: string): string => option(name) ?? dflt

export const flag = (name: string): boolean => argv.includes(`--${name}`)
