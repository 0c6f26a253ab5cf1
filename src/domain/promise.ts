// The promise ledger as a pure fold over a journey's stream: each promise with its due date,
// outcome, renegotiations and the employee's latest assessment. Status depends on the clock,
// so it is computed from the folded record and `today`, never stored.
import { createHash } from 'node:crypto'
import { impossible, invalid } from './errors.js'
import { byTime, bool, int, record, text, type EventData, type LedgerEvent } from './ledger-event.js'

export const promiseStatuses = ['open', 'due', 'overdue', 'kept', 'broken', 'renegotiated', 'withdrawn'] as const
export type PromiseStatus = (typeof promiseStatuses)[number]
export type Outcome = 'open' | 'kept' | 'broken' | 'withdrawn'

/** Open promises falling due within this many days are `due`. */
export const dueWindowDays = 14

export interface InheritedFrom { kind: 'vacancy' | 'offer'; id: string; index: number }

export interface PromiseRecord {
  id: string
  journeyId: string
  category: string
  /** The event whose (sealed) data holds the promise's current words: the made event, or the last renegotiation with new text. */
  textRef: { source: string; eventId: string }
  madeBy: string
  madeAt: string | null
  kind: string | null
  madeTime: string
  dueBy: string | null
  dueAfterStartDays: number | null
  /** dueBy, or the journey's startDate + dueAfterStartDays; null when neither is known. */
  dueDate: string | null
  outcome: Outcome
  closedAt: string | null
  brokenCause: string | null
  renegotiations: number
  lastRenegotiationAgreed: boolean | null
  assessedFulfilled: number | null
  assessedAt: string | null
  inheritedFrom: InheritedFrom | null
  /** Every event of the promise, in world-time order (ids only: the texts stay in the ledger). */
  history: { type: string; time: string; eventId: string; source: string }[]
}

export const promiseEventTypes = ['promise.made', 'promise.kept', 'promise.broken', 'promise.renegotiated', 'promise.withdrawn', 'promise.assessed'] as const
const promiseTypes: ReadonlySet<string> = new Set(promiseEventTypes)
export function isPromiseEvent(type: string): boolean {
  return promiseTypes.has(type)
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00.000Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** The last due date that is `due` (not yet `open`) on `today`: the window's edge, for promiseStatus and its SQL twins alike. */
export function dueHorizon(today: string): string {
  return addDays(today, dueWindowDays)
}

/**
 * The status a reader sees: closed outcomes as they are; open ones by due date, then renegotiation.
 * The one definition: the store's statusSql and statusCondition are held to it by tests/integration/time-rules.
 */
export function promiseStatus(p: Pick<PromiseRecord, 'outcome' | 'dueDate' | 'renegotiations'>, today: string): PromiseStatus {
  if (p.outcome !== 'open') return p.outcome
  if (p.dueDate !== null && p.dueDate < today) return 'overdue'
  if (p.dueDate !== null && p.dueDate <= dueHorizon(today)) return 'due'
  return p.renegotiations > 0 ? 'renegotiated' : 'open'
}

/** Employer says kept, employee says barely (fulfilled <= 2): the perception gap the contract names. */
export function hasPerceptionGap(p: Pick<PromiseRecord, 'outcome' | 'assessedFulfilled'>): boolean {
  return p.outcome === 'kept' && p.assessedFulfilled !== null && p.assessedFulfilled <= 2
}

/** A stable promise id for a promise the client did not name, derived from what made it. */
export function derivedPromiseId(...parts: string[]): string {
  return `prm_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22)}`
}

// ---- rules (arrival order) ----

export interface PromiseFacts { outcome: Outcome }

/** Throws when a promise event is impossible given what is stored; returns the promise's facts after it. */
export function checkPromiseEvent(known: ReadonlyMap<string, PromiseFacts>, event: Pick<LedgerEvent, 'type' | 'subject' | 'data' | 'time'>): PromiseFacts | null {
  const id = text(event.data, 'promiseId')
  if (!id) return null
  const current = known.get(id)
  if (event.type === 'promise.made') {
    if (current) throw impossible('promise-exists', `promise ${id} was made before`)
    const dueBy = text(event.data, 'dueBy')
    if (dueBy && dueBy < event.time.slice(0, 10)) {
      throw invalid(`promise ${id} would be due before it was made`, [{ path: '/data/dueBy', message: `must not be before the promise was made (${event.time.slice(0, 10)})` }])
    }
    return { outcome: 'open' }
  }
  if (!current) throw impossible('promise-not-made', `journey ${event.subject} has no promise ${id}`)
  if (event.type === 'promise.assessed') return current
  if (current.outcome !== 'open') throw impossible('promise-closed', `promise ${id} is already ${current.outcome}`)
  if (event.type === 'promise.renegotiated') {
    const dueBy = text(event.data, 'dueBy')
    // Renegotiated means "open again with new terms" (contract): without new words or a new date it reopened nothing,
    // yet was stored and counted as a renegotiation.
    if (!dueBy && !text(event.data, 'text')?.trim()) {
      throw invalid(`renegotiating promise ${id} needs new terms`, [{ path: '/data', message: 'must have new terms: text or dueBy' }])
    }
    if (dueBy && dueBy < event.time.slice(0, 10)) {
      throw invalid(`the new due date of promise ${id} is in the past`, [{ path: '/data/dueBy', message: `must not be before the renegotiation (${event.time.slice(0, 10)})` }])
    }
    return current
  }
  const outcome: Outcome = event.type === 'promise.kept' ? 'kept' : event.type === 'promise.broken' ? 'broken' : 'withdrawn'
  return { outcome }
}

// ---- fold (world-time order) ----

function made(e: LedgerEvent, journeyId: string): PromiseRecord {
  const d = e.data
  const from = record(d.inheritedFrom)
  const fromKind = text(from, 'kind')
  return {
    id: text(d, 'promiseId') ?? '', journeyId, category: text(d, 'category') ?? 'other', textRef: { source: e.source, eventId: e.id },
    madeBy: text(d, 'madeBy') ?? '', madeAt: text(d, 'madeAt') ?? null, kind: text(d, 'kind') ?? null, madeTime: e.time,
    dueBy: text(d, 'dueBy') ?? null, dueAfterStartDays: int(d, 'dueAfterStartDays') ?? null, dueDate: null,
    outcome: 'open', closedAt: null, brokenCause: null, renegotiations: 0, lastRenegotiationAgreed: null,
    assessedFulfilled: null, assessedAt: null,
    inheritedFrom: fromKind === 'vacancy' || fromKind === 'offer' ? { kind: fromKind, id: text(from, 'id') ?? '', index: int(from, 'index') ?? 0 } : null,
    history: [],
  }
}

function apply(p: PromiseRecord, e: LedgerEvent, d: EventData): void {
  switch (e.type) {
    case 'promise.kept': case 'promise.broken': case 'promise.withdrawn':
      if (p.outcome !== 'open') return
      p.outcome = e.type === 'promise.kept' ? 'kept' : e.type === 'promise.broken' ? 'broken' : 'withdrawn'
      p.closedAt = e.time
      if (e.type === 'promise.broken') p.brokenCause = text(d, 'cause') ?? null
      return
    case 'promise.renegotiated':
      p.renegotiations += 1
      // Personal fields are null in stored data (sealed), so "had new words" is: the field is there.
      if ('text' in d) p.textRef = { source: e.source, eventId: e.id }
      if (text(d, 'dueBy')) {
        p.dueBy = text(d, 'dueBy') ?? null
        p.dueAfterStartDays = null
      }
      p.lastRenegotiationAgreed = bool(d, 'agreedByEmployee') ?? null
      return
    case 'promise.assessed':
      p.assessedFulfilled = int(d, 'fulfilled') ?? p.assessedFulfilled
      p.assessedAt = e.time
      return
    default:
  }
}

/**
 * Every promise of a journey. Promises are made first whatever their time, so an outcome
 * backfilled with an earlier time than its promise still applies to it.
 */
export function foldPromises(journeyId: string, events: readonly LedgerEvent[], startDate: string | null): PromiseRecord[] {
  const ordered = events.filter((e) => isPromiseEvent(e.type)).sort(byTime)
  const promises = new Map<string, PromiseRecord>()
  for (const e of ordered) {
    if (e.type !== 'promise.made') continue
    const p = made(e, journeyId)
    if (p.id && !promises.has(p.id)) promises.set(p.id, p)
  }
  for (const e of ordered) {
    const p = promises.get(text(e.data, 'promiseId') ?? '')
    if (!p) continue
    p.history.push({ type: e.type, time: e.time, eventId: e.id, source: e.source })
    apply(p, e, e.data)
  }
  for (const p of promises.values()) {
    p.dueDate = p.dueBy ?? (p.dueAfterStartDays !== null && startDate !== null ? addDays(startDate, p.dueAfterStartDays) : null)
  }
  return [...promises.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

// ---- promises derived from a vacancy or an offer ----

export interface DerivedPromise { promiseId: string; data: EventData }

/** A client key from any string (a CloudEvents source may hold characters a key may not). */
function asKey(value: string): string {
  return value.replace(/[^A-Za-z0-9._:@-]/g, '-').slice(0, 128) || 'unknown'
}

/** The terms of an offer, each a promise made at `offer` by whoever made the offer. */
export function promisesFromOffer(journeyId: string, offer: Pick<LedgerEvent, 'id' | 'source' | 'time' | 'data'>): DerivedPromise[] {
  const madeBy = text(offer.data, 'madeBy') ?? asKey(offer.source)
  const terms = Array.isArray(offer.data.terms) ? offer.data.terms : []
  return terms.map((term, index) => {
    const t = record(term)
    const dueBy = text(t, 'dueBy')
    if (dueBy && dueBy < offer.time.slice(0, 10)) {
      throw invalid('an offer term would be due before the offer was made', [{ path: `/data/terms/${index}/dueBy`, message: `must not be before the offer (${offer.time.slice(0, 10)})` }])
    }
    const promiseId = derivedPromiseId(journeyId, 'offer', offer.source, offer.id, String(index))
    const days = int(t, 'dueAfterStartDays')
    return {
      promiseId,
      data: {
        promiseId, category: text(t, 'category') ?? 'other', text: text(t, 'text') ?? '', madeBy, madeAt: 'offer', kind: 'transactional',
        ...(dueBy ? { dueBy } : {}), ...(days !== undefined ? { dueAfterStartDays: days } : {}),
        inheritedFrom: { kind: 'offer', id: offer.id, index },
      },
    }
  })
}

export interface VacancyPromiseSource {
  id: string
  publishedBy: string
  promises: readonly { category: string; text: string; dueAfterStartDays?: number }[]
}

/** What the vacancy promised, inherited by a journey hired through it, made at `vacancy` by its publisher. */
export function promisesFromVacancy(journeyId: string, vacancy: VacancyPromiseSource): DerivedPromise[] {
  return vacancy.promises.map((p, index) => {
    const promiseId = derivedPromiseId(journeyId, 'vacancy', vacancy.id, String(index))
    return {
      promiseId,
      data: {
        promiseId, category: p.category, text: p.text, madeBy: asKey(vacancy.publishedBy), madeAt: 'vacancy',
        ...(p.dueAfterStartDays !== undefined ? { dueAfterStartDays: p.dueAfterStartDays } : {}),
        inheritedFrom: { kind: 'vacancy', id: vacancy.id, index },
      },
    }
  })
}
