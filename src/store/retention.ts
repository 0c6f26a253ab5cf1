// Retention of free text: once every journey of a person has ended (exited, or closed without a
// hire) longer ago than the retention, their data key is destroyed. In this catalogue every
// personal field is free text (notes, comments, evidence, reasons, promise words), so that erases
// exactly those fields; ids, dates, counts and scores stay.
import { sql } from 'drizzle-orm'
import { writeAudit } from './audit.js'
import { inSystem, inTenant, query, type Db } from './database.js'
import { destroyPersonKey } from './keyring.js'

export async function sweepRetention(db: Db, months: number, now: Date, options: { tenantId?: string } = {}): Promise<{ persons: number }> {
  const cutoff = new Date(now)
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months)
  const tenants = options.tenantId
    ? [{ id: options.tenantId }]
    : await inSystem(db, (tx) => query<{ id: string }>(tx, sql`select tenant_id as id from tenants order by tenant_id`))
  let persons = 0
  for (const { id: tenantId } of tenants) {
    persons += await inTenant(db, tenantId, async (tx) => {
      const due = await query<{ personId: string }>(tx, sql`
        select j.person_id as "personId" from journeys j
        join person_keys k on k.tenant_id = ${tenantId} and k.person_id = j.person_id and k.wrapped_key is not null
        where j.tenant_id = ${tenantId}
        group by j.person_id
        having bool_and(j.stage in ('exited', 'closed'))
          and max(coalesce(j.exited_at, j.stage_since)) < ${cutoff.toISOString()}::timestamptz
        limit 1000`)
      for (const { personId } of due) {
        await destroyPersonKey(tx, tenantId, personId, 'retention')
        await writeAudit(tx, tenantId, { actor: 'system', action: 'person.retention-erased', targetType: 'person', targetId: personId, details: { months } })
      }
      return due.length
    })
  }
  return { persons }
}
