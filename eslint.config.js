// Syntax-level linting only (no type information), so `npm run lint` stays fast; tsc checks types.
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import tseslint from 'typescript-eslint'

// The globals of the Node that runs ESLint, so plain .js files (bin/, this file) may use
// process, console, fetch… without another dependency.
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
)

export default defineConfig([
  globalIgnores([
    'scratch/',
    'node_modules/',
    'dist/',
    'data/',
    'coverage/',
    '.tap/',
    'openapi/',
    'db/migrations/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
])
