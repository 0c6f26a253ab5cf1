// Analytics from the maintained aggregates (src/domain/analytics-cells.ts): a request sums the
// cells of its months, a few hundred rows per grouping, whatever the tenant's size. Distinct people
// per group and split come from the membership cells; publishGroups (the domain's suppression rule)
// decides what is withheld before anything leaves the store.
import { sql, type SQL } from 'drizzle-orm'
import { epochDay, histogramMedian, type PromiseGrouping, type RetentionGrouping } from '../domain/analytics-cells.js'
import { publishGroups, publishSplit, type SuppressedGroup, type SuppressedSplit } from '../domain/suppression.js'
import { query, type Queryable } from './database.js'

export { promiseGroupings, retentionGroupings, unknownGroup, notHiredGroup, type PromiseGrouping, type RetentionGrouping } from '../domain/analytics-cells.js'

export interface AnalyticsQuery<G> {
  groupBy: G
  /** Whole months: the first day of the first, the last day of the last (ISO dates); null is unbounded. */
  from: string | null
  to: string | null
  minGroupSize: number
  /** Today (ISO date) by the app's clock: what is overdue depends on it. */
  today: string
}

/** num / den rounded half away from zero to `places` decimals; null when den is 0. */
const ratio = (num: SQL, den: SQL, places: number) => sql`round((${num})::numeric / nullif(${den}, 0), ${sql.raw(String(places))})::float8`

/** The cells of one analysis and grouping in the period (months are first days, so a whole-month period is exact). */
function cellsOf(table: 'analytics_counts' | 'analytics_people', tenantId: string, analysis: string, q: AnalyticsQuery<string>): SQL {
  return sql`from ${sql.raw(table)} where tenant_id = ${tenantId} and analysis = ${analysis} and grouping = ${q.groupBy}
    ${q.from === null ? sql`` : sql`and month >= ${q.from}::date`} ${q.to === null ? sql`` : sql`and month <= ${q.to}::date`}`
}

/** Per group, the sum of each measure over the period: `sum(measure)` as an expression over the grouped cells. */
const sum = (measure: string, extra: SQL = sql``) => sql`coalesce(sum(value) filter (where measure = ${measure} ${extra}), 0)::int`

export interface PromiseFigures {
  group: string
  made: number
  kept: number
  broken: number
  renegotiated: number
  withdrawn: number
  open: number
  overdue: number
  keepRate: number | null
  medianDaysToKeep: number | null
  perceptionGap: number
}

export async function promiseAnalytics(tx: Queryable, tenantId: string, q: AnalyticsQuery<PromiseGrouping>): Promise<(PromiseFigures | SuppressedGroup)[]> {
  const rows = await query<Omit<PromiseFigures, 'medianDaysToKeep'> & { people: number; keptDays: [number, number][] }>(tx, sql`
    with people as (
      select group_key, count(distinct person_ref)::int as people ${cellsOf('analytics_people', tenantId, 'promises', q)} and value > 0 group by group_key
    ), counts as (
      select group_key, ${sum('made')} as made, ${sum('kept')} as kept, ${sum('broken')} as broken, ${sum('renegotiated')} as renegotiated,
        ${sum('withdrawn')} as withdrawn, ${sum('open')} as open, ${sum('openDue', sql`and bucket < ${epochDay(q.today)}`)} as overdue,
        ${sum('gap')} as "perceptionGap"
      ${cellsOf('analytics_counts', tenantId, 'promises', q)} and measure <> 'keptDays' group by group_key
    ), kept_days as (
      select group_key, jsonb_agg(jsonb_build_array(bucket, n)) as "keptDays"
      from (select group_key, bucket, sum(value)::int as n ${cellsOf('analytics_counts', tenantId, 'promises', q)} and measure = 'keptDays' group by group_key, bucket) d
      group by group_key
    )
    select p.group_key as "group", p.people, c.made, c.kept, c.broken, c.renegotiated, c.withdrawn, c.open, c.overdue,
      ${ratio(sql`c.kept`, sql`c.kept + c.broken + c.overdue`, 4)} as "keepRate", c."perceptionGap", coalesce(k."keptDays", '[]') as "keptDays"
    from people p join counts c using (group_key) left join kept_days k using (group_key)
    order by p.group_key collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [] }), ({ people: _, keptDays, ...figures }) => ({ ...figures, medianDaysToKeep: histogramMedian(keptDays) }))
}

export interface RetentionSplit { hires: number; exits: number; earlyExits: number; earlyExitRate: number | null }
export interface RetentionFigures extends RetentionSplit {
  group: string
  withBrokenPromise: RetentionSplit | SuppressedSplit
  withoutBrokenPromise: RetentionSplit | SuppressedSplit
}

interface RetentionRow {
  group: string
  people: number; bPeople: number; nPeople: number
  hires: number; exits: number; earlyExits: number; earlyExitRate: number | null
  bHires: number; bExits: number; bEarlyExits: number; bEarlyExitRate: number | null
  nHires: number; nExits: number; nEarlyExits: number; nEarlyExitRate: number | null
}

export async function retentionAnalytics(tx: Queryable, tenantId: string, q: AnalyticsQuery<RetentionGrouping>): Promise<(RetentionFigures | SuppressedGroup)[]> {
  const rows = await query<RetentionRow>(tx, sql`
    with people as (
      select group_key, count(distinct person_ref)::int as people,
        count(distinct person_ref) filter (where split = 'b')::int as "bPeople",
        count(distinct person_ref) filter (where split = 'n')::int as "nPeople"
      ${cellsOf('analytics_people', tenantId, 'retention', q)} and value > 0 group by group_key
    ), counts as (
      select group_key, ${sum('hires')} as hires, ${sum('exits')} as exits, ${sum('early')} as "earlyExits",
        ${sum('bHires')} as "bHires", ${sum('bExits')} as "bExits", ${sum('bEarly')} as "bEarlyExits"
      ${cellsOf('analytics_counts', tenantId, 'retention', q)} group by group_key
    )
    select p.group_key as "group", p.people, p."bPeople", p."nPeople",
      hires, exits, "earlyExits", ${ratio(sql`"earlyExits"`, sql`hires`, 4)} as "earlyExitRate",
      "bHires", "bExits", "bEarlyExits", ${ratio(sql`"bEarlyExits"`, sql`"bHires"`, 4)} as "bEarlyExitRate",
      hires - "bHires" as "nHires", exits - "bExits" as "nExits", "earlyExits" - "bEarlyExits" as "nEarlyExits",
      ${ratio(sql`"earlyExits" - "bEarlyExits"`, sql`hires - "bHires"`, 4)} as "nEarlyExitRate"
    from people p join counts c using (group_key)
    order by p.group_key collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [r.bPeople, r.nPeople] }), (r, [withBroken, withoutBroken]) => ({
    group: r.group, hires: r.hires, exits: r.exits, earlyExits: r.earlyExits, earlyExitRate: r.earlyExitRate,
    withBrokenPromise: publishSplit(withBroken, { hires: r.bHires, exits: r.bExits, earlyExits: r.bEarlyExits, earlyExitRate: r.bEarlyExitRate }),
    withoutBrokenPromise: publishSplit(withoutBroken, { hires: r.nHires, exits: r.nExits, earlyExits: r.nEarlyExits, earlyExitRate: r.nEarlyExitRate }),
  }))
}
