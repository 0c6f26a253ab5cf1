// Derived notifications: `promise.due` and `promise.overdue`, once per promise, kind and due date.
// The promise's status is the store's statusCondition (the SQL twin of promiseStatus); a unique row
// per notice makes the sweep safe with several instances, and a renegotiated due date a new notice.
import { sql } from 'drizzle-orm'
import { derivedPayload } from '../webhooks/payload.js'
import { inSystem, inTenant, query, type Db } from './database.js'
import { statusCondition } from './promises.js'

const kinds = ['due', 'overdue'] as const
const listening = sql`events && array['*', 'promise.*', 'promise.due', 'promise.overdue']`

interface Notice { promiseId: string; journeyId: string; kind: 'due' | 'overdue'; dueDate: string; category: string; madeBy: string; webhookId: string }

/** Announces (for every tenant, or only one) every promise that became due or overdue by `now` and was not announced yet; returns the deliveries queued. */
export async function sweepPromiseNotices(db: Db, now: Date, only?: string): Promise<number> {
  const today = now.toISOString().slice(0, 10)
  const tenants = await inSystem(db, (tx) => query<{ tenantId: string }>(tx, sql`
    select distinct tenant_id as "tenantId" from webhooks where ${listening} ${only !== undefined ? sql`and tenant_id = ${only}` : sql``}`))
  let queued = 0
  for (const { tenantId } of tenants) {
    queued += await inTenant(db, tenantId, async (tx) => {
      // The notice rows first (each promise, kind and due date once, whoever sweeps), then one delivery per listening subscription.
      const notices = await query<Notice>(tx, sql`
        with found as (
          ${sql.join(kinds.map((kind) => sql`
            select id, journey_id, due_date, category, made_by, ${kind}::text as kind from promises
            where tenant_id = ${tenantId} and ${statusCondition(kind, today)}`), sql` union all `)}
        ), noticed as (
          insert into webhook_notices (tenant_id, promise_id, kind, due_date)
          select ${tenantId}, id, kind, due_date from found on conflict do nothing
          returning promise_id, kind, due_date)
        select f.id as "promiseId", f.journey_id as "journeyId", f.kind, f.due_date::text as "dueDate", f.category, f.made_by as "madeBy", w.id as "webhookId"
        from noticed n join found f on f.id = n.promise_id and f.kind = n.kind
        join webhooks w on w.tenant_id = ${tenantId} and w.events && array['*', 'promise.*', 'promise.' || f.kind]`)
      if (notices.length === 0) return 0
      const rows = notices.map((n) => ({
        webhookId: n.webhookId, type: `promise.${n.kind}`,
        payload: derivedPayload({
          id: `promise.${n.kind}:${n.promiseId}:${n.dueDate}`, type: `promise.${n.kind}`, subject: n.journeyId, time: now,
          data: { promiseId: n.promiseId, journeyId: n.journeyId, dueDate: n.dueDate, category: n.category, madeBy: n.madeBy },
        }),
      }))
      await query(tx, sql`
        insert into webhook_deliveries (tenant_id, webhook_id, event_type, payload)
        select ${tenantId}, r."webhookId", r.type, r.payload from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r("webhookId" text, type text, payload jsonb)`)
      return rows.length
    })
  }
  return queued
}
