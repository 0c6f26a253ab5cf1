// Projection rows are written from the streams' states, in the same transaction as the events
// (a 201 means the journey already shows them); a rebuild folds the same states from the ledger
// and so yields the same rows.
import { sql, type SQL } from 'drizzle-orm'
import { projectJourney, type Journey } from '../domain/journey.js'
import type { PromiseRecord } from '../domain/promise.js'
import type { StreamState } from '../domain/streams.js'
import type { Vacancy } from '../domain/vacancy.js'
import { promiseWrites } from './promises.js'

/**
 * Projection rows go to the database as one JSON document per statement, unpacked by
 * jsonb_to_recordset: one statement (and one round trip) for any number of rows, with no
 * parameter limit, and a statement text that never changes, so it stays prepared.
 */
const asJson = (rows: readonly object[]) => JSON.stringify(rows)

/** The upsert of these journey rows. */
function journeysUpsert(tenantId: string, journeys: readonly Journey[]): SQL {
  return sql`
    insert into journeys (tenant_id, id, person_ref, vacancy_id, stage, stage_since, role, department, manager, start_date,
      hired_at, exited_at, last_day, exit_kind, regrettable, version, stages, experience, signals, created_at, updated_at)
    select ${tenantId}, r.* from jsonb_to_recordset(${asJson(journeys)}::jsonb) as r("id" text, "personRef" text, "vacancyId" text,
      "stage" text, "stageSince" timestamptz, "role" text, "department" text, "manager" text, "startDate" date, "hiredAt" timestamptz,
      "exitedAt" timestamptz, "lastDay" date, "exitKind" text, "regrettable" boolean, "version" integer, "stages" jsonb,
      "experience" jsonb, "signals" jsonb, "createdAt" timestamptz, "updatedAt" timestamptz)
    on conflict (tenant_id, id) do update set
      person_ref = excluded.person_ref, vacancy_id = excluded.vacancy_id, stage = excluded.stage, stage_since = excluded.stage_since,
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

/** Which of a journey's promise rows to write: those made (inserted) and those changed (updated); 'all': every one (a rebuild inserts them all). */
export interface PromiseChanges { made: ReadonlySet<string> | 'all'; changed: ReadonlySet<string> | 'all' }

export interface StreamToProject { state: StreamState; promiseRows: PromiseChanges }

/**
 * The writes of streams' projection rows from their states: upserts of journey and vacancy rows,
 * inserts and updates of promise rows. They touch disjoint rows, so they may run as parts of one
 * statement (see together in database.ts).
 */
export function projectionWrites(tenantId: string, streams: readonly StreamToProject[]): SQL[] {
  const journeys: Journey[] = []
  const vacancies: Vacancy[] = []
  const inserted: PromiseRecord[] = []
  const updated: PromiseRecord[] = []
  for (const { state, promiseRows } of streams) {
    if (state.kind === 'vacancy') {
      if (state.vacancy) vacancies.push(state.vacancy)
      continue
    }
    const projected = projectJourney(state)
    if (!projected) continue
    journeys.push(projected.journey)
    for (const p of projected.promises) {
      if (promiseRows.made === 'all' || promiseRows.made.has(p.id)) inserted.push(p)
      else if (promiseRows.changed === 'all' || promiseRows.changed.has(p.id)) updated.push(p)
    }
  }
  return [
    ...(journeys.length > 0 ? [journeysUpsert(tenantId, journeys)] : []),
    ...(vacancies.length > 0 ? [vacanciesUpsert(tenantId, vacancies)] : []),
    ...promiseWrites(tenantId, inserted, updated),
  ]
}
