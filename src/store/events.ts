// Reads of the ledger: the tenant's feed in commit order, one stream, a journey's timeline. The
// append is the command handler's (record-events.ts) over the event store (event-store.ts).
import { sql, type SQL } from 'drizzle-orm'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { query, type Queryable } from './database.js'
import { eventColumns, withoutKind, type StoredRow } from './event-store.js'

/**
 * Where a reader resumes: after a position in the tenant's feed, or, for a cursor handed out before
 * positions were per tenant, after the event with that global position (feed_legacy_positions).
 */
export type FeedCursor = { position: number } | { oldPosition: number }

export function encodeCursor(c: { position: number }): string {
  return Buffer.from(String(c.position)).toString('base64url')
}

/** A cursor this API handed out: a position, or the old form `<transaction id>:<global position>`. */
export function decodeCursor(raw: string): FeedCursor | undefined {
  const match = /^(?:(\d{1,20}):)?(\d{1,16})$/.exec(Buffer.from(raw, 'base64url').toString())
  if (!match?.[2]) return undefined
  // Numbers the column cannot hold are not cursors this API handed out.
  const position = Number(match[2])
  if (!Number.isSafeInteger(position)) return undefined
  return match[1] === undefined ? { position } : { oldPosition: position }
}

export interface FeedFilter { after?: { position: number }; type?: string; subject?: string; limit: number }

/** The tenant's feed position an old cursor named (undefined: no event of this tenant had that global position). */
export async function legacyCursorPosition(tx: Queryable, tenantId: string, oldPosition: number): Promise<{ position: number } | undefined> {
  const [row] = await query<{ position: number }>(tx, sql`
    select position from feed_legacy_positions where tenant_id = ${tenantId} and old_position = ${oldPosition}`)
  return row
}

/**
 * The tenant's feed in commit order. Positions are taken under the tenant's head row, held until
 * commit, so what a reader sees is always a prefix of the feed: nothing can commit behind a cursor.
 */
export async function readFeed(tx: Queryable, tenantId: string, filter: FeedFilter): Promise<{ events: LedgerEvent[]; next: { position: number } | null }> {
  const conditions: SQL[] = [sql`tenant_id = ${tenantId}`]
  if (filter.after) conditions.push(sql`position > ${filter.after.position}`)
  if (filter.type) conditions.push(sql`type = ${filter.type}`)
  if (filter.subject) conditions.push(sql`subject = ${filter.subject}`)
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events
    where ${sql.join(conditions, sql` and `)}
    order by position
    limit ${filter.limit}`)
  const last = rows[rows.length - 1]
  // A full page means more may follow; a short page still hands back a cursor so the reader resumes there.
  const next = last ? { position: last.position } : filter.after ?? null
  return { events: rows.map(withoutKind), next }
}

/** One stream in stream order (version), with keyset paging on version. */
export async function readStream(tx: Queryable, tenantId: string, kind: 'journey' | 'vacancy', subject: string, afterVersion: number, limit: number): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events
    where tenant_id = ${tenantId} and stream_kind = ${kind} and subject = ${subject} and version > ${afterVersion}
    order by version limit ${limit}`)
  return rows.map(withoutKind)
}

/** Events of one journey in world-time order, of the given types (and about one promise, if named). */
export async function readJourneyTimeline(tx: Queryable, tenantId: string, journeyId: string, filter: { types: readonly string[]; promiseId?: string }): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events
    where tenant_id = ${tenantId} and stream_kind = 'journey' and subject = ${journeyId}
      and type in (${sql.join(filter.types.map((t) => sql`${t}`), sql`, `)})
      ${filter.promiseId !== undefined ? sql`and data ->> 'promiseId' = ${filter.promiseId}` : sql``}
    order by time, position`)
  return rows.map(withoutKind)
}
