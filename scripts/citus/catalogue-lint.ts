// The catalogue lint: what Citus needs of the schema to distribute every table by tenant_id. Every
// primary key, unique index and foreign key includes tenant_id (a shard enforces only its own rows);
// no column default or policy calls a node-local function or holds a subquery; sequences are bigint.
// now() and gen_random_uuid() are allowed: Citus evaluates an INSERT's defaults once, on the
// coordinator, and a time or a random id means the same on every node (unlike a transaction id).
import { callsIn, hasSubquery, isNodeLocal } from './forbidden.js'
import { parseStatement } from './static-audit.js'

export type Rows = (text: string) => Promise<Record<string, unknown>[]>

const text = (value: unknown) => (typeof value === 'string' ? value : String(value))

/** An expression stored in the catalogue (a default, a policy's USING or WITH CHECK): what is wrong with it. */
function expressionProblems(expression: string): string[] {
  const tree = parseStatement(`select ${expression}`)
  if (tree === undefined) return [`cannot be parsed: ${expression}`]
  const problems = callsIn(tree).filter(isNodeLocal).map((name) => `calls ${name}() (node-local)`)
  if (hasSubquery(tree)) problems.push('holds a subquery')
  return problems
}

export async function lintCatalogue(rows: Rows): Promise<string[]> {
  const problems: string[] = []
  const tables = await rows(`
    select c.relname as table, exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as tenanted
    from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition`)
  for (const t of tables) if (t.tenanted !== true) problems.push(`table ${text(t.table)} has no tenant_id column`)

  const keys = await rows(`
    select c.conname as name, c.contype as type, c.conrelid::regclass::text as table,
      exists (select 1 from pg_attribute a where a.attrelid = c.conrelid and a.attname = 'tenant_id' and a.attnum = any (c.conkey)) as has_tenant,
      c.contype <> 'f' or exists (select 1 from pg_attribute a where a.attrelid = c.confrelid and a.attname = 'tenant_id' and a.attnum = any (c.confkey)) as refers_tenant
    from pg_constraint c where c.connamespace = 'public'::regnamespace and c.contype in ('p', 'u', 'f')`)
  for (const k of keys) {
    if (k.has_tenant !== true || k.refers_tenant !== true) problems.push(`${text(k.type) === 'f' ? 'foreign key' : 'key'} ${text(k.name)} on ${text(k.table)} does not include tenant_id`)
  }
  const uniques = await rows(`
    select i.indexrelid::regclass::text as name, i.indrelid::regclass::text as table
    from pg_index i join pg_class c on c.oid = i.indrelid
    where c.relnamespace = 'public'::regnamespace and i.indisunique
      and not exists (select 1 from pg_attribute a where a.attrelid = i.indrelid and a.attname = 'tenant_id' and a.attnum = any (i.indkey::int2[]))`)
  for (const u of uniques) problems.push(`unique index ${text(u.name)} on ${text(u.table)} does not include tenant_id`)

  const defaults = await rows(`
    select d.adrelid::regclass::text as table, a.attname as column, pg_get_expr(d.adbin, d.adrelid) as expression
    from pg_attrdef d join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum join pg_class c on c.oid = d.adrelid
    where c.relnamespace = 'public'::regnamespace`)
  for (const d of defaults) {
    for (const p of expressionProblems(text(d.expression))) problems.push(`default of ${text(d.table)}.${text(d.column)} ${p}`)
  }
  const policies = await rows(`
    select tablename as table, policyname as name, qual, with_check from pg_policies where schemaname = 'public'`)
  for (const p of policies) {
    for (const expression of [p.qual, p.with_check]) {
      if (typeof expression !== 'string') continue
      for (const problem of expressionProblems(expression)) problems.push(`policy ${text(p.name)} on ${text(p.table)} ${problem}`)
    }
  }
  const sequences = await rows(`
    select s.seqrelid::regclass::text as name, format_type(s.seqtypid, null) as type
    from pg_sequence s join pg_class c on c.oid = s.seqrelid where c.relnamespace = 'public'::regnamespace and s.seqtypid <> 'int8'::regtype`)
  for (const s of sequences) problems.push(`sequence ${text(s.name)} is ${text(s.type)}, not bigint`)
  return problems
}
