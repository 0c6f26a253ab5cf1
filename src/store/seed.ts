// Fills a tenant with a generated demo population through the same path as POST /v1/events
// (parseEvents, then recordEvents in a tenant transaction per batch). Journeys are generated as
// the batches are posted, so memory stays flat for 100 000 journeys.
import { sql } from 'drizzle-orm'
import { parseEvents } from '../domain/cloudevent.js'
import { generatePopulation, populationBatches, rehireSuffix } from '../domain/population.js'
import { inTenant, queryOne, type Db } from './database.js'
import { recordEvents } from './record-events.js'
import type { Keyring } from './keyring.js'

/** `journeys`: the journeys asked for; `rehires`: the boomerangs' second journeys besides them. */
export interface SeedReport { tenantId: string; journeys: number; rehires: number; events: number; duplicates: number; ms: number }

export interface SeedOptions {
  tenantId: string
  journeys: number
  seed: number
  now: Date
  batchSize?: number
  onProgress?: (report: SeedReport) => void
}

export async function seedPopulation(db: Db, keyring: Keyring, options: SeedOptions): Promise<SeedReport> {
  const { tenantId, now } = options
  const exists = await inTenant(db, tenantId, (tx) => queryOne(tx, sql`select 1 as one from tenants where tenant_id = ${tenantId}`))
  if (!exists) throw new Error(`no tenant ${tenantId}: create it first (journey tenants create --name ...)`)
  const started = Date.now()
  const report: SeedReport = { tenantId, journeys: 0, rehires: 0, events: 0, duplicates: 0, ms: 0 }
  let analyzeAt = 5_000
  const population = generatePopulation({ journeys: options.journeys, seed: options.seed, now })
  for (const batch of populationBatches(population, options.batchSize ?? 500)) {
    const events = parseEvents(batch, { now })
    const results = await inTenant(db, tenantId, (tx) => recordEvents(tx, tenantId, events, { batch: true, keyring, last: true }))
    report.events += results.length
    report.duplicates += results.filter((r) => r.duplicate).length
    const opened = batch.filter((e) => e.type === 'candidate.applied')
    report.rehires += opened.filter((e) => e.subject.endsWith(rehireSuffix)).length
    report.journeys += opened.length - opened.filter((e) => e.subject.endsWith(rehireSuffix)).length
    options.onProgress?.({ ...report, ms: Date.now() - started })
    // The tenant grows faster than autovacuum re-analyzes (and PGlite has none): without fresh
    // statistics the planner takes it for a few rows and scans it. At 5 000 events, then at each doubling.
    if (report.events >= analyzeAt) {
      await db.maintain('analyze events, streams, journeys, promises, person_keys')
      analyzeAt *= 2
    }
  }
  // A bulk load leaves every new row to be checked against the commit log on first read and the
  // visibility map empty, and autovacuum then works through it while the first readers come: the
  // bench's first run after a seed ran 10-40 % slower. VACUUM settles it now, outside a transaction.
  await db.maintain('vacuum (analyze) events, streams, journeys, promises, person_keys')
  report.ms = Date.now() - started
  return report
}
