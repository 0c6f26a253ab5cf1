// The three Citus readiness checks over one scratch database (an in-memory PGlite migrated from
// db/migrations): catalogue lint, static audit (source and captured statements), shard emulation.
import { migrateDatabase, openDatabase } from '../../src/store/database.js'
import type { CapturedStatement } from '../../src/store/statement-capture.js'
import { lintCatalogue, type Rows } from './catalogue-lint.js'
import { crossTenant as defaultCrossTenant } from './cross-tenant.js'
import { partitionByTenant, replan, type CrossTenant, type Verdict } from './shard-emulation.js'
import { sourceSql } from './source-sql.js'
import { loadParser, parseStatement, problemsOf, problemsOfFragment, problemsOfText } from './static-audit.js'

/** Forbidden calls the source may make off the request path, and why. */
const offRequestPath = [
  {
    file: 'src/store/database.ts', problem: 'pg_advisory_lock',
    why: 'migrations (not a request path) serialize instances that start together; on Citus they run on the coordinator, where DDL is sent from',
  },
]

export interface CheckOptions {
  root: string
  /** Directories of TypeScript whose SQL the static audit reads (default src, routes). */
  sourceDirs?: readonly string[]
  /** A capture of a test run: the static audit parses it and the shard emulation re-plans it. */
  statements?: readonly CapturedStatement[]
  /** SQL run as the owner after migrating, before the checks: tests break the schema with it. */
  schemaChange?: string
  crossTenant?: readonly CrossTenant[]
}

export interface Report {
  problems: number
  lines: string[]
  catalogue: string[]
  audit: string[]
  shards: Verdict[]
}

function isCaptured(value: unknown): value is CapturedStatement {
  if (typeof value !== 'object' || value === null) return false
  const tenant: unknown = Reflect.get(value, 'tenant')
  return typeof Reflect.get(value, 'text') === 'string' && Array.isArray(Reflect.get(value, 'params'))
    && typeof Reflect.get(value, 'role') === 'string' && (tenant === null || typeof tenant === 'string')
    && ['service', 'tests'].includes(String(Reflect.get(value, 'by')))
}

/** The service's statements of a capture file (JSON lines), each distinct text once; the tests' own are left out. */
export function readCapture(content: string): CapturedStatement[] {
  const byText = new Map<string, CapturedStatement>()
  for (const line of content.split('\n')) {
    if (line.trim() === '') continue
    const entry: unknown = JSON.parse(line)
    if (!isCaptured(entry)) throw new Error(`not a captured statement: ${line.slice(0, 200)}`)
    if (entry.by === 'service' && entry.role !== 'none' && !byText.has(entry.text)) byText.set(entry.text, entry)
  }
  return [...byText.values()]
}

export async function runChecks(options: CheckOptions): Promise<Report> {
  const started = Date.now()
  const dbOptions = { dataDir: 'memory://', poolSize: 1 }
  const database = await openDatabase(dbOptions)
  const pglite = database.pglite
  if (!pglite) throw new Error('expected the embedded database')
  try {
    await migrateDatabase(database, dbOptions)
    await pglite.exec('set role none')
    const rows: Rows = async (text) => {
      const results = await pglite.exec(text)
      return results[results.length - 1]?.rows ?? []
    }
    if (options.schemaChange) await rows(options.schemaChange)
    await loadParser()
    const volatile = new Set((await rows(`select distinct proname as name from pg_proc where provolatile = 'v'`)).map((r) => String(r.name)))

    const catalogue = await lintCatalogue(rows)

    const audit: string[] = []
    for (const found of sourceSql(options.root, options.sourceDirs ?? ['src', 'routes'])) {
      const problems = found.kind === 'template' ? problemsOfFragment(found.text, volatile) : problemsOfText(found.text)
      for (const problem of problems) {
        if (!offRequestPath.some((o) => found.where.startsWith(`${o.file}:`) && problem.includes(o.problem))) audit.push(`${found.where}: ${problem}`)
      }
    }
    for (const statement of options.statements ?? []) {
      const tree = parseStatement(statement.text)
      const problems = tree === undefined ? ['does not parse'] : problemsOf(tree, volatile)
      for (const problem of problems) audit.push(`captured statement: ${problem}: ${statement.text.replace(/\s+/g, ' ').slice(0, 300)}`)
    }

    let shards: Verdict[] = []
    const lines: string[] = []
    if (options.statements) {
      const tables = await partitionByTenant(rows)
      const replanned = await replan(rows, options.statements, options.crossTenant ?? defaultCrossTenant)
      shards = replanned.verdicts
      lines.push(`shard emulation: ${tables.length} tables in 8 hash partitions by tenant_id; ${replanned.planned} statements planned, ${replanned.allowedSeen.size} allowed cross-tenant statements seen`)
    } else {
      lines.push('shard emulation: skipped (no --capture)')
    }
    for (const p of catalogue) lines.push(`catalogue: ${p}`)
    for (const p of audit) lines.push(`static audit: ${p}`)
    for (const v of shards) lines.push(`shard emulation: ${v.problem} (as ${v.statement.role}, tenant ${v.statement.tenant ?? 'none'}): ${v.statement.text.replace(/\s+/g, ' ').slice(0, 400)}`)
    const problems = catalogue.length + audit.length + shards.length
    lines.push(`citus checks: ${problems} problems (catalogue ${catalogue.length}, static audit ${audit.length}, shard emulation ${shards.length}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return { problems, lines, catalogue, audit, shards }
  } finally {
    await database.close()
  }
}
