/** Start at login: Electron's login item on macOS/Windows, an XDG autostart entry on Linux. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyLoginItem, autostartEntry, autostartPath } from '../../../src/main/electron/login-item.js'

const app = (): { calls: unknown[], setLoginItemSettings: (s: unknown) => void } => {
  const calls: unknown[] = []
  return { calls, setLoginItemSettings: (s) => { calls.push(s) } }
}

test('macOS/Windows: Electron login item with --minimized as an argument', async () => {
  const a = app()
  await applyLoginItem(a, true, true, { platform: 'win32', env: {}, execPath: 'C:\\Mesh\\mesh.exe', home: 'C:\\Users\\x' })
  await applyLoginItem(a, false, false, { platform: 'darwin', env: {}, execPath: '/x', home: '/Users/x' })
  assert.deepEqual(a.calls, [{ openAtLogin: true, args: ['--minimized'] }, { openAtLogin: false, args: [] }])
})

test('Linux: an XDG autostart entry written on, removed off; XDG_CONFIG_HOME and AppImage respected', async () => {
  const home = await mkdtemp(join(tmpdir(), 'mesh-login-'))
  try {
    const a = app()
    const t = { platform: 'linux' as const, env: {}, execPath: '/opt/Mesh Executor/mesh-executor', home }
    await applyLoginItem(a, true, true, t)
    const path = join(home, '.config', 'autostart', 'mesh-executor.desktop')
    assert.equal(autostartPath(t), path)
    const text = await readFile(path, 'utf8')
    assert.match(text, /^\[Desktop Entry\]\nType=Application\n/)
    assert.match(text, /\nExec="\/opt\/Mesh Executor\/mesh-executor" --minimized\n/)
    assert.equal((await stat(path)).mode & 0o777, 0o644)
    assert.deepEqual(a.calls, [], 'no Electron login item on Linux')
    await applyLoginItem(a, true, false, t)
    assert.match(await readFile(path, 'utf8'), /\nExec="\/opt\/Mesh Executor\/mesh-executor"\n/)
    await applyLoginItem(a, false, false, t)
    await assert.rejects(stat(path), { code: 'ENOENT' })
    await applyLoginItem(a, false, false, t) // already off: fine

    const xdg = join(home, 'xdg')
    assert.equal(autostartPath({ env: { XDG_CONFIG_HOME: xdg }, home }), join(xdg, 'autostart', 'mesh-executor.desktop'))
    // an AppImage runs from a temporary mount: the entry starts the AppImage file itself
    assert.match(autostartEntry({ env: { APPIMAGE: '/home/x/Apps/Mesh-Executor.AppImage' }, execPath: '/tmp/.mount_Mesh/mesh-executor' }, false), /\nExec=\/home\/x\/Apps\/Mesh-Executor\.AppImage\n/)
    assert.match(autostartEntry({ env: {}, execPath: '/a/$b`c"d' }, false), /\nExec="\/a\/\\\$b\\`c\\"d"\n/)
  } finally {
    await rm(home, { recursive: true, force: true })
  }
})
