// The Citus readiness checks (scripts/citus-check.ts) pass on the schema and the SQL as they are,
// and fail when broken on purpose: a statement without its tenant, a default calling
// pg_current_xact_id(), a key without tenant_id, set_config, a volatile function in an UPDATE.
// They run on an in-memory PGlite of their own, whichever database the suite uses.
import t from 'tap'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runChecks } from '../../scripts/citus/checks.js'
import type { CapturedStatement } from '../../src/store/statement-capture.js'

/** Run once, in the PGlite run: the checks plan on an in-memory PGlite of their own, whatever DATABASE_URL says: the PGlite run covers them. */
const once = { skip: process.env.DATABASE_URL ? 'PGlite run only: the checks plan on an in-memory PGlite of their own, whatever DATABASE_URL says' : false }

const root = fileURLToPath(new URL('../..', import.meta.url))
const asTenant = (text: string, params: unknown[] = ['acme']): CapturedStatement => ({ text, params, role: 'journey_app', tenant: 'acme', by: 'service' })

t.test('the schema and the source as they are pass; statements that name their tenant pass', once, async (t) => {
  const report = await runChecks({
    root,
    statements: [
      asTenant('select id, position from events where tenant_id = $1 and position > $2 order by position limit $3', ['acme', 10, 50]),
      asTenant('select s.version from jsonb_to_recordset($2::jsonb) as p(a text, b text) join streams s on s.tenant_id = $1 and s.kind = p.a and s.id = p.b',
        ['acme', '[{"a":"journey","b":"j-1"}]']),
      asTenant('select d.id from webhook_deliveries d join webhooks w on w.tenant_id = d.tenant_id and w.id = d.webhook_id where d.tenant_id = $1'),
    ],
  })
  t.same(report.lines.filter((l) => !/^(shard emulation: \d+ tables|citus checks:)/.test(l)), [], 'no problem')
  t.equal(report.problems, 0)
})

t.test('shard emulation fails a statement that does not name its tenant, and one that names two', once, async (t) => {
  const report = await runChecks({
    root,
    statements: [
      asTenant('select id from events where source = $1 and id = $2', ['hris', 'e-1']),
      asTenant('select p.id from promises p join journeys j on j.id = p.journey_id where p.tenant_id = $1'),
      asTenant('select id from events where tenant_id = any (array[$1, $2])', ['acme', 'globex']),
    ],
  })
  t.equal(report.shards.length, 3, report.lines.join('\n'))
  t.match(report.shards[0]?.problem, /reads 8 of 8 partitions of events/)
  t.match(report.shards[1]?.problem, /partitions of journeys/, 'a join whose other side is not tied to the tenant')
  t.match(report.shards[2]?.problem, /reads 2 of 8 partitions of events/)
  t.ok(report.problems > 0)
})

t.test('an allowed cross-tenant statement passes, and only that one', once, async (t) => {
  const report = await runChecks({
    root,
    statements: [asTenant('select distinct tenant_id from webhooks where paused = $1', [false]), asTenant('select count(*) from events')],
    crossTenant: [{ match: 'select distinct tenant_id from webhooks', why: 'finds tenants first' }],
  })
  t.equal(report.shards.length, 1)
  t.match(report.shards[0]?.statement.text, /from events/)
})

t.test('the catalogue lint fails a default calling pg_current_xact_id(), a key without tenant_id, a subquery in a policy, an int sequence', once, async (t) => {
  const report = await runChecks({
    root,
    schemaChange: [
      "alter table events add column tx_id xid8 not null default pg_current_xact_id()",
      'create unique index events_id_only on events (id)',
      'alter table streams add constraint streams_id unique (id)',
      'create table orphans (id text primary key)',
      'create policy nosy on journeys using (exists (select 1 from tenants))',
      'create sequence small_numbers as integer',
    ].join('; '),
  })
  const found = report.catalogue.join('\n')
  t.match(found, /default of events\.tx_id calls pg_current_xact_id\(\)/)
  t.match(found, /unique index events_id_only on events does not include tenant_id/)
  t.match(found, /key streams_id on streams does not include tenant_id/)
  t.match(found, /table orphans has no tenant_id column/)
  t.match(found, /policy nosy on journeys holds a subquery/)
  t.match(found, /sequence small_numbers is integer, not bigint/)
  t.ok(report.problems >= 6)
})

t.test('the static audit fails set_config, snapshot functions, advisory locks, volatile UPDATEs and nextval in a SELECT list', once, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jl-citus-'))
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src', 'bad.ts'), [
    "import { sql } from 'drizzle-orm'",
    'export const scope = (tenantId: string) => sql`select set_config(\'app.tenant_id\', ${tenantId}, true)`',
    "export const fence = sql`select * from events where tx_id < pg_snapshot_xmin(pg_current_snapshot())`",
    "export const script = 'select pg_advisory_xact_lock(42)'",
    'export const touch = (tenantId: string) => sql`update streams set version = version + (random() * 2)::int where tenant_id = ${tenantId}`',
    "export const ids = sql`select nextval('audit_id_seq') as id`",
    "export const good = (tenantId: string) => sql`update streams set version = version + 1 where tenant_id = ${tenantId}`",
  ].join('\n'))
  const report = await runChecks({
    root: dir,
    sourceDirs: ['src'],
    statements: [asTenant("select set_config('app.tenant_id', $1, true)"), asTenant('set app.tenant_id = 1', [])],
  })
  const found = report.audit.join('\n')
  t.match(found, /bad\.ts:2: set_config\(\)/)
  t.match(found, /bad\.ts:3: pg_snapshot_xmin\(\)/)
  t.match(found, /bad\.ts:3: pg_current_snapshot\(\)/)
  t.match(found, /bad\.ts:4: pg_advisory_xact_lock\(\)/)
  t.match(found, /bad\.ts:5: random\(\) inside UPDATE/)
  t.match(found, /bad\.ts:6: nextval\(\) in a SELECT list/)
  t.match(found, /captured statement: set_config\(\)/)
  t.match(found, /captured statement: SET app\.tenant_id without LOCAL/)
  t.notMatch(found, /bad\.ts:8/, 'an UPDATE without a volatile function passes')
})
