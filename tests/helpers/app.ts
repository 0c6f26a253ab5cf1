// Builds a real app for one test against a real database: a fresh in-memory PGlite, or, when
// DATABASE_URL is set, the shared PostgreSQL with a tenant of the test's own. Torn down with the test.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createTenant } from '../../src/store/tenants.js'

export interface TestClock {
  now: () => Date
  set(iso: string): void
  advanceDays(days: number): void
}

export function testClock(start = '2026-06-01T09:00:00.000Z'): TestClock {
  let current = new Date(start)
  return {
    now: () => new Date(current),
    set: (iso) => { current = new Date(iso) },
    advanceDays: (days) => { current = new Date(current.getTime() + days * 86_400_000) },
  }
}

export interface Tap { teardown(fn: () => unknown): void }

export interface TestApp {
  app: FastifyInstance
  clock: TestClock
  tenantId: string
  adminKey: string
  /** inject with the admin key unless `key` says otherwise (null: no Authorization header). */
  request(options: InjectOptions & { key?: string | null }): Promise<LightMyRequestResponse>
  /** Creates another tenant, for isolation tests; returns its admin key. */
  otherTenant(): Promise<{ tenantId: string; adminKey: string }>
}

export const onPostgres = Boolean(process.env.DATABASE_URL)

const roomyBudgets = { write: 1_000_000, read: 1_000_000, analytics: 1_000_000, export: 1_000_000 }

export function testConfig(overrides: Partial<Config> = {}): Config {
  const defaults = loadConfig()
  return loadConfig({
    // No delivery loop polling beside a test's own requests: webhook tests drain by hand (app.webhooks.drain).
    webhooks: { ...defaults.webhooks, worker: false },
    dataDir: 'memory://',
    logLevel: 'silent',
    dbPoolSize: 5,
    // One fixed master key for every test: the shared PostgreSQL database verifies it at each start.
    masterKey: '6a6f75726e65792d6c65646765722d746573742d6d61737465722d6b6579210a',
    announce: () => {},
    // Budgets out of reach: a test's own requests all come from one address and a few keys
    // (tests/integration/rate-limits.test.ts sets its own).
    rateLimits: { ...defaults.rateLimits, address: 1_000_000, failedAuth: 1_000_000, key: roomyBudgets, tenant: roomyBudgets },
    // A test's app starts while others run beside it: the loop's delay is theirs (tests/unit/fair-shares.test.ts tests shedding).
    loadShedding: { eventLoopDelayMs: 0, heapUsedBytes: 0, rssBytes: 0 },
    ...overrides,
  })
}

export async function buildTestApp(t: Tap, overrides: Partial<Config> = {}): Promise<TestApp> {
  const clock = testClock()
  const app = await buildApp(testConfig({ now: clock.now, ...overrides }))
  t.teardown(() => app.close())
  const newTenant = async () => {
    const created = await createTenant(app.db, `Test ${randomBytes(6).toString('hex')}`)
    return { tenantId: created.id, adminKey: created.adminKey }
  }
  const { tenantId, adminKey } = await newTenant()
  return {
    app, clock, tenantId, adminKey,
    request: ({ key, headers, ...options }) => app.inject({
      ...options,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key ?? adminKey}` }), ...headers },
    }),
    otherTenant: newTenant,
  }
}

let counter = 0
/** A CloudEvent with a fresh id; `time` defaults to the test clock's start. */
export function ce(type: string, subject: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  counter += 1
  return { specversion: '1.0', id: `evt-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`, source: 'test:hris', type, subject, data, ...extra }
}
