// The event store: append (deduplicated, versioned, rule-checked, projected in one transaction)
// and the reads of the ledger. Route handlers own the transaction; these functions take it.
import { sql, type SQL } from 'drizzle-orm'
import type { IncomingEvent } from '../domain/cloudevent.js'
import { isEventType, personalFields } from '../domain/catalogue.js'
import { splitPersonal } from '../domain/crypto.js'
import { conflict, impossible, ProblemError } from '../domain/errors.js'
import { checkJourneyEvent, journeyFacts, noJourney, type JourneyFacts } from '../domain/journey.js'
import { derivedPromiseId, promisesFromOffer, promisesFromVacancy } from '../domain/promise.js'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { checkVacancyEvent, foldVacancy, type Vacancy } from '../domain/vacancy.js'
import { execute, query, queryOne, together, type Queryable, type Tx } from './database.js'
import { projectionWrites } from './projections.js'
import { promiseOwners } from './promises.js'
import { readVacancy } from './vacancies.js'
import { sealAad, type Keyring, type PersonKeys } from './keyring.js'

export interface AppendResult {
  id: string
  source: string
  subject: string
  version: number
  position: number
  duplicate: boolean
  /** The stream's version once this append committed, derived events included: the next write's expectedversion. */
  streamVersion?: number
}

export interface StoredRow {
  id: string
  source: string
  type: string
  subject: string
  streamKind: 'journey' | 'vacancy'
  time: string
  data: Record<string, unknown>
  version: number
  position: number
  recordedAt: string
  personId: string | null
  sealed: string | null
}

export const eventColumns = sql`id, source, type, subject, stream_kind as "streamKind", jl_iso(time) as time, data, version, position,
  jl_iso(recorded_at) as "recordedAt", person_id as "personId", sealed`

export function toLedgerEvent(row: StoredRow): LedgerEvent {
  if (!isEventType(row.type)) throw new Error(`unknown event type in the ledger: ${row.type}`)
  return { ...row, type: row.type }
}

const streamKey = (kind: string, id: string) => `${kind}\u0000${id}`

/**
 * The events matching each (a, b) pair of a list, found by index one pair at a time. The list is
 * one jsonb parameter: a row-value IN list of a few hundred tuples makes PGlite 0.5 fail at COMMIT
 * ("bad buffer ID: 0", then a PANIC). The lateral subquery's `offset 0` keeps the planner from
 * flattening it into a join, which it planned as a scan of the tenant's whole ledger whenever the
 * statistics undercounted the tenant (always on PGlite, which has no autovacuum; on PostgreSQL for
 * a tenant that grew since the last ANALYZE).
 */
function eventsByPairs(tenantId: string, columns: SQL, match: SQL, list: readonly [string, string][]): SQL {
  return sql`
    select e.* from jsonb_to_recordset(${JSON.stringify(list.map(([a, b]) => ({ a, b })))}::jsonb) as p(a text, b text)
    cross join lateral (select ${columns} from events where tenant_id = ${tenantId} and ${match} offset 0) e`
}

/** Points a rule's problem at the event in the batch that broke it. */
function atIndex(error: unknown, event: IncomingEvent, batch: boolean): unknown {
  if (!(error instanceof ProblemError) || !batch) return error
  const prefix = `/${event.index}`
  const errors = error.extensions.errors?.map((e) => ({ ...e, path: `${prefix}${e.path}` })) ?? [{ path: prefix, message: error.message }]
  return new ProblemError(error.status, error.code, error.title, `event ${event.index}: ${error.message}`, { ...error.extensions, errors })
}

/**
 * Appends events atomically. An event whose source + id is already stored comes back with
 * `duplicate: true` and its first result; every stream touched is locked, version-checked,
 * judged by the domain rules and re-projected before the transaction commits.
 */
export interface AppendOptions {
  batch: boolean
  keyring: Keyring
  /** The append is the transaction's last work: its writes go out together with the COMMIT (Tx.sentAll). */
  last?: boolean
}

export async function appendEvents(tx: Tx, tenantId: string, events: readonly IncomingEvent[], options: AppendOptions): Promise<AppendResult[]> {
  const results = new Map<number, AppendResult>()
  const firstSeen = new Map<string, IncomingEvent>()
  const pending: IncomingEvent[] = []
  const duplicateOf = new Map<number, string>()

  // 1. Lock every stream the request names, in a fixed order so concurrent batches cannot deadlock;
  // then, holding the locks, find what is already stored (idempotency on source + id), each
  // stream's history, the journeys of named promises and the person keys. The two statements go out together:
  // on one connection they run in order, so the read (a statement of its own, with its own snapshot)
  // sees everything committed before the locks.
  const streamIds = [...new Map(events.map((e) => [streamKey(e.streamKind, e.subject), { kind: e.streamKind, id: e.subject }])).values()]
    .sort((a, b) => (a.kind + a.id < b.kind + b.id ? -1 : 1))
  const [locked, context] = await Promise.all([
    // now() is the transaction's start, which every event's recorded_at will be.
    query<{ kind: string; id: string; version: number; now: string }>(tx, sql`
      insert into streams (tenant_id, kind, id)
      select ${tenantId}, a, b from jsonb_to_recordset(${JSON.stringify(streamIds.map((s) => ({ a: s.kind, b: s.id })))}::jsonb) as p(a text, b text)
      on conflict (tenant_id, kind, id) do update set version = streams.version
      returning kind, id, version, jl_iso(now()) as now`),
    // One statement for the four reads, each a jsonb array: a statement costs the database more than its rows.
    queryOne<{ stored: AppendResult[]; history: StoredRow[]; owners: { id: string; journeyId: string }[]; keys: { personId: string; wrappedKey: string | null }[] }>(tx, sql`
      select
        (select coalesce(jsonb_agg(to_jsonb(e)), '[]'::jsonb)
          from (${eventsByPairs(tenantId, sql`id, source, subject, version, position`, sql`source = p.a and id = p.b`, events.map((e) => [e.source, e.id]))}) e) as stored,
        (select coalesce(jsonb_agg(to_jsonb(e) order by e.position), '[]'::jsonb)
          from (${eventsByPairs(tenantId, eventColumns, sql`stream_kind = p.a and subject = p.b`, streamIds.map((s) => [s.kind, s.id]))}) e) as history,
        (${promiseOwners(tenantId, events.flatMap((e) => {
          const id = e.type === 'promise.made' ? e.data.promiseId : undefined
          return typeof id === 'string' ? [id] : []
        }))}) as owners,
        (${options.keyring.keysOfAppend(tenantId,
          events.flatMap((e) => (typeof e.data.personId === 'string' ? [e.data.personId] : [])),
          streamIds.flatMap((s) => (s.kind === 'journey' ? [s.id] : [])))}) as keys`),
  ])
  if (!context) throw new Error('the append context read returned no row')
  const stored = context.stored
  const history = groupByStream(context.history)
  const takenPromiseIds = new Map(context.owners.map((o) => [o.id, o.journeyId]))
  const personKeys = options.keyring.openKeys(tenantId, context.keys)
  const storedByKey = new Map(stored.map((r) => [`${r.source}\u0000${r.id}`, r]))
  for (const event of events) {
    const key = `${event.source}\u0000${event.id}`
    const hit = storedByKey.get(key)
    if (hit) results.set(event.index, { ...hit, duplicate: true })
    else if (firstSeen.has(key)) duplicateOf.set(event.index, key)
    else {
      firstSeen.set(key, event)
      pending.push(event)
    }
  }

  if (pending.length > 0) {
    const versions = new Map(locked.map((s) => [streamKey(s.kind, s.id), s.version]))

    // 2. Judge each new event against its stream's state, in arrival order.
    const facts = new Map<string, JourneyFacts>()
    const published = new Map<string, boolean>()
    for (const s of streamIds) {
      const events = history.get(streamKey(s.kind, s.id)) ?? []
      if (s.kind === 'journey') facts.set(s.id, journeyFacts([...events].sort((a, b) => a.position - b.position)))
      else published.set(s.id, events.some((e) => e.type === 'vacancy.published'))
    }
    const rows: (IncomingEvent & { version: number })[] = []
    const append = (event: IncomingEvent) => {
      const key = streamKey(event.streamKind, event.subject)
      const current = versions.get(key) ?? 0
      if (event.expectedVersion !== undefined && event.expectedVersion !== current) {
        throw conflict('version-mismatch', 'Stream has moved on', `stream ${event.subject} is at version ${current}, not the expected ${event.expectedVersion}`)
      }
      if (event.streamKind === 'journey') facts.set(event.subject, checkJourneyEvent(facts.get(event.subject) ?? noJourney, event))
      else published.set(event.subject, checkVacancyEvent(published.get(event.subject) ?? false, event))
      versions.set(key, current + 1)
      rows.push({ ...event, version: current + 1 })
    }
    for (const incoming of pending) {
      try {
        const event = withPromiseId(incoming)
        const owner = event.type === 'promise.made' ? takenPromiseIds.get(String(event.data.promiseId)) : undefined
        if (owner !== undefined && owner !== event.subject) {
          throw impossible('promise-exists', `promise ${String(event.data.promiseId)} belongs to another journey`)
        }
        const before = facts.get(event.subject) ?? noJourney
        append(event)
        // A promise made earlier in this batch belongs to its journey just as a stored one does.
        if (event.type === 'promise.made') takenPromiseIds.set(String(event.data.promiseId), event.subject)
        for (const derived of await derivedPromises(tx, tenantId, event, before, (id) => vacancyInBatch(id, history, rows))) {
          append({ ...event, id: `derived:${derived.promiseId}`, source: derivedSource, type: 'promise.made', data: derived.data, expectedVersion: undefined, index: -1 })
        }
      } catch (error) {
        throw atIndex(error, incoming, options.batch)
      }
    }

    // 3. Seal the personal fields under each person's data key (a round trip only for a person's first key).
    const sealedRows = await sealRows(tx, tenantId, options.keyring, rows.map((r) => ({ ...r, personId: personOf(r, facts) })), personKeys)

    // 4. The new events as the ledger will hold them, so the projections are folded before they are
    // stored: every write then goes out at once (with the COMMIT when the append is the last work).
    // Positions here only order the new events after the stored ones, as the real ones will: they
    // come from one sequence, in the order of the insert below, after everything the locks let in.
    const recordedAt = locked[0]?.now ?? new Date().toISOString()
    let lastPosition = 0
    for (const stream of history.values()) for (const e of stream) lastPosition = Math.max(lastPosition, e.position)
    sealedRows.forEach((row, i) => {
      const key = streamKey(row.streamKind, row.subject)
      history.set(key, [...(history.get(key) ?? []), {
        id: row.id, source: row.source, type: row.type, subject: row.subject, time: row.time, data: row.clear,
        version: row.version, position: lastPosition + 1 + i, recordedAt, personId: row.personId, sealed: row.sealed,
      }])
    })
    const touched = streamIds.filter((s) => rows.some((r) => r.streamKind === s.kind && r.subject === s.id))
    const eventsInsert = sql`
      insert into events (tenant_id, stream_kind, subject, version, id, source, type, time, data, person_id, sealed)
      select ${tenantId}, r."streamKind", r.subject, r.version, r.id, r.source, r.type, r.time, r.data, r."personId", r.sealed
      from rows from (jsonb_to_recordset(${JSON.stringify(sealedRows.map((r) => ({
        streamKind: r.streamKind, subject: r.subject, version: r.version, id: r.id, source: r.source, type: r.type, time: r.time,
        data: r.clear, personId: r.personId, sealed: r.sealed,
      })))}::jsonb) as ("streamKind" text, "subject" text, "version" integer, "id" text, "source" text, "type" text,
        "time" timestamptz, "data" jsonb, "personId" text, "sealed" text)) with ordinality as r
      order by r.ordinality
      returning id, source, subject, version, position`
    const versionsUpdate = sql`
      update streams set version = v.version
      from jsonb_to_recordset(${JSON.stringify(touched.map((s) => ({ kind: s.kind, id: s.id, version: versions.get(streamKey(s.kind, s.id)) })))}::jsonb)
        as v(kind text, id text, version integer)
      where streams.tenant_id = ${tenantId} and streams.kind = v.kind and streams.id = v.id`
    const projection = projectionWrites(tenantId, touched.map((s) => ({
      kind: s.kind, id: s.id, events: history.get(streamKey(s.kind, s.id)) ?? [],
      changed: new Set(rows.filter((r) => r.streamKind === s.kind && r.subject === s.id).map((r) => r.type)),
    })))
    // The events, the stream versions and the projection rows in one statement; promise rows after it.
    const inserted = query<Omit<AppendResult, 'duplicate'>>(tx, together(eventsInsert, [versionsUpdate, ...projection.rows]))
    const written = Promise.all([inserted, ...projection.promises.map((statement) => execute(tx, statement))])
    if (options.last) tx.sentAll()
    await written
    const insertedByKey = new Map((await inserted).map((r) => [`${r.source}\u0000${r.id}`, r]))
    for (const row of sealedRows) {
      const ins = insertedByKey.get(`${row.source}\u0000${row.id}`)
      if (!ins) throw new Error('inserted event not returned')
      const streamVersion = versions.get(streamKey(row.streamKind, row.subject)) ?? ins.version
      if (row.index >= 0) results.set(row.index, { id: ins.id, source: ins.source, subject: ins.subject, version: ins.version, position: ins.position, duplicate: false, streamVersion })
    }
  }

  for (const [index, key] of duplicateOf) {
    const first = firstSeen.get(key)
    const result = first ? results.get(first.index) : undefined
    if (result) results.set(index, { ...result, duplicate: true })
  }
  return events.map((e) => {
    const result = results.get(e.index)
    if (!result) throw impossible('append-incomplete', `event ${e.index} was not stored`)
    return result
  })
}

/**
 * Splits each event's personal fields from the rest and seals them under its person's data key.
 * A person already erased gets nothing new stored about them: their personal fields are dropped.
 */
async function sealRows<R extends IncomingEvent & { personId: string | null }>(tx: Queryable, tenantId: string, keyring: Keyring, rows: R[], known: PersonKeys) {
  const split = rows.map((r) => ({ row: r, ...splitPersonal(r.data, personalFields[r.type]) }))
  const persons = split.flatMap((s) => (s.secret && s.row.personId ? [s.row.personId] : []))
  const keys = await keyring.keysFor(tx, tenantId, persons, { create: true, known })
  return split.map(({ row, clear, secret }) => {
    const key = row.personId ? keys.get(row.personId) : undefined
    const sealed = secret && key ? keyring.sealFields(key, secret, sealAad(tenantId, row.source, row.id)) : null
    return { ...row, clear: secret && !row.personId ? row.data : clear, sealed }
  })
}

/** The source of events the ledger writes itself (promises inherited from a vacancy or an offer). */
export const derivedSource = 'journey-ledger'

/** The vacancy as this batch leaves it, when the batch writes to its stream; undefined otherwise (its projection is current). */
function vacancyInBatch(id: string, history: Map<string, LedgerEvent[]>, rows: readonly (IncomingEvent & { version: number })[]): Vacancy | null | undefined {
  const written = rows.filter((r) => r.streamKind === 'vacancy' && r.subject === id)
  if (written.length === 0) return undefined
  const stored = history.get(streamKey('vacancy', id)) ?? []
  const last = stored.reduce((max, e) => Math.max(max, e.position), 0)
  return foldVacancy(id, [...stored, ...written.map((r, i) => ({
    id: r.id, source: r.source, type: r.type, subject: r.subject, time: r.time, data: r.data, version: r.version,
    position: last + i + 1, recordedAt: r.time, personId: null, sealed: null,
  }))])
}

/** A promise.made without a promiseId gets one derived from its source + id, so a retry names the same promise. */
function withPromiseId(event: IncomingEvent): IncomingEvent {
  if (event.type !== 'promise.made' || typeof event.data.promiseId === 'string') return event
  return { ...event, data: { ...event.data, promiseId: derivedPromiseId(event.source, event.id) } }
}

/** Promises an event brings with it: an offer's terms; at the first hire, what the vacancy promised. */
async function derivedPromises(tx: Queryable, tenantId: string, event: IncomingEvent, before: JourneyFacts, inBatch: (vacancyId: string) => Vacancy | null | undefined) {
  if (event.type === 'offer.made') return promisesFromOffer(event.subject, event)
  if (event.type !== 'employee.hired' || before.hired || !before.vacancyId) return []
  const vacancy = inBatch(before.vacancyId) ?? await readVacancy(tx, tenantId, before.vacancyId)
  return vacancy ? promisesFromVacancy(event.subject, vacancy) : []
}

function personOf(event: IncomingEvent, facts: Map<string, JourneyFacts>): string | null {
  if (event.streamKind !== 'journey') return null
  return facts.get(event.subject)?.personId ?? null
}

/** Every stored event of the given streams, keyed by stream. */
export async function readStreams(tx: Queryable, tenantId: string, streamIds: readonly { kind: string; id: string }[]): Promise<Map<string, LedgerEvent[]>> {
  if (streamIds.length === 0) return new Map()
  return groupByStream(await query<StoredRow>(tx, sql`
    ${eventsByPairs(tenantId, eventColumns, sql`stream_kind = p.a and subject = p.b`, streamIds.map((s) => [s.kind, s.id]))}
    order by e.position`))
}

/** Stored rows (in ledger order) as ledger events keyed by stream. */
function groupByStream(rows: readonly StoredRow[]): Map<string, LedgerEvent[]> {
  const out = new Map<string, LedgerEvent[]>()
  for (const row of rows) {
    const key = streamKey(row.streamKind, row.subject)
    const list = out.get(key) ?? []
    list.push(toLedgerEvent(row))
    out.set(key, list)
  }
  return out
}

export interface FeedCursor { txId: string; position: number }

export function encodeCursor(c: FeedCursor): string {
  return Buffer.from(`${c.txId}:${c.position}`).toString('base64url')
}

const maxXid8 = 2n ** 64n - 1n

export function decodeCursor(raw: string): FeedCursor | undefined {
  const match = /^(\d{1,20}):(\d{1,16})$/.exec(Buffer.from(raw, 'base64url').toString())
  if (!match?.[1] || !match[2]) return undefined
  // Numbers the columns cannot hold are not cursors this API handed out (and would fail the cast).
  const position = Number(match[2])
  if (BigInt(match[1]) > maxXid8 || !Number.isSafeInteger(position)) return undefined
  return { txId: match[1], position }
}

export interface FeedFilter { after?: FeedCursor; type?: string; subject?: string; limit: number }

/**
 * The tenant's feed in commit order. Only rows of transactions older than this snapshot's xmin
 * are returned: a transaction that commits late can never land behind a cursor already handed out.
 */
export async function readFeed(tx: Queryable, tenantId: string, filter: FeedFilter): Promise<{ events: LedgerEvent[]; next: FeedCursor | null }> {
  const conditions: SQL[] = [sql`tenant_id = ${tenantId}`, sql`tx_id < pg_snapshot_xmin(pg_current_snapshot())`]
  if (filter.after) conditions.push(sql`(tx_id, position) > (${filter.after.txId}::xid8, ${filter.after.position}::int8)`)
  if (filter.type) conditions.push(sql`type = ${filter.type}`)
  if (filter.subject) conditions.push(sql`subject = ${filter.subject}`)
  const rows = await query<StoredRow & { txId: string }>(tx, sql`
    select ${eventColumns}, tx_id::text as "txId" from events
    where ${sql.join(conditions, sql` and `)}
    order by tx_id, position
    limit ${filter.limit}`)
  const last = rows[rows.length - 1]
  const events = rows.map(({ txId: _txId, ...row }) => toLedgerEvent(row))
  // A full page means more may follow; a short page still hands back a cursor so the reader resumes there.
  const next = last ? { txId: last.txId, position: last.position } : filter.after ?? null
  return { events, next }
}

/** One stream in stream order (version), with keyset paging on version. */
export async function readStream(tx: Queryable, tenantId: string, kind: 'journey' | 'vacancy', subject: string, afterVersion: number, limit: number): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events
    where tenant_id = ${tenantId} and stream_kind = ${kind} and subject = ${subject} and version > ${afterVersion}
    order by version limit ${limit}`)
  return rows.map(toLedgerEvent)
}

/** Events of one journey in world-time order, of the given types (and about one promise, if named). */
export async function readJourneyTimeline(tx: Queryable, tenantId: string, journeyId: string, filter: { types: readonly string[]; promiseId?: string }): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events
    where tenant_id = ${tenantId} and stream_kind = 'journey' and subject = ${journeyId}
      and type in (${sql.join(filter.types.map((t) => sql`${t}`), sql`, `)})
      ${filter.promiseId !== undefined ? sql`and data ->> 'promiseId' = ${filter.promiseId}` : sql``}
    order by time, position`)
  return rows.map(toLedgerEvent)
}
