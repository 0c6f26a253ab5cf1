// Analytics over the projections (journeys, promises), set-based in SQL: one statement per
// request, whatever the tenant's size. Promise statuses come from statusSql, the rule every
// promise read uses. The SQL counts distinct people per group and split; publishGroups (the domain's
// suppression rule) decides what is withheld before anything leaves the store.
import { sql, type SQL } from 'drizzle-orm'
import { addDays } from '../domain/promise.js'
import { publishGroups, publishSplit, type SuppressedGroup, type SuppressedSplit } from '../domain/suppression.js'
import { query, type Queryable } from './database.js'
import { statusSql } from './promises.js'

export const promiseGroupings = ['madeBy', 'category', 'department', 'vacancy', 'madeAt', 'hireCohort'] as const
export const retentionGroupings = ['department', 'hireCohort', 'vacancy'] as const
export type PromiseGrouping = (typeof promiseGroupings)[number]
export type RetentionGrouping = (typeof retentionGroupings)[number]

/** The label of a group whose key is absent (no department, no vacancy, no madeAt). */
export const unknownGroup = 'unknown'
/** The hireCohort of a journey without employee.hired. */
export const notHiredGroup = 'not-hired'

export interface AnalyticsQuery<G> {
  groupBy: G
  /** Inclusive ISO dates (UTC days); null is unbounded. */
  from: string | null
  to: string | null
  minGroupSize: number
  /** Today (ISO date) by the app's clock: what is overdue depends on it. */
  today: string
}

// Group keys on the journey (alias j), shared by both analyses.
const journeyKeys = {
  department: sql`coalesce(j.department, ${unknownGroup})`,
  vacancy: sql`coalesce(j.vacancy_id, ${unknownGroup})`,
  hireCohort: sql`case when j.hired_at is null or j.start_date is null then ${notHiredGroup} else to_char(j.start_date, 'YYYY-MM') end`,
}
const promiseKeys: Record<PromiseGrouping, SQL> = {
  ...journeyKeys,
  madeBy: sql`p.made_by`,
  category: sql`p.category`,
  madeAt: sql`coalesce(p.made_at, ${unknownGroup})`,
}

/** num / den rounded half away from zero to `places` decimals; null when den is 0. */
const ratio = (num: SQL, den: SQL, places: number) => sql`round((${num})::numeric / nullif(${den}, 0), ${sql.raw(String(places))})::float8`

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
  const period: SQL[] = []
  if (q.from !== null) period.push(sql`and made_time >= ${`${q.from}T00:00:00.000Z`}::timestamptz`)
  if (q.to !== null) period.push(sql`and made_time < ${`${addDays(q.to, 1)}T00:00:00.000Z`}::timestamptz`)
  const rows = await query<PromiseFigures & { people: number }>(tx, sql`
    select "group", people, made, kept, broken, renegotiated, withdrawn, open, overdue,
      ${ratio(sql`kept`, sql`kept + broken + overdue`, 4)} as "keepRate",
      round(median_ms::numeric / 86400000, 1)::float8 as "medianDaysToKeep",
      "perceptionGap"
    from (
      select ${promiseKeys[q.groupBy]} as "group",
        count(distinct j.person_ref)::int as people,
        count(*)::int as made,
        count(*) filter (where p.status = 'kept')::int as kept,
        count(*) filter (where p.status = 'broken')::int as broken,
        count(*) filter (where p.renegotiations > 0)::int as renegotiated,
        count(*) filter (where p.status = 'withdrawn')::int as withdrawn,
        count(*) filter (where p.outcome = 'open')::int as open,
        count(*) filter (where p.status = 'overdue')::int as overdue,
        percentile_cont(0.5) within group (order by p.ms_to_close) filter (where p.status = 'kept') as median_ms,
        count(*) filter (where p.status = 'kept' and p.assessed_fulfilled <= 2)::int as "perceptionGap"
      from (
        select tenant_id, journey_id, made_by, category, made_at, outcome, renegotiations, assessed_fulfilled,
          ${statusSql(q.today)} as status,
          -- whole milliseconds, exact in float8, so the median of two is exact too
          ((extract(epoch from closed_at) - extract(epoch from made_time)) * 1000)::float8 as ms_to_close
        from promises where tenant_id = ${tenantId} ${sql.join(period, sql` `)}
      ) p
      left join journeys j on j.tenant_id = ${tenantId} and j.id = p.journey_id
      group by 1
    ) g
    order by "group" collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [] }), ({ people: _, ...figures }) => figures)
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
  const period: SQL[] = []
  if (q.from !== null) period.push(sql`and j.start_date >= ${q.from}::date`)
  if (q.to !== null) period.push(sql`and j.start_date <= ${q.to}::date`)
  const rows = await query<RetentionRow>(tx, sql`
    with broken as (
      select distinct journey_id from (
        select journey_id, ${statusSql(q.today)} as status from promises where tenant_id = ${tenantId}
      ) s where status = 'broken'
    ), h as (
      select ${journeyKeys[q.groupBy]} as "group", j.person_ref,
        b.journey_id is not null as broken,
        j.exited_at is not null as exited,
        j.exited_at is not null and j.last_day < j.start_date + 365 as early
      from journeys j left join broken b on b.journey_id = j.id and j.tenant_id = ${tenantId}
      where j.tenant_id = ${tenantId} and j.hired_at is not null ${sql.join(period, sql` `)}
    )
    select "group", people, "bPeople", "nPeople",
      hires, exits, "earlyExits", ${ratio(sql`"earlyExits"`, sql`hires`, 4)} as "earlyExitRate",
      "bHires", "bExits", "bEarlyExits", ${ratio(sql`"bEarlyExits"`, sql`"bHires"`, 4)} as "bEarlyExitRate",
      hires - "bHires" as "nHires", exits - "bExits" as "nExits", "earlyExits" - "bEarlyExits" as "nEarlyExits",
      ${ratio(sql`"earlyExits" - "bEarlyExits"`, sql`hires - "bHires"`, 4)} as "nEarlyExitRate"
    from (
      select "group", count(*)::int as hires,
        count(distinct person_ref)::int as people,
        count(distinct person_ref) filter (where broken)::int as "bPeople",
        count(distinct person_ref) filter (where not broken)::int as "nPeople",
        count(*) filter (where exited)::int as exits,
        count(*) filter (where early)::int as "earlyExits",
        count(*) filter (where broken)::int as "bHires",
        count(*) filter (where broken and exited)::int as "bExits",
        count(*) filter (where broken and early)::int as "bEarlyExits"
      from h group by 1
    ) g
    order by "group" collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [r.bPeople, r.nPeople] }), (r, [withBroken, withoutBroken]) => ({
    group: r.group, hires: r.hires, exits: r.exits, earlyExits: r.earlyExits, earlyExitRate: r.earlyExitRate,
    withBrokenPromise: publishSplit(withBroken, { hires: r.bHires, exits: r.bExits, earlyExits: r.bEarlyExits, earlyExitRate: r.bEarlyExitRate }),
    withoutBrokenPromise: publishSplit(withoutBroken, { hires: r.nHires, exits: r.nExits, earlyExits: r.nEarlyExits, earlyExitRate: r.nEarlyExitRate }),
  }))
}
