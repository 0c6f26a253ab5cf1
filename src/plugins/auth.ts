// Bearer-key authentication and scope checks, declared per route as `config: { scope }`.
// Lookups run inside the key's tenant (row-level security applies) and are cached briefly,
// since every request needs one; revoking on this instance clears the cache at once.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { forbidden, unauthorized } from '../domain/errors.js'
import { hasScope, hashKey, sameSecret, tenantOfKey, type Scope } from '../domain/keys.js'
import { inTenant } from '../store/database.js'
import { findApiKey } from '../store/tenants.js'

export interface Principal { tenantId: string; keyId: string; scopes: string[] }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; 'operator' means the JOURNEY_OPERATOR_KEY; absent means public. */
    scope?: Scope | 'operator'
  }
  interface FastifyRequest {
    /** Set by the auth hook on every route that declares a scope. */
    principal: Principal | null
  }
  interface FastifyInstance {
    forgetKeys(): void
  }
}

const cacheTtlMs = 5_000
const cacheMax = 10_000

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

async function authPlugin(app: FastifyInstance) {
  const cache = new Map<string, { principal: Principal | null; expires: number }>()
  app.decorate('forgetKeys', () => cache.clear())
  app.decorateRequest('principal', null)

  async function principalFor(key: string): Promise<Principal | null> {
    const cacheKey = hashKey(key)
    const hit = cache.get(cacheKey)
    if (hit && hit.expires > Date.now()) return hit.principal
    const tenantId = tenantOfKey(key)
    const row = await inTenant(app.db, tenantId, (tx) => findApiKey(tx, tenantId, key), { oneRoundTrip: true })
    const principal = row ? { tenantId, keyId: row.id, scopes: row.scopes } : null
    if (cache.size >= cacheMax) cache.clear()
    cache.set(cacheKey, { principal, expires: Date.now() + cacheTtlMs })
    return principal
  }

  app.addHook('onRequest', async (request) => {
    const needed = request.routeOptions.config.scope
    if (!needed) return
    const key = bearerOf(request)
    if (!key) throw unauthorized('send the API key as `Authorization: Bearer <key>`')
    if (needed === 'operator') {
      const operatorKey = app.config.operatorKey
      if (!operatorKey || !sameSecret(key, operatorKey)) throw unauthorized('this operation needs the operator key (JOURNEY_OPERATOR_KEY)')
      return
    }
    const principal = await principalFor(key)
    if (!principal) throw unauthorized('the API key is unknown or revoked')
    if (!hasScope(principal.scopes, needed)) throw forbidden(`this operation needs the scope ${needed}`)
    request.principal = principal
  })
}

/** The caller of a scoped route; the auth hook guarantees it is there. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('this operation needs an API key')
  return request.principal
}

export default fp(authPlugin, { name: 'auth', dependencies: ['db'] })
