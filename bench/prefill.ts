// The data the scenarios run on: a tenant seeded with `journey seed` once, reused by later runs,
// and an API key for it made by the CLI for each run.
import type { Sql } from 'postgres'
import { runCommand } from './processes.js'

export interface Cli {
  root: string
  env: NodeJS.ProcessEnv
}

export async function journeyCli(cli: Cli, args: readonly string[], timeoutMs: number): Promise<{ stdout: string; ms: number }> {
  return runCommand(`journey ${args.slice(0, 2).join(' ')}`, process.execPath, ['bin/journey.js', ...args], { env: cli.env, cwd: cli.root, timeoutMs })
}

export async function cliHasSeed(cli: Cli): Promise<boolean> {
  const { stdout } = await journeyCli(cli, ['--help'], 60_000)
  return /^\s*seed\b/m.test(stdout)
}

export interface TenantState { exists: boolean; journeys: number; events: number }

export async function tenantState(sql: Sql, tenantId: string): Promise<TenantState> {
  const [tenant] = await sql<{ n: number }[]>`select count(*)::int as n from tenants where tenant_id = ${tenantId}`
  if (!tenant || tenant.n === 0) return { exists: false, journeys: 0, events: 0 }
  const [counts] = await sql<{ journeys: number; events: number }[]>`
    select (select count(*)::int from journeys where tenant_id = ${tenantId}) as journeys,
           (select count(*)::int from events where tenant_id = ${tenantId}) as events`
  return { exists: true, journeys: counts?.journeys ?? 0, events: counts?.events ?? 0 }
}

/** Seeds the tenant; the seed is deterministic and idempotent (source + id), so a cut-short seed can be rerun. */
export async function seedTenant(cli: Cli, options: { tenantId: string; journeys: number; seed: number; timeoutMs: number }): Promise<{ ms: number; output: string }> {
  const { stdout, ms } = await journeyCli(cli, ['seed', '--journeys', String(options.journeys), '--seed', String(options.seed), '--tenant', options.tenantId], options.timeoutMs)
  return { ms, output: stdout.trim().split('\n').slice(-3).join('\n') }
}

/** An admin key for the tenant (admin holds every scope), printed once by the CLI. */
export async function createBenchKey(cli: Cli, tenantId: string): Promise<string> {
  const { stdout } = await journeyCli(cli, ['keys', 'create', '--tenant', tenantId, '--name', `bench ${new Date().toISOString()}`, '--scopes', 'admin'], 120_000)
  const parsed: unknown = JSON.parse(stdout)
  const key = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'key') : undefined
  if (typeof key !== 'string') throw new Error(`journey keys create printed no key:\n${stdout}`)
  return key
}

/** Random journey ids of the tenant, for reads and for events appended to existing journeys. */
export async function sampleJourneyIds(sql: Sql, tenantId: string, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select id from journeys where tenant_id = ${tenantId} order by random() limit ${limit}`
  return rows.map((r) => r.id)
}
