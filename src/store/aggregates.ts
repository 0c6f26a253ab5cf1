// The maintained aggregates behind the analytics (see src/domain/analytics-cells.ts): written as
// deltas in the append's statement, adjusted per batch by a rebuild, and filled from the
// projection rows once for a tenant that predates them (analytics_pending).
import { sql, type SQL } from 'drizzle-orm'
import { cellDelta, journeyCells, splits, type Cells, type ProjectedJourney } from '../domain/analytics-cells.js'
import type { Journey } from '../domain/journey.js'
import type { PromiseRecord } from '../domain/promise.js'
import { execute, inSystem, inTenant, query, queryOne, together, type Db, type NamedPart, type Queryable, type Tx } from './database.js'
import { promiseBooks } from './promises.js'

/** The splits as a text[] literal: a people count's bucket is its split's index. */
export const splitNames = sql.raw(`array[${splits.map((x) => `'${x}'`).join(', ')}]::text[]`)
const countsColumns = sql`analysis text, grouping text, month date, "group" text, measure text, bucket integer, value bigint`
const upsertCounts = (tenantId: string, rows: SQL) => sql`
  insert into analytics_counts (tenant_id, analysis, grouping, month, group_key, measure, bucket, value)
  select ${tenantId}, r.analysis, r.grouping, r.month, r."group", r.measure, r.bucket, r.value from ${rows}
  on conflict (tenant_id, analysis, grouping, month, group_key, measure, bucket) do update set value = analytics_counts.value + excluded.value`

/**
 * The parts of one statement that add these cells to the tenant's aggregates. Memberships return
 * what they became: a person whose items in a cell went from none to some (or back) moves the
 * cell's `people` count, so a group's distinct people are read, not counted. Under READ COMMITTED
 * a concurrent append waits for the membership row and adds to the committed value, so each
 * crossing is counted once.
 */
export function aggregateWrites(tenantId: string, cells: Cells): (SQL | NamedPart)[] {
  const writes: (SQL | NamedPart)[] = []
  if (cells.counts.length > 0) writes.push(upsertCounts(tenantId, sql`jsonb_to_recordset(${JSON.stringify(cells.counts)}::jsonb) as r(${countsColumns})`))
  if (cells.people.length > 0) {
    writes.push({
      name: 'analytics_members',
      sql: sql`
        insert into analytics_people (tenant_id, analysis, grouping, month, group_key, split, person_ref, value, last_change)
        select ${tenantId}, r.analysis, r.grouping, r.month, r."group", r.split, r."personRef", r.value, r.value
        from jsonb_to_recordset(${JSON.stringify(cells.people)}::jsonb) as r(analysis text, grouping text, month date, "group" text, split text, "personRef" text, value integer)
        on conflict (tenant_id, analysis, grouping, month, group_key, split, person_ref) do update set value = analytics_people.value + excluded.value, last_change = excluded.value
        returning analysis, grouping, month, group_key, split, value, last_change`,
    })
    writes.push(upsertCounts(tenantId, sql`(
      select analysis, grouping, month, group_key as "group", 'people' as measure, array_position(${splitNames}, split) - 1 as bucket,
        sum(case when value > 0 and value - last_change <= 0 then 1 when value <= 0 and value - last_change > 0 then -1 else 0 end) as value
      from analytics_members group by 1, 2, 3, 4, 5, 6
      having sum(case when value > 0 and value - last_change <= 0 then 1 when value <= 0 and value - last_change > 0 then -1 else 0 end) <> 0
      order by 1, 2, 3, 4, 5, 6) as r`))
  }
  return writes
}

/** Parts as a statement of their own. */
export function asStatement(parts: readonly (SQL | NamedPart)[]): SQL {
  return together(sql`select 1`, parts)
}

type JourneyRow = Pick<Journey, 'id' | 'personRef' | 'department' | 'vacancyId' | 'hiredAt' | 'startDate' | 'exitedAt' | 'lastDay'>

/** The journeys (by id, or a page of the tenant's after `after`) as their projection rows stand, with their promises. */
async function projectedRows(tx: Queryable, tenantId: string, which: { ids: readonly string[] } | { after: string; limit: number }): Promise<ProjectedJourney[]> {
  const journeys = await query<JourneyRow>(tx, sql`
    select id, person_ref as "personRef", department, vacancy_id as "vacancyId", jl_iso(hired_at) as "hiredAt", start_date::text as "startDate",
      jl_iso(exited_at) as "exitedAt", last_day::text as "lastDay"
    from journeys where tenant_id = ${tenantId}
      ${'ids' in which ? sql`and id in (select jsonb_array_elements_text(${JSON.stringify(which.ids)}::jsonb))` : sql`and id > ${which.after} order by id limit ${which.limit}`}`)
  if (journeys.length === 0) return []
  const row = await queryOne<{ promises: PromiseRecord[] }>(tx, sql`select (${promiseBooks(tenantId, journeys.map((j) => j.id))}) as promises`)
  const promises = new Map<string, PromiseRecord[]>()
  for (const p of row?.promises ?? []) promises.set(p.journeyId, [...(promises.get(p.journeyId) ?? []), p])
  return journeys.map((journey) => ({ journey, promises: promises.get(journey.id) ?? [] }))
}

/** The cells these journeys' projection rows stand for: what a rebuild takes away before it writes the rows anew. */
export async function cellsOfRows(tx: Queryable, tenantId: string, journeyIds: readonly string[]): Promise<Cells[]> {
  if (journeyIds.length === 0) return []
  return (await projectedRows(tx, tenantId, { ids: journeyIds })).map(journeyCells)
}

const fillPage = 1000

/**
 * Fills the aggregates of every tenant listed in analytics_pending (those that predate them) from
 * their projection rows, one transaction per tenant, before the service serves. The pending row is
 * taken first: an instance starting at the same time waits for it, then finds nothing to do.
 */
export async function fillPendingAggregates(db: Db): Promise<number> {
  const pending = await inSystem(db, (tx) => query<{ tenantId: string }>(tx, sql`select tenant_id as "tenantId" from analytics_pending order by tenant_id`))
  let filled = 0
  for (const { tenantId } of pending) {
    await inTenant(db, tenantId, async (tx) => {
      const taken = await query(tx, sql`delete from analytics_pending where tenant_id = ${tenantId} returning tenant_id`)
      if (taken.length === 0) return
      await refill(tx, tenantId)
      filled += 1
    }, { long: true })
  }
  return filled
}

/** Replaces a tenant's aggregates by the sum of its journeys' cells, a page of projection rows at a time. */
async function refill(tx: Tx, tenantId: string): Promise<void> {
  await execute(tx, sql`delete from analytics_counts where tenant_id = ${tenantId}`)
  await execute(tx, sql`delete from analytics_people where tenant_id = ${tenantId}`)
  let after = ''
  for (;;) {
    const page = await projectedRows(tx, tenantId, { after, limit: fillPage })
    await execute(tx, asStatement(aggregateWrites(tenantId, cellDelta([], page.map(journeyCells)))))
    const last = page[page.length - 1]
    if (!last || page.length < fillPage) return
    after = last.journey.id
  }
}
