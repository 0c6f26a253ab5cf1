// The promise ledger inside a journey: the rules a promise event must pass (arrival order), and
// each promise as it evolves (world-time order) with its outcome, renegotiations and the
// employee's latest assessment. Status depends on the clock, so it is computed from the record
// and `today`, never stored.
import { createHash } from 'node:crypto'
import { impossible, invalid } from './errors.js'
import type { EventData, PromiseCategory } from './catalogue.js'
import { byTime, type Envelope, type EventOf, type LedgerEvent } from './ledger-event.js'

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
}

export const promiseEventTypes = ['promise.made', 'promise.kept', 'promise.broken', 'promise.renegotiated', 'promise.withdrawn', 'promise.assessed'] as const
export type PromiseEventType = (typeof promiseEventTypes)[number]
export type PromiseEvent = EventOf<PromiseEventType>
const promiseTypes: ReadonlySet<string> = new Set(promiseEventTypes)
export function isPromiseEvent<E extends { type: string }>(event: E): event is Extract<E, { type: PromiseEventType }> {
  return promiseTypes.has(event.type)
}

/** A journey's promises by id, as the journey's state holds them. */
export type PromiseBook = Record<string, PromiseRecord>

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

/** Each promise's outcome so far, by id, in arrival order. */
export type PromiseOutcomes = Readonly<Record<string, Outcome>>

/** Throws when a promise event is impossible given what is stored. */
export function checkPromiseEvent(known: PromiseOutcomes, event: Pick<Envelope, 'subject' | 'time'> & PromiseEvent): void {
  const id = event.data.promiseId
  if (id === undefined) return
  const current = known[id]
  const day = event.time.slice(0, 10)
  if (event.type === 'promise.made') {
    if (current) throw impossible('promise-exists', `promise ${id} was made before`)
    if (event.data.dueBy && event.data.dueBy < day) {
      throw invalid(`promise ${id} would be due before it was made`, [{ path: '/data/dueBy', message: `must not be before the promise was made (${day})` }])
    }
    return
  }
  if (!current) throw impossible('promise-not-made', `journey ${event.subject} has no promise ${id}`)
  if (event.type === 'promise.assessed') return
  if (current !== 'open') throw impossible('promise-closed', `promise ${id} is already ${current}`)
  if (event.type === 'promise.renegotiated') {
    const { dueBy, text } = event.data
    // Renegotiated means "open again with new terms" (contract): without new words or a new date it reopens nothing.
    if (!dueBy && !text?.trim()) {
      throw invalid(`renegotiating promise ${id} needs new terms`, [{ path: '/data', message: 'must have new terms: text or dueBy' }])
    }
    if (dueBy && dueBy < day) {
      throw invalid(`the new due date of promise ${id} is in the past`, [{ path: '/data/dueBy', message: `must not be before the renegotiation (${day})` }])
    }
  }
}

/** The outcomes after an event that passed checkPromiseEvent. */
export function evolveOutcomes(known: PromiseOutcomes, event: PromiseEvent): PromiseOutcomes {
  const id = event.data.promiseId
  if (id === undefined) return known
  switch (event.type) {
    case 'promise.made': return known[id] ? known : { ...known, [id]: 'open' }
    case 'promise.kept': return { ...known, [id]: 'kept' }
    case 'promise.broken': return { ...known, [id]: 'broken' }
    case 'promise.withdrawn': return { ...known, [id]: 'withdrawn' }
    default: return known
  }
}

// ---- evolve (world-time order) ----

function made(e: Envelope & EventOf<'promise.made'>, journeyId: string): PromiseRecord {
  const d = e.data
  return {
    id: d.promiseId ?? '', journeyId, category: d.category, textRef: { source: e.source, eventId: e.id },
    madeBy: d.madeBy, madeAt: d.madeAt ?? null, kind: d.kind ?? null, madeTime: e.time,
    dueBy: d.dueBy ?? null, dueAfterStartDays: d.dueAfterStartDays ?? null, dueDate: null,
    outcome: 'open', closedAt: null, brokenCause: null, renegotiations: 0, lastRenegotiationAgreed: null,
    assessedFulfilled: null, assessedAt: null, inheritedFrom: d.inheritedFrom ?? null,
  }
}

/** A promise after one of its events (the record is the caller's draft). */
function apply(p: PromiseRecord, e: Envelope & PromiseEvent): void {
  switch (e.type) {
    case 'promise.kept': case 'promise.broken': case 'promise.withdrawn':
      if (p.outcome !== 'open') return
      p.outcome = e.type === 'promise.kept' ? 'kept' : e.type === 'promise.broken' ? 'broken' : 'withdrawn'
      p.closedAt = e.time
      if (e.type === 'promise.broken') p.brokenCause = e.data.cause ?? null
      return
    case 'promise.renegotiated':
      p.renegotiations += 1
      // Personal fields are null in stored data (sealed), so "had new words" is: the field is there.
      if ('text' in e.data) p.textRef = { source: e.source, eventId: e.id }
      if (e.data.dueBy) {
        p.dueBy = e.data.dueBy
        p.dueAfterStartDays = null
      }
      p.lastRenegotiationAgreed = e.data.agreedByEmployee
      return
    case 'promise.assessed':
      p.assessedFulfilled = e.data.fulfilled
      p.assessedAt = e.time
      return
    default:
  }
}

/**
 * Applies promise events, in world-time order, to a book the caller owns (a draft). A promise is
 * made first whatever its time (see foldPromises), so every made event must be added before the
 * others are applied: `addMade` then `applyEvents`.
 */
export function addMade(book: PromiseBook, journeyId: string, events: readonly (Envelope & PromiseEvent)[]): void {
  for (const e of events) {
    if (e.type !== 'promise.made') continue
    const p = made(e, journeyId)
    if (p.id && !book[p.id]) book[p.id] = p
  }
}

export function applyEvents(book: PromiseBook, events: readonly (Envelope & PromiseEvent)[]): void {
  for (const e of events) {
    const p = book[e.data.promiseId ?? '']
    if (p) apply(p, e)
  }
}

/** A copy of the book whose records the caller may change. */
export function draftBook(book: PromiseBook): PromiseBook {
  return Object.fromEntries(Object.entries(book).map(([id, p]) => [id, { ...p }]))
}

/** Every promise of a journey, due dates resolved against its start date, ordered by id. */
export function promisesOf(book: PromiseBook, startDate: string | null): PromiseRecord[] {
  return Object.values(book)
    .map((p) => ({ ...p, dueDate: p.dueBy ?? (p.dueAfterStartDays !== null && startDate !== null ? addDays(startDate, p.dueAfterStartDays) : null) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Every promise of a journey from its whole stream. Promises are made first whatever their time,
 * so an outcome backfilled with an earlier time than its promise still applies to it.
 */
export function foldPromises(journeyId: string, events: readonly LedgerEvent[], startDate: string | null): PromiseRecord[] {
  const ordered = events.filter(isPromiseEvent).sort(byTime)
  const book: PromiseBook = {}
  addMade(book, journeyId, ordered)
  applyEvents(book, ordered)
  return promisesOf(book, startDate)
}

// ---- promises derived from a vacancy or an offer ----

/** The source of events the ledger writes itself (promises inherited from a vacancy or an offer). */
export const derivedSource = 'journey-ledger'

export interface DerivedPromise { promiseId: string; data: EventData<'promise.made'> }

/** A client key from any string (a CloudEvents source may hold characters a key may not). */
function asKey(value: string): string {
  return value.replace(/[^A-Za-z0-9._:@-]/g, '-').slice(0, 128) || 'unknown'
}

/** The terms of an offer, each a promise made at `offer` by whoever made the offer. */
export function promisesFromOffer(journeyId: string, offer: Pick<Envelope, 'id' | 'source' | 'time'> & { data: EventData<'offer.made'> }): DerivedPromise[] {
  const madeBy = offer.data.madeBy ?? asKey(offer.source)
  return (offer.data.terms ?? []).map(({ category, text, dueBy, dueAfterStartDays }, index) => {
    if (dueBy && dueBy < offer.time.slice(0, 10)) {
      throw invalid('an offer term would be due before the offer was made', [{ path: `/data/terms/${index}/dueBy`, message: `must not be before the offer (${offer.time.slice(0, 10)})` }])
    }
    const promiseId = derivedPromiseId(journeyId, 'offer', offer.source, offer.id, String(index))
    return {
      promiseId,
      data: {
        promiseId, category, text, madeBy, madeAt: 'offer', kind: 'transactional',
        ...(dueBy ? { dueBy } : {}), ...(dueAfterStartDays !== undefined ? { dueAfterStartDays } : {}),
        inheritedFrom: { kind: 'offer', id: offer.id, index },
      },
    }
  })
}

export interface VacancyPromiseSource {
  id: string
  publishedBy: string
  promises: readonly { category: PromiseCategory; text: string; dueAfterStartDays?: number }[]
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
