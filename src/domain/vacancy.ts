// A vacancy stream (vacancy.published, vacancy.closed): its one rule, and the vacancy as it evolves
// in world-time order.
import type { PromiseCategory } from './catalogue.js'
import { impossible } from './errors.js'
import { byTime, type Envelope, type EventOf } from './ledger-event.js'

export interface VacancyPromise { category: PromiseCategory; text: string; dueAfterStartDays?: number }

export interface Vacancy {
  id: string
  title: string
  department: string | null
  publishedBy: string
  open: boolean
  promises: VacancyPromise[]
  publishedAt: string
  closedAt: string | null
  version: number
}

export type VacancyEvent = EventOf<'vacancy.published' | 'vacancy.closed'>

/** Throws when the event is impossible on this vacancy (published: whether it ever was, in arrival order). */
export function checkVacancyEvent(published: boolean, event: Pick<Envelope, 'subject'> & Pick<VacancyEvent, 'type'>): void {
  if (event.type === 'vacancy.closed' && !published) throw impossible('vacancy-unknown', `vacancy ${event.subject} was never published`)
}

export function evolveVacancy(id: string, previous: Vacancy | null, e: Envelope & VacancyEvent): Vacancy | null {
  if (e.type === 'vacancy.published') {
    const d = e.data
    return {
      id, title: d.title, department: d.department ?? null,
      // The publisher is who the vacancy's promises are held against: a named person, else the source system.
      publishedBy: d.publishedBy ?? e.source,
      open: true,
      promises: (d.promises ?? []).map((p) => ({ category: p.category, text: p.text, ...(p.dueAfterStartDays !== undefined ? { dueAfterStartDays: p.dueAfterStartDays } : {}) })),
      publishedAt: previous?.publishedAt ?? e.time, closedAt: null, version: Math.max(previous?.version ?? 0, e.version),
    }
  }
  if (!previous) return null
  return { ...previous, open: false, closedAt: e.time, version: Math.max(previous.version, e.version) }
}

export interface VacancyState {
  kind: 'vacancy'
  /** Whether it was ever published, in arrival order: the rule's one fact. */
  published: boolean
  vacancy: Vacancy | null
  lastTime: string | null
  backfilled?: true
}

export const newVacancy: VacancyState = { kind: 'vacancy', published: false, vacancy: null, lastTime: null }

export function decideVacancy(state: VacancyState, event: Pick<Envelope, 'subject'> & Pick<VacancyEvent, 'type'>): void {
  checkVacancyEvent(state.published, event)
}

/** The state after a stored event; a backfill leaves the fold marked, to be redone from history (foldVacancyState). */
export function evolveVacancyState(state: VacancyState, e: Envelope & VacancyEvent): VacancyState {
  const published = state.published || e.type === 'vacancy.published'
  if (state.lastTime !== null && Date.parse(e.time) < Date.parse(state.lastTime)) return { ...state, published, backfilled: true }
  return { kind: 'vacancy', published, vacancy: evolveVacancy(e.subject, state.vacancy, e), lastTime: e.time }
}

export function foldVacancyState(events: readonly (Envelope & VacancyEvent)[]): VacancyState {
  const ordered = [...events].sort(byTime)
  const first = ordered[0]
  return {
    kind: 'vacancy',
    published: events.some((e) => e.type === 'vacancy.published'),
    vacancy: first ? ordered.reduce<Vacancy | null>((vacancy, e) => evolveVacancy(first.subject, vacancy, e), null) : null,
    lastTime: ordered[ordered.length - 1]?.time ?? null,
  }
}

export function isVacancyEvent<E extends { type: string }>(e: E): e is Extract<E, { type: VacancyEvent['type'] }> {
  return e.type === 'vacancy.published' || e.type === 'vacancy.closed'
}

