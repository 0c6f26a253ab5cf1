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
  /** Every master key this instance holds, by fingerprint: the current one wraps, all of them unwrap. */
  private readonly masters: Map<string, Buffer>
  /** The key tombstones of erased persons are hashed under: stored wrapped, read by `verify`. */
  private tombstoneKey: Buffer | undefined

  /**
   * `previous`: master keys being rotated away from (JOURNEY_PREVIOUS_MASTER_KEYS). Wrapped keys name
   * the master key that wrapped them, so instances with the new key and rows under the old one
   * work side by side until `journey keys rotate-master` has re-wrapped every row.
   */
  constructor(private readonly master: Buffer, previous: readonly Buffer[] = []) {
    this.masters = new Map([master, ...previous].map((key) => [fingerprint(key), key]))
  }

  /** A wrapped key as stored: the wrapping master key's fingerprint, then the ciphertext. */
  private wrap(dataKey: Buffer, aad: string): string {
    return `${this.fingerprint}:${wrapKey(this.master, dataKey, aad)}`
  }

  private unwrapStored(stored: string, aad: string): Buffer {
    const at = stored.indexOf(':')
    // Rows from before key versions carry no fingerprint: any key held may have wrapped them.
    const candidates = at < 0 ? [...this.masters.values()] : [this.masters.get(stored.slice(0, at))]
    const wrapped = at < 0 ? stored : stored.slice(at + 1)
    for (const key of candidates) {
      if (!key) break
      try {
        return unwrapKey(key, wrapped, aad)
      } catch {
        // the next key held, if any
      }
    }
    throw new MasterKeyError(`a data key was wrapped by master key ${at < 0 ? '(unnamed)' : stored.slice(0, at)}, which this instance does not hold (JOURNEY_PREVIOUS_MASTER_KEYS)`)
  }

  private unwrap(wrapped: string, aad: string): Buffer {
    const cacheKey = `${aad}\u0000${wrapped}`
    let key = this.unwrapped.get(cacheKey)
    if (!key) {
      key = this.unwrapStored(wrapped, aad)
      if (this.unwrapped.size >= unwrappedCacheSize) this.unwrapped.delete(this.unwrapped.keys().next().value ?? '')
      this.unwrapped.set(cacheKey, key)
    }
    return key
  }

  get fingerprint(): string {
    return fingerprint(this.master)
  }

  /** True when the stored wrapped key is under the current master key. */
  isCurrent(wrapped: string): boolean {
    return wrapped.startsWith(`${this.fingerprint}:`)
  }

  /** A new person's data key, wrapped for its row. */
  newWrappedKey(tenantId: string, personId: string): string {
    return this.wrap(newKey(), `${tenantId}/${personId}`)
  }

  /** The same data key wrapped under the current master key. */
  rewrapped(tenantId: string, personId: string, wrapped: string): string {
    const aad = `${tenantId}/${personId}`
    return this.wrap(this.unwrapStored(wrapped, aad), aad)
  }

  /** The keyed hash an erased person's tombstone stands under: it recognises the id, it cannot name it. */
  tombstoneOf(tenantId: string, personId: string): string {
    if (!this.tombstoneKey) throw new MasterKeyError('the keyring was not verified against the database (Keyring.verify)')
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
    const keys = personKey ? [personKey] : [...this.masters.values()]
    for (const [i, key] of keys.entries()) {
      try {
        return JSON.parse(decrypt(key, sealed, `record:${aad}`).toString())
      } catch (error) {
        if (i === keys.length - 1) throw error
      }
    }
    throw new Error('no key to open the record with')
  }

  /**
   * Secrets the service must use again (a webhook's signing secret) are sealed under the master key,
   * named like wrapped keys so a rotation can tell which are left; `aad` names their owner.
   */
  sealSecret(secret: string, aad: string): string {
    return `${this.fingerprint}:${encrypt(this.master, Buffer.from(secret), `secret:${aad}`)}`
  }

  openSecret(sealed: string, aad: string): string {
    const at = sealed.indexOf(':')
    const key = this.masters.get(sealed.slice(0, Math.max(at, 0)))
    if (!key) throw new MasterKeyError(`a secret was sealed by a master key this instance does not hold (JOURNEY_PREVIOUS_MASTER_KEYS)`)
    return decrypt(key, sealed.slice(at + 1), `secret:${aad}`).toString()
  }

  /**
   * A label's mark: what folds compare instead of the words (an interest named twice). Keyed by the
   * person's data key, so once it is destroyed a mark names nothing, not even by guessing.
   */
  labelMark(personKey: Buffer, label: string): string {
    return `#${createHmac('sha256', personKey).update(label.trim().toLowerCase()).digest('base64url').slice(0, 16)}`
  }

  /**
   * Start-up check: a master key held must open the verifier stored by the first start (a wrong
   * key stops the service before anything is written); reads the tombstone key, creating it once.
   */
  async verify(db: Db): Promise<void> {
    const check = () => inSystem(db, (tx) => queryOne<{ verifier: string; fingerprint: string; tombstoneKey: string | null }>(tx, sql`
      select verifier, fingerprint, tombstone_key as "tombstoneKey" from master_key_check where tenant_id = ${systemTenant}`))
    let row = await check()
    if (!row) {
      await inSystem(db, (tx) => execute(tx, sql`
        insert into master_key_check (tenant_id, verifier, fingerprint)
        values (${systemTenant}, ${encrypt(this.master, Buffer.from(checkPlaintext), 'check')}, ${this.fingerprint})
        on conflict do nothing`))
      row = await check()
    }
    if (!row || !this.opensVerifier(row.verifier)) {
      throw new MasterKeyError(`the master key (fingerprint ${this.fingerprint}) is not the one this database was written with (fingerprint ${row?.fingerprint ?? 'none'}); refusing to start`)
    }
    if (row.tombstoneKey === null) {
      // Two instances starting together: the first one's key wins, the other reads it back.
      await inSystem(db, (tx) => execute(tx, sql`
        update master_key_check set tombstone_key = ${this.wrap(newKey(), 'tombstones')} where tenant_id = ${systemTenant} and tombstone_key is null`))
      row = await check()
    }
    if (!row?.tombstoneKey) throw new Error('the tombstone key was not stored')
    this.tombstoneKey = this.unwrapStored(row.tombstoneKey, 'tombstones')
  }

  private opensVerifier(verifier: string): boolean {
    for (const key of this.masters.values()) {
      try {
        if (decrypt(key, verifier, 'check').toString() === checkPlaintext) return true
      } catch {
        // the next key held, if any
      }
    }
    return false
  }

  /** Re-wraps up to a thousand of one tenant's data keys not yet under the current master key; how many. */
  private async rewrapBatch(tx: Queryable, tenantId: string): Promise<number> {
    const rows = await query<{ personRef: string; personId: string; wrappedKey: string }>(tx, sql`
      select person_ref as "personRef", person_id as "personId", wrapped_key as "wrappedKey" from person_keys
      where tenant_id = ${tenantId} and wrapped_key is not null and wrapped_key not like ${`${this.fingerprint}:%`} limit 1000 for update skip locked`)
    if (rows.length === 0) return 0
    await execute(tx, sql`
      update person_keys k set wrapped_key = r.wrapped
      from jsonb_to_recordset(${JSON.stringify(rows.map((row) => ({ personRef: row.personRef, wrapped: this.rewrapped(tenantId, row.personId, row.wrappedKey) })))}::jsonb)
        as r("personRef" text, wrapped text)
      where k.tenant_id = ${tenantId} and k.person_ref = r."personRef"`)
    return rows.length
  }

  /**
   * Rotation, online: re-wraps every data key, the tombstone key and the verifier under the current
   * master key, a batch of rows per transaction, while instances holding both keys keep serving.
   * Responses kept for Idempotency-Key replays that were sealed under the master key end early.
   */
  async rewrapAll(db: Db): Promise<number> {
    await this.verify(db)
    let rewrapped = 0
    // Tenants first, then each tenant's rows: every statement below names its tenant (one shard on Citus).
    const tenants = await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants order by tenant_id`))
    for (const { id: tenantId } of tenants) {
      for (;;) {
        const done = await inSystem(db, (tx) => this.rewrapBatch(tx, tenantId))
        rewrapped += done
        if (done === 0) break
      }
      await inSystem(db, async (tx) => {
        await execute(tx, sql`delete from idempotency_keys where tenant_id = ${tenantId} and person_ref is null and response is not null`)
        await resealWebhookSecrets(tx, this, tenantId)
      })
    }
    await inSystem(db, async (tx) => {
      const row = await queryOne<{ tombstoneKey: string }>(tx, sql`select tombstone_key as "tombstoneKey" from master_key_check where tenant_id = ${systemTenant} for update`)
      await execute(tx, sql`
        update master_key_check set verifier = ${encrypt(this.master, Buffer.from(checkPlaintext), 'check')}, fingerprint = ${this.fingerprint},
          tombstone_key = ${row ? this.wrap(this.unwrapStored(row.tombstoneKey, 'tombstones'), 'tombstones') : null}
        where tenant_id = ${systemTenant}`)
    })
    return rewrapped
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

/** Webhook signing secrets are sealed under the master key: a rotation seals them again under the current one. */
async function resealWebhookSecrets(tx: Queryable, keyring: Keyring, tenantId: string): Promise<void> {
  const rows = await query<{ tenantId: string; id: string; secret: string; previousSecret: string | null }>(tx, sql`
    select tenant_id as "tenantId", id, secret, previous_secret as "previousSecret" from webhooks
    where tenant_id = ${tenantId} and (secret not like ${`${keyring.fingerprint}:%`} or previous_secret not like ${`${keyring.fingerprint}:%`}) for update`)
  for (const row of rows) {
    const aad = webhookSecretAad(row.tenantId, row.id)
    const reseal = (sealed: string) => keyring.sealSecret(keyring.openSecret(sealed, aad), aad)
    await execute(tx, sql`update webhooks set secret = ${reseal(row.secret)}, previous_secret = ${row.previousSecret === null ? null : reseal(row.previousSecret)}
      where tenant_id = ${row.tenantId} and id = ${row.id}`)
  }
}

export const webhookSecretAad = (tenantId: string, webhookId: string) => `${tenantId}/webhook/${webhookId}`
