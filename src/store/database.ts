// One code path over two databases: postgres.js for a real server, PGlite (embedded, one
// connection in this process) when no DATABASE_URL is set. Statements are written with drizzle's
// sql template and run here, through the same two functions, query and execute.
import type { PGlite } from '@electric-sql/pglite'
import { SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { capturingStatements } from './statement-capture.js'
import { TenantShares } from './tenant-shares.js'

type Row = Record<string, unknown>
/** Runs one statement (text with $n placeholders) and returns its rows. */
type Runner = (text: string, params: unknown[]) => Promise<Row[]>

/** Anything that runs a statement: the database itself or an open transaction. */
export interface Queryable { readonly run: Runner }
/** A transaction: its statements run on one connection, in the order they were sent. */
export interface Tx extends Queryable {
  readonly inTransaction: true
  /**
   * Runs parameterless statements (`;`-separated) unprepared, in order with the others: the
   * transaction's scope (SET LOCAL), which varies by tenant and so must not be kept as a prepared statement.
   */
  script(text: string): Promise<void>
  /**
   * The work has sent its last statement: COMMIT goes out right behind it instead of a round trip
   * after the answers, which the work may still await. One that fails fails the transaction (the
   * database turns the COMMIT of a failed transaction into a ROLLBACK), so nothing after this
   * point may fail but those statements. A statement sent after this is refused.
   */
  sentAll(): void
}
/** Limits on the work of requests (the service's; tools such as the CLI run without). */
export interface WorkLimits {
  /** statement_timeout of request work. */
  statementMs: number
  /** statement_timeout of analytics and exports. */
  longStatementMs: number
  /** idle_in_transaction_session_timeout: a transaction left open by a stuck request ends. */
  idleInTransactionMs: number
}

export interface TransactionOptions {
  /**
   * The work sends all its statements before it first awaits (`sentAll` is implied), so they travel
   * with COMMIT in one round trip, after BEGIN's own. For reads and single-statement writes.
   */
  oneRoundTrip?: boolean
  /** Analytics and exports: the long statement limit applies (see WorkLimits). */
  long?: boolean
}

const sentAfterAll = () => new Error('a statement was sent after the transaction\'s last one (sentAll)')
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  readonly limits?: WorkLimits
  /** Each tenant's share of the connections (request work only; tools run without). */
  readonly shares?: TenantShares
  /**
   * Runs VACUUM or ANALYZE as the owner of the tables (the migrating role), outside any transaction:
   * the service's own roles own nothing, and PostgreSQL skips tables a role does not own.
   */
  maintain(statement: string): Promise<void>
  /** Commits what the work did, or rolls it back when the work throws. */
  transaction<T>(work: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>
}

export interface Database {
  db: Db
  /** The embedded database itself, which migrations run on (PGlite only). */
  pglite?: PGlite
  close(): Promise<void>
}

export const migrationsFolder = fileURLToPath(new URL('../../db/migrations', import.meta.url))

export interface DatabaseOptions {
  databaseUrl?: string
  /** The owner's login for migrations and maintenance; default databaseUrl. */
  migrationDatabaseUrl?: string
  dataDir: string
  poolSize: number
  limits?: WorkLimits
  /** Appends every statement to this file (see statement-capture.ts). */
  capturePath?: string
  /** Transactions one tenant may run at once, and wait with, on this pool (see tenant-shares.ts). */
  tenantShare?: { connections: number; waiting: number }
}

function sharesOf(options: DatabaseOptions): TenantShares | undefined {
  return options.tenantShare ? new TenantShares(options.tenantShare.connections, options.tenantShare.waiting) : undefined
}

/**
 * Statements with at most this many parameters run as named prepared statements on PostgreSQL:
 * unprepared, postgres.js sends Parse/Describe and waits before Bind/Execute, two round trips a
 * statement; prepared, one after its first use on a connection. Statements with more parameters
 * vary in shape with their input, so they are not kept (each would hold a plan in the backend).
 */
const preparedParameterLimit = 64

/** Opens the database: PostgreSQL when a URL is given, else the embedded PGlite. Nothing connects before this is called. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl ? openPostgres(options.databaseUrl, options) : await openPGlite(options)
  return options.capturePath ? { ...database, db: capturingStatements(database.db, options.capturePath) } : database
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const client = postgres(url, {
    max: options.poolSize,
    onnotice: () => {},
    // While the database is away, fail fast (a 503 the client retries) instead of queueing
    // requests behind the driver's reconnect backoff, which grows to 20 s, or a 30 s connect timeout.
    backoff: (retries: number) => Math.min(0.01 * 2 ** retries, 0.5),
    connect_timeout: 2,
    // An acknowledged event must survive a database crash, whatever the server's default:
    // with synchronous_commit off, a commit is answered before its WAL is written.
    // Every session starts as journey_app, which owns nothing and bypasses no policy: a statement
    // outside a tenant's transaction sees no tenant's rows (fail closed).
    connection: { application_name: 'journey-ledger', synchronous_commit: 'on', role: appRole },
    // int8 as a JavaScript number, as PGlite returns it: positions and counts stay below 2^53.
    types: { int8: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) } },
  })
  // Dates and timestamps stay the strings PostgreSQL sends (as PGlite's are below), and a json
  // parameter is the JSON text the statement passes, not a value to encode again.
  const asIs = (value: unknown) => value
  for (const oid of [1082, 1083, 1114, 1184, 1182, 1185, 1115]) {
    client.options.parsers[oid] = asIs
    client.options.serializers[oid] = asIs
  }
  client.options.serializers[114] = asIs
  client.options.serializers[3802] = asIs
  const runOn = (c: Pick<typeof client, 'unsafe'>): Runner => (text, params) =>
    c.unsafe<Row[]>(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length <= preparedParameterLimit })
  const db: Db = {
    kind: 'postgres',
    limits: options.limits,
    shares: sharesOf(options),
    run: runOn(client),
    maintain: async (statement) => {
      const owner = postgres(options.migrationDatabaseUrl ?? url, { max: 1, onnotice: () => {} })
      try {
        await owner.unsafe(statement)
      } finally {
        await owner.end({ timeout: 5 })
      }
    },
    // postgres.js's begin, not a reserved connection: begin also fails the transaction when its
    // connection closes, which a reserved connection does not (requests hung while the database
    // was down, in tests/faults/database-down). BEGIN takes a round trip alone: begin awaits it.
    transaction: async <T>(work: (tx: Tx) => Promise<T>, options?: TransactionOptions) => {
      let result: Promise<T> | undefined
      // begin sends COMMIT when its callback settles: here when the work has sent everything
      // (sentAll), or when it finishes without saying so; a work that fails first rolls back.
      await client.begin((connection) => new Promise<void>((resolve, reject) => {
        let sending = true
        const run = runOn(connection)
        const sentAll = () => {
          sending = false
          resolve()
        }
        result = work({
          inTransaction: true,
          sentAll,
          run: (text, params) => (sending ? run(text, params) : Promise.reject(sentAfterAll())),
          // No parameters: postgres.js sends it as a simple query, unprepared, pipelined with the rest.
          script: async (text) => {
            if (!sending) throw sentAfterAll()
            await connection.unsafe(text).execute()
          },
        })
        if (options?.oneRoundTrip) sentAll()
        result.then(() => resolve(), (error: unknown) => {
          sending = false
          reject(error)
        })
      }))
      if (!result) throw new Error('the transaction did not run its work')
      return result
    },
  }
  return { db, close: () => client.end({ timeout: 5 }) }
}

/**
 * In-memory databases of one process (tests, mostly) start as copies of the first one's cluster,
 * taken just after it was migrated: creating a cluster (initdb) and migrating it cost PGlite
 * seconds, loading a copy half a second (its migrations are then found applied).
 */
let migratedCluster: Promise<Blob> | undefined
const copiesToMake = new WeakSet<PGlite>()

async function openPGlite(options: DatabaseOptions): Promise<Database> {
  const inMemory = options.dataDir.startsWith('memory://')
  if (!inMemory) mkdirSync(options.dataDir, { recursive: true })
  // Loaded only here: the embedded database's module alone is about 45 MB of a process's memory.
  const { PGlite, types } = await import('@electric-sql/pglite')
  // A copy that could not be made is no copy: the cluster is then created as the first one was.
  const template = inMemory ? await migratedCluster?.catch(() => undefined) : undefined
  const client = template ? await PGlite.create({ loadDataDir: template }) : await PGlite.create(options.dataDir)
  if (inMemory && !template) copiesToMake.add(client)
  // WAL segments are removed, not renamed for reuse with their old bytes: erasure relies on it (store/purge.ts).
  await client.exec('set wal_recycle = off')
  // Dates and timestamps as the strings PostgreSQL prints, as on the server above.
  const asIs = (value: string) => value
  const config = { rowMode: 'object' as const, parsers: { [types.DATE]: asIs, [types.TIMESTAMP]: asIs, [types.TIMESTAMPTZ]: asIs, [types.TIME]: asIs } }
  const db: Db = {
    kind: 'pglite',
    limits: options.limits,
    shares: sharesOf(options),
    run: async (text, params) => (await client.query<Row>(text, params, config)).rows,
    // One session: it is the owner's for this statement alone. The three are queued at once, so no
    // other statement comes between them (PGlite runs its queue in order); VACUUM refuses a transaction.
    maintain: async (statement) => {
      const steps = await Promise.allSettled([client.exec('set role none'), client.exec(statement), client.exec(`set role ${appRole}`)])
      for (const step of steps) if (step.status === 'rejected') throw step.reason
    },
    // No network, so nothing to pipeline; statements after sentAll are refused here too, so tests on
    // PGlite catch a work that would misuse it on PostgreSQL.
    transaction: (work, options) => client.transaction((tx) => {
      let sending = true
      const result = work({
        inTransaction: true,
        sentAll: () => { sending = false },
        run: async (text, params) => {
          if (!sending) throw sentAfterAll()
          return (await tx.query<Row>(text, params, config)).rows
        },
        script: async (text) => {
          if (!sending) throw sentAfterAll()
          await tx.exec(text)
        },
      })
      if (options?.oneRoundTrip) sending = false
      return result
    }),
  }
  return { db, pglite: client, close: () => client.close() }
}

/** Applies pending migrations; on PostgreSQL under an advisory lock so instances can start together. */
export async function migrateDatabase(database: Database, options: DatabaseOptions): Promise<void> {
  if (!options.databaseUrl) {
    if (!database.pglite) throw new Error('expected the PGlite client')
    const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')])
    // The embedded database has one session: it migrates as the owner, then serves as journey_app.
    await database.pglite.exec('set role none')
    await migrate(drizzle({ client: database.pglite }), { migrationsFolder })
    if (copiesToMake.has(database.pglite)) migratedCluster ??= database.pglite.dumpDataDir('none')
    await database.pglite.exec(`set role ${appRole}`)
    return
  }
  // One dedicated connection as the owner, so the lock and the migration share a session.
  const client = postgres(options.migrationDatabaseUrl ?? options.databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await client`select pg_advisory_lock(7215548301)`
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder })
  } finally {
    await client.end({ timeout: 5 })
  }
}

const dialect = new PgDialect()

function run(q: Queryable, statement: SQL): Promise<Row[]> {
  const { sql: text, params } = dialect.sqlToQuery(statement)
  return q.run(text, params)
}

/** A part of a statement that a later part reads by name (its RETURNING rows). */
export interface NamedPart { name: string; sql: SQL }

/**
 * One statement that runs every part as a data-modifying CTE and returns the rows of `main`: the
 * cost of one statement instead of several. The parts run on one snapshot in no set order, so they
 * must write disjoint rows and read nothing another part writes, except a NamedPart's RETURNING
 * rows, which later parts and `main` may read by its name.
 */
export function together(main: SQL, parts: readonly (SQL | NamedPart)[]): SQL {
  if (parts.length === 0) return main
  return sql`with ${ctes(parts)}, main as (${main}) select * from main`
}

/** `main` with every part run beside it as a data-modifying CTE (see `together`), for a `main` that returns nothing. */
export function alongside(main: SQL, parts: readonly (SQL | NamedPart)[]): SQL {
  if (parts.length === 0) return main
  return sql`with ${ctes(parts)} ${main}`
}

function ctes(parts: readonly (SQL | NamedPart)[]): SQL {
  return sql.join(parts.map((part, i) => (part instanceof SQL ? sql`${sql.raw(`part${i}`)} as (${part})` : sql`${sql.raw(part.name)} as (${part.sql})`)), sql`, `)
}

/** Runs a statement and returns its rows. The row type is the caller's statement of what the SQL selects. */
export async function query<T>(q: Queryable, statement: SQL): Promise<T[]> {
  return (await run(q, statement)) as T[]
}

/** Runs a statement for its effect. */
export async function execute(q: Queryable, statement: SQL): Promise<void> {
  await run(q, statement)
}

export async function queryOne<T>(q: Queryable, statement: SQL): Promise<T | undefined> {
  const rows = await query<T>(q, statement)
  return rows[0]
}

/** The role of tenant work: row-level security confines it to the tenant in app.tenant_id. */
export const appRole = 'journey_app'
/** The role of system work across tenants: a policy of its own on the few tables it must reach. */
export const systemRole = 'journey_system'

/**
 * A transaction scoped to one tenant: it runs as journey_app and every policy reads app.tenant_id,
 * so a query that forgets its tenant filter still sees only this tenant.
 */
export function inTenant<T>(db: Db, tenantId: string, work: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T> {
  const transaction = () => db.transaction((tx) => scoped(tx, [`set local role ${appRole}`, `set local app.tenant_id = ${quoteLiteral(tenantId)}`, ...limitsOf(db.limits, options?.long)], work), options)
  return db.shares ? db.shares.run(tenantId, transaction) : transaction()
}

/**
 * One read statement in a transaction of its tenant, sent with its scope and COMMIT in one round trip
 * after BEGIN's (oneRoundTrip). The tenant context stays SET LOCAL, which Citus propagates
 * (tests/integration/tenancy.test.ts): one statement scoped by set_config cost 20 % less CPU a read on
 * one PostgreSQL (bench/README.md), but is not propagated.
 */
export function queryInTenant<T>(db: Db, tenantId: string, statement: SQL): Promise<T[]> {
  return inTenant(db, tenantId, (tx) => query<T>(tx, statement), { oneRoundTrip: true })
}

/** A transaction for system work across tenants (tenant lists, bootstrap, sweeps); runs as journey_system. */
export function inSystem<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction((tx) => scoped(tx, [`set local role ${systemRole}`], work))
}

/**
 * Sends the scope with the work's first statement instead of a round trip of its own: a
 * transaction's statements run in the order they were sent, so the scope is set before anything
 * reads. SET LOCAL: Citus propagates it to its workers (it never propagates the setting function).
 */
async function scoped<T>(tx: Tx, settings: readonly string[], work: (tx: Tx) => Promise<T>): Promise<T> {
  const [, result] = await Promise.all([tx.script(settings.join('; ')), work(tx)])
  return result
}

/** The transaction's time limits (request work only; tools such as the CLI run without). */
function limitsOf(limits: WorkLimits | undefined, long = false): string[] {
  if (!limits) return []
  const statementMs = long ? limits.longStatementMs : limits.statementMs
  return [`set local statement_timeout = ${Math.trunc(statementMs)}`, `set local idle_in_transaction_session_timeout = ${Math.trunc(limits.idleInTransactionMs)}`]
}

/** A string as an SQL literal, safe whatever standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  const quoted = `'${value.replaceAll("'", "''")}'`
  return value.includes('\\') ? `E${quoted.replaceAll('\\', '\\\\')}` : quoted
}
