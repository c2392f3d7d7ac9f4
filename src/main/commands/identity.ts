/** `mesh-executor identity`: this node's DID and PeerId (creating the key, and saying so, when there is none). */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { IdentityFileError, loadIdentityFile, loadOrCreateIdentityFile } from '../../shared/protocol/index.js'
import { dataDirFrom, parseFlags, UsageError, type CliIo } from './io.js'

export const IDENTITY_USAGE = `usage: mesh-executor identity [--data-dir DIR] [--json]

Prints this node's DID and PeerId. When the data directory holds no key yet, a new one is created
(and the command says so); --no-create refuses instead.

  --data-dir DIR   the node's data directory (default ~/.mesh-executor, or $MESH_EXECUTOR_DATA_DIR)
  --no-create      do not create a key: exit 1 when there is none
  --json           {"did":…,"peerId":…,"created":…} on stdout
`

export async function runIdentity (argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, 'no-create': { type: 'boolean' }, help: { type: 'boolean' } })
  if (values.help === true) { io.stdout.write(IDENTITY_USAGE); return 0 }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const path = join(resolve(dataDirFrom(values['data-dir'] as string | undefined, io.env, homedir())), 'identity.json')
  let id
  let created = false
  try {
    id = await loadIdentityFile(path)
  } catch (err) {
    if (!(err instanceof IdentityFileError) || err.code !== 'NotFound') throw new UsageError((err as Error).message)
    if (values['no-create'] === true) {
      io.stderr.write(`mesh-executor identity: no key in ${path} (run without --no-create to create one)\n`)
      return 1
    }
    try {
      id = await loadOrCreateIdentityFile(path)
    } catch (e) {
      throw new UsageError((e as Error).message)
    }
    created = true
  }
  if (values.json === true) io.stdout.write(JSON.stringify({ did: id.did, peerId: id.peerId, created, keyFile: path }) + '\n')
  else {
    if (created) io.stderr.write(`created a new key in ${path} (keep it private: it is this node's identity)\n`)
    io.stdout.write(`DID     ${id.did}\nPeerId  ${id.peerId}\n`)
  }
  return 0
}
