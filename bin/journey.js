#!/usr/bin/env node
// The `journey` CLI: the compiled build when there is one (the container), else the TypeScript source.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/src/cli-main.js', import.meta.url))
if (existsSync(compiled)) {
  await import(compiled)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli-main.ts')
}
