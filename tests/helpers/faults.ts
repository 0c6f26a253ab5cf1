// Helpers for the fault suite (tests/faults): the CI PostgreSQL server the suite may stop and
// start, the real service as a child process, bounded polling, a small HTTP client that never
// throws, and SQL views of a tenant's ledger and projections. Every wait is bounded.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { sql, type SQL } from 'drizzle-orm'
import { openDatabase, query, type Database, type Db } from '../../src/store/database.js'
import { asOwner } from './owner.js'
import { testConfig } from './app.js'
import { serviceNodeFlags } from '../../scripts/start-command.js'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface Tap {
  teardown(fn: () => unknown): void
  comment(...args: unknown[]): void
}

// ---------------------------------------------------------------- the CI PostgreSQL server

export interface PgServer {
  bin: string
  dataDir: string
  logFile: string
  owner: string | undefined
  databaseUrl: string
}

/** The server CI started (.ci/run exports these); undefined with the reason when it is not there. */
export function ciPostgres(): PgServer | string {
  const { PGBIN, PGDATA_CI, PGLOG_CI, PGOWNER_CI, DATABASE_URL } = process.env
  if (!DATABASE_URL) return 'DATABASE_URL is not set: these tests need a real PostgreSQL (CI sets it)'
  if (!PGBIN || !PGDATA_CI || !PGLOG_CI) return 'PGBIN, PGDATA_CI and PGLOG_CI are not set: CI exports them for the server it starts'
  return { bin: PGBIN, dataDir: PGDATA_CI, logFile: PGLOG_CI, owner: PGOWNER_CI, databaseUrl: DATABASE_URL }
}

/** The database URL when there is a real PostgreSQL (process-level tests need one). */
export function postgresUrl(): string | undefined {
  return process.env.DATABASE_URL || undefined
}

interface Run { code: number; stdout: string; stderr: string }

function run(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: '/tmp', timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

/** pg_ctl as the data directory's owner (PostgreSQL refuses to run as root), from /tmp. */
function pgCtl(pg: PgServer, args: string[], timeoutMs: number): Promise<Run> {
  const pgCtlPath = `${pg.bin}/pg_ctl`
  const asOwner = process.getuid?.() === 0 && pg.owner && pg.owner !== 'root'
  return asOwner ? run('runuser', ['-u', pg.owner ?? 'postgres', '--', pgCtlPath, ...args], timeoutMs) : run(pgCtlPath, args, timeoutMs)
}

export async function postgresRunning(pg: PgServer): Promise<boolean> {
  const status = await pgCtl(pg, ['-D', pg.dataDir, 'status'], 10_000)
  return status.code === 0
}

/** Stops PostgreSQL the hard way: every backend dies at once, as in a crash. */
export async function stopPostgresImmediately(pg: PgServer): Promise<void> {
  const result = await pgCtl(pg, ['-D', pg.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], 40_000)
  if (result.code !== 0) throw new Error(`pg_ctl stop failed (${result.code}): ${result.stderr || result.stdout}`)
}

/** Starts PostgreSQL again (crash recovery included) and waits until it accepts connections. */
export async function startPostgres(pg: PgServer): Promise<void> {
  const result = await pgCtl(pg, ['-D', pg.dataDir, '-l', pg.logFile, '-w', '-t', '60', 'start'], 70_000)
  if (result.code !== 0 && !(await postgresRunning(pg))) throw new Error(`pg_ctl start failed (${result.code}): ${result.stderr || result.stdout}`)
}

/** For teardowns: whatever a test did, the server is running again afterwards. */
export async function ensurePostgresRunning(pg: PgServer): Promise<void> {
  if (!(await postgresRunning(pg))) await startPostgres(pg)
}

// ---------------------------------------------------------------- bounded waiting

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The promise's value, or undefined when it takes longer than `ms` (the timer does not outlive it). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${attempt + 1} polls)`)
    await sleep(intervalMs)
  }
}

// ---------------------------------------------------------------- HTTP

export interface Answer {
  /** 0 when no HTTP response arrived (connection refused, reset, timeout). */
  status: number
  headers: Headers
  body: unknown
  /** The connection error's code when status is 0. */
  error?: string
  ms: number
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function errorCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (isRecord(e) || e instanceof Error) {
      const code: unknown = Reflect.get(e, 'code')
      if (typeof code === 'string') return code
      if (e instanceof Error && e.name === 'TimeoutError') return 'TIMEOUT'
      e = Reflect.get(e, 'cause')
    } else break
  }
  return error instanceof Error ? error.message : String(error)
}

export interface CallOptions {
  key?: string | null
  body?: unknown
  headers?: Record<string, string>
  timeoutMs?: number
}

/** One HTTP request; never throws: a connection failure is status 0 with its code. */
export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const started = performance.now()
  try {
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null
    } catch {
      parsed = text
    }
    return { status: response.status, headers: response.headers, body: parsed, ms: performance.now() - started }
  } catch (error) {
    return { status: 0, headers: new Headers(), body: null, error: errorCode(error), ms: performance.now() - started }
  }
}

/** What makes a response an RFC 9457 problem document; the list of what is missing (empty: it is one). */
export function problemDefects(answer: { status: number; headers: Headers | Record<string, unknown>; body: unknown }): string[] {
  const contentType = answer.headers instanceof Headers ? answer.headers.get('content-type') : answer.headers['content-type']
  const defects: string[] = []
  if (typeof contentType !== 'string' || !contentType.startsWith('application/problem+json')) defects.push(`content-type ${String(contentType)}`)
  const body = answer.body
  if (!isRecord(body)) return [...defects, 'body is not a JSON object']
  if (typeof body.type !== 'string' || body.type.length === 0) defects.push('no type')
  if (typeof body.title !== 'string' || body.title.length === 0) defects.push('no title')
  if (body.status !== answer.status) defects.push(`status ${String(body.status)} in the body, ${answer.status} on the response`)
  return defects
}

// ---------------------------------------------------------------- the service as a child process

export interface Service {
  baseUrl: string
  port: number
  pid: number
  child: ChildProcess
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  alive(): boolean
  /** Everything it wrote to stdout and stderr (the last 200 kB). */
  output(): string
  /** Sends a signal to this child only (by its pid). */
  signal(signal: NodeJS.Signals): void
}

export const operatorKey = `op_${randomBytes(16).toString('hex')}`

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface ServiceOptions {
  databaseUrl: string
  port?: number
  env?: Record<string, string>
}

/**
 * Starts the service as `npm start` does (its V8 flags, `--import tsx src/server.ts`) and waits until /readyz answers 200. The child is
 * killed (SIGKILL, by pid) at teardown if it is still running.
 */
export async function startService(t: Tap, options: ServiceOptions): Promise<Service> {
  const port = options.port ?? await freePort()
  const child = spawn(process.execPath, [...serviceNodeFlags(repoRoot), '--import', 'tsx', 'src/server.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOURNEY_BOOTSTRAP_KEY: `boot_${randomBytes(16).toString('hex')}`,
      JOURNEY_OPERATOR_KEY: operatorKey,
      // The shared test database verifies the master key at start-up: the one every test uses.
      JOURNEY_MASTER_KEY: testConfig().masterKey ?? '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let done = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true
      resolve({ code, signal })
    })
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('the service did not start')
  t.teardown(async () => {
    if (!done) {
      child.kill('SIGKILL')
      await within(exited, 5_000)
    }
  })
  const baseUrl = `http://127.0.0.1:${port}`
  const service: Service = {
    baseUrl, port, pid, child, exited,
    alive: () => !done,
    output: () => output,
    signal: (signal) => {
      if (!done) process.kill(pid, signal)
    },
  }
  await waitFor(`the service on port ${port} to be ready`, async () => {
    if (done) throw new Error(`the service exited during start-up:\n${output}`)
    const ready = await call(baseUrl, 'GET', '/readyz', { timeoutMs: 2_000 })
    return ready.status === 200 ? true : undefined
  }, 60_000, 100)
  return service
}

/** A tenant of the test's own, created through the operator API; returns its admin key. */
export async function createTenantVia(service: Service, label: string): Promise<{ tenantId: string; adminKey: string }> {
  const answer = await call(service.baseUrl, 'POST', '/v1/tenants', { key: operatorKey, body: { name: `${label} ${randomBytes(5).toString('hex')}` } })
  const body = answer.body
  if (answer.status !== 201 || !isRecord(body) || typeof body.id !== 'string' || typeof body.adminKey !== 'string') {
    throw new Error(`creating a tenant failed: ${answer.status} ${JSON.stringify(body)}`)
  }
  return { tenantId: body.id, adminKey: body.adminKey }
}

// ---------------------------------------------------------------- the ledger and projections in SQL

/** A direct connection for the test's own checks (read through `look`, past row-level security). */
export async function openTestDatabase(t: Tap, databaseUrl: string): Promise<Database> {
  const database = await openDatabase({ databaseUrl, dataDir: 'memory://', poolSize: 3 })
  t.teardown(() => database.close())
  return database
}

export interface StoredEventRow { source: string; id: string; subject: string; streamKind: string; version: number; position: number; type: string }

/** A statement of the test's own checks, past row-level security (see asOwner). */
export function look<T>(db: Db, statement: SQL): Promise<T[]> {
  return asOwner(db, (tx) => query<T>(tx, statement))
}

export function ledgerOf(db: Db, tenantId: string): Promise<StoredEventRow[]> {
  return look<StoredEventRow>(db, sql`
    select source, id, subject, stream_kind as "streamKind", version, position, type from events
    where tenant_id = ${tenantId} order by position`)
}

export async function countEvents(db: Db, tenantId: string): Promise<number> {
  const rows = await look<{ n: number }>(db, sql`select count(*)::int as n from events where tenant_id = ${tenantId}`)
  return rows[0]?.n ?? 0
}

const projectionTables = ['journeys', 'promises', 'vacancies']

/**
 * Every projection row of the tenant, as JSON per table, in key order. Tables a later migration
 * drops are skipped; rows are compared whole, so a column added later is compared too.
 */
export async function projectionSnapshot(db: Db, tenantId: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const table of projectionTables) {
    const exists = await look<{ present: boolean }>(db, sql`select to_regclass(${`public.${table}`}) is not null as present`)
    if (!exists[0]?.present) continue
    const rows = await look<{ row: unknown }>(db, sql`
      select to_jsonb(p) as row from ${sql.identifier(table)} p where tenant_id = ${tenantId} order by id`)
    out[table] = rows.map((r) => r.row)
  }
  return out
}

/** The stream versions of a tenant that are not 1..n without gaps or repeats (empty: all are). */
export async function brokenStreams(db: Db, tenantId: string): Promise<unknown[]> {
  return look(db, sql`
    select stream_kind, subject, count(*)::int as events, count(distinct version)::int as versions, max(version) as max_version
    from events where tenant_id = ${tenantId}
    group by stream_kind, subject
    having count(*) <> count(distinct version) or max(version) <> count(*) or min(version) <> 1`)
}

/** source + id pairs stored more than once (the unique index should make this impossible). */
export async function duplicateEvents(db: Db, tenantId: string): Promise<unknown[]> {
  return look(db, sql`
    select source, id, count(*)::int as copies from events where tenant_id = ${tenantId}
    group by source, id having count(*) > 1`)
}

// ---------------------------------------------------------------- deterministic randomness

/** The suite's seed: FAULT_SEED when set (to reproduce a failure), otherwise a fresh one. */
export function suiteSeed(): number {
  const given = Number(process.env.FAULT_SEED)
  return Number.isSafeInteger(given) && given !== 0 ? given : (Date.now() ^ (process.pid << 8)) >>> 0
}

/** A small seeded PRNG (mulberry32), so a load's shape reproduces from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
