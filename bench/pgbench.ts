// The database's own limit on this machine: pgbench inserting into `bench_events`, a scratch copy
// of the `events` table (same columns, defaults, identity and indexes; no rows, no RLS), one row
// per transaction and 100 rows per transaction.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Sql } from 'postgres'
import { cpuWindow } from './cpu.js'
import { runCommand } from './processes.js'

export interface PgbenchResult {
  name: string
  label: string
  clients: number
  durationS: number
  transactions: number
  failed: number
  tps: number
  rowsPerTransaction: number
  rowsPerSec: number
  latencyAvgMs: number
  /** Database CPU milliseconds per row inserted, and the cores it kept busy. */
  databaseCpuMsPerRow: number | null
  databaseCores: number | null
}

export function findPgbench(): string {
  const bundled = '/usr/lib/postgresql/15/bin/pgbench'
  return existsSync(bundled) ? bundled : 'pgbench'
}

export async function pgbenchVersion(pgbench: string, cwd: string): Promise<string> {
  const { stdout } = await runCommand('pgbench --version', pgbench, ['--version'], { env: process.env, cwd, timeoutMs: 10_000 })
  return stdout.trim()
}

export async function createScratchTable(sql: Sql): Promise<void> {
  await sql`drop table if exists bench_events`
  await sql`create table bench_events (like events including all)`
}

export async function dropScratchTable(sql: Sql): Promise<void> {
  await sql`drop table if exists bench_events`
}

// A check-in as the service stores it: clear fields in `data`, the notes sealed in `sealed`.
// No colons: pgbench reads `:name` as a variable, inside string literals too.
const columns = 'tenant_id, stream_kind, subject, version, id, source, type, time, data, person_ref, sealed'
const values = `'bench-pgbench', 'journey', cast(gen_random_uuid() as text), 1, cast(gen_random_uuid() as text), 'bench-pgbench', 'checkin.held', now(),
  jsonb_build_object('with', 'mgr-engineering-1', 'interests', jsonb_build_array('data'), 'expectationsMet', 4), 'p-bench-000001',
  'v1.k1.${'x'.repeat(96)}'`

const scripts = {
  single: { rows: 1, text: `INSERT INTO bench_events (${columns}) VALUES (${values});\n` },
  batch: { rows: 100, text: `INSERT INTO bench_events (${columns}) SELECT ${values} FROM generate_series(1, 100);\n` },
}

function field(output: string, pattern: RegExp, what: string): number {
  const match = pattern.exec(output)
  if (!match?.[1]) throw new Error(`pgbench output has no ${what}:\n${output}`)
  return Number(match[1])
}

export async function runPgbench(sql: Sql, kind: 'single' | 'batch', options: { pgbench: string; databaseUrl: string; clients: number; durationS: number; cwd: string; postmasterPid: number | null }): Promise<PgbenchResult> {
  const script = scripts[kind]
  const dir = mkdtempSync(join(tmpdir(), 'jl-bench-pgbench-'))
  try {
    const file = join(dir, `${kind}.sql`)
    writeFileSync(file, script.text)
    await sql`truncate bench_events`
    await sql`checkpoint`
    const threads = Math.max(1, Math.min(options.clients, 2))
    const cpu = cpuWindow(null, options.postmasterPid)
    const { stdout } = await runCommand(`pgbench ${kind}`, options.pgbench, [
      '-n', '-M', 'prepared', '-c', String(options.clients), '-j', String(threads), '-T', String(options.durationS), '-f', file, options.databaseUrl,
    ], { env: process.env, cwd: options.cwd, timeoutMs: (options.durationS + 60) * 1000 })
    const tps = field(stdout, /^tps = ([\d.]+) \(without initial connection time\)/m, 'tps')
    const transactions = field(stdout, /^number of transactions actually processed: (\d+)/m, 'transaction count')
    const cost = cpu.stop(transactions * script.rows)
    return {
      name: `pgbench-${kind}`,
      label: kind === 'single' ? 'pgbench single-row insert' : 'pgbench 100-row insert',
      clients: options.clients,
      durationS: options.durationS,
      transactions,
      failed: /^number of failed transactions: (\d+)/m.test(stdout) ? field(stdout, /^number of failed transactions: (\d+)/m, 'failures') : 0,
      tps: Math.round(tps * 10) / 10,
      rowsPerTransaction: script.rows,
      rowsPerSec: Math.round(tps * script.rows * 10) / 10,
      latencyAvgMs: field(stdout, /^latency average = ([\d.]+) ms/m, 'latency'),
      databaseCpuMsPerRow: cost.databaseMsPerRequest,
      databaseCores: cost.databaseCores,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
