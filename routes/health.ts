import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { sql } from 'drizzle-orm'
import { unavailable } from '../src/domain/errors.js'
import { queryOne } from '../src/store/database.js'
import { ProblemRef } from './schemas.js'

const Health = Type.Object({ status: Type.String({ examples: ['ok'] }) }, { title: 'Health' })
const Readiness = Type.Object({
  status: Type.String({ examples: ['ready'] }),
  database: Type.String({ enum: ['pglite', 'postgres'] }),
  migrations: Type.Integer({ description: 'Migrations applied.' }),
}, { title: 'Readiness' })

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive', security: [], response: { 200: Health } },
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: {
      tags: ['health'], summary: 'The database is reachable and migrated', security: [],
      response: { 200: Readiness, 503: ProblemRef },
    },
  }, async () => {
    if (app.isClosing()) throw unavailable('shutting down')
    const row = await queryOne<{ applied: number }>(app.db, sql`select count(*)::int as applied from drizzle.__drizzle_migrations`)
    return { status: 'ready', database: app.database.kind, migrations: row?.applied ?? 0 }
  })
}

export default healthRoutes
