// Projection rows are always the fold of their whole stream, written in the same transaction
// as the events; a rebuild runs the same folds over the ledger and so yields the same rows.
import { sql, type SQL } from 'drizzle-orm'
import { foldJourney, type Journey } from '../domain/journey.js'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { foldPromises, type PromiseRecord } from '../domain/promise.js'
import { armPromiseSignals } from '../domain/signals.js'
import { foldVacancy, type Vacancy } from '../domain/vacancy.js'
import { promisesReplacement } from './promises.js'
import { execute, type Queryable } from './database.js'

/**
 * Projection rows go to the database as one JSON document per statement, unpacked by
 * jsonb_to_recordset: one statement (and one round trip) for any number of rows, with no
 * parameter limit, and a statement text that never changes, so it stays prepared.
 */
const asJson = (rows: readonly object[]) => JSON.stringify(rows)

/** The upsert of these journey rows. */
function journeysUpsert(tenantId: string, journeys: readonly Journey[]): SQL {
  return sql`
    insert into journeys (tenant_id, id, person_id, vacancy_id, stage, stage_since, role, department, manager, start_date,
      hired_at, exited_at, last_day, exit_kind, regrettable, version, stages, experience, signals, created_at, updated_at)
    select ${tenantId}, r.* from jsonb_to_recordset(${asJson(journeys)}::jsonb) as r("id" text, "personId" text, "vacancyId" text,
      "stage" text, "stageSince" timestamptz, "role" text, "department" text, "manager" text, "startDate" date, "hiredAt" timestamptz,
      "exitedAt" timestamptz, "lastDay" date, "exitKind" text, "regrettable" boolean, "version" integer, "stages" jsonb,
      "experience" jsonb, "signals" jsonb, "createdAt" timestamptz, "updatedAt" timestamptz)
    on conflict (tenant_id, id) do update set
      person_id = excluded.person_id, vacancy_id = excluded.vacancy_id, stage = excluded.stage, stage_since = excluded.stage_since,
      role = excluded.role, department = excluded.department, manager = excluded.manager, start_date = excluded.start_date,
      hired_at = excluded.hired_at, exited_at = excluded.exited_at, last_day = excluded.last_day, exit_kind = excluded.exit_kind,
      regrettable = excluded.regrettable, version = excluded.version, stages = excluded.stages, experience = excluded.experience, signals = excluded.signals,
      created_at = excluded.created_at, updated_at = excluded.updated_at`
}

/** The upsert of these vacancy rows. */
function vacanciesUpsert(tenantId: string, vacancies: readonly Vacancy[]): SQL {
  return sql`
    insert into vacancies (tenant_id, id, title, department, published_by, open, promises, published_at, closed_at, version)
    select ${tenantId}, r.* from jsonb_to_recordset(${asJson(vacancies)}::jsonb) as r("id" text, "title" text, "department" text,
      "publishedBy" text, "open" boolean, "promises" jsonb, "publishedAt" timestamptz, "closedAt" timestamptz, "version" integer)
    on conflict (tenant_id, id) do update set
      title = excluded.title, department = excluded.department, published_by = excluded.published_by, open = excluded.open,
      promises = excluded.promises, published_at = excluded.published_at, closed_at = excluded.closed_at, version = excluded.version`
}

// Events after which a journey's promise rows can differ: promise events, and those that move the start date.
const promiseAffecting = new Set(['promise.made', 'promise.kept', 'promise.broken', 'promise.renegotiated', 'promise.withdrawn', 'promise.assessed', 'employee.hired', 'offer.made'])

export interface StreamToProject {
  kind: 'journey' | 'vacancy'
  id: string
  /** The whole stream, in ledger order. */
  events: readonly LedgerEvent[]
  /** The types just appended: promise rows are rewritten only when one of them can change them (absent: always). */
  changed?: ReadonlySet<string>
}

/**
 * The writes of re-folded streams: `rows`, upserts of the journey and vacancy rows, which touch
 * disjoint rows and so may run as parts of one statement; `promises`, which replace a journey's
 * promise rows (a delete, then an insert) and run as statements of their own, in that order.
 */
export function projectionWrites(tenantId: string, streams: readonly StreamToProject[]): { rows: SQL[]; promises: SQL[] } {
  const journeys: Journey[] = []
  const vacancies: Vacancy[] = []
  const promiseSets: { journeyId: string; promises: readonly PromiseRecord[] }[] = []
  for (const s of streams) {
    if (s.kind === 'vacancy') {
      const vacancy = foldVacancy(s.id, s.events)
      if (vacancy) vacancies.push(vacancy)
      continue
    }
    const journey = foldJourney(s.id, s.events)
    if (!journey) continue
    const promises = foldPromises(s.id, s.events, journey.startDate)
    journey.signals = { ...journey.signals, ...armPromiseSignals(promises) }
    journeys.push(journey)
    if (!s.changed || [...s.changed].some((type) => promiseAffecting.has(type))) promiseSets.push({ journeyId: s.id, promises })
  }
  return {
    rows: [...(journeys.length > 0 ? [journeysUpsert(tenantId, journeys)] : []), ...(vacancies.length > 0 ? [vacanciesUpsert(tenantId, vacancies)] : [])],
    promises: promisesReplacement(tenantId, promiseSets),
  }
}

/** Re-folds streams and writes their projection rows: a few statements, however many streams, sent together. */
export async function projectStreams(tx: Queryable, tenantId: string, streams: readonly StreamToProject[]): Promise<void> {
  const writes = projectionWrites(tenantId, streams)
  await Promise.all([...writes.rows, ...writes.promises].map((statement) => execute(tx, statement)))
}
