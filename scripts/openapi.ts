// Writes the OpenAPI document the app serves to openapi/openapi.json (--write), or fails when
// the committed file differs from it (--check), so the contract never drifts from the code.
import { readFile, writeFile } from 'node:fs/promises'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export const openApiPath = new URL('../openapi/openapi.json', import.meta.url)

export async function generateOpenApi(): Promise<string> {
  const app = await buildApp(loadConfig({ dataDir: 'memory://', logLevel: 'silent', announce: () => {} }, {}))
  try {
    await app.ready()
    return `${JSON.stringify(app.swagger(), null, 2)}\n`
  } finally {
    await app.close()
  }
}

async function main() {
  const mode = process.argv[2]
  const generated = await generateOpenApi()
  if (mode === '--write') {
    await writeFile(openApiPath, generated)
    process.stdout.write('openapi/openapi.json written\n')
    return
  }
  const committed = await readFile(openApiPath, 'utf8').catch(() => '')
  if (committed !== generated) {
    process.stderr.write('openapi/openapi.json differs from the document the app serves: run `npm run openapi` and commit it\n')
    process.exit(1)
  }
  process.stdout.write('openapi/openapi.json matches the app\n')
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  })
}
