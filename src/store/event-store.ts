// The event store: streams with a version and a stored state, and the events appended to them. It
// knows nothing of journeys: a stream's kind and state are opaque to it, and rules live with the
// command handler (record-events.ts) and the domain.
import { sql, type SQL } from 'drizzle-orm'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { alongside, execute, query, together, type NamedPart, type Queryable } from './database.js'

export interface StreamId { kind: string; id: string }

export interface LockedStream extends StreamId {
  version: number
  /** The state stored with `version`, as the handler wrote it (null: never written). */
  state: unknown
}

export const streamKey = (s: { kind: string; id: string }) => `${s.kind}\u0000${s.id}`
export const eventKey = (e: { source: string; id: string }) => `${e.source}\u0000${e.id}`

/** A stored row of the events table as the domain reads it. */
export type StoredRow = LedgerEvent & { streamKind: string }

export const withoutKind = ({ streamKind: _kind, ...event }: StoredRow): LedgerEvent => event

export const eventColumns = sql`id, source, type, subject, stream_kind as "streamKind", jl_iso(time) as time, data, version, position,
  jl_iso(recorded_at) as "recordedAt", person_ref as "personRef", sealed, written_by as "writtenBy"`

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

/**
 * Locks the streams (creating those that are new) and returns each one's version and state, with
 * the transaction's start (every event's recorded_at). Two statements sent together: a no-op
 * upsert would lock as well, but it writes a new copy of every existing row, state included. Both
 * take the locks in one fixed order (sortStreams; `order by` below), so appends cannot deadlock.
 */
export async function lockStreams(tx: Queryable, tenantId: string, streams: readonly StreamId[]): Promise<(LockedStream & { now: string })[]> {
  const list = JSON.stringify(streams.map((s) => ({ a: s.kind, b: s.id })))
  const [, locked] = await Promise.all([
    execute(tx, sql`
      insert into streams (tenant_id, kind, id)
      select ${tenantId}, a, b from jsonb_to_recordset(${list}::jsonb) as p(a text, b text)
      on conflict (tenant_id, kind, id) do nothing`),
    query<LockedStream & { now: string }>(tx, sql`
      select s.kind, s.id, s.version, s.state, jl_iso(now()) as now
      from jsonb_to_recordset(${list}::jsonb) as p(a text, b text)
      join streams s on s.tenant_id = ${tenantId} and s.kind = p.a and s.id = p.b
      order by s.kind, s.id for update of s`),
  ])
  return locked
}

export function sortStreams<S extends StreamId>(streams: readonly S[]): S[] {
  return [...new Map(streams.map((s) => [streamKey(s), s])).values()].sort((a, b) => (a.kind + a.id < b.kind + b.id ? -1 : 1))
}

export interface StoredResult { id: string; source: string; subject: string; version: number; position: number }

/** The events already stored under these source + id pairs, as one jsonb array (a column of a larger read). */
export function storedEvents(tenantId: string, keys: readonly { source: string; id: string }[]): SQL {
  return sql`select coalesce(jsonb_agg(to_jsonb(e)), '[]'::jsonb)
    from (${eventsByPairs(tenantId, sql`id, source, subject, version, position`, sql`source = p.a and id = p.b`, keys.map((k) => [k.source, k.id]))}) e`
}

/** Every stored event of the given streams, keyed by stream, each in ledger order. */
export async function readStreams(tx: Queryable, tenantId: string, streams: readonly StreamId[]): Promise<Map<string, LedgerEvent[]>> {
  const out = new Map<string, LedgerEvent[]>()
  if (streams.length === 0) return out
  const rows = await query<StoredRow>(tx, sql`
    ${eventsByPairs(tenantId, eventColumns, sql`stream_kind = p.a and subject = p.b`, streams.map((s) => [s.kind, s.id]))}
    order by e.position`)
  for (const row of rows) {
    const key = streamKey({ kind: row.streamKind, id: row.subject })
    const list = out.get(key) ?? []
    list.push(withoutKind(row))
    out.set(key, list)
  }
  return out
}

export interface NewEvent {
  streamKind: string
  subject: string
  version: number
  id: string
  source: string
  type: string
  time: string
  data: unknown
  personRef: string | null
  sealed: string | null
  writtenBy: string | null
}

export interface StreamWrite extends StreamId { version: number; state: unknown }

/**
 * The two statements of an append, sent together in this order: `writes` sets each stream's
 * version and state and runs `beside` (writes of rows disjoint from these, e.g. projections);
 * `numbered` then takes the tenant's next positions and inserts the events (in their order),
 * returning their positions. Apart, so the tenant's head is held for the insert and the commit
 * only, not for the projections' writes.
 */
export function appendStatements(tenantId: string, events: readonly NewEvent[], streams: readonly StreamWrite[], beside: readonly (SQL | NamedPart)[]): { writes: SQL; numbered: SQL } {
  const inserted = sql`
    insert into events (tenant_id, position, stream_kind, subject, version, id, source, type, time, data, person_ref, sealed, written_by)
    select ${tenantId}, head.head - ${events.length}::int8 + r.ordinality, r."streamKind", r.subject, r.version, r.id, r.source, r.type, r.time, r.data, r."personRef", r.sealed, r."writtenBy"
    from head, rows from (jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as ("streamKind" text, "subject" text, "version" integer,
      "id" text, "source" text, "type" text, "time" timestamptz, "data" jsonb, "personRef" text, "sealed" text, "writtenBy" text)) with ordinality as r
    order by r.ordinality
    returning id, source, subject, version, position`
  return { writes: alongside(streamsUpdate(tenantId, streams), beside), numbered: together(inserted, [{ name: 'head', sql: headAdvance(tenantId, events.length) }]) }
}

/**
 * Moves the tenant's feed head past `count` new events and returns the new head. In the append's
 * last statement: the row stays locked until commit, so the next append of the tenant numbers
 * after this one commits (positions in commit order, and a rollback leaves no gap).
 */
function headAdvance(tenantId: string, count: number): SQL {
  return sql`insert into tenant_heads (tenant_id, head) values (${tenantId}, ${count}::int8)
    on conflict (tenant_id) do update set head = tenant_heads.head + excluded.head
    returning head`
}

/** Sets each stream's version and state. */
export function streamsUpdate(tenantId: string, streams: readonly StreamWrite[]): SQL {
  return sql`
    update streams set version = v.version, state = v.state
    from jsonb_to_recordset(${JSON.stringify(streams)}::jsonb) as v(kind text, id text, version integer, state jsonb)
    where streams.tenant_id = ${tenantId} and streams.kind = v.kind and streams.id = v.id`
}

/** The stored events with these source + id pairs (in no set order). */
export async function readEventsByKeys(tx: Queryable, tenantId: string, keys: readonly { source: string; id: string }[]): Promise<LedgerEvent[]> {
  if (keys.length === 0) return []
  const rows = await query<StoredRow>(tx, eventsByPairs(tenantId, eventColumns, sql`source = p.a and id = p.b`, keys.map((k) => [k.source, k.id])))
  return rows.map(withoutKind)
}
