import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { sql } from 'drizzle-orm'
import { unavailable } from '../src/domain/errors.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { migrationsFolder, queryOne } from '../src/store/database.js'
import { problemResponse } from './schemas.js'

const Health = Type.Object({ status: Type.String({ examples: ['ok'] }) }, { title: 'Health' })
const Readiness = Type.Object({
  status: Type.String({ examples: ['ready'] }),
  database: Type.String({ enum: ['pglite', 'postgres'] }),
  migrations: Type.Integer({ description: 'Migrations applied.' }),
}, { title: 'Readiness' })

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const journal: unknown = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'))
  const entries: unknown = typeof journal === 'object' && journal !== null ? Reflect.get(journal, 'entries') : undefined
  const expectedMigrations = Array.isArray(entries) ? entries.length : 0
  // Probes that arrive together share one database check: readiness must not become a way to load
  // the database. Each check is fresh, so an outage shows at the next probe.
  let inFlight: Promise<number> | undefined
  const appliedMigrations = () => {
    inFlight ??= queryOne<{ applied: number }>(app.db, sql`select count(*)::int as applied from drizzle.__drizzle_migrations`)
      .then((row) => row?.applied ?? 0)
      .finally(() => { inFlight = undefined })
    return inFlight
  }

  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive', security: [], response: { 200: Health } },
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: {
      tags: ['health'], summary: 'The database is reachable and migrated', security: [],
      response: { 200: Readiness, 503: problemResponse('Not ready: the database is unreachable, migrations are missing, or the service is closing.') },
    },
  }, async () => {
    if (app.isClosing()) throw unavailable('shutting down')
    const applied = await appliedMigrations()
    if (applied < expectedMigrations) throw unavailable(`${applied} of ${expectedMigrations} migrations applied`)
    return { status: 'ready', database: app.db.kind, migrations: applied }
  })
}

export default healthRoutes
