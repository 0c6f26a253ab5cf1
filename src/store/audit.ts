// The append-only audit trail: who (key id), did what, when, on whom — never the personal data itself.
import { sql } from 'drizzle-orm'
import { execute, query, type Queryable } from './database.js'

export type AuditAction =
  | 'tenant.created' | 'api-key.created' | 'api-key.revoked' | 'person.erased' | 'person.exported' | 'person.retention-erased'
  | 'webhook.created' | 'webhook.updated' | 'webhook.deleted' | 'webhook.secret-rotated'

export interface AuditEntry {
  actor: string
  action: AuditAction
  targetType: string
  targetId: string
  /** Counts, names of fields, reasons chosen from a list: nothing a person wrote or said. */
  details?: Record<string, string | number | boolean | null>
}

export async function writeAudit(tx: Queryable, tenantId: string, entry: AuditEntry): Promise<void> {
  await execute(tx, sql`
    insert into audit (tenant_id, actor, action, target_type, target_id, details)
    values (${tenantId}, ${entry.actor}, ${entry.action}, ${entry.targetType}, ${entry.targetId}, ${JSON.stringify(entry.details ?? {})}::jsonb)`)
}

export interface AuditRow { id: number; at: string; actor: string; action: string; targetType: string; targetId: string; details: Record<string, unknown> }

export function listAudit(tx: Queryable, tenantId: string, f: { afterId?: number; action?: string; limit: number }): Promise<AuditRow[]> {
  return query<AuditRow>(tx, sql`
    select id, jl_iso(at) as at, actor, action, target_type as "targetType", target_id as "targetId", details from audit
    where tenant_id = ${tenantId}
      ${f.afterId !== undefined ? sql`and id > ${f.afterId}` : sql``}
      ${f.action !== undefined ? sql`and action = ${f.action}` : sql``}
    order by id limit ${f.limit}`)
}
