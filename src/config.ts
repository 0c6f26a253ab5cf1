// The service's configuration: read from the environment once, validated, typed. Tests build
// their own Config with `loadConfig({...overrides})`; nothing else reads process.env.
import { readFileSync } from 'node:fs'
import { defaultTenantId, tenantOfKey } from './domain/keys.js'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { WorkLimits } from './store/database.js'
import { maxBatch } from './domain/cloudevent.js'
import { defaultThresholds, readingsKept, type SignalThresholds } from './domain/signals.js'

const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  MIGRATION_DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ default: './data' }),
  DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  JOURNEY_BOOTSTRAP_KEY: Type.Optional(Type.String({ minLength: 16 })),
  JOURNEY_OPERATOR_KEY: Type.Optional(Type.String({ minLength: 16 })),
  JOURNEY_MASTER_KEY: Type.Optional(Type.String({ minLength: 32 })),
  JOURNEY_MASTER_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  JOURNEY_PREVIOUS_MASTER_KEYS: Type.Optional(Type.String({ minLength: 32 })),
  JOURNEY_RETENTION_FREE_TEXT_MONTHS: Type.Optional(Type.Integer({ minimum: 1, maximum: 1200 })),
  // Two groups per tenant at once, one filling while the other commits: more only split the waiting
  // requests into smaller, costlier groups, and leave the pool to reads and other tenants (measured: commit 50bb315).
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
  DB_LONG_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 120_000 }),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 30_000 }),
  AUTH_CACHE_SIZE: Type.Integer({ minimum: 10, maximum: 1_000_000, default: 10_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 180_000 }),
  APPEND_GROUP_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 32, default: 2 }),
  APPEND_GROUP_MAX_EVENTS: Type.Integer({ minimum: 1, maximum: maxBatch, default: 200 }),
  APPEND_GROUP_OWN_BATCH: Type.Integer({ minimum: 1, maximum: maxBatch, default: 50 }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'false' }),
  WEBHOOK_WORKER: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  METRICS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  WEBHOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 600_000, default: 1_000 }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 15_000 }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
  JOURNEY_SQL_CAPTURE_PATH: Type.Optional(Type.String({ minLength: 1 })),
  // The thresholds of the signals judged at read time (src/domain/signals.ts); issue 15 set the defaults.
  SIGNAL_EXPECTATIONS_DROP: Type.Integer({ minimum: 1, maximum: 4, default: defaultThresholds.expectationsDrop }),
  SIGNAL_EXPECTATIONS_READINGS: Type.Integer({ minimum: 2, maximum: readingsKept, default: defaultThresholds.expectationsReadings }),
  SIGNAL_UNRECOGNISED_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: defaultThresholds.unrecognisedDays }),
  SIGNAL_STALLED_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: defaultThresholds.stalledDays }),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  DB_TENANT_CONNECTIONS: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  DB_TENANT_QUEUE: Type.Integer({ minimum: 0, maximum: 100_000, default: 500 }),
  APPEND_QUEUE_MAX_EVENTS: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  LOAD_SHED_EVENT_LOOP_DELAY_MS: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  LOAD_SHED_HEAP_USED_BYTES: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, default: 0 }),
  LOAD_SHED_RSS_BYTES: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, default: 0 }),
  RATE_LIMITS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
  RATE_LIMIT_KEY_WRITE: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 3_000 }),
  RATE_LIMIT_KEY_READ: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 6_000 }),
  RATE_LIMIT_KEY_ANALYTICS: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 120 }),
  RATE_LIMIT_KEY_EXPORT: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 30 }),
  RATE_LIMIT_TENANT_WRITE: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 6_000 }),
  RATE_LIMIT_TENANT_READ: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 12_000 }),
  RATE_LIMIT_TENANT_ANALYTICS: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 300 }),
  RATE_LIMIT_TENANT_EXPORT: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 60 }),
  RATE_LIMIT_ADDRESS: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 600 }),
  RATE_LIMIT_FAILED_AUTH: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 60 }),
  RATE_LIMIT_TENANT_OVERRIDES: Type.Optional(Type.String({ minLength: 2 })),
})
type Env = Static<typeof EnvSchema>
const checkEnv = Compile(EnvSchema)

const budgetQuota = Type.Integer({ minimum: 1, maximum: 100_000_000 })
const PartialBudgets = Type.Object({
  write: Type.Optional(budgetQuota), read: Type.Optional(budgetQuota), analytics: Type.Optional(budgetQuota), export: Type.Optional(budgetQuota),
}, { additionalProperties: false })
const TenantOverridesSchema = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.Object({
  key: Type.Optional(PartialBudgets), tenant: Type.Optional(PartialBudgets),
}, { additionalProperties: false }))
const checkOverrides = Compile(TenantOverridesSchema)

/** The kinds of work budgeted apart: a flood of one kind leaves the others their budget. */
export type BudgetKind = 'write' | 'read' | 'analytics' | 'export'
export type Budgets = Record<BudgetKind, number>

/** Rate limits (src/plugins/rate-limits.ts): requests per window, counted in this instance's memory. */
export interface RateLimitsConfig {
  enabled: boolean
  windowSeconds: number
  /** Per API key (by its id). */
  key: Budgets
  /** Per tenant, all its keys together. */
  tenant: Budgets
  /** Per client address, for requests without an API key (public routes, the operator's). */
  address: number
  /** Per client address, failed authentications; past it, keys this instance has not seen valid get no lookup. */
  failedAuth: number
  /** Budgets of some tenants set apart from the defaults, by tenant id (RATE_LIMIT_TENANT_OVERRIDES, JSON). */
  tenantOverrides: Record<string, { key?: Partial<Budgets>; tenant?: Partial<Budgets> }>
}

/** RATE_LIMIT_TENANT_OVERRIDES: `{"<tenant id>": {"key": {"read": 20000}, "tenant": {"write": 50000}}}`. */
export function parseTenantOverrides(text: string | undefined): RateLimitsConfig['tenantOverrides'] {
  if (text === undefined) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ConfigError('invalid configuration: RATE_LIMIT_TENANT_OVERRIDES is not JSON')
  }
  if (!checkOverrides.Check(value)) {
    const first = [...checkOverrides.Errors(value)][0]
    throw new ConfigError(`invalid configuration: RATE_LIMIT_TENANT_OVERRIDES${first ? ` ${first.instancePath} ${first.message}` : ''}; expected {"<tenant>": {"key"|"tenant": {"write"|"read"|"analytics"|"export": <integer>}}}`)
  }
  return value
}

/** Group commit of appends (src/store/batcher.ts), per tenant. */
export interface AppendGroupsConfig {
  /** Groups running at once, each a transaction on a connection of its own. */
  concurrency: number
  /** A group takes no further request once it holds this many events. */
  maxEvents: number
  /** A request with at least this many events is a batch already: it runs alone, at once. */
  ownBatch: number
  /** Events one tenant may have waiting for a group; past it, appends answer 503 with Retry-After. */
  maxQueuedEvents: number
}

/** Outgoing webhooks (routes/webhooks.ts, src/webhooks/). */
export interface WebhooksConfig {
  /** Allows receivers on private, loopback and link-local addresses, and plain http (development and tests). */
  allowPrivateNetworks: boolean
  /** Runs the delivery worker in this process; off leaves delivery to `journey worker` (or to tests, which drain by hand). */
  worker: boolean
  /** How often the worker looks for due deliveries when it found none. */
  pollIntervalMs: number
  /** An attempt that has not answered within this fails. */
  timeoutMs: number
  /** Deliveries claimed and sent at once, per round. */
  concurrency: number
}

export interface Config {
  port: number
  host: string
  /** postgres.js connection URL; absent means the embedded PGlite in `dataDir`. */
  databaseUrl?: string
  /**
   * The login that owns the tables, for migrations and maintenance (VACUUM, ANALYZE); default
   * databaseUrl. The service's own sessions run as journey_app whatever login they use.
   */
  migrationDatabaseUrl?: string
  /** PGlite data directory; 'memory://' keeps it in memory (tests). */
  dataDir: string
  dbPoolSize: number
  logLevel: string
  bodyLimit: number
  shutdownGraceMs: number
  bootstrapKey?: string
  operatorKey?: string
  /**
   * Wraps every person's data key (32 bytes, hex or base64). Required with DATABASE_URL; on the
   * embedded default one is generated into the data directory on first start.
   */
  masterKey?: string
  /**
   * Where the master key is read from when JOURNEY_MASTER_KEY is not set; on the embedded default
   * it is generated there on the first start. Never inside DATA_DIR: a copy of the data must not
   * carry the key that opens it (default: `<DATA_DIR>.master.key`, beside the directory).
   */
  masterKeyFile?: string
  /** Master keys being rotated away from, comma-separated: they still unwrap, the current one wraps. */
  previousMasterKeys?: string
  /** Free-text personal fields are erased this many months after a person's last journey ended; unset keeps them. */
  retentionFreeTextMonths?: number
  appendGroups: AppendGroupsConfig
  /** How long request work may hold the database (see WorkLimits in store/database.ts). */
  workLimits: WorkLimits
  /** Fastify's requestTimeout: a request must arrive whole within it (a slow sender holds no socket for ever). */
  requestTimeoutMs: number
  /** API keys cached, valid and unknown each apart (see plugins/auth.ts). */
  authCacheSize: number
  /** Fastify's connectionTimeout: a socket with no traffic this long closes; above the longest work, which sends nothing meanwhile. */
  connectionTimeoutMs: number
  webhooks: WebhooksConfig
  /** GET /metrics: off serves nothing (404); with a token, only `Authorization: Bearer <token>` reads it. */
  metrics: { enabled: boolean; token?: string }
  /** CI only: every statement run, with its parameters, role and tenant, is appended here (JSON lines) for the Citus checks (.ci/citus). */
  sqlCapturePath?: string
  /** Thresholds of the signals judged at read time: a change applies to every journey at once, no rebuild. */
  signals: SignalThresholds
  rateLimits: RateLimitsConfig
  /** Transactions one tenant may run at once on the pool, and wait with (see store/tenant-shares.ts). */
  tenantShare: { connections: number; waiting: number }
  /**
   * @fastify/under-pressure: past any of these (0: not checked), requests answer 503 with
   * Retry-After, except the liveness probe.
   */
  loadShedding: { eventLoopDelayMs: number; heapUsedBytes: number; rssBytes: number }
  /**
   * Fastify's trustProxy: whose X-Forwarded-For gives the client's address (budgets per address).
   * true (any) or the proxies' addresses and CIDRs, comma-separated; absent: the socket's peer is the client.
   */
  trustProxy?: boolean | string
  /** The clock every domain rule reads; tests inject a fixed one. */
  now: () => Date
  /** Where the one-time generated admin key is announced (stdout by default). */
  announce: (message: string) => void
}

const numeric = new Set([
  'PORT', 'DB_POOL_SIZE', 'BODY_LIMIT', 'SHUTDOWN_GRACE_MS', 'JOURNEY_RETENTION_FREE_TEXT_MONTHS',
  'APPEND_GROUP_CONCURRENCY', 'APPEND_GROUP_MAX_EVENTS', 'APPEND_GROUP_OWN_BATCH',
  'SIGNAL_EXPECTATIONS_DROP', 'SIGNAL_EXPECTATIONS_READINGS', 'SIGNAL_UNRECOGNISED_DAYS', 'SIGNAL_STALLED_DAYS',
  'WEBHOOK_POLL_INTERVAL_MS', 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_CONCURRENCY', 'DB_STATEMENT_TIMEOUT_MS', 'DB_LONG_STATEMENT_TIMEOUT_MS', 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'CONNECTION_TIMEOUT_MS', 'AUTH_CACHE_SIZE',
  'DB_TENANT_CONNECTIONS', 'DB_TENANT_QUEUE', 'APPEND_QUEUE_MAX_EVENTS', 'LOAD_SHED_EVENT_LOOP_DELAY_MS', 'LOAD_SHED_HEAP_USED_BYTES', 'LOAD_SHED_RSS_BYTES',
  'RATE_LIMIT_WINDOW_SECONDS', 'RATE_LIMIT_KEY_WRITE', 'RATE_LIMIT_KEY_READ', 'RATE_LIMIT_KEY_ANALYTICS', 'RATE_LIMIT_KEY_EXPORT',
  'RATE_LIMIT_TENANT_WRITE', 'RATE_LIMIT_TENANT_READ', 'RATE_LIMIT_TENANT_ANALYTICS', 'RATE_LIMIT_TENANT_EXPORT', 'RATE_LIMIT_ADDRESS', 'RATE_LIMIT_FAILED_AUTH',
])

export class ConfigError extends Error {}

/** Secrets that may come from a file named by `<NAME>_FILE`, as container platforms mount them. */
const secretsFromFiles = ['DATABASE_URL', 'MIGRATION_DATABASE_URL', 'JOURNEY_BOOTSTRAP_KEY', 'JOURNEY_OPERATOR_KEY', 'JOURNEY_MASTER_KEY', 'JOURNEY_PREVIOUS_MASTER_KEYS', 'METRICS_TOKEN']

/** The value of a variable, or the trimmed content of the file its `_FILE` twin names. */
function valueOf(source: Record<string, string | undefined>, key: string): string | undefined {
  const file = secretsFromFiles.includes(key) ? source[`${key}_FILE`] : undefined
  if (source[key] !== undefined && source[key] !== '' && file) throw new ConfigError(`invalid configuration: set ${key} or ${key}_FILE, not both`)
  if (!file) return source[key]
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${key}_FILE (${file}) cannot be read: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = valueOf(source, key)
    if (value === undefined || value === '') continue
    raw[key] = numeric.has(key) && /^\d+$/.test(value) ? Number(value) : value
  }
  const withDefaults = checkEnv.Default(raw)
  const errors = [...checkEnv.Errors(withDefaults)]
  if (errors.length > 0) {
    const messages = new Set(errors.map((e) => `${e.instancePath.slice(1) || 'environment'} ${e.message}`))
    throw new ConfigError(`invalid configuration: ${[...messages].join('; ')}`)
  }
  const env = checkEnv.Parse(withDefaults)
  // A key shaped jl_<tenant>_... is looked up in that tenant; the bootstrap key becomes the admin key of `default`.
  const named = env.JOURNEY_BOOTSTRAP_KEY === undefined ? defaultTenantId : tenantOfKey(env.JOURNEY_BOOTSTRAP_KEY)
  if (named !== defaultTenantId) {
    throw new ConfigError(`invalid configuration: JOURNEY_BOOTSTRAP_KEY names tenant "${named}" (jl_${named}_...), but it becomes the admin key of tenant "${defaultTenantId}": use jl_${defaultTenantId}_<secret of 20+ characters>, or a key of another shape`)
  }
  return env
}

function trustedProxies(value: string | undefined): boolean | string | undefined {
  if (value === undefined || value === 'false') return undefined
  return value === 'true' ? true : value
}

export function loadConfig(overrides: Partial<Config> = {}, source: Record<string, string | undefined> = process.env): Config {
  const env = parseEnv(source)
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    migrationDatabaseUrl: env.MIGRATION_DATABASE_URL,
    dataDir: env.DATA_DIR,
    dbPoolSize: env.DB_POOL_SIZE,
    logLevel: env.LOG_LEVEL,
    bodyLimit: env.BODY_LIMIT,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    bootstrapKey: env.JOURNEY_BOOTSTRAP_KEY,
    operatorKey: env.JOURNEY_OPERATOR_KEY,
    masterKey: env.JOURNEY_MASTER_KEY,
    masterKeyFile: env.JOURNEY_MASTER_KEY_FILE,
    previousMasterKeys: env.JOURNEY_PREVIOUS_MASTER_KEYS,
    retentionFreeTextMonths: env.JOURNEY_RETENTION_FREE_TEXT_MONTHS,
    appendGroups: {
      concurrency: env.APPEND_GROUP_CONCURRENCY,
      maxEvents: env.APPEND_GROUP_MAX_EVENTS,
      ownBatch: env.APPEND_GROUP_OWN_BATCH,
      maxQueuedEvents: env.APPEND_QUEUE_MAX_EVENTS,
    },
    // Three quarters of the pool by default: a tenant in a flood leaves the rest to the others.
    tenantShare: { connections: Math.min(env.DB_POOL_SIZE, env.DB_TENANT_CONNECTIONS ?? Math.ceil(env.DB_POOL_SIZE * 3 / 4)), waiting: env.DB_TENANT_QUEUE },
    // PGlite runs its statements on this event loop: there the delay measures the database, not an overload.
    loadShedding: { eventLoopDelayMs: env.LOAD_SHED_EVENT_LOOP_DELAY_MS ?? (env.DATABASE_URL ? 1_000 : 0), heapUsedBytes: env.LOAD_SHED_HEAP_USED_BYTES, rssBytes: env.LOAD_SHED_RSS_BYTES },
    workLimits: {
      statementMs: env.DB_STATEMENT_TIMEOUT_MS,
      longStatementMs: env.DB_LONG_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    authCacheSize: env.AUTH_CACHE_SIZE,
    connectionTimeoutMs: env.CONNECTION_TIMEOUT_MS,
    metrics: { enabled: env.METRICS === 'on', token: env.METRICS_TOKEN },
    sqlCapturePath: env.JOURNEY_SQL_CAPTURE_PATH,
    webhooks: {
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
      worker: env.WEBHOOK_WORKER === 'on',
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
    },
    signals: {
      expectationsDrop: env.SIGNAL_EXPECTATIONS_DROP,
      expectationsReadings: env.SIGNAL_EXPECTATIONS_READINGS,
      unrecognisedDays: env.SIGNAL_UNRECOGNISED_DAYS,
      stalledDays: env.SIGNAL_STALLED_DAYS,
    },
    rateLimits: {
      enabled: env.RATE_LIMITS === 'on',
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      key: { write: env.RATE_LIMIT_KEY_WRITE, read: env.RATE_LIMIT_KEY_READ, analytics: env.RATE_LIMIT_KEY_ANALYTICS, export: env.RATE_LIMIT_KEY_EXPORT },
      tenant: { write: env.RATE_LIMIT_TENANT_WRITE, read: env.RATE_LIMIT_TENANT_READ, analytics: env.RATE_LIMIT_TENANT_ANALYTICS, export: env.RATE_LIMIT_TENANT_EXPORT },
      address: env.RATE_LIMIT_ADDRESS,
      failedAuth: env.RATE_LIMIT_FAILED_AUTH,
      tenantOverrides: parseTenantOverrides(env.RATE_LIMIT_TENANT_OVERRIDES),
    },
    trustProxy: trustedProxies(env.TRUST_PROXY),
    now: () => new Date(),
    announce: (message) => process.stdout.write(`${message}\n`),
    ...overrides,
  }
}
