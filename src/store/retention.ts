// Retention of what describes a person: once every journey of a person has ended (exited, or closed
// without a hire) longer ago than the retention, their data key is destroyed, and with it every
// sealed field (free text, labels, promise words); ids, dates, counts and scores stay, and so does
// the person (a later event about them is sealed under a new key).
import { sql } from 'drizzle-orm'
import { writeAudit } from './audit.js'
import { inSystem, inTenant, query, type Db } from './database.js'
import { dropKeys } from './people.js'

export async function sweepRetention(db: Db, months: number, now: Date, options: { tenantId?: string } = {}): Promise<{ persons: number }> {
  const cutoff = new Date(now)
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months)
  const tenants = options.tenantId
    ? [{ id: options.tenantId }]
    : await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants order by tenant_id`))
  let persons = 0
  for (const { id: tenantId } of tenants) {
    persons += await inTenant(db, tenantId, async (tx) => {
      const due = await query<{ personRef: string }>(tx, sql`
        select k.person_ref as "personRef" from journeys j
        join person_keys k on k.tenant_id = ${tenantId} and k.person_ref = j.person_ref and k.wrapped_key is not null
        where j.tenant_id = ${tenantId}
        group by k.person_ref
        having bool_and(j.stage in ('exited', 'closed'))
          and max(coalesce(j.exited_at, j.stage_since)) < ${cutoff.toISOString()}::timestamptz
        limit 1000`)
      await dropKeys(tx, tenantId, due.map((d) => d.personRef))
      for (const { personRef } of due) {
        await writeAudit(tx, tenantId, { actor: 'system', action: 'person.retention-erased', targetType: 'person', targetId: personRef, details: { months } })
      }
      return due.length
    })
  }
  return { persons }
}
