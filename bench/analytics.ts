// Analytics as dashboards meet them: every grouping of both endpoints timed request by request
// (exact percentiles, a few clients at once) on a tenant of its own while a writer appends 50
// events per second to it, events that move the figures (promises made and kept, department moves,
// pulses); and the first requests of each grouping on the large tenant, nothing warmed.
import { performance } from 'node:perf_hooks'

export const analyticsEndpoints = [
  { path: '/v1/analytics/promises', groupings: ['madeBy', 'category', 'department', 'vacancy', 'madeAt', 'hireCohort'] },
  { path: '/v1/analytics/retention', groupings: ['department', 'hireCohort', 'vacancy'] },
] as const

export interface TimedGrouping { endpoint: string; groupBy: string; requests: number; failures: number; p50: number; p95: number; p99: number; max: number }
export interface ColdGrouping { endpoint: string; groupBy: string; firstMs: number; medianOfThreeMs: number }
export interface AnalyticsResult {
  tenant: string
  journeys: number
  clients: number
  secondsPerGrouping: number
  writer: { targetPerSec: number; sent: number; accepted: number; refused: number; eventsPerSec: number }
  underWrites: TimedGrouping[]
  cold: { tenant: string; journeys: number; groupings: ColdGrouping[] } | null
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN
const round = (ms: number) => Math.round(ms * 10) / 10

async function timedGet(baseUrl: string, apiKey: string, path: string): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now()
  const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } })
  await res.arrayBuffer()
  return { ms: performance.now() - started, ok: res.status === 200 }
}

/** `clients` loops requesting one grouping for `seconds`; every latency kept. */
async function timeGrouping(baseUrl: string, apiKey: string, endpoint: string, groupBy: string, clients: number, seconds: number): Promise<TimedGrouping> {
  const path = `${endpoint}?groupBy=${groupBy}`
  const until = performance.now() + seconds * 1000
  const latencies: number[] = []
  let failures = 0
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const { ms, ok } = await timedGet(baseUrl, apiKey, path)
      if (ok) latencies.push(ms)
      else failures += 1
    }
  }))
  latencies.sort((a, b) => a - b)
  return { endpoint, groupBy, requests: latencies.length, failures, p50: round(quantile(latencies, 0.5)), p95: round(quantile(latencies, 0.95)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? NaN) }
}

/** Appends one event every 1000/perSec ms to the tenant's journeys: events that move the analytics. */
function startWriter(baseUrl: string, apiKey: string, journeyIds: readonly string[], tag: string, perSec: number) {
  const stats = { sent: 0, accepted: 0, refused: 0, startedAt: performance.now(), stoppedAt: 0 }
  const made: { journeyId: string; promiseId: string }[] = []
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T
  const departments = ['Engineering', 'Sales', 'Support', 'Operations', 'Marketing', 'Finance']
  let n = 0
  const nextEvent = () => {
    const id = `${tag}-w${(n++).toString(36)}`
    const base = { specversion: '1.0', id, source: 'bench:writer' }
    const roll = n % 10
    if (roll < 4) {
      const journeyId = pick(journeyIds)
      const promiseId = `pw-${id}`
      made.push({ journeyId, promiseId })
      const due = new Date(Date.now() + (Math.random() * 120 - 60) * 86_400_000).toISOString().slice(0, 10)
      return { ...base, type: 'promise.made', subject: journeyId, data: { promiseId, category: pick(['development', 'flexibility', 'career']), text: 'A course this half.', madeBy: pick(['mgr-a', 'mgr-b', 'rec-c']), madeAt: 'employment', dueBy: due } }
    }
    if (roll < 6 && made.length > 0) {
      const { journeyId, promiseId } = made.splice(Math.floor(Math.random() * made.length), 1)[0] ?? pick(made)
      return { ...base, type: roll === 4 ? 'promise.kept' : 'promise.broken', subject: journeyId, data: roll === 4 ? { promiseId } : { promiseId, reason: 'Budget.' } }
    }
    if (roll < 7) return { ...base, type: 'role.changed', subject: pick(journeyIds), data: { department: pick(departments), kind: 'lateral' } }
    return { ...base, type: 'pulse.answered', subject: pick(journeyIds), data: { enps: 7, valued: 4, safe: 4, autonomy: 3, expectationsMet: 4 } }
  }
  const timer = setInterval(() => {
    stats.sent += 1
    void fetch(`${baseUrl}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(nextEvent()) })
      .then(async (res) => {
        await res.arrayBuffer()
        if (res.status === 201) stats.accepted += 1
        else stats.refused += 1
      }, () => { stats.refused += 1 })
  }, 1000 / perSec)
  return {
    stop(): AnalyticsResult['writer'] {
      clearInterval(timer)
      stats.stoppedAt = performance.now()
      const seconds = (stats.stoppedAt - stats.startedAt) / 1000
      return { targetPerSec: perSec, sent: stats.sent, accepted: stats.accepted, refused: stats.refused, eventsPerSec: Math.round((stats.accepted / seconds) * 10) / 10 }
    },
  }
}

export async function analyticsUnderWrites(options: {
  baseUrl: string; apiKey: string; tenant: string; journeys: number; journeyIds: readonly string[]; tag: string
  clients: number; secondsPerGrouping: number; writesPerSec: number; log: (line: string) => void
}): Promise<Omit<AnalyticsResult, 'cold'>> {
  const writer = startWriter(options.baseUrl, options.apiKey, options.journeyIds, options.tag, options.writesPerSec)
  const underWrites: TimedGrouping[] = []
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    for (const { path, groupings } of analyticsEndpoints) {
      for (const groupBy of groupings) {
        const timed = await timeGrouping(options.baseUrl, options.apiKey, path, groupBy, options.clients, options.secondsPerGrouping)
        options.log(`analytics under writes: ${path}?groupBy=${groupBy}: ${timed.requests} requests, p50 ${timed.p50} ms, p95 ${timed.p95} ms, p99 ${timed.p99} ms`)
        underWrites.push(timed)
      }
    }
  } catch (error) {
    writer.stop()
    throw error
  }
  return { tenant: options.tenant, journeys: options.journeys, clients: options.clients, secondsPerGrouping: options.secondsPerGrouping, writer: writer.stop(), underWrites }
}

/** The first three requests of every grouping, one at a time, on a service that has served no analytics yet. */
export async function coldAnalytics(baseUrl: string, apiKey: string): Promise<ColdGrouping[]> {
  const out: ColdGrouping[] = []
  for (const { path, groupings } of analyticsEndpoints) {
    for (const groupBy of groupings) {
      const times: number[] = []
      for (let i = 0; i < 3; i++) times.push((await timedGet(baseUrl, apiKey, `${path}?groupBy=${groupBy}`)).ms)
      out.push({ endpoint: path, groupBy, firstMs: round(times[0] ?? NaN), medianOfThreeMs: round([...times].sort((a, b) => a - b)[1] ?? NaN) })
    }
  }
  return out
}
