// Row-level security underneath the application's own tenant filters: a query inside a tenant's
// transaction that forgets `where tenant_id = ...` still sees, changes and adds only that tenant's rows.
import { sql, type SQL } from 'drizzle-orm'
import t from 'tap'
import { execute, inTenant, query, type Db } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { given, postEvents } from '../helpers/spine.js'

// The tables of the spine; each must hold rows of both tenants before the test looks.
const spineTables = ['events', 'journeys', 'promises', 'streams', 'api_keys', 'tenants', 'vacancies', 'idempotency_keys']

/** The messages of an error and its causes (drizzle wraps the driver's error). */
async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (error) {
    const messages: string[] = []
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message)
    return messages.join(' / ')
  }
  return 'no error'
}

const tenantIdsIn = (rows: { tenant_id?: unknown }[]) => [...new Set(rows.map((r) => r.tenant_id))]

async function asTenant<T>(db: Db, tenantId: string, statement: SQL): Promise<T[]> {
  return inTenant(db, tenantId, (tx) => query<T>(tx, statement))
}

/** Gives a tenant a row in every spine table, through the API as an integrator would. */
async function populate(app: TestApp, key: string) {
  for (const [i, events] of [
    [ce('vacancy.published', 'vac-1', { title: 'Engineer' })],
    [ce('candidate.applied', 'j-1', { personId: 'p-1', vacancyId: 'vac-1' }), ce('promise.made', 'j-1', { category: 'career', text: 'A mentor', madeBy: 'm-1' })],
  ].entries()) {
    const res = await postEvents(app, events, { key, headers: { 'idempotency-key': `populate-${i}` } })
    if (res.statusCode !== 201) throw new Error(`could not populate: ${res.body}`)
  }
}

t.test('inside tenant A\'s transaction, no table shows a row of tenant B', async (t) => {
  const app = await buildTestApp(t)
  const db = app.app.db
  const b = await app.otherTenant()
  await populate(app, app.adminKey)
  await populate(app, b.adminKey)

  for (const table of spineTables) {
    const rows = await asTenant<{ tenant_id: string }>(db, app.tenantId, sql`select * from ${sql.identifier(table)}`)
    const ofB = await asOwner(db, (tx) => query<{ n: number }>(tx, sql`select count(*)::int as n from ${sql.identifier(table)} where tenant_id = ${b.tenantId}`))
    t.ok((ofB[0]?.n ?? 0) > 0, `${table}: tenant B has rows`)
    t.ok(rows.length > 0, `${table}: A sees its own rows`)
    t.same(tenantIdsIn(rows), [app.tenantId], `${table}: and only those`)
  }

  // every table with a tenant_id, including ones added after this test was written, is isolated
  const tables = await asOwner(db, (tx) => query<{ name: string; rls: boolean; forced: boolean; readable: boolean }>(tx, sql`
    select c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as forced, has_table_privilege('journey_app', c.oid, 'SELECT') as readable
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
    order by c.relname`))
  t.ok(spineTables.every((name) => tables.some((x) => x.name === name)), 'the spine tables are among them')
  for (const table of tables) {
    t.ok(table.rls && table.forced, `${table.name}: row-level security enabled and forced`)
    if (!table.readable) continue
    const rows = await asTenant<{ tenant_id: string }>(db, app.tenantId, sql`select * from ${sql.identifier(table.name)}`)
    t.ok(rows.every((r) => r.tenant_id === app.tenantId), `${table.name}: no other tenant's rows`)
  }

  // without a tenant set, the application role sees nothing at all
  t.same(await query(db, sql`select * from events`), [], 'no app.tenant_id: no rows')
})

t.test('inside tenant A\'s transaction, B\'s rows cannot be added, changed or removed', async (t) => {
  const app = await buildTestApp(t)
  const db = app.app.db
  const b = await app.otherTenant()
  await given(app, ce('candidate.applied', 'j-a', { personId: 'p-a' }))
  await populate(app, b.adminKey)

  // adding a row in B's name
  t.match(await failure(inTenant(db, app.tenantId, (tx) => execute(tx, sql`insert into streams (tenant_id, kind, id) values (${b.tenantId}, 'journey', 'j-forged')`))),
    /row-level security/, 'a stream of B')
  t.match(await failure(inTenant(db, app.tenantId, (tx) => execute(tx, sql`
    insert into journeys (tenant_id, id, person_ref, stage, stage_since, version, stages, experience, signals, created_at, updated_at)
    values (${b.tenantId}, 'j-forged', 'p-x', 'applied', now(), 1, '[]', '{}', '{}', now(), now())`))),
  /row-level security/, 'a journey of B')
  t.match(await failure(inTenant(db, app.tenantId, (tx) => execute(tx, sql`update journeys set tenant_id = ${b.tenantId} where id = 'j-a'`))),
    /row-level security/, 'moving A\'s row to B')

  // changing or removing B's rows finds none of them
  const changed = await asTenant(db, app.tenantId, sql`update journeys set role = 'forged' where tenant_id = ${b.tenantId} returning id`)
  const removed = await asTenant(db, app.tenantId, sql`delete from promises where tenant_id = ${b.tenantId} returning id`)
  t.same([changed, removed], [[], []])
  const bJourney = await asTenant<{ role: string | null }>(db, b.tenantId, sql`select role from journeys where id = 'j-1'`)
  t.same(bJourney, [{ role: null }], 'B\'s journey is as it was')

  // and the ledger itself is append-only for the application, even in its own tenant
  t.match(await failure(inTenant(db, app.tenantId, (tx) => execute(tx, sql`update events set type = 'interview.held' where subject = 'j-a'`))),
    /permission denied/, 'no update of events')
  t.match(await failure(inTenant(db, app.tenantId, (tx) => execute(tx, sql`delete from events where subject = 'j-a'`))),
    /permission denied/, 'no delete of events')
})

t.test('tenants choose their keys freely: the same ids in two tenants never collide', async (t) => {
  const app = await buildTestApp(t)
  const b = await app.otherTenant()
  const event = ce('candidate.applied', 'j-1', { personId: 'p-1' })
  const inA = await postEvents(app, event)
  const inB = await postEvents(app, event, { key: b.adminKey })
  t.equal(inA.statusCode, 201)
  t.equal(inB.statusCode, 201)
  t.match(inB.json(), { data: [{ duplicate: false, version: 1 }] }, 'the same source + id in B is B\'s first event, not a duplicate of A\'s')
})
