// Request work holds the database for a bounded time: a statement limit per transaction (a longer
// one for analytics and exports), an idle-in-transaction limit, and a problem (503) when one is hit.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { toProblem } from '../../src/plugins/errors.js'
import { inTenant, queryOne } from '../../src/store/database.js'
import { buildTestApp, onPostgres } from '../helpers/app.js'

const limits = { statementMs: 250, longStatementMs: 4_000, idleInTransactionMs: 7_000 }

t.test('a tenant transaction carries the configured limits, the long one for analytics and exports', async (t) => {
  const app = await buildTestApp(t, { workLimits: limits })
  const settings = (long: boolean) => inTenant(app.app.db, app.tenantId, (tx) => queryOne<{ statement: string; idle: string }>(tx, sql`
    select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`), { long })
  t.same(await settings(false), { statement: '250ms', idle: '7s' })
  t.same(await settings(true), { statement: '4s', idle: '7s' })
})

// PGlite runs in this process without signals: it keeps the settings but cannot interrupt a statement.
t.test('a statement past its limit fails its transaction and answers 503 with Retry-After, not 500; the connection serves on', { skip: !onPostgres && 'PGlite does not enforce statement_timeout' }, async (t) => {
  // One connection: the work after the cancelled statement must run on the very same one.
  const app = await buildTestApp(t, { workLimits: limits, dbPoolSize: 1 })
  const backend = () => inTenant(app.app.db, app.tenantId, (tx) => queryOne<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`))
  const before = await backend()
  const error = await inTenant(app.app.db, app.tenantId, (tx) => queryOne(tx, sql`select pg_sleep(2)`)).then(() => null, (e: unknown) => e)
  t.ok(error instanceof Error, 'the slow statement was cancelled')
  if (!(error instanceof Error)) return
  const problem = toProblem(error)
  t.match(problem, { status: 503, code: 'database-timeout', extensions: { retryAfterSeconds: 5 } })
  t.notOk(problem.message.includes('statement timeout'), 'no internal message')
  t.same(await backend(), before, 'the same connection answers the next transaction')
  // and the same work within the long limit completes
  t.same(await inTenant(app.app.db, app.tenantId, (tx) => queryOne(tx, sql`select 1 as slept from pg_sleep(0.5)`), { long: true }), { slept: 1 })
})
