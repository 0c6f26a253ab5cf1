// Rate limits: budgets of requests per window, per API key and per tenant for each kind of work,
// per client address for callers without a key and for failed authentications. Counters are
// @fastify/rate-limit's in-memory stores: per instance (see README, "Rate limits").
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { BudgetKind, RateLimitsConfig } from '../config.js'
import { tooManyRequests } from '../domain/errors.js'
import { bearerOf } from './auth.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The budget a route's requests spend; default: analytics for analytics:read, read for GET, else write. */
    budget?: BudgetKind
  }
  interface FastifyRequest {
    /** The budgets this request was counted against, as the RateLimit headers report them. */
    rateLimits: Standing[] | null
  }
}

/** Where one budget stands after (or without) counting a request. */
export interface Standing {
  policy: string
  quota: number
  remaining: number
  /** Seconds until the window that holds the count ends. */
  resetSeconds: number
  exceeded: boolean
}

type Check = (request: FastifyRequest, count: boolean) => Promise<Standing>

/** Entries each counter keeps (least recently used go first); above the keys and addresses active in one window. */
const counterCapacity = 20_000

const budgetKinds: readonly BudgetKind[] = ['write', 'read', 'analytics', 'export']

export function budgetOf(request: FastifyRequest): BudgetKind {
  const { budget, scope } = request.routeOptions.config
  if (budget) return budget
  if (scope === 'analytics:read') return 'analytics'
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write'
}

/** `RateLimit-Policy` (IETF httpapi ratelimit-headers draft 11): one item per budget counted. */
export function policyField(standings: readonly Standing[], windowSeconds: number): string {
  return standings.map((s) => `"${s.policy}";q=${s.quota};w=${windowSeconds}`).join(', ')
}

/** `RateLimit`: what remains of each budget and when its window ends. */
export function limitField(standings: readonly Standing[]): string {
  return standings.map((s) => `"${s.policy}";r=${s.remaining};t=${s.resetSeconds}`).join(', ')
}

async function rateLimitsPlugin(app: FastifyInstance) {
  const limits: RateLimitsConfig = app.config.rateLimits
  if (!limits.enabled) return
  // global: false: no route hook of the plugin's own; the budgets below are counted by hand, since
  // one request spends several (its key's and its tenant's) and the headers report them all.
  await app.register(rateLimit, { global: false })
  const windowMs = limits.windowSeconds * 1000

  function counter(policy: string, quotaOf: (request: FastifyRequest) => number, keyOf: (request: FastifyRequest) => string): Check {
    const options: RateLimitOptions = { max: (request) => quotaOf(request), timeWindow: windowMs, keyGenerator: keyOf, cache: counterCapacity }
    const limiter = app.createRateLimit(options)
    return async (request, count) => {
      const quota = quotaOf(request)
      const result = await limiter(request, { increment: count })
      if (result.isAllowed) return { policy, quota, remaining: quota, resetSeconds: limits.windowSeconds, exceeded: false }
      // A budget not yet touched in this window reads as a whole one.
      const resetSeconds = result.ttl > 0 ? result.ttlInSeconds : limits.windowSeconds
      return { policy, quota, remaining: result.remaining, resetSeconds, exceeded: result.isExceeded }
    }
  }

  const tenantOf = (request: FastifyRequest) => request.principal?.tenantId ?? ''
  const addressOf = (request: FastifyRequest) => request.ip
  const keyBudgets = new Map<BudgetKind, Check>()
  const tenantBudgets = new Map<BudgetKind, Check>()
  for (const kind of budgetKinds) {
    keyBudgets.set(kind, counter(`key-${kind}`,
      (request) => limits.tenantOverrides[tenantOf(request)]?.key?.[kind] ?? limits.key[kind],
      (request) => request.principal?.keyId ?? `address ${addressOf(request)}`))
    tenantBudgets.set(kind, counter(`tenant-${kind}`,
      (request) => limits.tenantOverrides[tenantOf(request)]?.tenant?.[kind] ?? limits.tenant[kind],
      (request) => tenantOf(request) || `address ${addressOf(request)}`))
  }
  const addressBudget = counter('address', () => limits.address, addressOf)
  const failedAuthBudget = counter('failed-auth', () => limits.failedAuth, addressOf)

  /** Counts the request against its budgets in order; a spent one ends the count (a key's flood spends none of its tenant's). */
  async function count(request: FastifyRequest, checks: readonly Check[]): Promise<Standing[]> {
    const standings: Standing[] = []
    for (const check of checks) {
      const standing = await check(request, true)
      standings.push(standing)
      if (standing.exceeded) break
    }
    request.rateLimits = standings
    return standings
  }

  async function spend(request: FastifyRequest, checks: readonly Check[]): Promise<void> {
    const spent = (await count(request, checks)).find((standing) => standing.exceeded)
    if (spent) throw tooManyRequests(`the budget "${spent.policy}" of ${spent.quota} requests per ${limits.windowSeconds} s is spent; retry after ${spent.resetSeconds} s`, spent.resetSeconds)
  }

  function identityBudgets(request: FastifyRequest): Check[] {
    if (!request.principal) return [addressBudget]
    const kind = budgetOf(request)
    return [keyBudgets.get(kind), tenantBudgets.get(kind)].filter((check) => check !== undefined)
  }

  app.decorateRequest('rateLimits', null)

  // Before authentication: callers without a key spend their address's budget, and an address whose
  // failures are spent gets no key lookup at all, but for keys this instance already found valid.
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope
    if (!scope) return spend(request, [addressBudget])
    const key = bearerOf(request)
    if (!key) return
    const failures = await failedAuthBudget(request, false)
    if (failures.remaining === 0 && !app.knowsKey(key)) {
      request.rateLimits = [{ ...failures, exceeded: true }]
      throw tooManyRequests(`too many failed authentications from this address; retry after ${failures.resetSeconds} s`, failures.resetSeconds)
    }
  })

  // After authentication (every onRequest hook has run), before the body is read.
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.rateLimits === null) await spend(request, identityBudgets(request))
    return payload
  })

  // Every response carries the headers, errors and 304s included: a failed authentication spends the
  // address's failure budget; a request stopped before its count (403, a malformed URL) is counted here.
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    if (reply.statusCode === 401 && request.routeOptions.config.scope) {
      request.rateLimits = [await failedAuthBudget(request, true)]
    } else if (request.rateLimits === null) {
      await count(request, identityBudgets(request))
    }
    const standings = request.rateLimits ?? []
    if (standings.length > 0) {
      reply.header('ratelimit-policy', policyField(standings, limits.windowSeconds))
      reply.header('ratelimit', limitField(standings))
    }
    return payload
  })
}

export default fp(rateLimitsPlugin, { name: 'rate-limits', dependencies: ['errors'] })
