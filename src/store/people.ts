// What is stored about one person: their journeys, events and promises (the data-subject view).
import { sql } from 'drizzle-orm'
import { query, queryOne, type Queryable } from './database.js'
import { eventColumns, withoutKind, type StoredRow } from './event-store.js'
import type { LedgerEvent } from '../domain/ledger-event.js'

export async function journeyIdsOfPerson(tx: Queryable, tenantId: string, personId: string): Promise<string[]> {
  const rows = await query<{ id: string }>(tx, sql`select id from journeys where tenant_id = ${tenantId} and person_id = ${personId} order by created_at, id`)
  return rows.map((r) => r.id)
}

export async function eventsOfPerson(tx: Queryable, tenantId: string, personId: string): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events where tenant_id = ${tenantId} and person_id = ${personId} order by time, position`)
  return rows.map(withoutKind)
}

export async function personKeyState(tx: Queryable, tenantId: string, personId: string): Promise<{ erasedAt: string | null; erasedReason: string | null } | undefined> {
  return queryOne(tx, sql`
    select jl_iso(erased_at) as "erasedAt", erased_reason as "erasedReason" from person_keys where tenant_id = ${tenantId} and person_id = ${personId}`)
}
