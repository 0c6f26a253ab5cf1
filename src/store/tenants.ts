// Tenants and their API keys. Key rows are read and written inside the tenant's transaction.
import { sql } from 'drizzle-orm'
import { conflict } from '../domain/errors.js'
import { generateKey, hashKey, tenantIdFromName, type Scope } from '../domain/keys.js'
import { writeAudit } from './audit.js'
import { execute, inSystem, inTenant, query, queryOne, type Db, type Queryable } from './database.js'
import { randomBytes } from 'node:crypto'

export interface ApiKeyView { id: string; name: string; scopes: string[]; createdAt: string }
export interface CreatedKey extends ApiKeyView { key: string }
export interface TenantView { id: string; name: string; createdAt: string }

export async function createApiKey(tx: Queryable, tenantId: string, name: string, keyScopes: readonly Scope[]): Promise<CreatedKey> {
  const key = generateKey(tenantId)
  const id = `key_${randomBytes(9).toString('base64url')}`
  const row = await queryOne<ApiKeyView>(tx, sql`
    insert into api_keys (tenant_id, id, name, scopes, key_hash)
    values (${tenantId}, ${id}, ${name}, ${textArray(keyScopes)}, ${hashKey(key)})
    returning id, name, scopes, jl_iso(created_at) as "createdAt"`)
  if (!row) throw new Error('api key insert returned nothing')
  return { ...row, key }
}

function textArray(values: readonly string[]) {
  return sql`array[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]`
}

export async function findApiKey(tx: Queryable, tenantId: string, key: string): Promise<{ id: string; scopes: string[] } | undefined> {
  return queryOne(tx, sql`select id, scopes from api_keys where tenant_id = ${tenantId} and key_hash = ${hashKey(key)} and revoked_at is null`)
}

export function listApiKeys(tx: Queryable, tenantId: string): Promise<ApiKeyView[]> {
  return query(tx, sql`select id, name, scopes, jl_iso(created_at) as "createdAt" from api_keys where tenant_id = ${tenantId} and revoked_at is null order by created_at, id`)
}

/** Revokes a key; false when there is no such live key in this tenant. */
export async function revokeApiKey(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const rows = await query(tx, sql`update api_keys set revoked_at = now() where tenant_id = ${tenantId} and id = ${id} and revoked_at is null returning id`)
  return rows.length > 0
}

/** Creates a tenant with an admin key; `adminKey` fixes the key (bootstrap), otherwise one is generated. */
export async function createTenant(db: Db, name: string, options: { id?: string; adminKey?: string; actor?: string } = {}): Promise<TenantView & { adminKey: string }> {
  const tenantId = options.id ?? tenantIdFromName(name)
  return inTenant(db, tenantId, async (tx) => {
    const inserted = await query<TenantView>(tx, sql`
      insert into tenants (tenant_id, name) values (${tenantId}, ${name})
      on conflict do nothing returning tenant_id as id, name, jl_iso(created_at) as "createdAt"`)
    const tenant = inserted[0]
    if (!tenant) throw conflict('tenant-exists', 'Tenant exists', `a tenant with id ${tenantId} exists already`)
    const created = await createApiKey(tx, tenantId, 'admin', ['admin'])
    if (options.adminKey) {
      await execute(tx, sql`update api_keys set key_hash = ${hashKey(options.adminKey)} where tenant_id = ${tenantId} and id = ${created.id}`)
    }
    const actor = options.actor ?? 'system'
    await writeAudit(tx, tenantId, { actor, action: 'tenant.created', targetType: 'tenant', targetId: tenantId })
    await writeAudit(tx, tenantId, { actor, action: 'api-key.created', targetType: 'api-key', targetId: created.id, details: { scopes: 'admin' } })
    return { ...tenant, adminKey: options.adminKey ?? created.key }
  })
}

export function listTenants(db: Db): Promise<TenantView[]> {
  return inSystem(db, (tx) => query(tx, sql`select tenant_id as id, name, jl_iso(created_at) as "createdAt" from tenants order by tenant_id`))
}

export async function countTenants(db: Db): Promise<number> {
  const row = await inSystem(db, (tx) => queryOne<{ n: number }>(tx, sql`select count(*)::int as n from tenants`))
  return row?.n ?? 0
}
