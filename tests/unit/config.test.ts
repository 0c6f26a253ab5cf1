// Knobs are configuration (group commit, work limits): defaults when unset, the environment's values when
// valid, and a ConfigError naming the variable when not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('append groups default to two groups of up to 200 events; batches of 50 run alone', async (t) => {
  t.same(loadConfig({}, {}).appendGroups, { concurrency: 2, maxEvents: 200, ownBatch: 50, maxQueuedEvents: 10_000 })
})

t.test('the environment sets each knob', async (t) => {
  const config = loadConfig({}, { APPEND_GROUP_CONCURRENCY: '4', APPEND_GROUP_MAX_EVENTS: '1000', APPEND_GROUP_OWN_BATCH: '1' })
  t.same(config.appendGroups, { concurrency: 4, maxEvents: 1000, ownBatch: 1, maxQueuedEvents: 10_000 })
})

t.test('values out of bounds are refused by name', async (t) => {
  const cases: Record<string, string>[] = [
    { APPEND_GROUP_CONCURRENCY: '0' },
    { APPEND_GROUP_CONCURRENCY: '33' },
    { APPEND_GROUP_MAX_EVENTS: '1001' },
    { APPEND_GROUP_OWN_BATCH: '0' },
    { APPEND_GROUP_OWN_BATCH: 'many' },
  ]
  for (const env of cases) {
    const [name] = Object.keys(env)
    t.throws(() => loadConfig({}, env), { constructor: ConfigError, message: new RegExp(`${name}`) }, JSON.stringify(env))
  }
})

t.test('work limits and request timeouts: defaults, the environment, and bounds', async (t) => {
  const defaults = loadConfig({}, {})
  t.same(defaults.workLimits, { statementMs: 15_000, longStatementMs: 120_000, idleInTransactionMs: 30_000 })
  t.same([defaults.requestTimeoutMs, defaults.connectionTimeoutMs], [30_000, 180_000])
  const set = loadConfig({}, { DB_STATEMENT_TIMEOUT_MS: '2000', DB_LONG_STATEMENT_TIMEOUT_MS: '60000', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '10000', CONNECTION_TIMEOUT_MS: '90000' })
  t.same(set.workLimits, { statementMs: 2_000, longStatementMs: 60_000, idleInTransactionMs: 5_000 })
  t.same([set.requestTimeoutMs, set.connectionTimeoutMs], [10_000, 90_000])
  for (const env of [{ DB_STATEMENT_TIMEOUT_MS: '0' }, { REQUEST_TIMEOUT_MS: '10' }]) {
    t.throws(() => loadConfig({}, env), { constructor: ConfigError, message: new RegExp(Object.keys(env)[0] ?? '') }, JSON.stringify(env))
  }
})

t.test('a bootstrap key shaped for another tenant is refused by name, not stored where it never works', async (t) => {
  t.throws(() => loadConfig({}, { JOURNEY_BOOTSTRAP_KEY: `jl_acme_${'x'.repeat(30)}` }), /JOURNEY_BOOTSTRAP_KEY names tenant "acme"/)
  t.equal(loadConfig({}, { JOURNEY_BOOTSTRAP_KEY: `jl_default_${'x'.repeat(30)}` }).bootstrapKey, `jl_default_${'x'.repeat(30)}`)
  t.equal(loadConfig({}, { JOURNEY_BOOTSTRAP_KEY: 'an-operator-chosen-secret-of-any-shape' }).bootstrapKey, 'an-operator-chosen-secret-of-any-shape', 'another shape belongs to default')
})

t.test('secrets come from <NAME>_FILE as container platforms mount them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jl-secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'operator'), 'op-secret-from-a-file-0123456789\n')
  writeFileSync(join(dir, 'db'), 'postgres://u:p@db:5432/journey\n')
  const config = loadConfig({}, { JOURNEY_OPERATOR_KEY_FILE: join(dir, 'operator'), DATABASE_URL_FILE: join(dir, 'db') })
  t.same({ operator: config.operatorKey, db: config.databaseUrl }, { operator: 'op-secret-from-a-file-0123456789', db: 'postgres://u:p@db:5432/journey' }, 'read and trimmed')
  t.throws(() => loadConfig({}, { JOURNEY_OPERATOR_KEY_FILE: join(dir, 'missing') }), /JOURNEY_OPERATOR_KEY_FILE .* cannot be read/)
  t.throws(() => loadConfig({}, { JOURNEY_OPERATOR_KEY: 'x'.repeat(20), JOURNEY_OPERATOR_KEY_FILE: join(dir, 'operator') }), /set JOURNEY_OPERATOR_KEY or JOURNEY_OPERATOR_KEY_FILE, not both/)
})

t.test('rate limits: defaults, per-tenant overrides as JSON, refused by name when malformed', async (t) => {
  const defaults = loadConfig({}, {}).rateLimits
  t.match(defaults, { enabled: true, windowSeconds: 60, key: { write: 3_000, read: 6_000, analytics: 120, export: 30 }, address: 600, failedAuth: 60, tenantOverrides: {} })
  const set = loadConfig({}, { RATE_LIMITS: 'off', RATE_LIMIT_KEY_READ: '10', RATE_LIMIT_TENANT_OVERRIDES: '{"acme": {"key": {"read": 20000}}}' }).rateLimits
  t.same([set.enabled, set.key.read, set.tenantOverrides], [false, 10, { acme: { key: { read: 20_000 } } }])
  for (const overrides of ['{', '{"acme": {"key": {"reads": 1}}}', '{"acme": {"tenant": {"read": 0}}}', '[]']) {
    t.throws(() => loadConfig({}, { RATE_LIMIT_TENANT_OVERRIDES: overrides }), { constructor: ConfigError, message: /RATE_LIMIT_TENANT_OVERRIDES/ }, overrides)
  }
  t.equal(loadConfig({}, {}).trustProxy, undefined, 'no proxy trusted by default')
  t.same([loadConfig({}, { TRUST_PROXY: 'true' }).trustProxy, loadConfig({}, { TRUST_PROXY: '10.0.0.0/8' }).trustProxy], [true, '10.0.0.0/8'])
})

t.test('fair shares and load shedding: defaults follow the pool and the database, the environment sets them', async (t) => {
  const embedded = loadConfig({}, {})
  t.same(embedded.tenantShare, { connections: 8, waiting: 500 }, 'three quarters of the default pool of 10')
  t.same(embedded.loadShedding, { eventLoopDelayMs: 0, heapUsedBytes: 0, rssBytes: 0 }, 'PGlite blocks the loop itself: no delay check')
  const server = loadConfig({}, { DATABASE_URL: 'postgres://x@127.0.0.1/db', DB_POOL_SIZE: '20', DB_TENANT_QUEUE: '10', LOAD_SHED_RSS_BYTES: '500000000' })
  t.same(server.tenantShare, { connections: 15, waiting: 10 })
  t.same(server.loadShedding, { eventLoopDelayMs: 1_000, heapUsedBytes: 0, rssBytes: 500_000_000 })
  t.equal(loadConfig({}, { DB_POOL_SIZE: '4', DB_TENANT_CONNECTIONS: '9' }).tenantShare.connections, 4, 'never more than the pool')
  t.equal(loadConfig({}, {}).appendGroups.maxQueuedEvents, 10_000)
})
