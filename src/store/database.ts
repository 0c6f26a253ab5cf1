// One code path over two databases: drizzle over postgres.js for a real server, over PGlite
// (embedded, one connection in this process) when no DATABASE_URL is set.
import { PGlite } from '@electric-sql/pglite'
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect, type PgDatabase, type PgQueryResultHKT, type PgTransaction } from 'drizzle-orm/pg-core'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import * as schema from '../../db/schema.js'

type Schema = typeof schema
export type Db = PgDatabase<PgQueryResultHKT, Schema>
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>
/** Anything that runs a statement: the database itself or an open transaction. */
export type Queryable = Db | Tx

export interface Database {
  db: Db
  kind: 'pglite' | 'postgres'
  close(): Promise<void>
}

export const migrationsFolder = fileURLToPath(new URL('../../db/migrations', import.meta.url))

export interface DatabaseOptions {
  databaseUrl?: string
  dataDir: string
  poolSize: number
}

/** Opens the database; nothing connects before this is called. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const client = postgres(options.databaseUrl, {
      max: options.poolSize,
      onnotice: () => {},
      // While the database is away, fail fast (a 503 the client retries) instead of queueing
      // requests behind the driver's reconnect backoff, which grows to 20 s, or a 30 s connect timeout.
      backoff: (retries: number) => Math.min(0.01 * 2 ** retries, 0.5),
      connect_timeout: 2,
      // An acknowledged event must survive a database crash, whatever the server's default:
      // with synchronous_commit off, a commit is answered before its WAL is written.
      connection: { application_name: 'journey-ledger', synchronous_commit: 'on' },
      // int8 as a JavaScript number, as PGlite returns it: positions and counts stay below 2^53.
      types: { int8: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) } },
    })
    return { db: drizzlePostgres({ client, schema }), kind: 'postgres', close: () => client.end({ timeout: 5 }) }
  }
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true })
  const client = await PGlite.create(options.dataDir)
  return { db: drizzlePglite({ client, schema }), kind: 'pglite', close: () => client.close() }
}

/** Applies pending migrations; on PostgreSQL under an advisory lock so instances can start together. */
export async function migrateDatabase(database: Database, options: DatabaseOptions): Promise<void> {
  if (!options.databaseUrl) {
    const client: unknown = Reflect.get(database.db, '$client')
    if (!(client instanceof PGlite)) throw new Error('expected the PGlite client')
    await migratePglite(drizzlePglite({ client, schema }), { migrationsFolder })
    return
  }
  // One dedicated connection, so the lock and the migration share a session.
  const client = postgres(options.databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await client`select pg_advisory_lock(7215548301)`
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder })
  } finally {
    await client.end({ timeout: 5 })
  }
}

const dialect = new PgDialect()

/** A postgres.js client (the pool or a transaction's connection), as drizzle keeps it in its session. */
interface PostgresClient { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Promise<unknown> }

function postgresClientOf(q: Queryable): PostgresClient | undefined {
  const client: unknown = Reflect.get(Reflect.get(q, 'session') ?? {}, 'client')
  return typeof client === 'function' && typeof Reflect.get(client, 'unsafe') === 'function' ? client as unknown as PostgresClient : undefined
}

/**
 * Statements with at most this many parameters run as named prepared statements on PostgreSQL.
 * drizzle's execute never prepares, so postgres.js sends Parse/Describe and waits before
 * Bind/Execute: two round trips a statement. Prepared, a statement costs one after its first
 * use on a connection. Large multi-row statements vary in shape with the batch, so they are not
 * kept (each would hold a plan in the backend for the connection's life).
 */
const preparedParameterLimit = 64

async function run(q: Queryable, statement: SQL): Promise<unknown> {
  const client = postgresClientOf(q)
  if (!client) return q.execute(statement)
  const { sql: text, params } = dialect.sqlToQuery(statement)
  return client.unsafe(text, params, { prepare: params.length <= preparedParameterLimit })
}

/** Runs a statement and returns its rows. The row type is the caller's statement of what the SQL selects. */
export async function query<T>(q: Queryable, statement: SQL): Promise<T[]> {
  const result = await run(q, statement)
  // postgres.js returns the rows array itself; PGlite returns { rows }.
  if (Array.isArray(result)) return result as T[]
  return hasRows<T>(result) ? result.rows : []
}

/** Runs a statement for its effect. */
export async function execute(q: Queryable, statement: SQL): Promise<void> {
  await run(q, statement)
}

function hasRows<T>(result: unknown): result is { rows: T[] } {
  return typeof result === 'object' && result !== null && Array.isArray(Reflect.get(result, 'rows'))
}

export async function queryOne<T>(q: Queryable, statement: SQL): Promise<T | undefined> {
  const rows = await query<T>(q, statement)
  return rows[0]
}

/**
 * A transaction scoped to one tenant: row-level security applies (journey_app role) and every
 * policy reads app.tenant_id, so a query that forgets its tenant filter still sees only this tenant.
 */
export function inTenant<T>(db: Db, tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // Sent with the work's first statement instead of a round trip of its own: a transaction's
    // statements run in the order they were sent, so the scope is set before anything reads.
    const [, result] = await Promise.all([
      execute(tx, sql`select set_config('app.tenant_id', ${tenantId}, true), set_config('role', 'journey_app', true)`),
      work(tx),
    ])
    return result
  })
}

/** A transaction for system work across tenants (bootstrap, rebuild, workers); runs as the owning role. */
export function inSystem<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(work)
}
