// Budgets of requests: per key and per tenant for each kind of work, per address without a key and
// for failed authentications. Every response says where its budgets stand (RateLimit-Policy,
// RateLimit); a spent budget answers 429 with Retry-After. Counts, not timings, are asserted.
import t from 'tap'
import { loadConfig, type Budgets, type RateLimitsConfig } from '../../src/config.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { given, on } from '../helpers/spine.js'

/** Run once, in the PGlite run: budgets are counted in the service's memory, not in the database. */
const once = { skip: process.env.DATABASE_URL ? 'PGlite run only: budgets are counted in memory, not in the database' : false }

const roomy: Budgets = { write: 1000, read: 1000, analytics: 1000, export: 1000 }
function limits(overrides: Partial<RateLimitsConfig>): RateLimitsConfig {
  return { ...loadConfig().rateLimits, enabled: true, windowSeconds: 60, key: roomy, tenant: roomy, address: 1000, failedAuth: 1000, tenantOverrides: {}, ...overrides }
}

/** The `r` of one policy in a RateLimit field. */
function remaining(field: unknown, policy: string): number | undefined {
  if (typeof field !== 'string') return undefined
  const match = new RegExp(`"${policy}";r=(\\d+);t=(\\d+)`).exec(field)
  return match ? Number(match[1]) : undefined
}

async function newKey(app: TestApp, scopes: string[]): Promise<string> {
  const created = await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes } })
  const body: unknown = created.json()
  if (typeof body !== 'object' || body === null || !('key' in body) || typeof body.key !== 'string') throw new Error(`no key: ${created.body}`)
  return body.key
}

t.test('a burst past a key\'s read budget gets 429 with Retry-After, the headers counting down; writes and another tenant are untouched', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({ key: { ...roomy, read: 5 } }) })
  const other = await app.otherTenant()
  const read = (key?: string) => app.request({ method: 'GET', url: '/v1/journeys', key })

  const seen: (number | undefined)[] = []
  for (let i = 0; i < 5; i++) {
    const response = await read()
    t.equal(response.statusCode, 200)
    t.equal(response.headers['ratelimit-policy'], '"key-read";q=5;w=60, "tenant-read";q=1000;w=60')
    seen.push(remaining(response.headers.ratelimit, 'key-read'))
  }
  t.same(seen, [4, 3, 2, 1, 0], 'the key\'s budget counts down')

  const refused = await read()
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(refused.json(), { status: 429, code: 'rate-limited', type: 'urn:journey-ledger:problem:rate-limited' })
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After within the window (${retryAfter})`)
  t.equal(remaining(refused.headers.ratelimit, 'key-read'), 0)
  t.equal(refused.headers['ratelimit-policy'], '"key-read";q=5;w=60', 'the spent key budget spends none of its tenant\'s')

  const otherRead = await read(other.adminKey)
  t.equal(otherRead.statusCode, 200, 'another tenant reads on')
  t.equal(remaining(otherRead.headers.ratelimit, 'key-read'), 4, 'from a budget of its own')

  const write = await app.request({ method: 'POST', url: '/v1/events', payload: ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-01' }) })
  t.equal(write.statusCode, 201, 'writes have their own budget')
  t.equal(remaining(write.headers.ratelimit, 'key-write'), 999)
})

t.test('the keys of a tenant share its budget; one tenant\'s override leaves the others the default', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({ tenant: { ...roomy, read: 3 } }) })
  const second = await newKey(app, ['events:read'])
  const statuses = []
  for (const key of [app.adminKey, second, app.adminKey]) statuses.push((await app.request({ method: 'GET', url: '/v1/journeys', key })).statusCode)
  t.same(statuses, [200, 200, 200])
  const refused = await app.request({ method: 'GET', url: '/v1/journeys', key: second })
  t.equal(refused.statusCode, 429, 'the fourth read of the tenant, whichever key')
  t.match(refused.headers['ratelimit-policy'], /"tenant-read";q=3;w=60/)

  const generous = await buildTestApp(t, { rateLimits: limits({ tenant: { ...roomy, read: 3 } }) })
  const big = await generous.otherTenant()
  generous.app.config.rateLimits.tenantOverrides[big.tenantId] = { tenant: { read: 50 } }
  const response = await generous.request({ method: 'GET', url: '/v1/journeys', key: big.adminKey })
  t.match(response.headers['ratelimit-policy'], /"tenant-read";q=50;w=60/, 'the override applies to its tenant')
  const plain = await generous.request({ method: 'GET', url: '/v1/journeys' })
  t.match(plain.headers['ratelimit-policy'], /"tenant-read";q=3;w=60/, 'and to no other')
})

t.test('callers without a key spend their address\'s budget; another address is unaffected', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({ address: 3 }) })
  const health = (remoteAddress: string) => app.app.inject({ method: 'GET', url: '/healthz', remoteAddress })
  const seen = []
  for (let i = 0; i < 3; i++) seen.push(remaining((await health('203.0.113.7')).headers.ratelimit, 'address'))
  t.same(seen, [2, 1, 0])
  const refused = await health('203.0.113.7')
  t.equal(refused.statusCode, 429)
  t.ok(Number(refused.headers['retry-after']) >= 1)
  const elsewhere = await health('198.51.100.1')
  t.equal(elsewhere.statusCode, 200)
  t.equal(remaining(elsewhere.headers.ratelimit, 'address'), 2)
  const unknownRoute = await app.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: '198.51.100.1' })
  t.equal(unknownRoute.statusCode, 404)
  t.equal(remaining(unknownRoute.headers.ratelimit, 'address'), 1, 'a 404 counts and says so')
})

t.test('failed authentications spend the address\'s failure budget; past it, unknown keys get no lookup but a key seen valid goes on', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({ failedAuth: 3 }) })
  const from = (key: string | null, remoteAddress = '203.0.113.9') => app.app.inject({
    method: 'GET', url: '/v1/journeys', remoteAddress, headers: key === null ? {} : { authorization: `Bearer ${key}` },
  })
  t.equal((await from(app.adminKey)).statusCode, 200, 'the valid key, seen once')
  const seen = []
  for (const key of ['jl_nope_aaaaaaaaaaaaaaaaaaaaaaaa', null, 'jl_nope_bbbbbbbbbbbbbbbbbbbbbbbb']) {
    const response = await from(key)
    t.equal(response.statusCode, 401)
    seen.push(remaining(response.headers.ratelimit, 'failed-auth'))
  }
  t.same(seen, [2, 1, 0], 'each failure counts, a missing key too')
  const refused = await from('jl_nope_cccccccccccccccccccccccc')
  t.equal(refused.statusCode, 429, 'the next unknown key is refused before any lookup')
  t.ok(Number(refused.headers['retry-after']) >= 1)
  t.equal((await from(app.adminKey)).statusCode, 200, 'a key this instance found valid is spared')
  t.equal((await from('jl_nope_dddddddddddddddddddddddd', '198.51.100.2')).statusCode, 401, 'another address fails on its own count')
})

t.test('every response carries the headers: 304, 400, 403, 404 and the public routes', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({}) })
  await given(app, ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-01' }, { time: on('2026-04-20') }))
  const first = await app.request({ method: 'GET', url: '/v1/journeys/j-1' })
  const tag = first.headers.etag
  t.equal(typeof tag, 'string')
  const reader = await newKey(app, ['events:read'])
  const responses = {
    notModified: await app.request({ method: 'GET', url: '/v1/journeys/j-1', headers: { 'if-none-match': String(tag) } }),
    invalid: await app.request({ method: 'GET', url: '/v1/journeys?limit=0' }),
    forbidden: await app.request({ method: 'GET', url: '/v1/analytics/promises?groupBy=category', key: reader }),
    missing: await app.request({ method: 'GET', url: '/v1/journeys/j-404' }),
    spec: await app.request({ method: 'GET', url: '/openapi.json', key: null }),
  }
  t.same(Object.fromEntries(Object.entries(responses).map(([name, r]) => [name, r.statusCode])), { notModified: 304, invalid: 400, forbidden: 403, missing: 404, spec: 200 })
  for (const [name, response] of Object.entries(responses)) {
    t.match(response.headers['ratelimit-policy'], /^"[a-z-]+";q=\d+;w=60/, `${name}: RateLimit-Policy`)
    t.match(response.headers.ratelimit, /^"[a-z-]+";r=\d+;t=\d+/, `${name}: RateLimit`)
  }
  t.match(responses.forbidden.headers['ratelimit-policy'], /"key-analytics"/, 'a refused scope counts against the key, in the route\'s budget')
})

t.test('RATE_LIMITS=off counts nothing and sends no headers', once, async (t) => {
  const app = await buildTestApp(t, { rateLimits: limits({ enabled: false, key: { ...roomy, read: 1 } }) })
  for (let i = 0; i < 3; i++) {
    const response = await app.request({ method: 'GET', url: '/v1/journeys' })
    t.equal(response.statusCode, 200)
    t.equal(response.headers.ratelimit, undefined)
  }
})
