// Projection rows are always the fold of their whole stream, written in the same transaction
// as the events; a rebuild runs the same folds over the ledger and so yields the same rows.
import { sql } from 'drizzle-orm'
import { foldJourney, type Journey } from '../domain/journey.js'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { foldPromises } from '../domain/promise.js'
import { armPromiseSignals } from '../domain/signals.js'
import { foldVacancy, type Vacancy } from '../domain/vacancy.js'
import { writePromises } from './promises.js'
import { execute, type Queryable } from './database.js'

export async function writeJourney(tx: Queryable, tenantId: string, journey: Journey): Promise<void> {
  const j = journey
  await execute(tx, sql`
    insert into journeys (tenant_id, id, person_id, vacancy_id, stage, stage_since, role, department, manager, start_date,
      hired_at, exited_at, last_day, exit_kind, regrettable, version, stages, experience, signals, created_at, updated_at)
    values (${tenantId}, ${j.id}, ${j.personId}, ${j.vacancyId}, ${j.stage}, ${j.stageSince}, ${j.role}, ${j.department}, ${j.manager},
      ${j.startDate}, ${j.hiredAt}, ${j.exitedAt}, ${j.lastDay}, ${j.exitKind}, ${j.regrettable}, ${j.version},
      ${JSON.stringify(j.stages)}::jsonb, ${JSON.stringify(j.experience)}::jsonb, ${JSON.stringify(j.signals)}::jsonb, ${j.createdAt}, ${j.updatedAt})
    on conflict (tenant_id, id) do update set
      person_id = excluded.person_id, vacancy_id = excluded.vacancy_id, stage = excluded.stage, stage_since = excluded.stage_since,
      role = excluded.role, department = excluded.department, manager = excluded.manager, start_date = excluded.start_date,
      hired_at = excluded.hired_at, exited_at = excluded.exited_at, last_day = excluded.last_day, exit_kind = excluded.exit_kind,
      regrettable = excluded.regrettable, version = excluded.version, stages = excluded.stages, experience = excluded.experience, signals = excluded.signals,
      created_at = excluded.created_at, updated_at = excluded.updated_at`)
}

export async function writeVacancy(tx: Queryable, tenantId: string, v: Vacancy): Promise<void> {
  await execute(tx, sql`
    insert into vacancies (tenant_id, id, title, department, published_by, open, promises, published_at, closed_at, version)
    values (${tenantId}, ${v.id}, ${v.title}, ${v.department}, ${v.publishedBy}, ${v.open}, ${JSON.stringify(v.promises)}::jsonb,
      ${v.publishedAt}, ${v.closedAt}, ${v.version})
    on conflict (tenant_id, id) do update set
      title = excluded.title, department = excluded.department, published_by = excluded.published_by, open = excluded.open,
      promises = excluded.promises, published_at = excluded.published_at, closed_at = excluded.closed_at, version = excluded.version`)
}

// Events after which a journey's promise rows can differ: promise events, and those that move the start date.
const promiseAffecting = new Set(['promise.made', 'promise.kept', 'promise.broken', 'promise.renegotiated', 'promise.withdrawn', 'promise.assessed', 'employee.hired', 'offer.made'])

/**
 * Re-folds one stream and writes its projection rows. `changed` names the types just appended:
 * promise rows are rewritten only when one of them can change them (a rebuild passes none: all rows).
 */
export async function projectStream(tx: Queryable, tenantId: string, kind: 'journey' | 'vacancy', id: string, events: readonly LedgerEvent[], changed?: ReadonlySet<string>): Promise<void> {
  if (kind === 'vacancy') {
    const vacancy = foldVacancy(id, events)
    if (vacancy) await writeVacancy(tx, tenantId, vacancy)
    return
  }
  const journey = foldJourney(id, events)
  if (!journey) return
  const promises = foldPromises(id, events, journey.startDate)
  journey.signals = { ...journey.signals, ...armPromiseSignals(promises) }
  await writeJourney(tx, tenantId, journey)
  if (!changed || [...changed].some((type) => promiseAffecting.has(type))) await writePromises(tx, tenantId, id, promises)
}
