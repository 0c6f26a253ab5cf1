// Reads of the ledger: the tenant's feed in commit order, one stream, a journey's timeline. The
// append is the command handler's (record-events.ts) over the event store (event-store.ts).
import { sql, type SQL } from 'drizzle-orm'
import type { LedgerEvent } from '../domain/ledger-event.js'
import { query, type Queryable } from './database.js'
import { eventColumns, withoutKind, type StoredRow } from './event-store.js'

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
  const events = rows.map(({ txId: _txId, ...row }) => withoutKind(row))
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
