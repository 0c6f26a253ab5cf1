// Fail-closed tenancy: the service's sessions run as journey_app, which owns nothing and bypasses no
// policy, so a statement outside a tenant's transaction sees no rows; system work runs as
// journey_system, which reaches only the tables it must; tenant code cannot become it.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { inSystem, inTenant, query, queryOne } from '../../src/store/database.js'
import { buildTestApp, ce, onPostgres, testConfig, type TestApp } from '../helpers/app.js'
import { postgresUrl } from '../helpers/faults.js'
import { asOwner } from '../helpers/owner.js'
import { given, postEvents } from '../helpers/spine.js'

const whoAmI = sql`select current_user as "user"`
const tablesOfRequests = ['events', 'journeys', 'api_keys', 'person_keys', 'audit']
/** A person with a sealed note: a row in every table of tablesOfRequests. */
const withNotes = (journeyId: string) => [
  ce('candidate.applied', journeyId, { personId: `p-${journeyId}` }),
  ce('checkin.held', journeyId, { notes: 'a note', expectationsMet: 2 }),
]

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

async function rowsOf(app: TestApp, table: string, tenantId: string): Promise<number> {
  const row = await asOwner(app.app.db, (tx) => queryOne<{ n: number }>(tx, sql`select count(*)::int as n from ${sql.identifier(table)} where tenant_id = ${tenantId}`))
  return row?.n ?? 0
}

t.test('the service runs as journey_app; system work as journey_system', async (t) => {
  const app = await buildTestApp(t)
  const db = app.app.db
  t.same(await queryOne(db, whoAmI), { user: 'journey_app' }, 'outside any transaction')
  t.same(await inTenant(db, app.tenantId, (tx) => queryOne(tx, whoAmI)), { user: 'journey_app' }, 'in a tenant\'s transaction')
  t.same(await inSystem(db, (tx) => queryOne(tx, whoAmI)), { user: 'journey_system' }, 'in system work')
  t.same(await queryOne(db, whoAmI), { user: 'journey_app' }, 'and back to journey_app after it')
  const roles = await queryOne<{ owner: boolean; appIsSystem: boolean; bypass: boolean }>(db, sql`
    select exists (select 1 from pg_tables where schemaname = 'public' and tableowner in ('journey_app', 'journey_system')) as owner,
      pg_has_role('journey_app', 'journey_system', 'MEMBER') as "appIsSystem",
      exists (select 1 from pg_roles where rolname in ('journey_app', 'journey_system') and (rolbypassrls or rolsuper)) as bypass`)
  t.same(roles, { owner: false, appIsSystem: false, bypass: false }, 'neither role owns a table or bypasses row-level security; journey_app is no member of journey_system')
  const ownerPolicies = await query<{ name: string }>(db, sql`
    select tablename || '.' || policyname as name from pg_policies
    where schemaname = 'public' and not (roles && array['journey_app', 'journey_system']::name[])`)
  t.same(ownerPolicies, [], 'every policy is for journey_app or journey_system: the owner has none')
})

t.test('a statement outside a tenant\'s transaction sees no rows, though they exist', async (t) => {
  const app = await buildTestApp(t)
  const db = app.app.db
  await given(app, ...withNotes('j-1'))
  for (const table of tablesOfRequests) {
    t.ok(await rowsOf(app, table, app.tenantId) > 0, `${table}: the tenant has rows`)
    t.same(await query(db, sql`select * from ${sql.identifier(table)}`), [], `${table}: none seen without a tenant`)
  }
  t.same(await inTenant(db, 'no-such-tenant', (tx) => query(tx, sql`select * from events`)), [], 'nor in the transaction of a tenant that is not theirs')
})

t.test('tenant A\'s transaction sees none of B\'s rows, even asking for them by id', async (t) => {
  const app = await buildTestApp(t)
  const b = await app.otherTenant()
  t.equal((await postEvents(app, withNotes('j-b'), { key: b.adminKey })).statusCode, 201)
  for (const table of tablesOfRequests) {
    t.ok(await rowsOf(app, table, b.tenantId) > 0, `${table}: B has rows`)
    const seen = await inTenant(app.app.db, app.tenantId, (tx) => query(tx, sql`select * from ${sql.identifier(table)} where tenant_id = ${b.tenantId}`))
    t.same(seen, [], `${table}: A sees none of them`)
  }
})

t.test('system work reaches only the tables it must', async (t) => {
  const app = await buildTestApp(t)
  const db = app.app.db
  await given(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }))
  const tenants = await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants`))
  t.ok(tenants.some((x) => x.id === app.tenantId), 'it lists the tenants')
  for (const table of ['events', 'journeys', 'api_keys', 'audit', 'streams']) {
    t.match(await failure(inSystem(db, (tx) => query(tx, sql`select count(*) from ${sql.identifier(table)}`))), /permission denied/, `it cannot read ${table}`)
  }
  t.match(await failure(inSystem(db, (tx) => query(tx, sql`insert into tenants (tenant_id, name) values ('forged', 'Forged')`))), /permission denied/, 'it cannot create a tenant')
  t.match(await failure(query(db, sql`select * from master_key_check`)), /permission denied/, 'tenant code cannot read the master key check')
})

t.test('no set_config in the service: the tenant context is SET LOCAL, which Citus propagates', async (t) => {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
  const offending = [...files('src'), ...files('routes')].filter((f) => /set_config\s*\(/i.test(readFileSync(f, 'utf8')))
  t.same(offending, [])
})

// A login of its own is the only way to be a session that is not the superuser the suite runs as.
const url = postgresUrl()
t.test('on PostgreSQL: journey_app cannot become journey_system; a non-owner login serves', { skip: onPostgres ? false : 'PostgreSQL only' }, async (t) => {
  if (!url) return
  const owner = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => owner.end({ timeout: 5 }))
  const password = 'tenancy-test-login'
  const login = (role: string) => { const u = new URL(url); u.username = role; u.password = password; return u.toString() }
  for (const [role, memberOf] of [['jl_test_tenant_login', 'journey_app'], ['jl_test_service_login', 'journey_app, journey_system']] as const) {
    await owner.unsafe(`do $$ begin if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role} login password '${password}'; end if; end $$`)
    await owner.unsafe(`grant ${memberOf} to ${role}`)
  }

  // a session whose login is only journey_app (as the tenant role sees itself)
  const tenantSession = postgres(login('jl_test_tenant_login'), { max: 1, onnotice: () => {}, connection: { role: 'journey_app' } })
  t.teardown(() => tenantSession.end({ timeout: 5 }))
  t.same([...await tenantSession`select current_user as "user"`], [{ user: 'journey_app' }])
  t.match(await failure(tenantSession.unsafe('set role journey_system')), /permission denied to set role/, 'SET ROLE journey_system is refused')
  t.same([...await tenantSession`select count(*)::int as n from events`], [{ n: 0 }], 'and it sees no events')

  // the service on a login that owns nothing; migrations on the owner's
  const app = await buildApp(testConfig({ databaseUrl: login('jl_test_service_login'), migrationDatabaseUrl: url }))
  t.teardown(() => app.close())
  const bootstrapKey = (await buildTestApp(t)).adminKey
  t.ok(bootstrapKey, 'a tenant of the suite')
  const tenants = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(tenants.statusCode, 200, 'ready')
  const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${bootstrapKey}` }, payload: withNotes('j-login') })
  t.equal(res.statusCode, 201, 'it appends')
  const read = await app.inject({ method: 'GET', url: '/v1/journeys/j-login', headers: { authorization: `Bearer ${bootstrapKey}` } })
  t.equal(read.statusCode, 200, 'and reads')
  t.same(await inSystem(app.db, (tx) => queryOne(tx, sql`select current_user as "user", session_user as login`)), { user: 'journey_system', login: 'jl_test_service_login' })
})
