// Data keys per person, wrapped by the master key. Sealing happens on append, opening on every
// read; erasure destroys the wrapped key, and with it every copy of the person's personal fields.
import { sql, type SQL } from 'drizzle-orm'
import { fingerprint, MasterKeyError, newKey, openJson, sealJson, unwrapKey, wrapKey, decrypt, encrypt } from '../domain/crypto.js'
import { record, type RecordedEvent } from '../domain/ledger-event.js'
import { execute, inSystem, query, queryOne, type Db, type Queryable } from './database.js'

const checkPlaintext = 'journey-ledger master key check'
const systemTenant = '_system'

/** Keys of some persons: a Buffer when readable, null when erased. Absent: never had one. */
export type PersonKeys = Map<string, Buffer | null>

/** Unwrapped data keys kept in memory, at most this many (32 bytes each, plus the map's overhead). */
const unwrappedCacheSize = 20_000

export class Keyring {
  /**
   * Unwrapping costs an AES-GCM decryption; a page of promises needs one per person. The cache is
   * keyed by the wrapped key as stored, and the stored row is read on every request, so an erased
   * key (its row now null) is never served from here.
   */
  private readonly unwrapped = new Map<string, Buffer>()

  constructor(private readonly master: Buffer) {}

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

  /**
   * The data keys of these persons, creating the missing ones when `create` is set. Keys already
   * read in this transaction (`known`) are not read again.
   */
  async keysFor(tx: Queryable, tenantId: string, personIds: Iterable<string>, options: { create: boolean; known?: PersonKeys }): Promise<PersonKeys> {
    const keys: PersonKeys = new Map()
    const ids: string[] = []
    for (const id of new Set(personIds)) {
      const known = options.known?.get(id)
      if (known === undefined) ids.push(id)
      else keys.set(id, known)
    }
    if (ids.length === 0) return keys
    const stored = (people: readonly string[]) => sql`
      select person_id as "personId", wrapped_key as "wrappedKey" from person_keys
      where tenant_id = ${tenantId} and person_id in (${sql.join(people.map((id) => sql`${id}`), sql`, `)})`
    // Creating: one statement inserts the missing keys and reads the others. Its read cannot see a
    // key another transaction committed while the insert waited on it; those are read again below.
    let rows = await query<{ personId: string; wrappedKey: string | null }>(tx, options.create
      ? sql`
        with created as (
          insert into person_keys (tenant_id, person_id, wrapped_key)
          values ${sql.join(ids.map((id) => sql`(${tenantId}, ${id}, ${wrapKey(this.master, newKey(), `${tenantId}/${id}`)})`), sql`, `)}
          on conflict (tenant_id, person_id) do nothing
          returning person_id as "personId", wrapped_key as "wrappedKey")
        select * from created union all ${stored(ids)}`
      : stored(ids))
    if (options.create && rows.length < ids.length) {
      const found = new Set(rows.map((r) => r.personId))
      rows = [...rows, ...await query<{ personId: string; wrappedKey: string | null }>(tx, stored(ids.filter((id) => !found.has(id))))]
    }
    for (const row of rows) {
      keys.set(row.personId, row.wrappedKey === null ? null : this.keyOf(tenantId, row.personId, row.wrappedKey))
    }
    return keys
  }

  /**
   * The keys of the persons an append may seal for, as one jsonb array ([{ personId, wrappedKey }])
   * that the append reads with its first statements, so that sealing needs no round trip of its own:
   * those named in the events, and those of the journeys written to. `openKeys` unwraps them.
   */
  keysOfAppend(tenantId: string, personIds: readonly string[], journeyIds: readonly string[]): SQL {
    return sql`
      select coalesce(jsonb_agg(jsonb_build_object('personId', person_id, 'wrappedKey', wrapped_key)), '[]'::jsonb) from person_keys
      where tenant_id = ${tenantId} and person_id in (
        select jsonb_array_elements_text(${JSON.stringify(personIds)}::jsonb)
        union select person_id from journeys where tenant_id = ${tenantId} and id in (select jsonb_array_elements_text(${JSON.stringify(journeyIds)}::jsonb)))`
  }

  openKeys(tenantId: string, rows: readonly { personId: string; wrappedKey: string | null }[]): PersonKeys {
    return new Map(rows.map((row) => [row.personId, row.wrappedKey === null ? null : this.keyOf(tenantId, row.personId, row.wrappedKey)]))
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

  /** Records the service keeps briefly (idempotent responses) are sealed under the master key itself. */
  sealRecord(value: unknown, aad: string): string {
    return encrypt(this.master, Buffer.from(JSON.stringify(value)), `record:${aad}`)
  }

  openRecord(sealed: string, aad: string): unknown {
    return JSON.parse(decrypt(this.master, sealed, `record:${aad}`).toString())
  }

  /** Secrets the service must use again (a webhook's signing secret) are sealed under the master key; `aad` names their owner. */
  sealSecret(secret: string, aad: string): string {
    return encrypt(this.master, Buffer.from(secret), `secret:${aad}`)
  }

  openSecret(sealed: string, aad: string): string {
    return decrypt(this.master, sealed, `secret:${aad}`).toString()
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
 * Opens the personal fields of events read from the ledger. An event of an erased person keeps
 * its personal fields as null and says `erased: true`.
 */
export async function openEvents(tx: Queryable, keyring: Keyring, tenantId: string, events: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
  const persons = new Set<string>()
  for (const e of events) if (e.sealed && e.personId) persons.add(e.personId)
  const keys = await keyring.keysFor(tx, tenantId, persons, { create: false })
  return events.map((e) => {
    if (!e.sealed) return e
    const key = e.personId ? keys.get(e.personId) : undefined
    if (!key) return { ...e, erased: true }
    return { ...e, data: { ...e.data, ...keyring.openFields(key, e.sealed, sealAad(tenantId, e.source, e.id)) } }
  })
}

/** Destroys a person's data key; true when there was anything of theirs. */
export async function destroyPersonKey(tx: Queryable, tenantId: string, personId: string, reason: string): Promise<void> {
  await execute(tx, sql`
    insert into person_keys (tenant_id, person_id, wrapped_key, erased_at, erased_reason)
    values (${tenantId}, ${personId}, null, now(), ${reason})
    on conflict (tenant_id, person_id) do update set wrapped_key = null,
      erased_at = coalesce(person_keys.erased_at, now()), erased_reason = coalesce(person_keys.erased_reason, excluded.erased_reason)`)
}

/** Re-wraps every data key (and the verifier) under a new master key; the events are not touched. */
export async function rewrapAll(db: Db, from: Buffer, to: Buffer): Promise<number> {
  const oldRing = new Keyring(from)
  await oldRing.verify(db)
  return inSystem(db, async (tx) => {
    const rows = await query<{ tenantId: string; personId: string; wrappedKey: string }>(tx, sql`
      select tenant_id as "tenantId", person_id as "personId", wrapped_key as "wrappedKey" from person_keys where wrapped_key is not null for update`)
    for (const row of rows) {
      const aad = `${row.tenantId}/${row.personId}`
      const rewrapped = wrapKey(to, unwrapKey(from, row.wrappedKey, aad), aad)
      await execute(tx, sql`update person_keys set wrapped_key = ${rewrapped} where tenant_id = ${row.tenantId} and person_id = ${row.personId}`)
    }
    await resealWebhookSecrets(tx, oldRing, new Keyring(to))
    await execute(tx, sql`update master_key_check set verifier = ${encrypt(to, Buffer.from(checkPlaintext), 'check')}, fingerprint = ${fingerprint(to)} where tenant_id = ${systemTenant}`)
    // Idempotent responses were sealed under the old key; the contract keeps them 24 h, a rotation ends them early.
    await execute(tx, sql`delete from idempotency_keys`)
    return rows.length
  })
}

/** Webhook signing secrets are sealed under the master key: a rotation seals them again under the new one. */
async function resealWebhookSecrets(tx: Queryable, from: Keyring, to: Keyring): Promise<void> {
  const rows = await query<{ tenantId: string; id: string; secret: string; previousSecret: string | null }>(tx, sql`
    select tenant_id as "tenantId", id, secret, previous_secret as "previousSecret" from webhooks for update`)
  for (const row of rows) {
    const aad = webhookSecretAad(row.tenantId, row.id)
    const reseal = (sealed: string) => to.sealSecret(from.openSecret(sealed, aad), aad)
    await execute(tx, sql`update webhooks set secret = ${reseal(row.secret)}, previous_secret = ${row.previousSecret === null ? null : reseal(row.previousSecret)}
      where tenant_id = ${row.tenantId} and id = ${row.id}`)
  }
}

export const webhookSecretAad = (tenantId: string, webhookId: string) => `${tenantId}/webhook/${webhookId}`
