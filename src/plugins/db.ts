// Opens the database when the app starts (never at import), applies migrations, bootstraps the
// first tenant as the contract says, and closes the database last on shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import { defaultTenantId } from '../domain/keys.js'
import { fillPendingAggregates } from '../store/aggregates.js'
import { execute, migrateDatabase, openDatabase, type Database, type Db } from '../store/database.js'
import { countTenants, createTenant } from '../store/tenants.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    database: Database
    config: Config
  }
}

/** Creates the `default` tenant on a database with none: with the bootstrap key, or on PGlite with a generated one. */
export async function bootstrapTenant(db: Db, config: Config): Promise<void> {
  if (await countTenants(db) > 0) return
  if (config.bootstrapKey) {
    await createTenant(db, 'Default', { id: defaultTenantId, adminKey: config.bootstrapKey })
    return
  }
  if (db.kind !== 'pglite') return
  const tenant = await createTenant(db, 'Default', { id: defaultTenantId })
  config.announce([
    '',
    'Journey Ledger created the tenant "default". Its admin API key (shown once, keep it):',
    `  ${tenant.adminKey}`,
    '',
  ].join('\n'))
}

async function dbPlugin(app: FastifyInstance, options: { config: Config }) {
  const { config } = options
  const dbOptions = {
    databaseUrl: config.databaseUrl, migrationDatabaseUrl: config.migrationDatabaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize,
    limits: config.workLimits, capturePath: config.sqlCapturePath, tenantShare: config.tenantShare,
  }
  const database = await openDatabase(dbOptions)
  try {
    await migrateDatabase(database, dbOptions)
    const filled = await fillPendingAggregates(database.db)
    if (filled > 0) app.log.info({ tenants: filled }, 'analytics aggregates filled from the projections')
    await bootstrapTenant(database.db, config)
  } catch (error) {
    await database.close()
    throw error
  }
  app.decorate('database', database)
  app.decorate('db', database.db)
  // PGlite runs no autovacuum, so its planner statistics stay those of the last ANALYZE: without
  // one, every table looks nearly empty and list and analytics queries scan. One at start-up and
  // one every ten minutes (a second or two on a large embedded ledger; PostgreSQL does its own).
  let analyzer: NodeJS.Timeout | undefined
  if (database.db.kind === 'pglite') {
    const analyze = () => database.db.maintain('analyze').catch((err: unknown) => app.log.warn({ err }, 'ANALYZE failed'))
    // An in-memory database starts empty: there is nothing to learn before the first interval.
    if (!config.dataDir.startsWith('memory://')) await analyze()
    analyzer = setInterval(() => void analyze(), 10 * 60 * 1000)
    analyzer.unref()
  }
  app.addHook('onClose', async () => {
    clearInterval(analyzer)
    await database.close()
  })
}

/** True when the database answers and every migration has been applied. */
export async function databaseReady(db: Db): Promise<boolean> {
  await execute(db, sql`select 1`)
  return true
}

export default fp(dbPlugin, { name: 'db' })
