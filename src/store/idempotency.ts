// Idempotency-Key records: claimed before a POST runs (committed at once, so a concurrent retry
// sees it in flight), completed with the response the client got.
import { sql } from 'drizzle-orm'
import { execute, queryOne, type Queryable } from './database.js'

export type Claim =
  | { state: 'claimed' }
  | { state: 'replay'; statusCode: number; sealedResponse: string | null }
  | { state: 'in-flight' }
  | { state: 'mismatch' }

// A claim never completed this long after it was made belongs to a request that died; let a retry take it.
const abandonedAfter = '60 seconds'

/** Claims the key for this request; false when it is taken (then `readClaim` says by what). */
export async function claimKey(tx: Queryable, tenantId: string, key: string, requestHash: string): Promise<boolean> {
  const taken = await queryOne<{ key: string }>(tx, sql`
    insert into idempotency_keys (tenant_id, key, request_hash) values (${tenantId}, ${key}, ${requestHash})
    on conflict (tenant_id, key) do update set created_at = now(), request_hash = excluded.request_hash
      where idempotency_keys.completed_at is null and idempotency_keys.created_at < now() - ${abandonedAfter}::interval
        and idempotency_keys.request_hash = excluded.request_hash
    returning key`)
  return taken !== undefined
}

/** What holds a key that could not be claimed: the same request (replayed or in flight) or another. */
export async function readClaim(tx: Queryable, tenantId: string, key: string, requestHash: string): Promise<Claim> {
  const existing = await queryOne<{ requestHash: string; statusCode: number | null; response: string | null }>(tx, sql`
    select request_hash as "requestHash", status_code as "statusCode", response from idempotency_keys
    where tenant_id = ${tenantId} and key = ${key}`)
  if (!existing) return { state: 'in-flight' }
  if (existing.requestHash !== requestHash) return { state: 'mismatch' }
  if (existing.statusCode === null) return { state: 'in-flight' }
  return { state: 'replay', statusCode: existing.statusCode, sealedResponse: existing.response }
}

/** Stores the response the client got, sealed; `personId` names whom it is about, so their erasure removes it. */
export async function completeKey(tx: Queryable, tenantId: string, key: string, statusCode: number, sealedResponse: string | null, personId: string | null): Promise<void> {
  await execute(tx, sql`
    update idempotency_keys set status_code = ${statusCode}, response = ${sealedResponse}, person_id = ${personId}, completed_at = now()
    where tenant_id = ${tenantId} and key = ${key}`)
}

export async function forgetPersonResponses(tx: Queryable, tenantId: string, personId: string): Promise<void> {
  await execute(tx, sql`delete from idempotency_keys where tenant_id = ${tenantId} and person_id = ${personId}`)
}

/** Forgets a claim whose request failed on our side, so the client's retry runs again. */
export async function releaseKey(tx: Queryable, tenantId: string, key: string): Promise<void> {
  await execute(tx, sql`delete from idempotency_keys where tenant_id = ${tenantId} and key = ${key} and completed_at is null`)
}

/** Drops records older than the retention (the contract keeps them at least 24 h). */
export async function expireKeys(tx: Queryable, retentionHours: number): Promise<void> {
  await execute(tx, sql`delete from idempotency_keys where created_at < now() - make_interval(hours => ${retentionHours})`)
}
