import { test } from 'node:test'
import assert from 'node:assert/strict'
import { libp2pLogger } from '../../../src/main/mesh/quiet-logger.js'

test('libp2p gets a no-op logger unless DEBUG is set, and its own default logger when it is', () => {
  const quiet = libp2pLogger({})
  assert.ok(quiet !== undefined)
  const log = quiet.forComponent('libp2p:dialer')
  assert.equal(log.enabled, false)
  const scoped = log.newScope('stream').newScope('select')
  assert.equal(scoped.enabled, false)
  assert.equal(log('%s', 'x'), undefined)
  log.error('nothing printed'); log.trace('nothing printed'); scoped.error('nothing printed')
  assert.ok(libp2pLogger({ DEBUG: ' ' }) !== undefined, 'a blank DEBUG enables nothing')
  assert.equal(libp2pLogger({ DEBUG: 'libp2p:*' }), undefined, 'DEBUG hands the namespaces back to libp2p')
})
