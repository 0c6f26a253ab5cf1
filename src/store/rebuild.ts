// Rebuilds every projection from the ledger with the same folds the append path uses, a batch of
// streams at a time so memory stays flat however large the ledger is. Each batch locks its
// streams as an append does, so the service can keep writing while a rebuild runs.
import { sql } from 'drizzle-orm'
import { execute, inSystem, inTenant, query, type Db } from './database.js'
import { readStreams } from './events.js'
import { projectStreams } from './projections.js'

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
      const batch: { kind: 'journey' | 'vacancy'; id: string }[] = await inTenant(db, tenantId, async (tx) => {
        const streams = await query<{ kind: 'journey' | 'vacancy'; id: string }>(tx, sql`
          select kind, id from streams where tenant_id = ${tenantId} and version > 0
            ${cursor ? sql`and (kind, id) > (${cursor.kind}, ${cursor.id})` : sql``}
          order by kind, id limit ${streamsPerBatch} for update`)
        const history = await readStreams(tx, tenantId, streams)
        const projected = streams.map((s) => ({ ...s, events: history.get(`${s.kind}\u0000${s.id}`) ?? [] }))
        for (const s of projected) report.events += s.events.length
        await projectStreams(tx, tenantId, projected)
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
      await execute(tx, sql`delete from journeys j where tenant_id = ${tenantId} and not exists (select 1 from streams s where s.tenant_id = j.tenant_id and s.kind = 'journey' and s.id = j.id and s.version > 0)`)
      await execute(tx, sql`delete from promises p where tenant_id = ${tenantId} and not exists (select 1 from journeys j where j.tenant_id = p.tenant_id and j.id = p.journey_id)`)
      await execute(tx, sql`delete from vacancies v where tenant_id = ${tenantId} and not exists (select 1 from streams s where s.tenant_id = v.tenant_id and s.kind = 'vacancy' and s.id = v.id and s.version > 0)`)
    })
  }
  report.ms = Date.now() - started
  return report
}
