// The webhook outbox: delivery rows written in the append's own statement, claimed by workers
// with FOR UPDATE SKIP LOCKED under a lease, and the log of every attempt.
import { sql, type SQL } from 'drizzle-orm'
import { execute, inSystem, query, queryOne, type Db, type Queryable } from './database.js'

/**
 * The outbox part of an append (see `together`): a delivery for every stored event and every
 * subscription of the tenant whose filters match it (`filtersMatching` in domain/webhooks.ts).
 * Driven by the tenant's subscriptions: a tenant with none reads one empty index range.
 */
export function outboxWrites(tenantId: string, events: readonly { type: string; source: string; id: string }[]): SQL[] {
  if (events.length === 0) return []
  return [sql`
    insert into webhook_deliveries (tenant_id, webhook_id, event_type, event_source, event_id)
    select w.tenant_id, w.id, e.type, e.source, e.id
    from webhooks w
    join rows from (jsonb_to_recordset(${JSON.stringify(events.map(({ type, source, id }) => ({ type, source, id })))}::jsonb)
      as (type text, source text, id text)) with ordinality as e
      on w.events && array['*', e.type, split_part(e.type, '.', 1) || '.*']
    where w.tenant_id = ${tenantId}
    order by e.ordinality, w.id`]
}

/** A notification with no stored event (webhook.test, promise.due, ...), for one subscription, due at once. */
export async function enqueueNotification(tx: Queryable, tenantId: string, webhookId: string, type: string, payload: object): Promise<string> {
  const row = await queryOne<{ id: string }>(tx, sql`
    insert into webhook_deliveries (tenant_id, webhook_id, event_type, payload)
    values (${tenantId}, ${webhookId}, ${type}, ${JSON.stringify(payload)}::jsonb) returning id`)
  if (!row) throw new Error('the delivery insert returned no row')
  return row.id
}

const sendable = sql`d.status = 'pending' and not w.paused and w.disabled_at is null`

/** Tenants with deliveries due (a system read across tenants; each is then claimed in its own tenant's scope). */
export async function tenantsWithDueDeliveries(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await inSystem(db, (tx) => query<{ tenantId: string }>(tx, sql`
    select distinct d.tenant_id as "tenantId" from webhook_deliveries d
    join webhooks w on w.tenant_id = d.tenant_id and w.id = d.webhook_id
    where ${sendable} and d.next_attempt_at <= ${now.toISOString()}::timestamptz
    limit ${limit}`))
  return rows.map((r) => r.tenantId)
}

export interface ClaimedDelivery {
  id: string
  webhookId: string
  eventType: string
  eventSource: string | null
  eventId: string | null
  payload: unknown
  /** This attempt's number (1-based). */
  attempt: number
  /** The claim's lease: only this claim may record the attempt. */
  lease: string
  url: string
  includePersonal: boolean
  secret: string
  previousSecret: string | null
  previousSecretUntil: string | null
}

/**
 * Claims due deliveries: marks them in flight until `leaseUntil` (they are due again then, should
 * this worker die before recording). Rows another worker holds are skipped, not waited on.
 */
export function claimDeliveries(tx: Queryable, tenantId: string, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const lease = leaseUntil.toISOString()
  return query<ClaimedDelivery>(tx, sql`
    with due as (
      select d.id from webhook_deliveries d join webhooks w on w.tenant_id = d.tenant_id and w.id = d.webhook_id
      where d.tenant_id = ${tenantId} and ${sendable} and d.next_attempt_at <= ${now.toISOString()}::timestamptz
      order by d.next_attempt_at, d.seq limit ${limit}
      for update of d skip locked)
    update webhook_deliveries d set attempts = d.attempts + 1, next_attempt_at = ${lease}::timestamptz, lease_until = ${lease}::timestamptz
    from due, webhooks w
    where d.tenant_id = ${tenantId} and d.id = due.id and w.tenant_id = d.tenant_id and w.id = d.webhook_id
    returning d.id, d.webhook_id as "webhookId", d.event_type as "eventType", d.event_source as "eventSource", d.event_id as "eventId",
      d.payload, d.attempts as attempt, jl_iso(d.lease_until) as lease, w.url, w.include_personal as "includePersonal", w.secret,
      w.previous_secret as "previousSecret", jl_iso(w.previous_secret_until) as "previousSecretUntil"`)
}

export type AttemptOutcome = 'succeeded' | 'retry' | 'exhausted' | 'gone'

export interface AttemptRecord {
  deliveryId: string
  webhookId: string
  attempt: number
  lease: string
  at: Date
  durationMs: number
  statusCode: number | null
  responseBody: string
  error: string | null
  outcome: AttemptOutcome
  /** When the next attempt is due (outcome 'retry'). */
  nextAttemptAt: Date | null
  /** Why the subscription is disabled when this attempt disables it ('gone'), or when 5 days of failures do. */
  disabledReasons: { gone: string; failing: string }
}

/** Records an attempt, if the claim still holds its lease, and what it means for the subscription. Returns whether it was recorded. */
export async function recordAttempt(tx: Queryable, tenantId: string, a: AttemptRecord): Promise<boolean> {
  const at = a.at.toISOString()
  const status = a.outcome === 'succeeded' ? 'succeeded' : a.outcome === 'retry' ? 'pending' : 'failed'
  const recorded = await query<{ id: string }>(tx, sql`
    with updated as (
      update webhook_deliveries set status = ${status}, lease_until = null,
        next_attempt_at = ${a.nextAttemptAt?.toISOString() ?? at}::timestamptz, last_status_code = ${a.statusCode}, last_error = ${a.error},
        succeeded_at = ${a.outcome === 'succeeded' ? at : null}::timestamptz
      where tenant_id = ${tenantId} and id = ${a.deliveryId} and lease_until = ${a.lease}::timestamptz
      returning id)
    insert into webhook_attempts (tenant_id, delivery_id, attempt, at, duration_ms, status_code, response_body, error)
    select ${tenantId}, id, ${a.attempt}, ${at}::timestamptz, ${a.durationMs}, ${a.statusCode}, ${a.responseBody}, ${a.error} from updated
    on conflict do nothing
    returning delivery_id as id`)
  if (recorded.length === 0) return false
  const succeeded = a.outcome === 'succeeded'
  const gone = a.outcome === 'gone'
  const disables = sql`disabled_at is null and (${gone} or (not ${succeeded} and failing_since <= ${at}::timestamptz - interval '5 days'))`
  await execute(tx, sql`
    update webhooks set
      failing_since = case when ${succeeded} then null else coalesce(failing_since, ${at}::timestamptz) end,
      disabled_reason = case when ${disables} then ${gone ? a.disabledReasons.gone : a.disabledReasons.failing} else disabled_reason end,
      disabled_at = case when ${disables} then ${at}::timestamptz else disabled_at end
    where tenant_id = ${tenantId} and id = ${a.webhookId}`)
  return true
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed'

export interface Delivery {
  id: string
  webhookId: string
  type: string
  eventSource: string | null
  eventId: string | null
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  lastError: string | null
  createdAt: string
  succeededAt: string | null
  seq: number
}

const deliveryColumns = sql`d.id, d.webhook_id as "webhookId", d.event_type as type, d.event_source as "eventSource", d.event_id as "eventId",
  d.status, d.attempts, case when d.status <> 'pending' then null when d.next_attempt_at = '-infinity' then jl_iso(d.created_at) else jl_iso(d.next_attempt_at) end as "nextAttemptAt",
  d.last_status_code as "lastStatusCode", d.last_error as "lastError", jl_iso(d.created_at) as "createdAt", jl_iso(d.succeeded_at) as "succeededAt", d.seq`

export interface DeliveryFilter { status?: DeliveryStatus; type?: string; since?: string; beforeSeq?: number; limit: number }

/** A subscription's deliveries, newest first. */
export function listDeliveries(tx: Queryable, tenantId: string, webhookId: string, f: DeliveryFilter): Promise<Delivery[]> {
  return query<Delivery>(tx, sql`
    select ${deliveryColumns} from webhook_deliveries d
    where d.tenant_id = ${tenantId} and d.webhook_id = ${webhookId}
      ${f.status !== undefined ? sql`and d.status = ${f.status}` : sql``}
      ${f.type !== undefined ? sql`and d.event_type = ${f.type}` : sql``}
      ${f.since !== undefined ? sql`and d.created_at >= ${f.since}::timestamptz` : sql``}
      ${f.beforeSeq !== undefined ? sql`and d.seq < ${f.beforeSeq}` : sql``}
    order by d.seq desc limit ${f.limit}`)
}

export interface Attempt { attempt: number; at: string; durationMs: number; statusCode: number | null; responseBody: string; error: string | null }

export function readDelivery(tx: Queryable, tenantId: string, webhookId: string, deliveryId: string): Promise<(Delivery & { attemptLog: Attempt[] }) | undefined> {
  return queryOne<Delivery & { attemptLog: Attempt[] }>(tx, sql`
    select ${deliveryColumns}, (
      select coalesce(jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', jl_iso(a.at), 'durationMs', a.duration_ms, 'statusCode', a.status_code,
        'responseBody', a.response_body, 'error', a.error) order by a.attempt), '[]'::jsonb)
      from webhook_attempts a where a.tenant_id = ${tenantId} and a.delivery_id = d.id) as "attemptLog"
    from webhook_deliveries d where d.tenant_id = ${tenantId} and d.webhook_id = ${webhookId} and d.id = ${deliveryId}`)
}

/** Rows in flight are left to their claim: making them due again would send them twice at once. */
const notInFlight = (now: string) => sql`not (status = 'pending' and lease_until is not null and lease_until > ${now}::timestamptz)`

/** Makes deliveries due at once (a manual retry, a recovery): same id, so the same `webhook-id`. Returns how many. */
export async function resendDeliveries(tx: Queryable, tenantId: string, webhookId: string, which: { deliveryId: string } | { since: string }, now: Date): Promise<number> {
  const at = now.toISOString()
  const rows = await query<{ id: string }>(tx, sql`
    update webhook_deliveries set status = 'pending', next_attempt_at = ${at}::timestamptz, lease_until = null
    where tenant_id = ${tenantId} and webhook_id = ${webhookId} and ${notInFlight(at)}
      ${'deliveryId' in which ? sql`and id = ${which.deliveryId}` : sql`and status <> 'succeeded' and created_at >= ${which.since}::timestamptz`}
    returning id`)
  return rows.length
}

/** Outbox depth and the age of its oldest pending delivery (for /metrics), across tenants. */
export async function outboxBacklog(db: Db, now: Date): Promise<{ pending: number; oldestSeconds: number }> {
  const row = await inSystem(db, (tx) => queryOne<{ pending: number; oldest: string | null }>(tx, sql`
    select count(*)::int as pending, jl_iso(min(created_at)) as oldest from webhook_deliveries where status = 'pending'`))
  const oldest = row?.oldest ? Math.max(0, (now.getTime() - Date.parse(row.oldest)) / 1000) : 0
  return { pending: row?.pending ?? 0, oldestSeconds: oldest }
}
