// The run's figures against the targets: results.json for machines, a markdown summary for people.
import type { AnalyticsResult } from './analytics.js'
import type { Comparison, JourneyLengthResult } from './journey-length.js'
import type { LoadResult } from './load.js'
import type { PgbenchResult } from './pgbench.js'
import type { TenantFloodResult } from './tenant-flood.js'

export interface Machine {
  cpuModel: string
  cores: number
  memoryGb: number
  os: string
  node: string
  postgres: string
  postgresSettings: Record<string, string>
  pgbench: string
  loadAverageStart: number[]
  loadAverageEnd: number[]
  note: string | null
}

export interface Check { name: string; value: number | null; target: string; met: boolean | null; detail: string }

export interface RebuildResult { events: number; streams: number; ms: number; eventsPerSec: number; wallMs: number }

export interface Results {
  date: string
  mode: 'full' | 'quick'
  machine: Machine
  settings: { service: string; connections: number; durationS: number; warmupS: number; pgbenchClients: number; pgbenchDurationS: number; serviceOverrides: Record<string, string> }
  dataset: { tenant: string; journeys: number; events: number; seededThisRun: boolean; seedMs: number | null }
  baselines: { pgbenchSingle: PgbenchResult | null; pgbenchBatch: PgbenchResult | null; hello: LoadResult | null; helloDatabase?: LoadResult | null }
  scenarios: LoadResult[]
  /** One request at a time on a journey of 1 000 events and on journeys of 5. */
  journeyLength: JourneyLengthResult | null
  /** Every analytics grouping timed while a writer appends to the tenant, and cold on the large tenant. */
  analytics: AnalyticsResult | null
  /** One tenant's journey reads alone and while another floods (issue 16); absent in older results. */
  tenantFlood?: TenantFloodResult | null
  skipped: { name: string; why: string }[]
  checks: Check[]
  rebuild: RebuildResult | null
  pglite: { journeys: number; events: number; seedMs: number | null; scenarios: LoadResult[]; skipped: { name: string; why: string }[] } | null
}

const targets = { singleRatio: 0.3, batchRatio: 0.25, readRatio: 0.2, p99Ms: 50, rssMb: 300, longShortRatio: 1.2, analyticsP95Ms: 50, analyticsColdMs: 100, floodP99Ratio: 2 }

function ratio(name: string, numerator: number | null | undefined, denominator: number | null | undefined, min: number, detail: string): Check {
  if (numerator == null || denominator == null || denominator <= 0) return { name, value: null, target: `>= ${min}`, met: null, detail: `not measured (${detail})` }
  const value = Math.round((numerator / denominator) * 1000) / 1000
  return { name, value, target: `>= ${min}`, met: value >= min, detail: `${numerator} / ${denominator} (${detail})` }
}

function longShort(append: Comparison | null | undefined): Check {
  const name = 'append long/short median latency ratio'
  const target = `<= ${targets.longShortRatio}`
  if (!append) return { name, value: null, target, met: null, detail: 'not measured' }
  if (!Number.isFinite(append.ratio)) return { name, value: null, target, met: false, detail: `no successful append on one side (${append.non2xx} non-2xx, ${append.errors} errors)` }
  return { name, value: append.ratio, target, met: append.ratio <= targets.longShortRatio, detail: `${append.long.medianMs} ms ÷ ${append.short.medianMs} ms` }
}

/** The issues' targets: three ratios, an append's cost on a long journey, then p99 and peak RSS of every service scenario at 50 connections. */
/** Issue 14: the slowest grouping's p95 under writes, and the slowest first request on the large tenant. */
function analyticsChecks(a: AnalyticsResult | null): Check[] {
  if (!a) return []
  const out: Check[] = []
  const worst = a.underWrites.reduce<AnalyticsResult['underWrites'][number] | null>((w, g) => (w === null || g.p95 > w.p95 ? g : w), null)
  if (worst) {
    out.push({ name: 'analytics p95 under writes, slowest grouping', value: worst.p95, target: `< ${targets.analyticsP95Ms} ms`, met: worst.p95 < targets.analyticsP95Ms && a.underWrites.every((g) => g.failures === 0),
      detail: `${worst.endpoint}?groupBy=${worst.groupBy}, ${a.clients} clients, ${a.writer.eventsPerSec} events/s written` })
  }
  const cold = a.cold?.groupings.reduce<number | null>((w, g) => (w === null || g.firstMs > w ? g.firstMs : w), null)
  if (cold != null && a.cold) out.push({ name: 'analytics cold on the large tenant, slowest first request', value: cold, target: `< ${targets.analyticsColdMs} ms`, met: cold < targets.analyticsColdMs, detail: `${a.cold.tenant}` })
  return out
}

function floodCheck(flood: TenantFloodResult | null | undefined): Check {
  const name = 'journey-read p99 under another tenant\'s flood ÷ quiet'
  const target = `<= ${targets.floodP99Ratio}`
  if (!flood) return { name, value: null, target, met: null, detail: 'not measured' }
  if (!Number.isFinite(flood.p99Ratio)) return { name, value: null, target, met: false, detail: 'no quiet p99 to compare with' }
  return { name, value: flood.p99Ratio, target, met: flood.p99Ratio <= targets.floodP99Ratio,
    detail: `${flood.flooded.latencyMs.p99} ms ÷ ${flood.quiet.latencyMs.p99} ms; the flood: ${flood.flood.requests} served, ${flood.floodRefused} refused` }
}

export function checks(r: Pick<Results, 'baselines' | 'scenarios' | 'journeyLength' | 'analytics' | 'tenantFlood'>): Check[] {
  const find = (name: string) => r.scenarios.find((s) => s.name === name)
  const out = [
    ratio('single ingest ÷ pgbench single-row', find('ingest-single')?.eventsPerSec, r.baselines.pgbenchSingle?.rowsPerSec, targets.singleRatio, 'events/s ÷ rows/s'),
    ratio('batch ingest ÷ pgbench 100-row', find('ingest-batch')?.eventsPerSec, r.baselines.pgbenchBatch?.rowsPerSec, targets.batchRatio, 'events/s ÷ rows/s'),
    ratio('journey reads ÷ hello', find('journey-read')?.reqPerSec, r.baselines.hello?.reqPerSec, targets.readRatio, 'req/s ÷ req/s'),
    longShort(r.journeyLength?.append),
    ...analyticsChecks(r.analytics),
    ...(r.tenantFlood === undefined ? [] : [floodCheck(r.tenantFlood)]),
  ]
  for (const s of r.scenarios) {
    // No completed request means every one took longer than the run: that is a miss, not a p99 of 0.
    out.push(s.requests === 0
      ? { name: `p99 ${s.name}`, value: null, target: `< ${targets.p99Ms} ms`, met: false, detail: `no request completed within ${s.durationS} s at ${s.connections} connections` }
      : { name: `p99 ${s.name}`, value: s.latencyMs.p99, target: `< ${targets.p99Ms} ms`, met: s.latencyMs.p99 < targets.p99Ms, detail: `${s.connections} connections` })
  }
  const peaks = r.scenarios.flatMap((s) => (s.peakRssMb === null ? [] : [{ name: s.name, mb: s.peakRssMb }]))
  const worst = peaks.reduce<{ name: string; mb: number } | null>((a, b) => (a === null || b.mb > a.mb ? b : a), null)
  out.push(worst
    ? { name: 'peak RSS of the service', value: worst.mb, target: `< ${targets.rssMb} MB`, met: worst.mb < targets.rssMb, detail: `highest during ${worst.name}` }
    : { name: 'peak RSS of the service', value: null, target: `< ${targets.rssMb} MB`, met: null, detail: 'not measured' })
  return out
}

const num = (n: number | null | undefined, digits = 0) => (n == null ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))
const mark = (met: boolean | null) => (met === null ? '–' : met ? 'met' : '**missed**')

function loadTable(rows: LoadResult[]): string[] {
  const lines = [
    '| Scenario | req/s | events/s | p50 ms | p97.5 ms | p99 ms | peak RSS MB | non-2xx / errors | CPU ms/req service · db |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const s of rows) {
    if (s.requests === 0) {
      // Nothing to divide by: say how many cores each side kept busy instead.
      lines.push(`| ${s.label} | 0 | 0 | > ${num(s.durationS * 1000)} | > ${num(s.durationS * 1000)} | > ${num(s.durationS * 1000)} | ${num(s.peakRssMb)} | ${s.non2xx} / ${s.errors} | ` +
        `busy cores ${num(s.cpu.serviceCores, 2)} · ${num(s.cpu.databaseCores, 2)} |`)
      continue
    }
    lines.push(`| ${s.label} | ${num(s.reqPerSec)} | ${num(s.eventsPerSec)} | ${num(s.latencyMs.p50)} | ${num(s.latencyMs.p97_5)} | ${num(s.latencyMs.p99)} | ${num(s.peakRssMb)} | ${s.non2xx} / ${s.errors} | ` +
      `${num(s.cpu.serviceMsPerRequest, 2)} · ${num(s.cpu.databaseMsPerRequest, 2)} |`)
  }
  return lines
}

/** Not a target: how close journey reads come to a route that does nothing but one database round trip. */
function databaseCeiling(r: Pick<Results, 'baselines' | 'scenarios'>): string[] {
  const reads = r.scenarios.find((s) => s.name === 'journey-read')?.reqPerSec
  const ceiling = r.baselines.helloDatabase?.reqPerSec
  if (!reads || !ceiling || !r.baselines.hello) return []
  return [`Any route that reads the database is bounded by the second row: one round trip alone is ${num(ceiling / r.baselines.hello.reqPerSec, 3)} of hello. ` +
    `Journey reads (authenticated, tenant-scoped under row-level security, the journey and its promise counts in one statement and one round trip) are ${num(reads / ceiling, 3)} of it.`, '']
}

/** Scenarios the service was still working on after autocannon stopped: it had fallen behind. */
function backlog(rows: LoadResult[]): string[] {
  const behind = rows.filter((s) => s.drainMs !== null && s.drainMs > 1_000)
  if (behind.length === 0) return []
  return [...behind.map((s) => `- ${s.name}: the service was still serving requests of the run ${num((s.drainMs ?? 0) / 1000, 1)} s after it ended.`), '']
}

/** Medians, not throughput: one request at a time, so each figure is what one append or read costs. */
function journeyLengthSection(j: JourneyLengthResult | null): string[] {
  if (!j || (!j.append && !j.read)) return []
  const s = j.settings
  const range = (x: { min: number; max: number }) => (x.min === x.max ? num(x.min) : `${num(x.min)}-${num(x.max)}`)
  const row = (c: Comparison) => `| ${c.label} | ${num(c.long.medianMs, 2)} | ${num(c.long.p90Ms, 2)} | ${num(c.short.medianMs, 2)} | ${num(c.short.p90Ms, 2)} | **${num(c.ratio, 2)}** | ` +
    `${c.rounds.map((x) => `${num(x.longMedianMs, 1)} / ${num(x.shortMedianMs, 1)}`).join(' · ')} | ${c.non2xx} / ${c.errors} |`
  return [
    `**A journey of ${num(s.longEvents)} events against journeys of ${num(s.shortEvents)}.** Grown through \`POST /v1/events\` batches in ${num(j.growMs / 1000, 1)} s: one working life (weekly pulses, check-ins with sealed notes every fourth week, promises made and kept) ` +
      `cut at ${num(s.longEvents)} events, and ${s.requestsPerRound} cut at ${num(s.shortEvents)}. One connection, one request at a time; ${s.warmupRequests} uncounted requests per side, then ` +
      `${s.rounds} rounds of ${s.requestsPerRound} per side, the side that goes first alternating. Appends (a pulse or a check-in, each a new event) go to the long journey and in turn to the short ones, ` +
      `which held ${range(j.eventsWhenMeasured.long)} and ${range(j.eventsWhenMeasured.short)} events when measured.`, '',
    '| Request | long p50 ms | long p90 ms | short p50 ms | short p90 ms | long ÷ short | per round, long / short p50 ms | non-2xx / errors |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
    ...[j.append, j.read].flatMap((c) => (c ? [row(c)] : [])),
    '',
    ...[j.append, j.read].flatMap((c) => c?.failures.map((f) => `- ${c.label}: \`${f.replace(/`/g, "'").slice(0, 200)}\``) ?? []),
    ...([j.append, j.read].some((c) => (c?.failures.length ?? 0) > 0) ? [''] : []),
  ]
}

/** Exact percentiles of every grouping, request by request, while the writer appends. */
function analyticsSection(a: AnalyticsResult | null): string[] {
  if (!a) return []
  const w = a.writer
  const lines = [
    `**Analytics while writing.** Tenant \`${a.tenant}\` (${num(a.journeys)} journeys); a writer appends one event every ${num(1000 / w.targetPerSec)} ms (promises made, kept and broken, department moves, pulses): ` +
      `${num(w.accepted)} accepted, ${num(w.refused)} refused, ${num(w.eventsPerSec, 1)} events/s. Each grouping: ${a.clients} clients for ${a.secondsPerGrouping} s, every latency kept.`, '',
    '| Endpoint | groupBy | requests | p50 ms | p95 ms | p99 ms | max ms | failures |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...a.underWrites.map((g) => `| ${g.endpoint} | ${g.groupBy} | ${num(g.requests)} | ${num(g.p50, 1)} | **${num(g.p95, 1)}** | ${num(g.p99, 1)} | ${num(g.max, 1)} | ${g.failures} |`),
    '',
  ]
  if (a.cold) {
    lines.push(`**Analytics cold** on \`${a.cold.tenant}\` (${num(a.cold.journeys)} journeys): the first three requests of each grouping, one at a time, on a service that had served no analytics.`, '',
      '| Endpoint | groupBy | first ms | median of 3 ms |', '|---|---|---:|---:|',
      ...a.cold.groupings.map((g) => `| ${g.endpoint} | ${g.groupBy} | ${num(g.firstMs, 1)} | ${num(g.medianOfThreeMs, 1)} |`), '')
  }
  return lines
}

function tenantFloodSection(f: TenantFloodResult | null | undefined): string[] {
  if (!f) return []
  return [
    `**One tenant flooding, another reading.** The seeded tenant reads journeys at ${f.quiet.connections} connections alone, then again while a tenant on the default budgets ` +
      `sends \`GET /v1/journeys?limit=1\` at ${f.flood.connections} connections: ${num(f.flood.requests)} served, ${num(f.floodRefused)} answered 429.`, '',
    ...loadTable([{ ...f.quiet, label: `${f.quiet.label} (quiet)` }, { ...f.flooded, label: `${f.flooded.label} (during the flood)` }, f.flood]),
    '',
  ]
}

export function markdown(r: Results): string {
  const m = r.machine
  const lines: string[] = [
    `# Benchmark (${r.mode}) — ${r.date}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}; Node ${m.node}; ${m.postgres}; ${m.pgbench}. ` +
      `Load average ${m.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} at start, ${m.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at end.` +
      (m.note ? ` ${m.note}` : ''),
    '',
    `Service (\`${r.settings.service}\`), database, pgbench and autocannon on the same machine; ${r.settings.connections} connections, ${r.settings.durationS} s per scenario after ${r.settings.warmupS} s of warm-up. ` +
      `Data: tenant \`${r.dataset.tenant}\`, ${num(r.dataset.journeys)} journeys, ${num(r.dataset.events)} events at the start of the run` +
      (r.dataset.seededThisRun ? ` (seeded in this run in ${num((r.dataset.seedMs ?? 0) / 1000, 1)} s).` : ' (seeded earlier).') +
      (Object.keys(r.settings.serviceOverrides).length > 0 ? ` **Not the defaults**: the service ran with ${Object.entries(r.settings.serviceOverrides).map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''),
    '',
    '## PostgreSQL',
    '',
    ...loadTable([...[r.baselines.hello, r.baselines.helloDatabase].flatMap((b) => (b ? [b] : [])), ...r.scenarios]),
    '',
    ...databaseCeiling(r),
    ...backlog(r.scenarios),
    '| Baseline | rows/s | tx/s | clients | latency avg ms | db CPU ms/row |',
    '|---|---:|---:|---:|---:|---:|',
    ...[r.baselines.pgbenchSingle, r.baselines.pgbenchBatch].flatMap((p) => (p ? [`| ${p.label} | ${num(p.rowsPerSec)} | ${num(p.tps)} | ${p.clients} | ${num(p.latencyAvgMs, 2)} | ${num(p.databaseCpuMsPerRow, 3)} |`] : [])),
    '',
    ...journeyLengthSection(r.journeyLength),
    ...analyticsSection(r.analytics),
    ...tenantFloodSection(r.tenantFlood),
    '| Target | value | target | |',
    '|---|---:|---:|---|',
    ...r.checks.map((c) => `| ${c.name} | ${c.value === null && c.met === false ? c.detail : num(c.value, c.value !== null && c.value < 10 ? 3 : 1)} | ${c.target} | ${mark(c.met)} |`),
    '',
  ]
  if (r.rebuild) {
    lines.push(`Projection rebuild (\`journey projections rebuild --tenant ${r.dataset.tenant}\`): ${num(r.rebuild.events)} events, ${num(r.rebuild.streams)} streams in ` +
      `${num(r.rebuild.ms / 1000, 1)} s = **${num(r.rebuild.eventsPerSec)} events/s** (${num(r.rebuild.wallMs / 1000, 1)} s including the CLI's start).`, '')
  }
  for (const s of r.skipped) lines.push(`- skipped ${s.name}: ${s.why}`)
  if (r.skipped.length > 0) lines.push('')
  if (r.pglite) {
    lines.push('## Embedded default (PGlite)', '',
      `A temporary data directory seeded with ${num(r.pglite.journeys)} journeys (${num(r.pglite.events)} events); the same load settings.`, '',
      ...loadTable(r.pglite.scenarios), '', ...backlog(r.pglite.scenarios))
    for (const s of r.pglite.skipped) lines.push(`- skipped ${s.name}: ${s.why}`)
  }
  const failures = [...r.scenarios, ...(r.pglite?.scenarios ?? [])].filter((s) => s.failures.length > 0)
  if (failures.length > 0) {
    lines.push('## Non-2xx responses (first few per scenario)', '')
    for (const s of failures) for (const f of s.failures) lines.push(`- ${s.name}: \`${f.replace(/`/g, "'").slice(0, 200)}\``)
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}
