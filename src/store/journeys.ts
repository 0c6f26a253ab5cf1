// Reads of the journey projection.
import { sql, type SQL } from 'drizzle-orm'
import { effectiveStage, type Journey, type Stage } from '../domain/journey.js'
import { activeSignals, employedStages, journeySignals, signalNames, type ArmedSignals, type SignalName, type SignalThresholds } from '../domain/signals.js'
import { query, queryInTenant, queryOne, type Db, type Queryable } from './database.js'
import { statusSql, type PromiseCounts } from './promises.js'

/**
 * A projection row reads back as the fold that wrote it, and names the person by the client's id
 * again while the row mapping it exists (null once the person was erased).
 */
export type JourneyRow = Journey & { personId: string | null; rehire: boolean }

/** A boomerang: hired while another journey of the same person had already exited (on or before this hire). */
const rehireColumn = (tenantId: string) => sql`(journeys.hired_at is not null and exists (select 1 from journeys o where o.tenant_id = ${tenantId}
  and o.person_ref = journeys.person_ref and o.id <> journeys.id and o.exited_at is not null and o.exited_at <= journeys.hired_at)) as rehire`

// The subquery names the tenant itself: a correlation alone does not route it to the tenant's shard.
const journeyColumns = (tenantId: string) => sql`id, person_ref as "personRef",
  (select k.person_id from person_keys k where k.tenant_id = ${tenantId} and k.person_ref = journeys.person_ref) as "personId", vacancy_id as "vacancyId", stage, jl_iso(stage_since) as "stageSince",
  role, department, manager, start_date::text as "startDate", jl_iso(hired_at) as "hiredAt", jl_iso(exited_at) as "exitedAt",
  last_day::text as "lastDay", exit_kind as "exitKind", regrettable, version, stages, experience, signals,
  jl_iso(created_at) as "createdAt", jl_iso(updated_at) as "updatedAt", ${rehireColumn(tenantId)}`

export async function journeyExists(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  return (await queryOne(tx, sql`select 1 as one from journeys where tenant_id = ${tenantId} and id = ${id}`)) !== undefined
}

export function readJourney(tx: Queryable, tenantId: string, id: string): Promise<JourneyRow | undefined> {
  return queryOne<JourneyRow>(tx, sql`select ${journeyColumns(tenantId)} from journeys where tenant_id = ${tenantId} and id = ${id}`)
}

/** A journey row with its promises counted by status (every status, 0 when none). */
export type CountedJourneyRow = JourneyRow & { promiseCounts: PromiseCounts }

const noPromises: PromiseCounts = { open: 0, due: 0, overdue: 0, kept: 0, broken: 0, renegotiated: 0, withdrawn: 0 }

/** The counts as one jsonb column of the journey's own row, so a journey and its counts are one statement. */
function promiseCountsColumn(tenant: SQL, today: string): SQL {
  return sql`(select coalesce(jsonb_object_agg(status, n), '{}'::jsonb) from (
    select ${statusSql(today)} as status, count(*)::int as n from promises p
    where p.tenant_id = ${tenant} and p.journey_id = journeys.id group by 1) c) as "promiseCounts"`
}

/** Journeys matching `where`, each with its promise counts as of `today` (what is due or overdue depends on it), in one statement. */
async function countedJourneys(tx: Queryable, tenantId: string, today: string, conditions: readonly SQL[], orderAndLimit: SQL): Promise<CountedJourneyRow[]> {
  const rows = await query<JourneyRow & { promiseCounts: Partial<PromiseCounts> }>(tx, sql`
    select ${journeyColumns(tenantId)}, ${promiseCountsColumn(sql`${tenantId}`, today)} from journeys where ${sql.join([sql`tenant_id = ${tenantId}`, ...conditions], sql` and `)} ${orderAndLimit}`)
  return rows.map((row) => Object.assign(row, { promiseCounts: { ...noPromises, ...row.promiseCounts } }))
}

/**
 * What a journey's answer depends on besides its stored row, as of `now`: the stream version, whether
 * the day can still change it (a start date or an open promise's due date ahead), which signals are
 * on (a signal switches on at any instant), and whether the person is still mapped (erasure changes
 * no version). Equal parts, equal answers: the ETag is made of them (routes/etags.ts).
 */
export interface JourneyTagParts {
  version: number; dayDependent: boolean; signalsOn: number; personMapped: boolean
  /** The signal thresholds (configuration): a signal's `why` names them. */
  thresholds: string
}

/** What the tag parts are computed from: a few columns, the rules applied in the domain's own functions. */
interface TagColumns extends Pick<Journey, 'stage' | 'startDate' | 'hiredAt' | 'experience'> { version: number; signals: ArmedSignals; promiseAhead: boolean; personMapped: boolean }

function tagColumns(tenant: SQL, today: string): SQL {
  return sql`version, stage, start_date::text as "startDate", jl_iso(hired_at) as "hiredAt", experience, signals, exists (select 1 from promises p
      where p.tenant_id = ${tenant} and p.journey_id = journeys.id and p.outcome = 'open' and p.due_key >= ${today}::date and p.due_key <> 'infinity') as "promiseAhead",
    exists (select 1 from person_keys k where k.tenant_id = ${tenant} and k.person_ref = journeys.person_ref) as "personMapped"`
}

function tagParts(c: TagColumns, now: Date, today: string, thresholds: SignalThresholds): JourneyTagParts {
  const on = new Set(activeSignals(journeySignals(c, thresholds), now).map((s) => s.name))
  return {
    version: c.version,
    dayDependent: c.promiseAhead || (effectiveStage(c.stage, c.startDate, today) === 'hired' && c.startDate !== null),
    signalsOn: signalNames.reduce((bits, name, i) => (on.has(name) ? bits | (1 << i) : bits), 0),
    personMapped: c.personMapped,
    thresholds: Object.values(thresholds).join('.'),
  }
}

export type TaggedJourneyRow = CountedJourneyRow & { tag: JourneyTagParts }

/** One journey with its promise counts and its tag parts: one statement in one round trip after BEGIN's (queryInTenant). */
export async function readTaggedJourney(db: Db, tenantId: string, id: string, now: Date, today: string, thresholds: SignalThresholds): Promise<TaggedJourneyRow | undefined> {
  const tenant = sql`${tenantId}`
  const [row] = await queryInTenant<JourneyRow & { promiseCounts: Partial<PromiseCounts>; promiseAhead: boolean }>(db, tenantId, sql`
    select ${journeyColumns(tenantId)}, ${promiseCountsColumn(tenant, today)},
      exists (select 1 from promises p where p.tenant_id = ${tenant} and p.journey_id = journeys.id and p.outcome = 'open'
        and p.due_key >= ${today}::date and p.due_key <> 'infinity') as "promiseAhead"
    from journeys where tenant_id = ${tenant} and id = ${id}`)
  if (!row) return undefined
  const { promiseAhead, ...journey } = row
  return Object.assign(journey, {
    promiseCounts: { ...noPromises, ...row.promiseCounts },
    tag: tagParts({ ...row, promiseAhead, personMapped: row.personId !== null }, now, today, thresholds),
  })
}

/** Only the tag parts of a journey: what If-None-Match is judged by, without building the answer. */
export async function readJourneyTag(db: Db, tenantId: string, id: string, now: Date, today: string, thresholds: SignalThresholds): Promise<JourneyTagParts | undefined> {
  const [row] = await queryInTenant<TagColumns>(db, tenantId, sql`select ${tagColumns(sql`${tenantId}`, today)} from journeys where tenant_id = ${tenantId} and id = ${id}`)
  return row && tagParts(row, now, today, thresholds)
}

/** These journeys (those that exist), oldest first. */
export function readCountedJourneys(tx: Queryable, tenantId: string, ids: readonly string[], today: string): Promise<CountedJourneyRow[]> {
  return countedJourneys(tx, tenantId, today, [sql`id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`], sql`order by created_at, id`)
}

export interface JourneyFilter {
  stage?: Stage
  department?: string
  vacancyId?: string
  personId?: string
  manager?: string
  signal?: SignalName
  thresholds: SignalThresholds
  now: Date
  afterId?: string
  limit: number
  today: string
}

/** The rows whose effectiveStage() is `stage` on `today`, kept on the stage index; tests/integration/time-rules holds the two together. */
export function stageCondition(stage: Stage, today: string): SQL {
  if (stage === 'onboarding') return sql`(stage = 'onboarding' or (stage = 'hired' and start_date <= ${today}::date))`
  if (stage === 'hired') return sql`(stage = 'hired' and (start_date is null or start_date > ${today}::date))`
  return sql`stage = ${stage}`
}

const employed = sql.raw(`stage in (${employedStages.map((s) => `'${s}'`).join(', ')})`)
const readings = sql`(experience -> 'expectationsMet')`
// Whole hours: adding days to a timestamptz would follow the session's time zone across a DST change.
const moreThanDays = (anchor: SQL, days: number, now: Date) => sql`${anchor} + make_interval(hours => ${days * 24}) < ${now.toISOString()}::timestamptz`

/**
 * The rows on which activeSignals(journeySignals(row, thresholds), now) shows `name`: threshold
 * signals judged from the row's facts, the others from the time the fold armed them for. Held to
 * the domain by tests/integration/time-rules.
 */
export function signalCondition(name: SignalName, now: Date, th: SignalThresholds): SQL {
  const at = sql`${now.toISOString()}::timestamptz`
  switch (name) {
    case 'expectations-falling':
      return sql`(${employed} and jsonb_array_length(${readings}) >= 2
        and ((${readings} -> greatest(jsonb_array_length(${readings}) - ${th.expectationsReadings}::int, 0) ->> 'value')::int - (${readings} -> -1 ->> 'value')::int) >= ${th.expectationsDrop}::int
        and (${readings} -> -1 ->> 'time')::timestamptz <= ${at})`
    case 'unrecognised':
      return sql`(${employed} and ${moreThanDays(sql`greatest((experience ->> 'lastRecognitionAt')::timestamptz, coalesce(start_date::timestamp at time zone 'UTC', hired_at))`, th.unrecognisedDays, now)})`
    case 'stalled':
      return sql`(${employed} and ${moreThanDays(sql`(experience ->> 'pendingWishAt')::timestamptz`, th.stalledDays, now)})`
    default:
      return sql`(signals -> ${name} ->> 'since')::timestamptz <= ${at}`
  }
}

export function listJourneys(tx: Queryable, tenantId: string, f: JourneyFilter): Promise<CountedJourneyRow[]> {
  const where: SQL[] = []
  if (f.stage) where.push(stageCondition(f.stage, f.today))
  if (f.department !== undefined) where.push(sql`department = ${f.department}`)
  if (f.vacancyId !== undefined) where.push(sql`vacancy_id = ${f.vacancyId}`)
  if (f.personId !== undefined) where.push(sql`person_ref = (select k.person_ref from person_keys k where k.tenant_id = ${tenantId} and k.person_id = ${f.personId})`)
  if (f.manager !== undefined) where.push(sql`manager = ${f.manager}`)
  if (f.afterId !== undefined) where.push(sql`id > ${f.afterId}`)
  if (f.signal) where.push(signalCondition(f.signal, f.now, f.thresholds))
  return countedJourneys(tx, tenantId, f.today, where, sql`order by id limit ${f.limit}`)
}
