// Idempotency-Key records: claimed before a POST runs (committed at once, so a concurrent retry
// sees it in flight), completed with the response the client got.
import { sql } from 'drizzle-orm'
import { execute, inSystem, query, queryOne, type Db, type Queryable } from './database.js'

export type Claim =
  | { state: 'claimed' }
  | { state: 'replay'; statusCode: number; sealedResponse: string | null; secretWithheld: boolean; personRef: string | null }
  | { state: 'in-flight' }
  | { state: 'mismatch' }

// A claim never completed this long after it was made belongs to a request that died; let a retry take it.
const abandonedAfter = '60 seconds'

export interface ClaimRequest { key: string; requestHash: string }

/**
 * Claims each key for its request, in one statement; true where claimed. A key that is taken, by
 * another request or by an earlier one of the list, is not claimed (then `readClaim` says by what).
 */
export async function claimKeys(tx: Queryable, tenantId: string, claims: readonly ClaimRequest[]): Promise<boolean[]> {
  const first = new Map<string, number>()
  claims.forEach((c, i) => { if (!first.has(c.key)) first.set(c.key, i) })
  const rows = await query<{ key: string }>(tx, sql`
    insert into idempotency_keys (tenant_id, key, request_hash)
    select ${tenantId}, c.key, c.hash from jsonb_to_recordset(${JSON.stringify([...first.keys()].map((key, i) => ({ key, hash: claims[first.get(key) ?? i]?.requestHash })))}::jsonb)
      as c(key text, hash text)
    on conflict (tenant_id, key) do update set created_at = now(), request_hash = excluded.request_hash
      where idempotency_keys.completed_at is null and idempotency_keys.created_at < now() - ${abandonedAfter}::interval
        and idempotency_keys.request_hash = excluded.request_hash
    returning key`)
  const claimed = new Set(rows.map((r) => r.key))
  return claims.map((c, i) => claimed.has(c.key) && first.get(c.key) === i)
}

/** What holds a key that could not be claimed: the same request (replayed or in flight) or another. */
export async function readClaim(tx: Queryable, tenantId: string, key: string, requestHash: string): Promise<Claim> {
  const existing = await queryOne<{ requestHash: string; statusCode: number | null; response: string | null; secretWithheld: boolean; personRef: string | null }>(tx, sql`
    select request_hash as "requestHash", status_code as "statusCode", response, secret_withheld as "secretWithheld", person_ref as "personRef" from idempotency_keys
    where tenant_id = ${tenantId} and key = ${key}`)
  if (!existing) return { state: 'in-flight' }
  if (existing.requestHash !== requestHash) return { state: 'mismatch' }
  if (existing.statusCode === null) return { state: 'in-flight' }
  return { state: 'replay', statusCode: existing.statusCode, sealedResponse: existing.response, secretWithheld: existing.secretWithheld, personRef: existing.personRef }
}

export interface Outcome { key: string; statusCode: number; sealedResponse: string | null; secretWithheld: boolean; personRef: string | null }

/**
 * Stores the responses the clients got, sealed, in one statement; `personRef` names whom one is
 * about: it is sealed under their data key, so their erasure makes it unreadable.
 */
export async function completeKeys(tx: Queryable, tenantId: string, outcomes: readonly Outcome[]): Promise<void> {
  await execute(tx, sql`
    update idempotency_keys set status_code = o."statusCode", response = o."sealedResponse", secret_withheld = o."secretWithheld",
      person_ref = o."personRef", completed_at = now()
    from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) as o(key text, "statusCode" integer, "sealedResponse" text, "secretWithheld" boolean, "personRef" text)
    where idempotency_keys.tenant_id = ${tenantId} and idempotency_keys.key = o.key`)
}


/** Forgets a claim whose request failed on our side, so the client's retry runs again. */
export async function releaseKey(tx: Queryable, tenantId: string, key: string): Promise<void> {
  await execute(tx, sql`delete from idempotency_keys where tenant_id = ${tenantId} and key = ${key} and completed_at is null`)
}

/** Drops records older than the retention (the contract keeps them at least 24 h). */
export async function expireKeys(db: Db, retentionHours: number): Promise<void> {
  // Tenants first, then each tenant's keys: every delete is routed to one tenant (one shard on Citus).
  const tenants = await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants order by tenant_id`))
  for (const { id } of tenants) {
    await inSystem(db, (tx) => execute(tx, sql`delete from idempotency_keys where tenant_id = ${id} and created_at < now() - make_interval(hours => ${retentionHours})`))
  }
}
