/** Process entry of the `mesh-executor` command. */
import { main } from './cli.js'

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env })
process.exitCode = code
// Everything we own is closed by now; do not let a stray library timer keep the process alive.
setTimeout(() => { process.exit(code) }, 2000).unref()
