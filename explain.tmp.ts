import { PgDialect } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import type { Queryable } from './src/store/database.js'
import { promiseAnalytics, retentionAnalytics } from './src/store/analytics.js'
const dialect = new PgDialect()
const client = postgres(process.env.DATABASE_URL!, { max: 1 }); for (const oid of [1082, 1083, 1114, 1184]) { client.options.parsers[oid] = (v: unknown) => v; client.options.serializers[oid] = (v: unknown) => v }
const [tenant, groupBy, which, from, to] = process.argv.slice(2)
const q: Queryable = { run: async (text: string, params: unknown[]) => {
  const rows = await client.unsafe(`explain (analyze, buffers) ${text}`, params as never[])
  console.log(rows.map((r) => r['QUERY PLAN']).join('\n'))
  return []
} } as never
const query = { groupBy: groupBy as never, from: from ?? null, to: to ?? null, minGroupSize: 5, today: '2026-12-02' }
await (which === 'retention' ? retentionAnalytics(q, tenant!, query) : promiseAnalytics(q, tenant!, query))
await client.end()
