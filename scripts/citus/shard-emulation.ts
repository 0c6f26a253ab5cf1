// Shard emulation: every tenant table hash-partitioned by tenant_id (one modulus, as Citus shards
// it), then each captured statement planned again with its own parameters. A statement must touch
// exactly one partition of each table it reads, or be allowed below as cross-tenant on purpose.
// Planned as the owner, past row-level security: the statement itself must name its tenant (RLS is
// the second wall, not the router).
import type { CapturedStatement } from '../../src/store/statement-capture.js'
import { quoteLiteral } from '../../src/store/database.js'
import type { Rows } from './catalogue-lint.js'

export const shardCount = 8
const shardOf = /^(.+)__shard\d+$/

/** Turns every table with tenant_id into a partitioned one with `shardCount` hash partitions (run as the owner on an empty schema). */
export async function partitionByTenant(rows: Rows): Promise<string[]> {
  const tables = (await rows(`
    select c.relname as name from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')`)).map((r) => String(r.name))
  for (const table of tables) {
    const shards = Array.from({ length: shardCount }, (_, i) =>
      `create table "${table}__shard${i}" partition of "${table}" for values with (modulus ${shardCount}, remainder ${i})`)
    await rows([
      `alter table "${table}" rename to "${table}__plain"`,
      `create table "${table}" (like "${table}__plain" including defaults including constraints including indexes) partition by hash (tenant_id)`,
      ...shards,
      `drop table "${table}__plain" cascade`,
    ].join('; '))
  }
  return tables
}

/** A statement Citus may run across shards on purpose, and why. */
export interface CrossTenant { match: string; why: string }

export interface Verdict { statement: CapturedStatement; problem: string }

/** A parameter as a literal of unknown type, so the statement's own context types it, as the driver's did. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  return quoteLiteral(typeof value === 'object' ? JSON.stringify(value) : String(value))
}

/** The partitions each table's scans touch, by table. */
function partitionsRead(plan: unknown, out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  if (Array.isArray(plan)) for (const p of plan) partitionsRead(p, out)
  else if (typeof plan === 'object' && plan !== null) {
    const relation: unknown = Reflect.get(plan, 'Relation Name')
    const table = typeof relation === 'string' ? shardOf.exec(relation)?.[1] : undefined
    if (table && typeof relation === 'string') out.set(table, (out.get(table) ?? new Set()).add(relation))
    for (const value of Object.values(plan)) partitionsRead(value, out)
  }
  return out
}

/** Plans each statement on the partitioned schema; the statements that read more than one partition of a table (and are not allowed). */
export async function replan(rows: Rows, statements: readonly CapturedStatement[], allowed: readonly CrossTenant[]): Promise<{ verdicts: Verdict[]; planned: number; allowedSeen: Set<string> }> {
  const verdicts: Verdict[] = []
  const allowedSeen = new Set<string>()
  let planned = 0
  // Parameters become constants in the plan, so pruning shows in EXPLAIN as Citus's router sees it.
  await rows('set plan_cache_mode = force_custom_plan')
  for (const statement of statements) {
    const allow = allowed.find((a) => statement.text.includes(a.match))
    if (allow) {
      allowedSeen.add(allow.match)
      continue
    }
    try {
      await rows(`set app.tenant_id = ${quoteLiteral(statement.tenant ?? '')}`)
      await rows(`prepare jl_replan as ${statement.text}`)
      const args = statement.params.length > 0 ? `(${statement.params.map(literal).join(', ')})` : ''
      const [row] = await rows(`explain (format json, costs off) execute jl_replan${args}`)
      planned++
      for (const [table, partitions] of partitionsRead(row?.['QUERY PLAN'])) {
        if (partitions.size > 1) verdicts.push({ statement, problem: `reads ${partitions.size} of ${shardCount} partitions of ${table}` })
      }
    } catch (error) {
      verdicts.push({ statement, problem: `could not be planned: ${error instanceof Error ? error.message : String(error)}` })
    } finally {
      await rows('deallocate all')
    }
  }
  return { verdicts, planned, allowedSeen }
}
