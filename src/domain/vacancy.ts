// A vacancy as the fold of its stream (vacancy.published, vacancy.closed).
import { impossible } from './errors.js'
import { byTime, list, record, text, type EventData, type LedgerEvent } from './ledger-event.js'

export interface VacancyPromise { category: string; text: string; dueAfterStartDays?: number }

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

export function checkVacancyEvent(published: boolean, event: Pick<LedgerEvent, 'type' | 'subject'>): boolean {
  if (event.type === 'vacancy.closed' && !published) {
    throw impossible('vacancy-unknown', `vacancy ${event.subject} was never published`)
  }
  return published || event.type === 'vacancy.published'
}

function vacancyPromises(data: EventData): VacancyPromise[] {
  return list(data, 'promises').map((item) => {
    const p = record(item)
    const days = p.dueAfterStartDays
    return { category: text(p, 'category') ?? 'other', text: text(p, 'text') ?? '', ...(typeof days === 'number' ? { dueAfterStartDays: days } : {}) }
  })
}

function evolveVacancy(id: string, previous: Vacancy | null, e: LedgerEvent): Vacancy | null {
  if (e.type === 'vacancy.published') {
    return {
      id, title: text(e.data, 'title') ?? '', department: text(e.data, 'department') ?? null,
      // The publisher is who the vacancy's promises are held against: a named person, else the source system.
      publishedBy: text(e.data, 'publishedBy') ?? e.source,
      open: true, promises: vacancyPromises(e.data), publishedAt: previous?.publishedAt ?? e.time, closedAt: null,
      version: Math.max(previous?.version ?? 0, e.version),
    }
  }
  if (!previous) return null
  const version = Math.max(previous.version, e.version)
  return e.type === 'vacancy.closed' ? { ...previous, open: false, closedAt: e.time, version } : { ...previous, version }
}

export function foldVacancy(id: string, events: readonly LedgerEvent[]): Vacancy | null {
  return [...events].sort(byTime).reduce<Vacancy | null>((vacancy, e) => evolveVacancy(id, vacancy, e), null)
}
