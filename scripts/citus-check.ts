// Citus readiness, proven on plain PostgreSQL (PGlite here, migrated from db/migrations): the
// catalogue lint, the static audit of the SQL in src/ and routes/ and of every captured statement,
// and, given a capture of a test run (JOURNEY_SQL_CAPTURE_PATH), the shard emulation.
// Usage: tsx scripts/citus-check.ts [--capture statements.jsonl]        exit 1 on any problem
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runChecks, readCapture } from './citus/checks.js'

const { values } = parseArgs({ options: { capture: { type: 'string' } } })
const root = fileURLToPath(new URL('..', import.meta.url))
if (values.capture !== undefined && !existsSync(values.capture)) {
  console.error(`no capture at ${values.capture}: did the test run set JOURNEY_SQL_CAPTURE_PATH?`)
  process.exit(1)
}
const statements = values.capture === undefined ? undefined : readCapture(readFileSync(values.capture, 'utf8'))
const report = await runChecks({ root, statements })
for (const line of report.lines) console.log(line)
process.exit(report.problems > 0 ? 1 : 0)
