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
    /** Whether this instance has found the key valid before (a rate limit on failures spares it). */
    knowsKey(key: string): boolean
  }
}

const cacheTtlMs = 5_000

export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

async function authPlugin(app: FastifyInstance) {
  // Two caches, so that unknown keys, however many, never push a valid one out: a flood of random
  // bearer keys must not turn every real request into a database lookup.
  // Each holds AUTH_CACHE_SIZE: valid keys (as many as the tenants hold; past it the oldest goes,
  // one at a time), and unknown ones (a flood of random keys costs one lookup each, then nothing).
  const known = new Map<string, { principal: Principal; expires: number }>()
  const unknown = new Map<string, number>()
  const { authCacheSize } = app.config
  app.decorate('forgetKeys', () => {
    known.clear()
    unknown.clear()
  })
  app.decorate('knowsKey', (key: string) => known.has(hashKey(key)))
  app.decorateRequest('principal', null)
  const now = () => app.config.now().getTime()

  /** Remembers a value, dropping the oldest entry (Map order) when full. */
  function remember<V>(cache: Map<string, V>, max: number, key: string, value: V): void {
    cache.delete(key)
    if (cache.size >= max) cache.delete(cache.keys().next().value ?? '')
    cache.set(key, value)
  }

  async function principalFor(key: string): Promise<Principal | null> {
    const cacheKey = hashKey(key)
    const hit = known.get(cacheKey)
    if (hit && hit.expires > now()) return hit.principal
    const missUntil = unknown.get(cacheKey)
    if (missUntil !== undefined && missUntil > now()) return null
    const tenantId = tenantOfKey(key)
    const row = await inTenant(app.db, tenantId, (tx) => findApiKey(tx, tenantId, key), { oneRoundTrip: true })
    if (!row) {
      known.delete(cacheKey)
      remember(unknown, authCacheSize, cacheKey, now() + cacheTtlMs)
      return null
    }
    const principal = { tenantId, keyId: row.id, scopes: row.scopes }
    unknown.delete(cacheKey)
    remember(known, authCacheSize, cacheKey, { principal, expires: now() + cacheTtlMs })
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
    // Known before the scope is judged: a request refused for its scope still counts against its key's budget.
    request.principal = principal
    if (!hasScope(principal.scopes, needed)) throw forbidden(`this operation needs the scope ${needed}`)
  })
}

/** The caller of a scoped route; the auth hook guarantees it is there. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('this operation needs an API key')
  return request.principal
}

export default fp(authPlugin, { name: 'auth', dependencies: ['db'] })
