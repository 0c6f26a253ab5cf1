// `npm run bench`: in one run, the machine's limits (pgbench inserts, a bare Fastify route) and the
// service's scenarios beside them, on a PostgreSQL seeded once by `journey seed`; then a projection
// rebuild and the embedded PGlite default. Writes bench/results.json and bench/results.md.
//   DATABASE_URL=postgres://... npm run bench -- [--quick] [--journeys N] [--only a,b] [--profile]
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { answersQuickly, drain, probe, runLoad, type LoadResult, type Scenario } from './load.js'
import { createScratchTable, dropScratchTable, findPgbench, pgbenchVersion, runPgbench, type PgbenchResult } from './pgbench.js'
import { cliHasSeed, createBenchKey, journeyCli, sampleJourneyIds, seedTenant, tenantState, type Cli } from './prefill.js'
import { runPglite } from './pglite.js'
import { postmasterOf } from './cpu.js'
import { analyticsUnderWrites, coldAnalytics, type AnalyticsResult } from './analytics.js'
import { runJourneyLength, type JourneyLengthResult } from './journey-length.js'
import { killAllNow, stopAll, stopChild } from './processes.js'
import { checks, markdown, type Machine, type RebuildResult, type Results } from './report.js'
import { serviceNodeFlags } from '../scripts/start-command.js'
import { benchKeys, buildCompiled, serviceEnv, startHello, startService, type Running } from './service.js'
import { runTenantFlood, type TenantFloodResult } from './tenant-flood.js'
import { batchIngest, hello, helloDatabase, journeyReads, overduePromises, promiseAnalytics, runTag, singleIngest, tenantListing, type Workload } from './workload.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    journeys: { type: 'string' },
    seed: { type: 'string', default: '1' },
    tenant: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '50' },
    'pglite-journeys': { type: 'string' },
    'skip-pglite': { type: 'boolean', default: false },
    'skip-rebuild': { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    compiled: { type: 'boolean', default: false },
    note: { type: 'string' },
    'service-env': { type: 'string', multiple: true },
  },
})

const positive = (raw: string, flag: string) => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} takes a positive integer, not ${raw}`)
  return n
}
const quick = args.quick ?? false
const settings = {
  journeys: positive(args.journeys ?? (quick ? '2000' : '100000'), '--journeys'),
  seed: positive(args.seed ?? '1', '--seed'),
  durationS: positive(args.duration ?? (quick ? '3' : '10'), '--duration'),
  warmupS: Number(args.warmup ?? (quick ? '1' : '2')),
  connections: positive(args.connections ?? '50', '--connections'),
  pgliteJourneys: positive(args['pglite-journeys'] ?? (quick ? '300' : '2000'), '--pglite-journeys'),
  pgbenchClients: 16,
  // Issue 14: a tenant of its own, written to at 50 events/s while every grouping is timed.
  analytics: { journeys: quick ? 2000 : 20000, clients: 4, secondsPerGrouping: quick ? 2 : 5, writesPerSec: 50 },
  // Few requests: every append grows the journeys compared, and the long one should stay near 1 000.
  journeyLength: { longEvents: 1000, shortEvents: 5, rounds: quick ? 3 : 5, requestsPerRound: quick ? 30 : 40, warmupRequests: 5 },
}
const tenantId = args.tenant ?? `bench-${settings.journeys}`
const analyticsTenant = `bench-analytics-${settings.analytics.journeys}`
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim())) : null
const wanted = (name: string) => only === null || only.has(name) || (name.startsWith('pglite-') && only.has('pglite'))

function localDatabase(url: string | undefined): string {
  if (!url) {
    log('DATABASE_URL is not set: the benchmark needs a real PostgreSQL (postgres://user@127.0.0.1:PORT/db). Refusing to run.')
    process.exit(2)
  }
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(host)) {
    log(`DATABASE_URL points at ${host}: all load goes to this machine only (127.0.0.1). Refusing to run.`)
    process.exit(2)
  }
  return url
}
const databaseUrl = localDatabase(process.env.DATABASE_URL)

const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })

// Every child dies with the run, whatever ends it; a watchdog bounds the whole run.
process.on('exit', killAllNow)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`)
    killAllNow()
    // The scratch table goes too (bounded: the database may be what is failing).
    const dropped = sql`drop table if exists bench_events`.then(() => sql.end({ timeout: 2 })).catch(() => {})
    void Promise.race([dropped, new Promise((resolve) => setTimeout(resolve, 5_000))]).finally(() => process.exit(130))
  })
}
const watchdogMs = (quick ? 30 : 240) * 60_000
setTimeout(() => { log(`still running after ${watchdogMs / 60_000} min: giving up`); killAllNow(); process.exit(3) }, watchdogMs).unref()

const keys = benchKeys(process.env)
// Experiments only (`--service-env DB_POOL_SIZE=30`); the reported run uses the service's defaults.
const serviceOverrides = Object.fromEntries((args['service-env'] ?? []).map((pair) => {
  const at = pair.indexOf('=')
  if (at < 1) throw new Error(`--service-env takes NAME=VALUE, not ${pair}`)
  return [pair.slice(0, at), pair.slice(at + 1)]
}))
// The seeded tenant's budgets are set out of the load's reach (the scenarios measure throughput, not
// the rate limits). The flooding tenant of tenant-flood gets a read budget a quick run spends in its
// first second, so the flood is measured mostly as the refusals (429) a spent budget answers.
const unbounded = { write: 100_000_000, read: 100_000_000, analytics: 100_000_000, export: 100_000_000 }
const floodTenant = 'bench-flood'
const budgets = JSON.stringify({ [tenantId]: { key: unbounded, tenant: unbounded }, [analyticsTenant]: { key: unbounded, tenant: unbounded }, [floodTenant]: { key: { read: 100 }, tenant: { read: 200 } } })
const pgEnv = serviceEnv({ DATABASE_URL: databaseUrl, JOURNEY_MASTER_KEY: keys.masterKey, JOURNEY_BOOTSTRAP_KEY: keys.bootstrapKey, RATE_LIMIT_TENANT_OVERRIDES: budgets, ...serviceOverrides })
const cli: Cli = { root, env: pgEnv }
const skipped: { name: string; why: string }[] = []

let postmasterPid: number | null = null
let compiled: { dir: string; entry: string } | undefined

async function measure(scenario: Scenario, target: Running, into: LoadResult[], skips = skipped, postmaster = postmasterPid): Promise<LoadResult | null> {
  if (!wanted(scenario.name)) return null
  try {
    const first = await probe(scenario, target.baseUrl)
    if (!first.ok) {
      skips.push({ name: scenario.name, why: first.status === 404 && /Route .* not found/.test(first.body) ? 'the route does not exist in this build' : `a single request answered ${first.status}: ${first.body}` })
      log(`${scenario.name}: skipped (${first.status})`)
      return null
    }
  } catch (error) {
    skips.push({ name: scenario.name, why: `a single request failed: ${error instanceof Error ? error.message : String(error)}` })
    log(`${scenario.name}: skipped (${error instanceof Error ? error.message : String(error)})`)
    return null
  }
  log(`${scenario.name}: ${settings.warmupS} s warm-up + ${settings.durationS} s at ${settings.connections} connections`)
  const result = await runLoad(scenario, { baseUrl: target.baseUrl, connections: settings.connections, durationS: settings.durationS, warmupS: settings.warmupS, pid: target.child.pid, postmasterPid: postmaster })
  // Requests autocannon stopped waiting for are still being served: the next scenario starts when they are done.
  const drained = await drain(async () => (postmaster === null || (await serviceQueriesRunning()) === 0) && (await answersQuickly(target.baseUrl, target.readyPath)), drainTimeoutMs)
  result.drainMs = drained.ms
  log(`${scenario.name}: ${result.reqPerSec} req/s${result.eventsPerSec !== null ? `, ${result.eventsPerSec} events/s` : ''}, p99 ${result.latencyMs.p99} ms, peak RSS ${result.peakRssMb} MB, non-2xx ${result.non2xx}; ` +
    `CPU ms/request: service ${result.cpu.serviceMsPerRequest}, database ${result.cpu.databaseMsPerRequest}, autocannon ${result.cpu.loadGeneratorMsPerRequest}; ` +
    `in-flight work done ${drained.ms} ms after the run${drained.idle ? '' : ' (still busy: gave up waiting)'}`)
  into.push(result)
  return result
}

const drainTimeoutMs = (quick ? 2 : 5) * 60_000

/** Statements of the service (application_name journey-ledger) running now. */
async function serviceQueriesRunning(): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where application_name = 'journey-ledger' and state not in ('idle') and pid <> pg_backend_pid()`
  return row?.n ?? 0
}

async function pgbench(kind: 'single' | 'batch', pgbenchPath: string): Promise<PgbenchResult | null> {
  if (!wanted(`pgbench-${kind}`)) return null
  log(`pgbench-${kind}: ${settings.pgbenchClients} clients, ${settings.durationS} s`)
  const result = await runPgbench(sql, kind, { pgbench: pgbenchPath, databaseUrl, clients: settings.pgbenchClients, durationS: settings.durationS, cwd: root, postmasterPid })
  log(`pgbench-${kind}: ${result.rowsPerSec} rows/s (${result.tps} tx/s); database CPU ms/row ${result.databaseCpuMsPerRow}`)
  return result
}

async function machine(pgbenchPath: string): Promise<Machine> {
  const [version] = await sql<{ v: string }[]>`select version() as v`
  const settingRows = await sql<{ name: string; setting: string }[]>`
    select name, current_setting(name) as setting from pg_settings
    where name in ('shared_buffers', 'work_mem', 'synchronous_commit', 'fsync', 'max_connections', 'wal_buffers', 'checkpoint_timeout', 'max_wal_size')`
  const cpu = cpus()
  return {
    cpuModel: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGb: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    os: `${type()} ${release()}`, node: process.version, postgres: (version?.v ?? 'unknown').split(' on ')[0] ?? 'unknown',
    postgresSettings: Object.fromEntries(settingRows.map((r) => [r.name, r.setting])),
    pgbench: await pgbenchVersion(pgbenchPath, root), loadAverageStart: loadavg(), loadAverageEnd: [], note: args.note ?? null,
  }
}

/** Before the ingest scenarios, while the database is quiet: these are latencies of single requests. */
async function lengthComparison(service: Running, workload: Workload): Promise<JourneyLengthResult | null> {
  const names = ['append-long-short', 'read-long-short']
  if (!names.some(wanted)) return null
  try {
    return await runJourneyLength({ baseUrl: service.baseUrl, apiKey: workload.apiKey, tag: workload.tag, settings: settings.journeyLength, wanted, log })
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    for (const name of names.filter(wanted)) skipped.push({ name, why })
    log(`journey length: skipped (${why})`)
    return null
  }
}

/** The analytics tenant (seeded once, reused), a writer on it, and every grouping timed meanwhile. */
async function analyticsWhileWriting(service: Running, tag: string): Promise<Omit<AnalyticsResult, 'cold'> | null> {
  if (!wanted('analytics-under-writes')) return null
  const tenant = analyticsTenant
  let state = await tenantState(sql, tenant)
  if (state.journeys < settings.analytics.journeys) {
    if (!state.exists) await journeyCli(cli, ['tenants', 'create', '--name', tenant], 120_000)
    log(`seeding tenant ${tenant} with ${settings.analytics.journeys} journeys`)
    await seedTenant(cli, { tenantId: tenant, journeys: settings.analytics.journeys, seed: settings.seed + 1, timeoutMs: (quick ? 20 : 60) * 60_000 })
    await sql`vacuum analyze`
    state = await tenantState(sql, tenant)
  }
  const apiKey = await createBenchKey(cli, tenant)
  const active = await sql<{ id: string }[]>`select id from journeys where tenant_id = ${tenant} and stage in ('active', 'onboarding') order by random() limit 5000`
  return analyticsUnderWrites({ baseUrl: service.baseUrl, apiKey, tenant, journeys: state.journeys, journeyIds: active.map((r) => r.id), tag, clients: settings.analytics.clients, secondsPerGrouping: settings.analytics.secondsPerGrouping, writesPerSec: settings.analytics.writesPerSec, log })
}

/** The seeded tenant's journey reads, alone and while a tenant of its own floods the service. */
async function tenantFlood(service: Running, workload: Workload): Promise<TenantFloodResult | null> {
  if (!wanted('tenant-flood')) return null
  if (!(await tenantState(sql, floodTenant)).exists) await journeyCli(cli, ['tenants', 'create', '--name', floodTenant], 120_000)
  const floodKey = await createBenchKey(cli, floodTenant)
  log(`tenant-flood: journey reads at 10 connections alone, then beside a flood at ${settings.connections} connections`)
  const result = await runTenantFlood(journeyReads(workload), tenantListing(floodKey), {
    baseUrl: service.baseUrl, quietConnections: 10, floodConnections: settings.connections, durationS: settings.durationS, warmupS: settings.warmupS,
    pid: service.child.pid, postmasterPid,
  })
  log(`tenant-flood: p99 ${result.quiet.latencyMs.p99} ms quiet, ${result.flooded.latencyMs.p99} ms during the flood (x${result.p99Ratio}); the flood: ${result.flood.requests} served, ${result.floodRefused} refused`)
  return result
}

async function rebuild(): Promise<RebuildResult | null> {
  if (args['skip-rebuild'] || !wanted('rebuild')) return null
  log(`rebuild: journey projections rebuild --tenant ${tenantId}`)
  const { stdout, ms } = await journeyCli(cli, ['projections', 'rebuild', '--tenant', tenantId], (quick ? 10 : 90) * 60_000)
  const report: unknown = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')
  const field = (name: string) => Number(typeof report === 'object' && report !== null ? Reflect.get(report, name) : NaN)
  const result = { events: field('events'), streams: field('streams'), ms: field('ms'), eventsPerSec: field('eventsPerSecond'), wallMs: Math.round(ms) }
  log(`rebuild: ${result.events} events in ${result.ms} ms = ${result.eventsPerSec} events/s`)
  return result
}

async function main(): Promise<void> {
  const pgbenchPath = findPgbench()
  const facts = await machine(pgbenchPath)
  const [backend] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`
  postmasterPid = backend ? postmasterOf(backend.pid) : null
  log(`${facts.cpuModel}, ${facts.cores} cores; ${facts.postgres}; load average ${facts.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}`)
  await journeyCli(cli, ['migrate'], 300_000)

  // Data: seeded once per tenant, reused by later runs.
  if (!(await cliHasSeed(cli))) throw new Error('`journey seed` is not in this build (node bin/journey.js --help): the benchmark seeds its data with it')
  let state = await tenantState(sql, tenantId)
  let seedMs: number | null = null
  if (state.journeys < settings.journeys) {
    if (!state.exists) await journeyCli(cli, ['tenants', 'create', '--name', tenantId], 120_000)
    log(`seeding tenant ${tenantId} with ${settings.journeys} journeys (journey seed); later runs reuse it`)
    seedMs = (await seedTenant(cli, { tenantId, journeys: settings.journeys, seed: settings.seed, timeoutMs: (quick ? 20 : 180) * 60_000 })).ms
  }
  const apiKey = await createBenchKey(cli, tenantId)
  const profileDir = args.profile ? `${root}bench/profiles` : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  if (args.compiled) {
    log('compiling the service (tsc -p tsconfig.build.json) into a temporary directory')
    compiled = await buildCompiled(root)
  }
  const service = await startService({ root, env: pgEnv, cpuProfileDir: profileDir, readyTimeoutMs: 300_000, compiledEntry: compiled?.entry })
  if (seedMs !== null) await sql`vacuum analyze`
  state = await tenantState(sql, tenantId)
  log(`tenant ${tenantId}: ${state.journeys} journeys, ${state.events} events`)
  const workload: Workload = { tag: runTag(), journeyIds: await sampleJourneyIds(sql, tenantId, 20_000), apiKey }

  // Before anything has asked for analytics: what a first request costs on the large tenant.
  const cold = wanted('analytics-cold') ? { tenant: tenantId, journeys: state.journeys, groupings: await coldAnalytics(service.baseUrl, apiKey) } : null
  const scenarios: LoadResult[] = []
  const baselines: Results['baselines'] = { pgbenchSingle: null, pgbenchBatch: null, hello: null, helloDatabase: null }
  // Each baseline runs just before the scenario it is compared with, so drift on a shared machine hits both alike.
  if (wanted('hello') || wanted('hello-db')) {
    const helloServer = await startHello(root, databaseUrl)
    baselines.hello = await measure(hello(), helloServer, [])
    baselines.helloDatabase = await measure(helloDatabase(), helloServer, [])
    await stopChild(helloServer.child)
  }
  await measure(journeyReads(workload), service, scenarios)
  await measure(overduePromises(workload), service, scenarios)
  await measure(promiseAnalytics(workload), service, scenarios)
  const journeyLength = await lengthComparison(service, workload)
  const underWrites = await analyticsWhileWriting(service, workload.tag)
  const analytics: AnalyticsResult | null = underWrites ? { ...underWrites, cold } : null
  const flood = await tenantFlood(service, workload)
  await createScratchTable(sql)
  try {
    baselines.pgbenchSingle = await pgbench('single', pgbenchPath)
    await sql`checkpoint`
    await measure(singleIngest(workload, { idempotencyKey: false }), service, scenarios)
    await measure(singleIngest(workload, { idempotencyKey: true }), service, scenarios)
    baselines.pgbenchBatch = await pgbench('batch', pgbenchPath)
    await sql`checkpoint`
    await measure(batchIngest(workload), service, scenarios)
  } finally {
    await dropScratchTable(sql)
  }
  await stopChild(service.child)

  const rebuilt = await rebuild()
  const pglite = args['skip-pglite'] || !wanted('pglite') ? null : await runPglite({
    root, compiledEntry: compiled?.entry, pgliteJourneys: settings.pgliteJourneys, seed: settings.seed, keys, measure, log,
  })

  facts.loadAverageEnd = loadavg()
  const results: Results = {
    date: new Date().toISOString(), mode: quick ? 'quick' : 'full', machine: facts,
    settings: { service: compiled ? `compiled (node ${serviceNodeFlags(root).join(' ')} dist/src/server.js)` : `node ${serviceNodeFlags(root).join(' ')} --import tsx src/server.ts`, connections: settings.connections, durationS: settings.durationS, warmupS: settings.warmupS, pgbenchClients: settings.pgbenchClients, pgbenchDurationS: settings.durationS, serviceOverrides },
    dataset: { tenant: tenantId, journeys: state.journeys, events: state.events, seededThisRun: seedMs !== null, seedMs: seedMs === null ? null : Math.round(seedMs) },
    baselines, scenarios, journeyLength, analytics, tenantFlood: flood, skipped,
    checks: checks({ baselines, scenarios, journeyLength, analytics, tenantFlood: flood }), rebuild: rebuilt, pglite,
  }
  const base = quick ? 'results-quick' : 'results'
  writeFileSync(`${root}bench/${base}.json`, `${JSON.stringify(results, null, 2)}\n`)
  const md = markdown(results)
  writeFileSync(`${root}bench/${base}.md`, md)
  process.stdout.write(md)
  log(`wrote bench/${base}.json and bench/${base}.md`)
}

main()
  .catch((error: unknown) => {
    log(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    process.exitCode = 1
  })
  .finally(async () => {
    await stopAll()
    await sql.end({ timeout: 5 })
    killAllNow()
  })
