// Data keys per person, wrapped by the master key. Sealing happens on append, opening on every
// read; erasure destroys the wrapped key, and with it every copy of the person's personal fields.
import { sql } from 'drizzle-orm'
import { createHmac } from 'node:crypto'
import { personalFields, type EventType } from '../domain/catalogue.js'
import { fingerprint, MasterKeyError, newKey, openJson, sealJson, unwrapKey, wrapKey, decrypt, encrypt } from '../domain/crypto.js'
import { record, type RecordedEvent } from '../domain/ledger-event.js'
import { execute, inSystem, query, queryOne, type Db, type Queryable } from './database.js'
import { peopleByRef } from './people.js'

const checkPlaintext = 'journey-ledger master key check'
const systemTenant = '_system'

/** Data keys of persons by reference: a Buffer when readable; absent when erased or never known. */
export type PersonKeys = Map<string, Buffer>

/** A person's row (see db/schema.ts person_keys): the reference, the client's id and the wrapped data key. */
export interface PersonRow { personRef: string; personId: string; wrappedKey: string | null }

/** Unwrapped data keys kept in memory, at most this many (32 bytes each, plus the map's overhead). */
const unwrappedCacheSize = 20_000

export class Keyring {
  /**
   * Unwrapping costs an AES-GCM decryption; a page of promises needs one per person. The cache is
   * keyed by the wrapped key as stored, and the stored row is read on every request, so an erased
   * key (its row gone) is never served from here.
   */
  private readonly unwrapped = new Map<string, Buffer>()
  /** Keys the tombstones of erased persons are hashed under (derived: nothing more to keep). */
  private readonly tombstoneKey: Buffer

  constructor(private readonly master: Buffer) {
    this.tombstoneKey = createHmac('sha256', master).update('journey-ledger tombstones').digest()
  }

  private unwrap(wrapped: string, aad: string): Buffer {
    const cacheKey = `${aad}\u0000${wrapped}`
    let key = this.unwrapped.get(cacheKey)
    if (!key) {
      key = unwrapKey(this.master, wrapped, aad)
      if (this.unwrapped.size >= unwrappedCacheSize) this.unwrapped.delete(this.unwrapped.keys().next().value ?? '')
      this.unwrapped.set(cacheKey, key)
    }
    return key
  }

  get fingerprint(): string {
    return fingerprint(this.master)
  }

  /** A new person's data key, wrapped for its row. */
  newWrappedKey(tenantId: string, personId: string): string {
    return wrapKey(this.master, newKey(), `${tenantId}/${personId}`)
  }

  /** The keyed hash an erased person's tombstone stands under: it recognises the id, it cannot name it. */
  tombstoneOf(tenantId: string, personId: string): string {
    return createHmac('sha256', this.tombstoneKey).update(`${tenantId}/${personId}`).digest('base64url')
  }

  /** The data keys of these rows, by reference (rows without a key yet have none). */
  openKeys(tenantId: string, rows: readonly PersonRow[]): PersonKeys {
    const keys: PersonKeys = new Map()
    for (const row of rows) if (row.wrappedKey !== null) keys.set(row.personRef, this.keyOf(tenantId, row.personId, row.wrappedKey))
    return keys
  }

  /** A person's data key from its stored (wrapped) form, read in the caller's transaction. */
  keyOf(tenantId: string, personId: string, wrappedKey: string): Buffer {
    return this.unwrap(wrappedKey, `${tenantId}/${personId}`)
  }

  sealFields(key: Buffer, fields: Record<string, unknown>, aad: string): string {
    return sealJson(key, fields, aad)
  }

  openFields(key: Buffer, sealed: string, aad: string): Record<string, unknown> {
    return record(openJson(key, sealed, aad))
  }

  /**
   * Records the service keeps briefly (idempotent responses) are sealed under the data key of the
   * person they are about, so erasure makes them unreadable too; else under the master key.
   */
  sealRecord(value: unknown, aad: string, personKey?: Buffer): string {
    return encrypt(personKey ?? this.master, Buffer.from(JSON.stringify(value)), `record:${aad}`)
  }

  openRecord(sealed: string, aad: string, personKey?: Buffer): unknown {
    return JSON.parse(decrypt(personKey ?? this.master, sealed, `record:${aad}`).toString())
  }

  /**
   * A label's mark: what folds compare instead of the words (an interest named twice). Keyed by the
   * person's data key, so once it is destroyed a mark names nothing, not even by guessing.
   */
  labelMark(personKey: Buffer, label: string): string {
    return `#${createHmac('sha256', personKey).update(label.trim().toLowerCase()).digest('base64url').slice(0, 16)}`
  }

  /**
   * Start-up check: the master key must open the verifier stored by the first start. A wrong key
   * stops the service before anything is written.
   */
  async verify(db: Db): Promise<void> {
    const row = await inSystem(db, (tx) => queryOne<{ verifier: string; fingerprint: string }>(tx, sql`
      select verifier, fingerprint from master_key_check where tenant_id = ${systemTenant}`))
    if (!row) {
      await inSystem(db, (tx) => execute(tx, sql`
        insert into master_key_check (tenant_id, verifier, fingerprint)
        values (${systemTenant}, ${encrypt(this.master, Buffer.from(checkPlaintext), 'check')}, ${this.fingerprint})
        on conflict do nothing`))
      return
    }
    try {
      if (decrypt(this.master, row.verifier, 'check').toString() === checkPlaintext) return
    } catch {
      // falls through to the error below
    }
    throw new MasterKeyError(`the master key (fingerprint ${this.fingerprint}) is not the one this database was written with (fingerprint ${row.fingerprint}); refusing to start`)
  }
}

export const sealAad = (tenantId: string, source: string, id: string) => `${tenantId}/${source}/${id}`

/**
 * Events as clients read them: the person named by their id again (the ledger holds only the
 * reference), the personal fields opened. An event of an erased person names no one, keeps its
 * personal fields as null and says `erased: true`.
 */
export async function openEvents(tx: Queryable, keyring: Keyring, tenantId: string, events: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
  const refs = new Set<string>()
  for (const e of events) if (e.personRef) refs.add(e.personRef)
  const people = await peopleByRef(tx, tenantId, [...refs])
  const keys = keyring.openKeys(tenantId, people)
  const ids = new Map(people.map((p) => [p.personRef, p.personId]))
  return events.map((e) => {
    if (!e.personRef) return e
    const data = 'personId' in e.data ? { ...e.data, personId: ids.get(e.personRef) ?? null } : e.data
    if (!e.sealed) return { ...e, data }
    const key = keys.get(e.personRef)
    if (!key) return { ...e, data: withoutPersonal(e.type, data), erased: true }
    return { ...e, data: { ...data, ...keyring.openFields(key, e.sealed, sealAad(tenantId, e.source, e.id)) } }
  })
}

/** The data with every personal field null (marks of labels included). */
function withoutPersonal(type: EventType, data: Record<string, unknown>): Record<string, unknown> {
  const personal: readonly string[] = personalFields[type]
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, personal.includes(k) ? null : v]))
}

/** Re-wraps every data key (and the verifier) under a new master key; the events are not touched. */
export async function rewrapAll(db: Db, from: Buffer, to: Buffer): Promise<number> {
  const oldRing = new Keyring(from)
  await oldRing.verify(db)
  return inSystem(db, async (tx) => {
    const rows = await query<{ tenantId: string; personRef: string; personId: string; wrappedKey: string }>(tx, sql`
      select tenant_id as "tenantId", person_ref as "personRef", person_id as "personId", wrapped_key as "wrappedKey" from person_keys where wrapped_key is not null for update`)
    for (const row of rows) {
      const aad = `${row.tenantId}/${row.personId}`
      const rewrapped = wrapKey(to, unwrapKey(from, row.wrappedKey, aad), aad)
      await execute(tx, sql`update person_keys set wrapped_key = ${rewrapped} where tenant_id = ${row.tenantId} and person_ref = ${row.personRef}`)
    }
    await execute(tx, sql`update master_key_check set verifier = ${encrypt(to, Buffer.from(checkPlaintext), 'check')}, fingerprint = ${fingerprint(to)} where tenant_id = ${systemTenant}`)
    // Idempotent responses were sealed under the old key; the contract keeps them 24 h, a rotation ends them early.
    await execute(tx, sql`delete from idempotency_keys`)
    return rows.length
  })
}
