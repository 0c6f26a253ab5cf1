// API keys: `jl_<tenant>_<secret>`. The tenant travels in the key so the lookup itself runs
// inside the tenant's row-level security; only the SHA-256 of the key is ever stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const scopes = ['events:write', 'events:read', 'promises:write', 'analytics:read', 'webhooks:manage', 'people:manage', 'admin'] as const
export type Scope = (typeof scopes)[number]

export const tenantIdPattern = '^[a-z0-9][a-z0-9-]{0,62}$'

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

export function generateKey(tenantId: string): string {
  return `jl_${tenantId}_${randomBytes(32).toString('base64url')}`
}

export const defaultTenantId = 'default'

/**
 * The tenant a key claims to belong to; the hash lookup decides whether it really does. A key of
 * another shape (an operator-chosen JOURNEY_BOOTSTRAP_KEY) belongs to the default tenant.
 */
export function tenantOfKey(key: string): string {
  const match = /^jl_([a-z0-9][a-z0-9-]{0,62})_[A-Za-z0-9_-]{20,}$/.exec(key)
  return match?.[1] ?? defaultTenantId
}

export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed)
}

/** Constant-time comparison for the operator key (compared as hashes so lengths match). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashKey(a), 'hex'), Buffer.from(hashKey(b), 'hex'))
}

/** A tenant id from a display name: `Acme Corp` -> `acme-corp`. */
export function tenantIdFromName(name: string): string {
  const slug = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63)
  return slug.length > 0 ? slug : `tenant-${randomBytes(4).toString('hex')}`
}
