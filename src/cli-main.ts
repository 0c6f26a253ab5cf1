import { runCli } from './cli.js'

runCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`journey: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
