// Fair shares under a flood (issue 16): one tenant's journey reads timed alone, then again while
// another tenant, on the default budgets, floods the service at full speed. The target: the
// flood raises the quiet tenant's p99 by at most 2x.
import { runLoad, type LoadOptions, type LoadResult, type Scenario } from './load.js'

export interface TenantFloodResult {
  quiet: LoadResult
  flooded: LoadResult
  flood: LoadResult
  /** flooded p99 ÷ quiet p99. */
  p99Ratio: number
  /** The flood's answers that were 429 (refused by its budget) rather than served. */
  floodRefused: number
}

export interface TenantFloodOptions extends Omit<LoadOptions, 'connections'> {
  /** The quiet tenant's connections: a steady client, not a flood of its own. */
  quietConnections: number
  floodConnections: number
}

export async function runTenantFlood(quietReads: Scenario, flood: Scenario, options: TenantFloodOptions): Promise<TenantFloodResult> {
  const quietOptions = { ...options, connections: options.quietConnections }
  const quiet = await runLoad(quietReads, quietOptions)
  // Both start together; the flood's warm-up overlaps the quiet tenant's, and it runs a second longer.
  const [flooded, flooding] = await Promise.all([
    runLoad(quietReads, quietOptions),
    runLoad(flood, { ...options, connections: options.floodConnections, durationS: options.durationS + 1 }),
  ])
  const p99Ratio = quiet.latencyMs.p99 > 0 ? Math.round((flooded.latencyMs.p99 / quiet.latencyMs.p99) * 100) / 100 : Number.NaN
  return { quiet, flooded, flood: flooding, p99Ratio, floodRefused: flooding.non2xx }
}
