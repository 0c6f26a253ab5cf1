// Experience and exit analytics over the journeys projection and the few events they read (pulses,
// exit interviews, referrals: events_analytics, a partial index on those types alone), set-based in
// SQL, one statement each (exits add one to fetch the keys that open reasons), suppression by the
// domain's rule (publishGroups), as analytics.ts does.
//
// What each figure counts, so it can later be maintained incrementally (all are sums over rows):
// - experience: every pulse.answered whose time is in the period, on the journey's current group;
//   promoters (enps 9-10), detractors (0-6), enps answers, and per scale the sum and count of answers.
// - exits: every journey whose employee.exited lastDay is in the period, on its group; its latest
//   exit.interviewed (wouldRecommend, wouldReturn, promisesKept, reasons), regrettable, and the
//   alumni.referred events of the journey. Reasons are sealed per person: see topReasons.
import { sql, type SQL } from 'drizzle-orm'
import { addDays } from '../domain/promise.js'
import { publishGroups, publishSplit, type SuppressedGroup, type SuppressedSplit } from '../domain/suppression.js'
import { notHiredGroup, unknownGroup, type AnalyticsQuery } from './analytics.js'
import { query, type Queryable } from './database.js'
import { sealAad, type Keyring } from './keyring.js'
import { peopleByRef } from './people.js'
import { statusSql } from './promises.js'

export const experienceGroupings = ['department', 'manager', 'role'] as const
export const exitGroupings = ['department', 'hireCohort'] as const
export type ExperienceGrouping = (typeof experienceGroupings)[number]
export type ExitGrouping = (typeof exitGroupings)[number]

const groupKeys = {
  department: sql`coalesce(j.department, ${unknownGroup})`,
  manager: sql`coalesce(j.manager, ${unknownGroup})`,
  role: sql`coalesce(j.role, ${unknownGroup})`,
  hireCohort: sql`case when j.hired_at is null or j.start_date is null then ${notHiredGroup} else to_char(j.start_date, 'YYYY-MM') end`,
}

const round = (value: SQL, places: number) => sql`round((${value})::numeric, ${sql.raw(String(places))})::float8`
/** eNPS: % of 9-10 minus % of 0-6 among the answers, 1 decimal; null without answers. */
const enpsOf = (promoters: SQL, detractors: SQL, answers: SQL) => sql`round(100 * ((${promoters}) - (${detractors}))::numeric / nullif(${answers}, 0), 1)::float8`

/** Journeys with a broken promise (as of today), for the with / without splits, as retention reads them. */
const brokenJourneys = (tenantId: string, today: string) => sql`broken as (
  select distinct journey_id from (select journey_id, ${statusSql(today)} as status from promises where tenant_id = ${tenantId}) s where status = 'broken')`

export interface EnpsSplit { respondents: number; enps: number | null }
export interface ExperienceFigures {
  group: string
  respondents: number
  responses: number
  enps: number | null
  promoters: number
  passives: number
  detractors: number
  valued: number | null
  safe: number | null
  autonomy: number | null
  expectationsMet: number | null
  withBrokenPromise: EnpsSplit | SuppressedSplit
  withoutBrokenPromise: EnpsSplit | SuppressedSplit
}

interface ExperienceRow extends Omit<ExperienceFigures, 'withBrokenPromise' | 'withoutBrokenPromise'> {
  bPeople: number; nPeople: number; bEnps: number | null; nEnps: number | null
}

function timeWindow(column: SQL, q: Pick<AnalyticsQuery<string>, 'from' | 'to'>): SQL[] {
  const out: SQL[] = []
  if (q.from !== null) out.push(sql`and ${column} >= ${`${q.from}T00:00:00.000Z`}::timestamptz`)
  if (q.to !== null) out.push(sql`and ${column} < ${`${addDays(q.to, 1)}T00:00:00.000Z`}::timestamptz`)
  return out
}

export async function experienceAnalytics(tx: Queryable, tenantId: string, q: AnalyticsQuery<ExperienceGrouping>): Promise<(ExperienceFigures | SuppressedGroup)[]> {
  const scale = (name: string) => sql`(e.data ->> ${name})::int`
  const rows = await query<ExperienceRow>(tx, sql`
    with ${brokenJourneys(tenantId, q.today)}, answers as (
      select ${groupKeys[q.groupBy]} as "group", j.person_ref, b.journey_id is not null as broken,
        ${scale('enps')} as enps, ${scale('valued')} as valued, ${scale('safe')} as safe, ${scale('autonomy')} as autonomy, ${scale('expectationsMet')} as met
      from events e
      join journeys j on j.tenant_id = ${tenantId} and j.id = e.subject
      left join broken b on b.journey_id = j.id
      where e.tenant_id = ${tenantId} and e.type = 'pulse.answered' and e.stream_kind = 'journey' ${sql.join(timeWindow(sql`e.time`, q), sql` `)}
    )
    select "group", count(distinct person_ref)::int as respondents, count(*)::int as responses,
      count(distinct person_ref) filter (where broken)::int as "bPeople",
      count(distinct person_ref) filter (where not broken)::int as "nPeople",
      ${enpsOf(sql`count(*) filter (where enps >= 9)`, sql`count(*) filter (where enps <= 6)`, sql`count(enps)`)} as enps,
      count(*) filter (where enps >= 9)::int as promoters,
      count(*) filter (where enps between 7 and 8)::int as passives,
      count(*) filter (where enps <= 6)::int as detractors,
      ${round(sql`avg(valued)`, 2)} as valued, ${round(sql`avg(safe)`, 2)} as safe,
      ${round(sql`avg(autonomy)`, 2)} as autonomy, ${round(sql`avg(met)`, 2)} as "expectationsMet",
      ${enpsOf(sql`count(*) filter (where broken and enps >= 9)`, sql`count(*) filter (where broken and enps <= 6)`, sql`count(enps) filter (where broken)`)} as "bEnps",
      ${enpsOf(sql`count(*) filter (where not broken and enps >= 9)`, sql`count(*) filter (where not broken and enps <= 6)`, sql`count(enps) filter (where not broken)`)} as "nEnps"
    from answers group by 1
    order by "group" collate "C"`)
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.respondents, splits: [r.bPeople, r.nPeople] }),
    ({ bPeople, nPeople, bEnps, nEnps, ...figures }, [withBroken, withoutBroken]) => ({
      ...figures,
      withBrokenPromise: publishSplit(withBroken, { respondents: bPeople, enps: bEnps }),
      withoutBrokenPromise: publishSplit(withoutBroken, { respondents: nPeople, enps: nEnps }),
    }))
}

export interface ExitSplit { exits: number; interviewed: number; exitEnps: number | null }
export interface ReasonCount { reason: string; people: number }
export interface ExitFigures {
  group: string
  exits: number
  interviewed: number
  exitEnps: number | null
  wouldReturnRate: number | null
  meanPromisesKept: number | null
  regrettableShare: number | null
  topReasons: ReasonCount[]
  ambassadors: number
  referrals: number
  withBrokenPromise: ExitSplit | SuppressedSplit
  withoutBrokenPromise: ExitSplit | SuppressedSplit
}

interface SealedInterview { personRef: string; source: string; id: string; sealed: string }
interface ExitRow extends Omit<ExitFigures, 'withBrokenPromise' | 'withoutBrokenPromise' | 'topReasons'> {
  people: number; bPeople: number; nPeople: number
  bExits: number; bInterviewed: number; bExitEnps: number | null
  nExits: number; nInterviewed: number; nExitEnps: number | null
  sealedInterviews: SealedInterview[]
}

/** Reasons shown per group at most; each must be named by at least minGroupSize people to be shown. */
export const topReasonsShown = 5

/** A reason as counted: trimmed, lower case, inner spaces collapsed. */
export const normaliseReason = (reason: string) => reason.trim().toLowerCase().replace(/\s+/g, ' ')

/**
 * The reasons named in these exit interviews, opened under each person's key for this request
 * only (nothing in clear is stored), counted in people, those named by fewer than `min` people
 * withheld. An erased person's reasons cannot be opened and no longer count.
 */
function topReasons(keys: Map<string, Buffer>, tenantId: string, keyring: Keyring, interviews: readonly SealedInterview[], min: number): ReasonCount[] {
  const people = new Map<string, Set<string>>()
  for (const i of interviews) {
    const key = keys.get(i.personRef)
    if (!key) continue
    const reasons = keyring.openFields(key, i.sealed, sealAad(tenantId, i.source, i.id)).reasons
    if (!Array.isArray(reasons)) continue
    for (const r of reasons) {
      if (typeof r !== 'string' || normaliseReason(r) === '') continue
      const named = people.get(normaliseReason(r)) ?? new Set<string>()
      named.add(i.personRef)
      people.set(normaliseReason(r), named)
    }
  }
  return [...people].map(([reason, who]) => ({ reason, people: who.size }))
    .filter((r) => r.people >= min)
    .sort((a, b) => b.people - a.people || (a.reason < b.reason ? -1 : 1))
    .slice(0, topReasonsShown)
}

export async function exitAnalytics(tx: Queryable, keyring: Keyring, tenantId: string, q: AnalyticsQuery<ExitGrouping>): Promise<(ExitFigures | SuppressedGroup)[]> {
  const period: SQL[] = []
  if (q.from !== null) period.push(sql`and j.last_day >= ${q.from}::date`)
  if (q.to !== null) period.push(sql`and j.last_day <= ${q.to}::date`)
  const rows = await query<ExitRow>(tx, sql`
    with ${brokenJourneys(tenantId, q.today)}, interviews as (
      select distinct on (subject) subject, id, source, sealed, data from events
      where tenant_id = ${tenantId} and type = 'exit.interviewed' and stream_kind = 'journey'
      order by subject, time desc, position desc
    ), referred as (
      select subject, count(*)::int as n from events
      where tenant_id = ${tenantId} and type = 'alumni.referred' and stream_kind = 'journey' group by subject
    ), x as (
      select ${groupKeys[q.groupBy]} as "group", j.person_ref, j.regrettable, b.journey_id is not null as broken,
        i.id as interview, i.source, i.sealed, (i.data ->> 'wouldRecommend')::int as recommend, (i.data ->> 'wouldReturn')::boolean as would_return,
        (i.data ->> 'promisesKept')::int as promises_kept, coalesce(r.n, 0) as referrals
      from journeys j
      left join broken b on b.journey_id = j.id
      left join interviews i on i.subject = j.id
      left join referred r on r.subject = j.id
      where j.tenant_id = ${tenantId} and j.exited_at is not null ${sql.join(period, sql` `)}
    )
    select "group", count(distinct person_ref)::int as people,
      count(distinct person_ref) filter (where broken)::int as "bPeople",
      count(distinct person_ref) filter (where not broken)::int as "nPeople",
      count(*)::int as exits, count(interview)::int as interviewed,
      ${enpsOf(sql`count(*) filter (where recommend >= 9)`, sql`count(*) filter (where recommend <= 6)`, sql`count(recommend)`)} as "exitEnps",
      ${round(sql`(count(*) filter (where would_return))::numeric / nullif(count(would_return), 0)`, 4)} as "wouldReturnRate",
      ${round(sql`avg(promises_kept)`, 2)} as "meanPromisesKept",
      ${round(sql`(count(*) filter (where regrettable))::numeric / count(*)`, 4)} as "regrettableShare",
      count(distinct person_ref) filter (where referrals > 0)::int as ambassadors,
      sum(referrals)::int as referrals,
      count(*) filter (where broken)::int as "bExits", count(interview) filter (where broken)::int as "bInterviewed",
      ${enpsOf(sql`count(*) filter (where broken and recommend >= 9)`, sql`count(*) filter (where broken and recommend <= 6)`, sql`count(recommend) filter (where broken)`)} as "bExitEnps",
      count(*) filter (where not broken)::int as "nExits", count(interview) filter (where not broken)::int as "nInterviewed",
      ${enpsOf(sql`count(*) filter (where not broken and recommend >= 9)`, sql`count(*) filter (where not broken and recommend <= 6)`, sql`count(recommend) filter (where not broken)`)} as "nExitEnps",
      coalesce(jsonb_agg(jsonb_build_object('personRef', person_ref, 'source', source, 'id', interview, 'sealed', sealed)) filter (where sealed is not null), '[]'::jsonb) as "sealedInterviews"
    from x group by 1
    order by "group" collate "C"`)
  const refs = [...new Set(rows.flatMap((r) => r.sealedInterviews.map((i) => i.personRef)))]
  const keys = keyring.openKeys(tenantId, await peopleByRef(tx, tenantId, refs))
  return publishGroups(rows, q.minGroupSize, (r) => ({ group: r.group, people: r.people, splits: [r.bPeople, r.nPeople] }), (r, [withBroken, withoutBroken]) => ({
    group: r.group, exits: r.exits, interviewed: r.interviewed, exitEnps: r.exitEnps, wouldReturnRate: r.wouldReturnRate,
    meanPromisesKept: r.meanPromisesKept, regrettableShare: r.regrettableShare,
    topReasons: topReasons(keys, tenantId, keyring, r.sealedInterviews, q.minGroupSize),
    ambassadors: r.ambassadors, referrals: r.referrals,
    withBrokenPromise: publishSplit(withBroken, { exits: r.bExits, interviewed: r.bInterviewed, exitEnps: r.bExitEnps }),
    withoutBrokenPromise: publishSplit(withoutBroken, { exits: r.nExits, interviewed: r.nInterviewed, exitEnps: r.nExitEnps }),
  }))
}
