// The one patch to postgres.js (patches/postgres+3.4.9.patch; porsager/postgres#1154, #1208).
// Given a connection the server or the network closed, when a statement or the driver's own
// ROLLBACK is written for it, then it rejects with CONNECTION_CLOSED, the process lives and the
// pool's connection comes back. Unpatched, the deferred write dereferences the closed socket in a
// setImmediate (an uncaught TypeError fails these tests), or the reconnect never starts up.
import t from 'tap'
import net from 'node:net'
import postgres from 'postgres'
import { openDatabase, type Db, type Tx } from '../../src/store/database.js'
import { onPostgres, testConfig, type Tap } from '../helpers/app.js'

const postgresOnly = { skip: onPostgres ? false : 'PostgreSQL only: the code under test is postgres.js' }
const databaseUrl = testConfig().databaseUrl ?? ''

/** A pool of one connection, so the statement after the fault runs on the connection that closed. */
async function openPool(t: Tap): Promise<Db> {
  const { db, close } = await openDatabase({ databaseUrl, dataDir: 'memory://', poolSize: 1 })
  t.teardown(close)
  return db
}

const codeOf = (error: unknown): unknown => (error instanceof Error ? Reflect.get(error, 'code') ?? error.message : error)
/** What a promise settled with: its value, or the code (else the message) of its error. */
const settled = (promise: Promise<unknown>): Promise<unknown> => promise.then((value) => value, codeOf)
const outcomeOf = (promise: Promise<unknown>): Promise<unknown> => settled(promise.then(() => 'answered'))

/**
 * A transaction whose backend is terminated from another pool while its work waits, idle in
 * transaction; returned once the driver has seen the close. `resume` lets the work go on to
 * `after` and answers what that settled with.
 */
async function transactionWhoseConnectionClosed(t: Tap, db: Db, after: (tx: Tx) => Promise<unknown>) {
  const killer = await openPool(t)
  let backendIs = (_pid: number) => {}
  const backend = new Promise<number>((resolve) => { backendIs = resolve })
  let resume = () => {}
  const resumed = new Promise<void>((resolve) => { resume = resolve })
  let afterwards: Promise<unknown> = Promise.resolve('not run')
  const transaction = outcomeOf(db.transaction(async (tx) => {
    const [row] = await tx.run('select pg_backend_pid() as pid', [])
    backendIs(Number(row?.pid))
    await resumed
    const done = after(tx)
    afterwards = settled(done)
    await done
  }))
  const pid = await backend
  // Terminating the suite's (superuser) backend takes the login's own role, not the service's journey_app.
  await killer.transaction(async (tx) => {
    await tx.run('set local role none', [])
    await tx.run('select pg_terminate_backend($1)', [pid])
  })
  return {
    transaction: await transaction,
    resume: async () => {
      resume()
      await resumed
      return afterwards
    },
  }
}

t.test('statements sent on a transaction whose connection closed reject with CONNECTION_CLOSED', postgresOnly, async (t) => {
  const db = await openPool(t)
  // A statement of 1 KiB or more is written at once, a smaller one at the next setImmediate.
  const large = `select 1 /* ${'x'.repeat(1024)} */`
  const closed = await transactionWhoseConnectionClosed(t, db, (tx) => Promise.all([
    outcomeOf(tx.run('select 1', [])),
    outcomeOf(tx.run(large, [])),
  ]))
  t.equal(closed.transaction, 'CONNECTION_CLOSED', 'the transaction fails with its connection')

  t.same(await closed.resume(), ['CONNECTION_CLOSED', 'CONNECTION_CLOSED'], 'both statements are refused, not thrown from a timer')
  t.same(await db.run('select 1 as n', []), [{ n: 1 }], 'the next statement runs on the connection, reconnected')
})

t.test('a work that fails after its connection closed: the driver\'s ROLLBACK does not crash the process', postgresOnly, async (t) => {
  const db = await openPool(t)
  const closed = await transactionWhoseConnectionClosed(t, db, () => Promise.reject(new Error('the work gave up')))
  t.equal(closed.transaction, 'CONNECTION_CLOSED')

  t.equal(await closed.resume(), 'the work gave up')
  // begin writes its ROLLBACK in the next check phase, before this statement's answer can arrive.
  t.same(await db.run('select 1 as n', []), [{ n: 1 }], 'the process and the pool live on')
})

t.test('a connection that closed with a write pending comes back', postgresOnly, async (t) => {
  const { hostname, port } = new URL(databaseUrl)
  let socket: net.Socket | undefined
  // `socket` is documented (README, "Custom socket") but missing from the package's types.
  const options = { max: 1, connect_timeout: 1, onnotice: () => {}, socket: () => (socket = net.connect(Number(port || 5432), hostname)) }
  const sql = postgres(databaseUrl, options)
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql`select 1`

  // Inside an immediate, as the service's group commit starts a transaction, a write is scheduled
  // for the next turn of the event loop; the socket closes in this turn's close phase, before it.
  const written = await new Promise((resolve) => setImmediate(() => {
    const statement = sql`select 1 as n`.execute()
    socket?.destroy()
    resolve(outcomeOf(statement))
  }))
  t.equal(written, 'CONNECTION_CLOSED')
  t.equal(await outcomeOf(sql`select 1 as n`.execute()), 'answered', 'the reconnected socket starts up (no CONNECT_TIMEOUT)')
})
