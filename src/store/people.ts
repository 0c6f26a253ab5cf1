// People as the ledger knows them: a reference of the service's own per person, the one row that
// maps the client's id to it (with the person's data key), and tombstones of the erased. What is
// stored about one person (the data-subject view) is found through the reference.
import { randomBytes } from 'node:crypto'
import { sql, type SQL } from 'drizzle-orm'
import { execute, query, queryOne, type Queryable } from './database.js'
import { eventColumns, withoutKind, type StoredRow } from './event-store.js'
import type { LedgerEvent } from '../domain/ledger-event.js'
import type { Keyring, PersonRow } from './keyring.js'

const personColumns = sql`person_ref as "personRef", person_id as "personId", wrapped_key as "wrappedKey"`

/** A new reference: random, so it says nothing of the person or of when they came. */
export const newPersonRef = () => `p_${randomBytes(16).toString('hex')}`

/**
 * The reference of a person already erased: derived from their tombstone, so the events that still
 * arrive about them share one reference that no row maps back to anyone.
 */
export const erasedPersonRef = (tombstone: string) => `x_${Buffer.from(tombstone, 'base64url').subarray(0, 16).toString('hex')}`

export async function peopleByRef(tx: Queryable, tenantId: string, refs: readonly string[]): Promise<PersonRow[]> {
  if (refs.length === 0) return []
  return query<PersonRow>(tx, sql`
    select ${personColumns} from person_keys
    where tenant_id = ${tenantId} and person_ref in (select jsonb_array_elements_text(${JSON.stringify(refs)}::jsonb))`)
}

export async function personById(tx: Queryable, tenantId: string, personId: string): Promise<PersonRow | undefined> {
  return queryOne<PersonRow>(tx, sql`select ${personColumns} from person_keys where tenant_id = ${tenantId} and person_id = ${personId}`)
}

/**
 * The rows an append needs, as one jsonb value for its first statement: the persons it names by
 * id, the persons of the journeys it writes to, and which of the named ids are tombstones.
 */
export function peopleOfAppend(tenantId: string, personIds: readonly string[], tombstones: readonly string[], journeyIds: readonly string[]): SQL {
  return sql`
    select jsonb_build_object(
      'people', (select coalesce(jsonb_agg(jsonb_build_object('personRef', person_ref, 'personId', person_id, 'wrappedKey', wrapped_key)), '[]'::jsonb)
        from person_keys where tenant_id = ${tenantId} and (
          person_id in (select jsonb_array_elements_text(${JSON.stringify(personIds)}::jsonb))
          or person_ref in (select person_ref from journeys where tenant_id = ${tenantId} and id in (select jsonb_array_elements_text(${JSON.stringify(journeyIds)}::jsonb))))),
      'erased', (select coalesce(jsonb_agg(id_hash), '[]'::jsonb) from erased_people
        where tenant_id = ${tenantId} and id_hash in (select jsonb_array_elements_text(${JSON.stringify(tombstones)}::jsonb))))`
}

/**
 * Rows for persons seen for the first time, each with a new reference and data key. A row another
 * transaction committed meanwhile wins (its reference is read back), so an id has one reference.
 */
export async function createPeople(tx: Queryable, keyring: Keyring, tenantId: string, personIds: readonly string[]): Promise<PersonRow[]> {
  if (personIds.length === 0) return []
  const rows = personIds.map((personId) => ({ personRef: newPersonRef(), personId, wrappedKey: keyring.newWrappedKey(tenantId, personId) }))
  const created = await query<PersonRow>(tx, sql`
    insert into person_keys (tenant_id, person_ref, person_id, wrapped_key)
    select ${tenantId}, r."personRef", r."personId", r."wrappedKey" from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r("personRef" text, "personId" text, "wrappedKey" text)
    on conflict (tenant_id, person_id) do nothing
    returning ${personColumns}`)
  if (created.length === rows.length) return created
  const found = new Set(created.map((r) => r.personId))
  const others = personIds.filter((id) => !found.has(id))
  return [...created, ...await query<PersonRow>(tx, sql`
    select ${personColumns} from person_keys where tenant_id = ${tenantId} and person_id in (select jsonb_array_elements_text(${JSON.stringify(others)}::jsonb))`)]
}

/** Gives rows from before references (no key yet) their data key. */
export async function addKeys(tx: Queryable, keyring: Keyring, tenantId: string, people: readonly PersonRow[]): Promise<PersonRow[]> {
  if (people.length === 0) return []
  const rows = people.map((p) => ({ ...p, wrappedKey: keyring.newWrappedKey(tenantId, p.personId) }))
  return query<PersonRow>(tx, sql`
    update person_keys k set wrapped_key = coalesce(k.wrapped_key, r."wrappedKey")
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r("personRef" text, "wrappedKey" text)
    where k.tenant_id = ${tenantId} and k.person_ref = r."personRef"
    returning k.person_ref as "personRef", k.person_id as "personId", k.wrapped_key as "wrappedKey"`)
}

/** When a person was erased, from their tombstone; undefined when they were not. */
export async function erasedAt(tx: Queryable, tenantId: string, tombstone: string): Promise<string | undefined> {
  const row = await queryOne<{ at: string }>(tx, sql`select jl_iso(erased_at) as at from erased_people where tenant_id = ${tenantId} and id_hash = ${tombstone}`)
  return row?.at
}

/**
 * Erasure: the row mapping the person's id to their reference goes, and with it their data key;
 * a tombstone remembers that the id was erased. Stored responses about them stay, unreadable.
 */
export async function erasePerson(tx: Queryable, tenantId: string, personRef: string, tombstone: string, reason: string): Promise<void> {
  await Promise.all([
    execute(tx, sql`delete from person_keys where tenant_id = ${tenantId} and person_ref = ${personRef}`),
    execute(tx, sql`insert into erased_people (tenant_id, id_hash, reason) values (${tenantId}, ${tombstone}, ${reason}) on conflict do nothing`),
  ])
}

/** Retention: these persons' data keys go (their sealed fields with them); the persons stay. */
export async function dropKeys(tx: Queryable, tenantId: string, personRefs: readonly string[]): Promise<void> {
  if (personRefs.length === 0) return
  await execute(tx, sql`
    update person_keys set wrapped_key = null
    where tenant_id = ${tenantId} and person_ref in (select jsonb_array_elements_text(${JSON.stringify(personRefs)}::jsonb))`)
}

export async function journeyIdsOfPerson(tx: Queryable, tenantId: string, personRef: string): Promise<string[]> {
  const rows = await query<{ id: string }>(tx, sql`select id from journeys where tenant_id = ${tenantId} and person_ref = ${personRef} order by created_at, id`)
  return rows.map((r) => r.id)
}

export async function eventsOfPerson(tx: Queryable, tenantId: string, personRef: string): Promise<LedgerEvent[]> {
  const rows = await query<StoredRow>(tx, sql`
    select ${eventColumns} from events where tenant_id = ${tenantId} and person_ref = ${personRef} order by time, position`)
  return rows.map(withoutKind)
}
