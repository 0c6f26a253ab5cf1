// Analytics from the maintained aggregates (src/domain/analytics-cells.ts): a request sums the
// cells of its months (or the all-time cells when it names no period), a few hundred rows per
// grouping whatever the tenant's size. Distinct people: the all-time cells' `people` counts, or for
// a period a count over the membership cells of its months. publishGroups (the domain's suppression
// rule) decides what is withheld before anything leaves the store.
import { sql, type SQL } from 'drizzle-orm'
import { allTime, epochDay, keptBinDays, medianOf, monthIndex, undatedMonth, type PromiseGrouping, type RetentionGrouping } from '../domain/analytics-cells.js'
import { publishGroups, publishSplit, type SuppressedGroup, type SuppressedSplit } from '../domain/suppression.js'
import { splitNames } from './aggregates.js'
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

const allTimeAsked = (q: AnalyticsQuery<string>) => q.from === null && q.to === null

/** The cells of an analysis and grouping that answer the period: the all-time ones, or the dated months inside it. */
function cellsOf(table: 'analytics_counts' | 'analytics_people', tenantId: string, analysis: string, q: AnalyticsQuery<string>): SQL {
  const months = allTimeAsked(q)
    ? sql`month = ${allTime}::date`
    : sql`month > ${undatedMonth}::date and month < ${allTime}::date ${q.from === null ? sql`` : sql`and month >= ${q.from}::date`} ${q.to === null ? sql`` : sql`and month <= ${q.to}::date`}`
  return sql`from ${sql.raw(table)} where tenant_id = ${tenantId} and analysis = ${analysis} and grouping = ${q.groupBy} and ${months}`
}

/** Distinct people per group and split ('' the whole group): read from the all-time cells, or counted over the period's memberships. */
function peopleOf(tenantId: string, analysis: string, q: AnalyticsQuery<string>): SQL {
  return allTimeAsked(q)
    ? sql`select group_key, bucket as split, value::int as people ${cellsOf('analytics_counts', tenantId, analysis, q)} and measure = 'people' and value > 0`
    : sql`select group_key, array_position(${splitNames}, split) - 1 as split, count(distinct person_ref)::int as people
        ${cellsOf('analytics_people', tenantId, analysis, q)} and value > 0 group by group_key, split`
}

/** Per group, the sum of a measure over the cells read: an expression over the grouped cells. */
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

interface PromiseRow extends Omit<PromiseFigures, 'medianDaysToKeep'> {
  people: number
  /** The median's part of the days-to-keep histogram: [days, count] of the one or two bins that hold it, and how many kept promises come before. */
  keptDays: [number, number][] | null
  keptBefore: number | null
}

/**
 * Overdue: open promises due before this month (by due month) plus those due this month before
 * today (by due day). The median: the keptBin histogram finds the bin(s) of the middle rank(s), and
 * only their days are read.
 */
export async function promiseAnalytics(tx: Queryable, tenantId: string, q: AnalyticsQuery<PromiseGrouping>): Promise<(PromiseFigures | SuppressedGroup)[]> {
  const monthStart = `${q.today.slice(0, 7)}-01`
  const rows = await query<PromiseRow>(tx, sql`
    with people as (${peopleOf(tenantId, 'promises', q)}),
    counts as (
      select group_key, ${sum('made')} as made, ${sum('kept')} as kept, ${sum('broken')} as broken, ${sum('renegotiated')} as renegotiated,
        ${sum('withdrawn')} as withdrawn, ${sum('open')} as open, ${sum('openDueMonth', sql`and bucket < ${monthIndex(q.today)}`)} as overdue_before,
        ${sum('gap')} as "perceptionGap"
      ${cellsOf('analytics_counts', tenantId, 'promises', q)} and measure <> 'keptBin' group by group_key
    ), due_this_month as (
      select group_key, sum(value)::int as overdue ${cellsOf('analytics_counts', tenantId, 'promises.due', q)} and measure = 'openDueDay' and bucket >= ${epochDay(monthStart)} and bucket < ${epochDay(q.today)} group by group_key
    ), bins as (
      select group_key, bucket as bin, n, sum(n) over (partition by group_key order by bucket) as upto, sum(n) over (partition by group_key) as total
      from (select group_key, bucket, sum(value)::int as n ${cellsOf('analytics_counts', tenantId, 'promises', q)} and measure = 'keptBin' group by group_key, bucket having sum(value) > 0) b
    ), median_bins as (
      select group_key, bin, upto - n as before from bins
      where (upto - n <= (total - 1) / 2 and (total - 1) / 2 < upto) or (upto - n <= total / 2 and total / 2 < upto)
    ), kept_days as (
      select m.group_key, min(m.before)::int as "keptBefore", jsonb_agg(jsonb_build_array(d.day, d.n)) as "keptDays"
      from median_bins m cross join lateral (
        select bucket as day, sum(value)::int as n ${cellsOf('analytics_counts', tenantId, 'promises.kept', q)} and measure = 'keptDay' and group_key = m.group_key
          and bucket >= m.bin * ${keptBinDays} and bucket < (m.bin + 1) * ${keptBinDays} group by bucket
      ) d group by m.group_key
    )
    select p.group_key as "group", p.people, c.made, c.kept, c.broken, c.renegotiated, c.withdrawn, c.open,
      c.overdue_before + coalesce(t.overdue, 0) as overdue,
      ${ratio(sql`c.kept`, sql`c.kept + c.broken + c.overdue_before + coalesce(t.overdue, 0)`, 4)} as "keepRate",
      c."perceptionGap", k."keptDays", k."keptBefore"
    from people p join counts c using (group_key) left join due_this_month t using (group_key) left join kept_days k using (group_key)
    where p.split = 0
    order by p.group_key collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [] }), ({ people: _, keptDays, keptBefore, ...figures }) => ({
    ...figures, medianDaysToKeep: medianOf(figures.kept, keptBefore ?? 0, keptDays ?? []),
  }))
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
      select group_key, coalesce(sum(people) filter (where split = 0), 0)::int as people,
        coalesce(sum(people) filter (where split = 1), 0)::int as "bPeople", coalesce(sum(people) filter (where split = 2), 0)::int as "nPeople"
      from (${peopleOf(tenantId, 'retention', q)}) s group by group_key
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
    where p.people > 0
    order by p.group_key collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [r.bPeople, r.nPeople] }), (r, [withBroken, withoutBroken]) => ({
    group: r.group, hires: r.hires, exits: r.exits, earlyExits: r.earlyExits, earlyExitRate: r.earlyExitRate,
    withBrokenPromise: publishSplit(withBroken, { hires: r.bHires, exits: r.bExits, earlyExits: r.bEarlyExits, earlyExitRate: r.bEarlyExitRate }),
    withoutBrokenPromise: publishSplit(withoutBroken, { hires: r.nHires, exits: r.nExits, earlyExits: r.nEarlyExits, earlyExitRate: r.nEarlyExitRate }),
  }))
}
