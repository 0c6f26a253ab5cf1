// The transaction layer's promises, on both databases: a one-round-trip transaction answers every
// statement it sent; after sentAll, COMMIT travels behind the last statements, yet a statement that
// fails still takes the whole transaction with it; and nothing can be sent after sentAll.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { execute, inTenant, query, queryOne, type Tx } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

const claim = (tx: Tx, app: TestApp, key: string) => execute(tx, sql`
  insert into idempotency_keys (tenant_id, key, request_hash) values (${app.tenantId}, ${key}, 'h')`)

async function keysOf(app: TestApp): Promise<string[]> {
  const rows = await asOwner(app.app.db, (tx) => query<{ key: string }>(tx, sql`
    select key from idempotency_keys where tenant_id = ${app.tenantId} order by key`))
  return rows.map((r) => r.key)
}

t.test('a one-round-trip transaction answers every statement it sent', async (t) => {
  const app = await buildTestApp(t)
  const [one, tenant] = await inTenant(app.app.db, app.tenantId, (tx) => Promise.all([
    queryOne<{ n: number }>(tx, sql`select 1 as n`),
    queryOne<{ tenant: string }>(tx, sql`select current_setting('app.tenant_id') as tenant`),
  ]), { oneRoundTrip: true })
  t.same(one, { n: 1 })
  t.same(tenant, { tenant: app.tenantId }, 'inside the tenant scope')
})

t.test('after sentAll the statements sent before it are committed', async (t) => {
  const app = await buildTestApp(t)
  await inTenant(app.app.db, app.tenantId, async (tx) => {
    const sent = Promise.all([claim(tx, app, 'a'), claim(tx, app, 'b')])
    tx.sentAll()
    await sent
  })
  t.same(await keysOf(app), ['a', 'b'])
})

t.test('a statement that fails after sentAll was said still rolls the whole transaction back', async (t) => {
  const app = await buildTestApp(t)
  await inTenant(app.app.db, app.tenantId, (tx) => claim(tx, app, 'taken'))

  const failed = inTenant(app.app.db, app.tenantId, async (tx) => {
    const sent = Promise.all([claim(tx, app, 'new'), claim(tx, app, 'taken')])
    tx.sentAll()
    await sent
  })

  await t.rejects(failed, /duplicate key|unique/, 'the transaction fails with the statement')
  t.same(await keysOf(app), ['taken'], 'the statement before it was not committed')
})

t.test('a statement sent after sentAll is refused', async (t) => {
  const app = await buildTestApp(t)
  const late = inTenant(app.app.db, app.tenantId, async (tx) => {
    const first = claim(tx, app, 'first')
    tx.sentAll()
    await first
    await claim(tx, app, 'late')
  })
  await t.rejects(late, /after the transaction's last one/)
  t.notOk((await keysOf(app)).includes('late'), 'the late statement never ran')
})
