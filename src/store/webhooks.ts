// Webhook subscriptions of a tenant: what they listen to, where they send, and their signing
// secrets (sealed under the master key by the caller; this module never sees one in clear).
import { sql } from 'drizzle-orm'
import { execute, query, queryOne, type Queryable } from './database.js'

export interface Webhook {
  id: string
  url: string
  description: string | null
  events: string[]
  includePersonal: boolean
  paused: boolean
  disabledReason: string | null
  disabledAt: string | null
  /** Until then the secret before the last rotation signs too. */
  previousSecretExpiresAt: string | null
  createdAt: string
  updatedAt: string
}

const columns = sql`id, url, description, events, include_personal as "includePersonal", paused, disabled_reason as "disabledReason",
  jl_iso(disabled_at) as "disabledAt", jl_iso(previous_secret_until) as "previousSecretExpiresAt", jl_iso(created_at) as "createdAt", jl_iso(updated_at) as "updatedAt"`

export interface NewWebhook { id: string; url: string; description: string | null; events: string[]; includePersonal: boolean; sealedSecret: string; createdBy: string }

export async function insertWebhook(tx: Queryable, tenantId: string, w: NewWebhook): Promise<Webhook> {
  const row = await queryOne<Webhook>(tx, sql`
    insert into webhooks (tenant_id, id, url, description, events, include_personal, secret, created_by)
    values (${tenantId}, ${w.id}, ${w.url}, ${w.description}, ${textArray(w.events)}, ${w.includePersonal}, ${w.sealedSecret}, ${w.createdBy})
    returning ${columns}`)
  if (!row) throw new Error('the webhook insert returned no row')
  return row
}

/** A text[] parameter as one JSON document (the two drivers pass arrays differently). */
const textArray = (values: readonly string[]) => sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`

export function readWebhook(tx: Queryable, tenantId: string, id: string): Promise<Webhook | undefined> {
  return queryOne<Webhook>(tx, sql`select ${columns} from webhooks where tenant_id = ${tenantId} and id = ${id}`)
}

export function listWebhooks(tx: Queryable, tenantId: string, page: { afterId?: string; limit: number }): Promise<Webhook[]> {
  return query<Webhook>(tx, sql`
    select ${columns} from webhooks where tenant_id = ${tenantId} ${page.afterId !== undefined ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`)
}

export interface WebhookChange { url?: string; events?: string[]; description?: string | null; paused?: boolean }

/** Applies a change; resuming (`paused: false`) also lifts a disabling, so the deliveries held meanwhile flow again. */
export function updateWebhook(tx: Queryable, tenantId: string, id: string, change: WebhookChange, now: Date): Promise<Webhook | undefined> {
  const sets = [sql`updated_at = ${now.toISOString()}`]
  if (change.url !== undefined) sets.push(sql`url = ${change.url}`)
  if (change.events !== undefined) sets.push(sql`events = ${textArray(change.events)}`)
  if (change.description !== undefined) sets.push(sql`description = ${change.description}`)
  if (change.paused !== undefined) sets.push(sql`paused = ${change.paused}`)
  if (change.paused === false) sets.push(sql`disabled_reason = null, disabled_at = null, failing_since = null`)
  return queryOne<Webhook>(tx, sql`update webhooks set ${sql.join(sets, sql`, `)} where tenant_id = ${tenantId} and id = ${id} returning ${columns}`)
}

/** Deletes a subscription with its delivery log. */
export async function deleteWebhook(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const [deleted] = await Promise.all([
    query<{ id: string }>(tx, sql`delete from webhooks where tenant_id = ${tenantId} and id = ${id} returning id`),
    execute(tx, sql`delete from webhook_attempts where tenant_id = ${tenantId} and delivery_id in (
      select id from webhook_deliveries where tenant_id = ${tenantId} and webhook_id = ${id})`),
    execute(tx, sql`delete from webhook_deliveries where tenant_id = ${tenantId} and webhook_id = ${id}`),
  ])
  return deleted.length > 0
}

/** A new secret; the current one becomes the previous, and keeps signing until `until`. */
export function rotateWebhookSecret(tx: Queryable, tenantId: string, id: string, sealedSecret: string, times: { now: Date; until: Date }): Promise<Webhook | undefined> {
  return queryOne<Webhook>(tx, sql`
    update webhooks set previous_secret = secret, previous_secret_until = ${times.until.toISOString()}, secret = ${sealedSecret}, updated_at = ${times.now.toISOString()}
    where tenant_id = ${tenantId} and id = ${id} returning ${columns}`)
}
