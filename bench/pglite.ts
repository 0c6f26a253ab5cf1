// The embedded default: the service on PGlite in a temporary data directory, seeded by the CLI
// before the service opens it (PGlite is one process at a time), then ingest and reads.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadResult, Scenario } from './load.js'
import { createBenchKey, journeyCli, seedTenant, type Cli } from './prefill.js'
import { onExit, stopChild } from './processes.js'
import type { Results } from './report.js'
import { serviceEnv, startService, type Running } from './service.js'
import { journeyReads, runTag, singleIngest } from './workload.js'

type Measure = (scenario: Scenario, target: Running, into: LoadResult[], skips: { name: string; why: string }[], postmasterPid: null) => Promise<LoadResult | null>

const tenantId = 'bench-pglite'

/** Every journey id and the number of events in them, paged through the API (the service holds the database). */
async function journeysOf(baseUrl: string, apiKey: string, expected: number): Promise<{ ids: string[]; events: number }> {
  const ids: string[] = []
  let events = 0
  let cursor: string | null = null
  for (let page = 0; page < Math.ceil(expected / 200) + 5; page++) {
    const url = `${baseUrl}/v1/journeys?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(60_000) })
    if (!res.ok) throw new Error(`GET /v1/journeys answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
    const body = (await res.json()) as { data: { id: string; version: number }[]; nextCursor: string | null }
    for (const j of body.data) {
      ids.push(j.id)
      events += j.version
    }
    cursor = body.nextCursor
    if (!cursor) break
  }
  return { ids, events }
}

export async function runPglite(o: {
  root: string
  compiledEntry: string | undefined
  pgliteJourneys: number
  seed: number
  keys: { masterKey: string; bootstrapKey: string }
  measure: Measure
  log: (line: string) => void
}): Promise<NonNullable<Results['pglite']>> {
  const dir = mkdtempSync(join(tmpdir(), 'jl-bench-pglite-'))
  const forget = onExit(() => rmSync(dir, { recursive: true, force: true }))
  const skipped: { name: string; why: string }[] = []
  const scenarios: LoadResult[] = []
  let service: Running | null = null
  try {
    const cli: Cli = { root: o.root, env: serviceEnv({ DATA_DIR: dir, JOURNEY_MASTER_KEY: o.keys.masterKey, JOURNEY_BOOTSTRAP_KEY: o.keys.bootstrapKey }) }
    o.log(`pglite: seeding ${o.pgliteJourneys} journeys into ${dir}`)
    await journeyCli(cli, ['tenants', 'create', '--name', tenantId], 120_000)
    const seedMs = (await seedTenant(cli, { tenantId, journeys: o.pgliteJourneys, seed: o.seed, timeoutMs: 60 * 60_000 })).ms
    const apiKey = await createBenchKey(cli, tenantId)
    service = await startService({ root: o.root, env: cli.env, readyTimeoutMs: 300_000, compiledEntry: o.compiledEntry })
    const data = await journeysOf(service.baseUrl, apiKey, o.pgliteJourneys)
    o.log(`pglite: ${data.ids.length} journeys, ${data.events} events`)
    const workload = { tag: runTag(), journeyIds: data.ids, apiKey }
    await o.measure({ ...singleIngest(workload, { idempotencyKey: false }), name: 'pglite-ingest-single' }, service, scenarios, skipped, null)
    await o.measure({ ...journeyReads(workload), name: 'pglite-journey-read' }, service, scenarios, skipped, null)
    return { journeys: data.ids.length, events: data.events, seedMs: Math.round(seedMs), scenarios, skipped }
  } finally {
    if (service) await stopChild(service.child)
    rmSync(dir, { recursive: true, force: true })
    forget()
  }
}
