import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

// ---- layers (docs/ARCHITECTURE.md): a layer imports only from layers below it ---------------------
const SERVICES = ['mesh', 'sandbox', 'store', 'market', 'probe']
const ORCHESTRATION = ['jobs', 'originator', 'market-rate', 'export']
const PRESENTATION = ['api', 'ui-server']
const ENTRY = ['daemon', 'commands', 'electron', 'demo']

/** Files in `dirs` may not import from `forbidden` folders (type-only imports allowed where `types` says). */
function layer (dirs, forbidden, { types = true, message } = {}) {
  return {
    files: dirs.map((d) => `src/${d}/**/*.ts`),
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: [...forbidden.map((f) => `**/${f}/**`), ...(forbidden.includes('main') ? [] : ['!**/shared/**'])], allowTypeImports: types, message }]
      }]
    }
  }
}
const without = (xs, x) => xs.filter((y) => y !== x)

const layering = [
  layer(['shared'], ['main', 'renderer'], { types: false, message: 'src/shared runs anywhere: it imports nothing of src/main or src/renderer' }),
  layer(['renderer'], ['main'], { types: false, message: 'the renderer speaks only the UI API (src/shared/api)' }),
  // services depend on shared and the logger only; each other only through types (ports)
  ...SERVICES.map((s) => layer([`main/${s}`], [...without(SERVICES, s), ...ORCHESTRATION, ...PRESENTATION, ...ENTRY], { message: `services do not import each other (types only) nor anything above them (${s})` })),
  layer(['main/log'], [...SERVICES, ...ORCHESTRATION, ...PRESENTATION, ...ENTRY], { types: false, message: 'the logger is the bottom of src/main' }),
  layer(ORCHESTRATION.map((d) => `main/${d}`), [...PRESENTATION, ...ENTRY], { types: false, message: 'orchestration does not import the presentation layer or entry points' }),
  layer(['main/daemon'], [...PRESENTATION, 'commands', 'electron', 'demo'], { types: false, message: 'the daemon is the composition root below the API and the entry points' }),
  layer(PRESENTATION.map((d) => `main/${d}`), ['commands', 'electron'], { types: false, message: 'the API and UI server do not import entry points' }),
  layer(['main/demo'], [...PRESENTATION, 'daemon', 'commands', 'electron'], { types: false, message: 'the demo drives daemons as processes and an originator in-process: no API, daemon internals or entry points' }),
  layer(['main/commands'], ['electron'], { types: false, message: 'the CLI has no Electron' }),
  layer(['main/electron'], [...SERVICES, ...ORCHESTRATION, ...PRESENTATION, 'daemon', 'commands', 'demo'], { message: 'the Electron shell talks to the daemon over its API only (no libp2p, SQLite or sandbox in its bundle)' })
]

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'assets/**', 'test-artifacts/**', 'out/**', 'src/main/sandbox/host/target/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } }
  },
  ...layering
)
