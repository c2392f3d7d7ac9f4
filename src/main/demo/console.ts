/** The demo's console: time-stamped, tagged, optionally coloured lines on stdout. */
export type Paint = (s: string) => string

export interface DemoConsole {
  log(who: string, text: string, color?: Paint): void
  heading(text: string): void
  dim: Paint
  bold: Paint
  green: Paint
  red: Paint
  yellow: Paint
  cyan: Paint
  magenta: Paint
}

const WHO_WIDTH = 12

export function createConsole (out: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv): DemoConsole {
  const color = out.isTTY === true && env.NO_COLOR === undefined
  const paint = (code: number): Paint => (s) => color ? `\u001b[${code}m${s}\u001b[0m` : s
  const dim = paint(2)
  const t0 = Date.now()
  const stamp = (): string => dim(`+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`)
  return {
    log (who, text, c = (s) => s) {
      const tag = c(`[${who}]`.padEnd(WHO_WIDTH))
      for (const [i, line] of text.split('\n').entries()) out.write(`${i === 0 ? stamp() : ' '.repeat(7)} ${tag} ${line}\n`)
    },
    heading (text) { out.write(`\n${paint(1)(`── ${text}`)}\n`) },
    dim,
    bold: paint(1),
    green: paint(32),
    red: paint(31),
    yellow: paint(33),
    cyan: paint(36),
    magenta: paint(35)
  }
}
