// Rebuilds every stream's state and every projection from the ledger with the same folds the
// append path uses, a batch of streams at a time so memory stays flat however large the ledger
// is. Each batch locks its streams as an append does, so the service can keep writing meanwhile, and
// moves the analytics aggregates by the difference between the batch's old rows and its new ones.
import { sql } from 'drizzle-orm'
import { cellDelta, journeyCells } from '../domain/analytics-cells.js'
import { projectJourney } from '../domain/journey.js'
import { aggregateWrites, asStatement, cellsOfRows } from './aggregates.js'
import { foldStream, stateVersion, storedForm, type StreamKind } from '../domain/streams.js'
import { execute, inSystem, inTenant, query, type Db, type Tx } from './database.js'
import { readStreams, streamKey, streamsUpdate } from './event-store.js'
import { projectionWrites } from './projections.js'
import { promisesOfJourneysDelete } from './promises.js'

export interface RebuildReport { tenants: number; streams: number; events: number; ms: number }

const streamsPerBatch = 500

export async function rebuildProjections(db: Db, options: { tenantId?: string; onProgress?: (r: RebuildReport) => void } = {}): Promise<RebuildReport> {
  const started = Date.now()
  const report: RebuildReport = { tenants: 0, streams: 0, events: 0, ms: 0 }
  const tenants = options.tenantId
    ? [options.tenantId]
    : (await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants order by tenant_id`))).map((t) => t.id)
  for (const tenantId of tenants) {
    report.tenants += 1
    let after: { kind: string; id: string } | null = null
    for (;;) {
      const cursor: { kind: string; id: string } | null = after
      const batch: { kind: StreamKind; id: string }[] = await inTenant(db, tenantId, async (tx) => {
        const streams = await query<{ kind: StreamKind; id: string; version: number }>(tx, sql`
          select kind, id, version from streams where tenant_id = ${tenantId} and version > 0
            ${cursor ? sql`and (kind, id) > (${cursor.kind}, ${cursor.id})` : sql``}
          order by kind, id limit ${streamsPerBatch} for update`)
        report.events += await rebuildStreams(tx, tenantId, streams)
        return streams
      })
      report.streams += batch.length
      options.onProgress?.({ ...report, ms: Date.now() - started })
      const last = batch[batch.length - 1]
      if (!last || batch.length < streamsPerBatch) break
      after = last
    }
    // Rows no stream stands behind (there should be none) go too, so the result is the ledger's alone.
    await inTenant(db, tenantId, async (tx) => {
      const orphans = await query<{ id: string }>(tx, sql`select id from journeys j where tenant_id = ${tenantId} and not exists (select 1 from streams s where s.tenant_id = ${tenantId} and s.kind = 'journey' and s.id = j.id and s.version > 0)`)
      await execute(tx, asStatement(aggregateWrites(tenantId, cellDelta(await cellsOfRows(tx, tenantId, orphans.map((o) => o.id)), []))))
      await execute(tx, sql`delete from journeys j where tenant_id = ${tenantId} and not exists (select 1 from streams s where s.tenant_id = ${tenantId} and s.kind = 'journey' and s.id = j.id and s.version > 0)`)
      await execute(tx, sql`delete from promises p where tenant_id = ${tenantId} and not exists (select 1 from journeys j where j.tenant_id = ${tenantId} and j.id = p.journey_id)`)
      await execute(tx, sql`delete from vacancies v where tenant_id = ${tenantId} and not exists (select 1 from streams s where s.tenant_id = ${tenantId} and s.kind = 'vacancy' and s.id = v.id and s.version > 0)`)
    })
  }
  report.ms = Date.now() - started
  return report
}

/** Folds these streams from their histories and writes their states and projection rows anew; the number of events read. */
async function rebuildStreams(tx: Tx, tenantId: string, streams: readonly { kind: StreamKind; id: string; version: number }[]): Promise<number> {
  const histories = await readStreams(tx, tenantId, streams)
  const folded = streams.map((s) => ({ ...s, state: foldStream(s.kind, histories.get(streamKey(s)) ?? []) }))
  const journeyIds = streams.flatMap((s) => (s.kind === 'journey' ? [s.id] : []))
  const before = await cellsOfRows(tx, tenantId, journeyIds)
  const after = folded.map((s) => journeyCells(s.state.kind === 'journey' ? projectJourney(s.state) : null))
  await execute(tx, promisesOfJourneysDelete(tenantId, journeyIds))
  const writes = projectionWrites(tenantId, folded.map((s) => ({ state: s.state, promiseRows: { made: 'all', changed: 'all' } })))
  await Promise.all([
    execute(tx, streamsUpdate(tenantId, folded.map((s) => ({ kind: s.kind, id: s.id, version: s.version, state: { v: stateVersion, state: storedForm(s.state) } })))),
    ...writes.map((statement) => execute(tx, statement)),
    execute(tx, asStatement(aggregateWrites(tenantId, cellDelta(before, after)))),
  ])
  return [...histories.values()].reduce((n, events) => n + events.length, 0)
}
