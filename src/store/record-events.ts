// The ledger's command handler: load the state of every stream a request touches (stored beside
// the stream's version, not refolded from history), let the domain decide each event, evolve the
// states, seal personal fields, and write states, projections, analytics aggregates and the webhook
// outbox, then the numbered events (event-store.ts).
import { sql } from 'drizzle-orm'
import type { IncomingEvent } from '../domain/cloudevent.js'
import { personalFields } from '../domain/catalogue.js'
import { splitPersonal } from '../domain/crypto.js'
import { conflict, impossible, ProblemError } from '../domain/errors.js'
import { record, type LedgerEvent } from '../domain/ledger-event.js'
import { isPromiseEvent, type PromiseBook, type PromiseRecord, type VacancyPromiseSource } from '../domain/promise.js'
import {
  decide, evolve, foldStream, initialState, loadedState, stateVersion, storedForm, vacancyNeeded, type StreamKind, type StreamState,
} from '../domain/streams.js'
import { execute, query, queryOne, type Tx } from './database.js'
import {
  appendStatements, eventKey, lockStreams, readStreams, sortStreams, storedEvents, streamKey, type LockedStream, type NewEvent, type StoredResult,
} from './event-store.js'
import { cellDelta, journeyCells, movesAnalytics, type Cells } from '../domain/analytics-cells.js'
import { needsPromises, projectJourney } from '../domain/journey.js'
import { aggregateWrites } from './aggregates.js'
import { byReference, markedFields, namedPersonIds, readPeopleOfAppend, resolvePeople, withLabelMarks, type AppendPeople } from './append-people.js'
import { sealAad, type Keyring, type PersonRow } from './keyring.js'
import { outboxWrites } from './outbox.js'
import { projectionWrites } from './projections.js'
import { promiseBooks, promiseOwners } from './promises.js'
import { readVacancy } from './vacancies.js'

export interface AppendResult extends StoredResult {
  duplicate: boolean
  /** The stream's version once this append committed, derived events included: the next write's expectedversion. */
  streamVersion?: number
}

export interface RecordOptions {
  /** The request sent an array: a problem points at the failing index. */
  batch: boolean
  keyring: Keyring
  /** The append is the transaction's last work: its writes go out together with the COMMIT (Tx.sentAll). */
  last?: boolean
}

/** A stream as this append works on it. */
interface Working {
  kind: StreamKind
  id: string
  version: number
  state: StreamState
  appended: LedgerEvent[]
  /** The promise rows this append writes: made (inserted) and changed (updated). */
  promiseRows: { made: Set<string>; changed: Set<string> | 'all' }
  /** The stream's analytics cells as loaded, when its events may move them: the append writes the difference to its cells after. */
  cellsBefore: Cells | null
}

/** The append in progress: its streams, the promises' journeys, and the new events in the order they will be stored. */
interface Batch {
  streams: Map<string, Working>
  owners: Map<string, string>
  appended: { stream: Working; event: LedgerEvent; index: number }[]
  recordedAt: string
  people: AppendPeople
  /** The words of events whose labels the domain saw as marks (withLabelMarks), by eventKey: what gets sealed. */
  words: Map<string, Record<string, unknown>>
}

/** What the first round trip reads, holding the streams' locks. */
interface Context {
  locked: (LockedStream & { now: string })[]
  stored: StoredResult[]
  owners: Map<string, string>
  people: AppendPeople
  /** The promises of the journeys whose events need them or may move their analytics cells (which depend on every promise), by journey. */
  promises: Map<string, PromiseBook>
}

/**
 * Records events atomically. An event whose source + id is already stored comes back with
 * `duplicate: true` and its first result; the others are judged, stored and projected before
 * the transaction commits.
 */
export async function recordEvents(tx: Tx, tenantId: string, events: readonly IncomingEvent[], options: RecordOptions): Promise<AppendResult[]> {
  const context = await readContext(tx, tenantId, events, options.keyring)
  const results = new Map<number, AppendResult>()
  const { pending, repeats } = withoutDuplicates(events, context.stored, results)
  if (pending.length > 0) {
    const batch: Batch = {
      streams: await loadStates(tx, tenantId, context.locked, context.promises), owners: context.owners, appended: [],
      recordedAt: context.locked[0]?.now ?? new Date().toISOString(), people: context.people, words: new Map(),
    }
    for (const incoming of pending) {
      try {
        await decideOne(tx, tenantId, batch, byReference(incoming, context.people.refs), options.keyring)
      } catch (error) {
        throw atIndex(error, incoming, options.batch)
      }
    }
    await refoldBackfilled(tx, tenantId, batch.streams)
    for (const [index, result] of await store(tx, tenantId, batch, options)) results.set(index, result)
  }
  return events.map((e) => {
    const first = repeats.get(e.index)
    const result = first === undefined ? results.get(e.index) : results.get(first)
    if (!result) throw impossible('append-incomplete', `event ${e.index} was not stored`)
    return first === undefined ? result : { ...result, duplicate: true }
  })
}

/**
 * Locks every stream the request names, and with the same round trip reads what is already
 * stored (idempotency on source + id), the journeys of named promises, the person keys and the
 * promises of journeys whose events need them. On one
 * connection the statements run in order, so the read sees everything committed before the locks.
 */
async function readContext(tx: Tx, tenantId: string, events: readonly IncomingEvent[], keyring: Keyring): Promise<Context> {
  const streams = sortStreams(events.map((e) => ({ kind: e.streamKind, id: e.subject })))
  const namedPromises = events.flatMap((e) => (e.type === 'promise.made' && e.data.promiseId !== undefined ? [e.data.promiseId] : []))
  const personIds = namedPersonIds(events)
  const journeys = streams.flatMap((s) => (s.kind === 'journey' ? [s.id] : []))
  const withPromises = [...new Set(events.filter((e) => e.streamKind === 'journey' && (needsPromises(e) || movesAnalytics(e.type))).map((e) => e.subject))]
  const [locked, reads] = await Promise.all([
    lockStreams(tx, tenantId, streams),
    // One statement for the four reads, each a jsonb array: a statement costs the database more than its rows.
    queryOne<{ stored: StoredResult[]; owners: { id: string; journeyId: string }[]; people: { people: PersonRow[]; erased: string[] }; promises: PromiseRecord[] }>(tx, sql`
      select (${storedEvents(tenantId, events)}) as stored, (${promiseOwners(tenantId, namedPromises)}) as owners,
        (${readPeopleOfAppend(keyring, tenantId, personIds, journeys)}) as people,
        (${promiseBooks(tenantId, withPromises)}) as promises`),
  ])
  if (!reads) throw new Error('the append context read returned no row')
  const promises = new Map<string, PromiseBook>(withPromises.map((id) => [id, {}]))
  for (const p of reads.promises) (promises.get(p.journeyId) ?? {})[p.id] = p
  const people = await resolvePeople(tx, keyring, tenantId, personIds, reads.people)
  return { locked, stored: reads.stored, owners: new Map(reads.owners.map((o) => [o.id, o.journeyId])), people, promises }
}

/** The events to judge. Those stored before answer with their first result; a repeat within the request, with its first's (`repeats`: index -> first index). */
function withoutDuplicates(events: readonly IncomingEvent[], stored: readonly StoredResult[], results: Map<number, AppendResult>) {
  const storedByKey = new Map(stored.map((r) => [eventKey(r), r]))
  const firstSeen = new Map<string, number>()
  const repeats = new Map<number, number>()
  const pending: IncomingEvent[] = []
  for (const event of events) {
    const key = eventKey(event)
    const hit = storedByKey.get(key)
    const first = firstSeen.get(key)
    if (hit) results.set(event.index, { ...hit, duplicate: true })
    else if (first !== undefined) repeats.set(event.index, first)
    else {
      firstSeen.set(key, event.index)
      pending.push(event)
    }
  }
  return { pending, repeats }
}

/** Whether a stored state was written by this code's folds (anything else is refolded from history). */
function isCurrentState(stored: unknown): stored is { v: number; state: StreamState } {
  return typeof stored === 'object' && stored !== null && Reflect.get(stored, 'v') === stateVersion
}

/** Each locked stream's state: as stored, or folded from its history when none is stored for this stateVersion. */
async function loadStates(tx: Tx, tenantId: string, locked: readonly LockedStream[], promises: Map<string, PromiseBook>): Promise<Map<string, Working>> {
  const stale = locked.filter((s) => s.version > 0 && !isCurrentState(s.state))
  const histories = await readStreams(tx, tenantId, stale)
  return new Map(locked.map((s) => {
    const kind: StreamKind = s.kind === 'vacancy' ? 'vacancy' : 'journey'
    const stored = isCurrentState(s.state) ? s.state.state : s.version > 0 ? foldStream(kind, histories.get(streamKey(s)) ?? []) : initialState(kind)
    const book = kind === 'journey' ? promises.get(s.id) : undefined
    const state = loadedState(stored, book)
    // Promises are loaded for exactly the journeys whose events may move their cells (or need them anyway).
    return [streamKey(s), { kind, id: s.id, version: s.version, state, appended: [], promiseRows: { made: new Set(), changed: new Set() }, cellsBefore: book ? cellsOf(state) : null }]
  }))
}

/** A stream's analytics cells (a vacancy has none: its promises count once a hire inherits them). */
function cellsOf(state: StreamState): Cells {
  return journeyCells(state.kind === 'journey' ? projectJourney(state) : null)
}

/** What this append moves in the analytics: the cells of its tracked streams after, less before. */
function analyticsDelta(streams: readonly Working[]): Cells {
  const tracked = streams.flatMap((s) => (s.cellsBefore ? [{ before: s.cellsBefore, after: cellsOf(s.state) }] : []))
  return cellDelta(tracked.map((t) => t.before), tracked.map((t) => t.after))
}

/** Decides one incoming event on its stream and evolves the stream with what the domain decided. */
async function decideOne(tx: Tx, tenantId: string, batch: Batch, said: IncomingEvent, keyring: Keyring): Promise<void> {
  const { streams, owners } = batch
  const stream = streams.get(streamKey({ kind: said.streamKind, id: said.subject }))
  if (!stream) throw new Error(`stream ${said.subject} was not locked`)
  const personRef = stream.state.kind === 'journey' ? stream.state.facts.personRef : null
  const incoming = withLabelMarks(said, keyring, personRef === null ? undefined : batch.people.keys.get(personRef))
  if (incoming !== said) batch.words.set(eventKey(said), record(said.data))
  if (incoming.expectedVersion !== undefined && incoming.expectedVersion !== stream.version) {
    throw conflict('version-mismatch', 'Stream has moved on', `stream ${incoming.subject} is at version ${stream.version}, not the expected ${incoming.expectedVersion}`)
  }
  const named = incoming.type === 'promise.made' ? incoming.data.promiseId : undefined
  const owner = named === undefined ? undefined : owners.get(named)
  if (owner !== undefined && owner !== incoming.subject) throw impossible('promise-exists', `promise ${named} belongs to another journey`)
  const vacancyId = vacancyNeeded(stream.state, incoming)
  const vacancy = vacancyId === null ? null : await vacancyFor(tx, tenantId, streams, vacancyId)
  for (const event of decide(stream.state, incoming, vacancy)) {
    stream.version += 1
    // A position no stored event has yet, in arrival order: it orders the new events only, should the stream be refolded.
    const { streamKind: _kind, expectedVersion: _expected, index, ...fields } = event
    const stored: LedgerEvent = { ...fields, version: stream.version, position: 2 ** 52 + batch.appended.length, recordedAt: batch.recordedAt, personRef: null, sealed: null }
    stream.appended.push(stored)
    batch.appended.push({ stream, event: stored, index })
    stream.state = evolve(stream.state, stored)
    notePromiseChange(stream.promiseRows, stored)
    if (stored.type === 'promise.made' && stored.data.promiseId !== undefined) owners.set(stored.data.promiseId, stored.subject)
  }
}

/** Which promise rows an event changes: its own; every one when it moves the start date (due dates follow it). */
function notePromiseChange(rows: Working['promiseRows'], event: LedgerEvent): void {
  if (event.type === 'employee.hired' || event.type === 'offer.made') rows.changed = 'all'
  else if (event.type === 'promise.made' && event.data.promiseId !== undefined) rows.made.add(event.data.promiseId)
  else if (isPromiseEvent(event) && event.data.promiseId !== undefined && rows.changed !== 'all') rows.changed.add(event.data.promiseId)
}

/** The vacancy a hire inherits promises from: as this append leaves it when it writes to it, else its projection. */
async function vacancyFor(tx: Tx, tenantId: string, streams: Map<string, Working>, id: string): Promise<VacancyPromiseSource | null> {
  const inBatch = streams.get(streamKey({ kind: 'vacancy', id }))
  if (inBatch?.state.kind === 'vacancy' && inBatch.appended.length > 0) return inBatch.state.vacancy
  return (await readVacancy(tx, tenantId, id)) ?? null
}

/** A backfilled event (one before its stream's latest) refolds that stream from its history and this append's events. */
async function refoldBackfilled(tx: Tx, tenantId: string, streams: Map<string, Working>): Promise<void> {
  const behind = [...streams.values()].filter((s) => s.state.backfilled)
  if (behind.length === 0) return
  const histories = await readStreams(tx, tenantId, behind)
  for (const s of behind) {
    s.state = foldStream(s.kind, [...(histories.get(streamKey(s)) ?? []), ...s.appended])
    s.promiseRows.changed = 'all'
  }
}

/** Seals the new events, then writes them with their streams' states, projections and webhook deliveries; the results by request index. */
async function store(tx: Tx, tenantId: string, batch: Batch, options: RecordOptions): Promise<Map<number, AppendResult>> {
  const rows = sealRows(tenantId, options.keyring, batch)
  const streams = [...batch.streams.values()].filter((s) => s.appended.length > 0)
  const { writes, numbered } = appendStatements(tenantId, rows,
    streams.map((s) => ({ kind: s.kind, id: s.id, version: s.version, state: { v: stateVersion, state: storedForm(s.state) } })),
    [...projectionWrites(tenantId, streams), ...outboxWrites(tenantId, rows), ...aggregateWrites(tenantId, analyticsDelta(streams))])
  // Sent in this order on the transaction's connection: the tenant's head is taken last.
  const written = Promise.all([execute(tx, writes), query<StoredResult>(tx, numbered)])
  if (options.last) tx.sentAll()
  const inserted = new Map((await written)[1].map((r) => [eventKey(r), r]))
  const results = new Map<number, AppendResult>()
  for (const { stream, event, index } of batch.appended) {
    const stored = inserted.get(eventKey(event))
    if (!stored) throw new Error('inserted event not returned')
    if (index >= 0) results.set(index, { ...stored, duplicate: false, streamVersion: stream.version })
  }
  return results
}

/**
 * Splits each new event's personal fields from the rest and seals them under its person's data
 * key. A person already erased gets nothing new stored about them: their personal fields are dropped.
 */
function sealRows(tenantId: string, keyring: Keyring, batch: Batch): NewEvent[] {
  return batch.appended.map(({ stream, event }) => {
    const personRef = stream.state.kind === 'journey' ? stream.state.facts.personRef : null
    const words = batch.words.get(eventKey(event))
    const { clear, secret } = splitPersonal(words ?? event.data, personalFields[event.type])
    const key = personRef === null ? undefined : batch.people.keys.get(personRef)
    const sealed = secret && key ? keyring.sealFields(key, secret, sealAad(tenantId, event.source, event.id)) : null
    const marks = Object.fromEntries((markedFields[event.type] ?? []).flatMap((field) => (field in event.data ? [[field, Reflect.get(event.data, field)]] : [])))
    return {
      streamKind: stream.kind, subject: event.subject, version: event.version, id: event.id, source: event.source, type: event.type, time: event.time,
      data: secret && personRef === null ? event.data : { ...clear, ...marks }, personRef, sealed, writtenBy: event.writtenBy ?? null,
    }
  })
}

/** Points a rule's problem at the event in the batch that broke it. */
function atIndex(error: unknown, event: IncomingEvent, batch: boolean): unknown {
  if (!(error instanceof ProblemError) || !batch) return error
  const prefix = `/${event.index}`
  const errors = error.extensions.errors?.map((e) => ({ ...e, path: `${prefix}${e.path}` })) ?? [{ path: prefix, message: error.message }]
  return new ProblemError(error.status, error.code, error.title, `event ${event.index}: ${error.message}`, { ...error.extensions, errors })
}
