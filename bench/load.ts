// One load scenario: an autocannon run against 127.0.0.1 after a short warm-up, with the target
// process's peak RSS sampled while it runs. Bodies and paths vary per request through setupRequest.
import autocannon from 'autocannon'
import { cpuWindow, type CpuCost } from './cpu.js'
import { sampleRss } from './rss.js'

export interface Scenario {
  name: string
  /** What the ratio and the table call it. */
  label: string
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /** Builds each request's path and body; absent means the same request every time. */
  vary?: () => { path?: string; body?: string; headers?: Record<string, string> }
  /** Events stored per successful request (0 for reads). */
  eventsPerRequest: number
}

export interface LoadOptions {
  baseUrl: string
  connections: number
  durationS: number
  warmupS: number
  /** The server process whose memory and CPU are reported. */
  pid: number
  /** The database cluster's postmaster, for its CPU; null when it is not visible. */
  postmasterPid: number | null
}

export interface LoadResult {
  name: string
  label: string
  connections: number
  durationS: number
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  reqPerSec: number
  eventsPerSec: number | null
  latencyMs: { p50: number; p97_5: number; p99: number; mean: number; max: number }
  peakRssMb: number | null
  /** CPU milliseconds per request of the service, the database and autocannon, and the cores each kept busy. */
  cpu: CpuCost
  /** A few non-2xx responses as they came back, to say what went wrong. */
  failures: string[]
  /** How long the service still worked on requests autocannon had given up on, after the run (null: not measured). */
  drainMs: number | null
}

function assertLocal(baseUrl: string): void {
  const host = new URL(baseUrl).hostname
  if (host !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${host}`)
}

/** The scenario as one autocannon request: its body, path and headers built afresh for each request. */
function autocannonRequest(scenario: Scenario, failures: string[]): autocannon.Request {
  const request: autocannon.Request = {
    method: scenario.method,
    path: scenario.path,
    headers: scenario.headers,
    onResponse: (status, body) => {
      if ((status < 200 || status >= 300) && failures.length < 5) failures.push(`${status} ${body.slice(0, 300)}`)
    },
  }
  const vary = scenario.vary
  if (vary) {
    request.setupRequest = (req) => {
      const next = vary()
      return {
        ...req,
        ...(next.path !== undefined ? { path: next.path } : {}),
        ...(next.body !== undefined ? { body: next.body } : {}),
        ...(next.headers !== undefined ? { headers: next.headers } : {}),
      }
    }
  }
  return request
}

async function cannon(scenario: Scenario, options: LoadOptions, durationS: number, failures: string[]): Promise<autocannon.Result> {
  return autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: durationS,
    timeout: 30,
    requests: [autocannonRequest(scenario, failures)],
  })
}

export interface LatencySamples { ms: number[]; non2xx: number; errors: number; failures: string[] }

/**
 * `amount` requests one after another on one connection, with every 2xx latency kept exactly:
 * autocannon's histogram rounds to whole milliseconds, too coarse for medians of a few ms.
 */
export async function latencySamples(scenario: Scenario, baseUrl: string, amount: number): Promise<LatencySamples> {
  assertLocal(baseUrl)
  const failures: string[] = []
  const ms: number[] = []
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: baseUrl, connections: 1, amount, timeout: 30, requests: [autocannonRequest(scenario, failures)] },
      (error: unknown, done: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done)),
    )
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) ms.push(responseTime)
    })
  })
  return { ms, non2xx: result.non2xx, errors: result.errors, failures }
}

export async function runLoad(scenario: Scenario, options: LoadOptions): Promise<LoadResult> {
  assertLocal(options.baseUrl)
  if (options.warmupS > 0) await cannon(scenario, options, options.warmupS, [])
  const failures: string[] = []
  const rss = sampleRss(options.pid)
  const cpu = cpuWindow(options.pid, options.postmasterPid)
  const result = await cannon(scenario, options, options.durationS, failures).finally(() => rss.stop())
  const memory = rss.stop()
  const cost = cpu.stop(result['2xx'] + result.non2xx)
  const ok = result['2xx']
  const reqPerSec = ok / result.duration
  return {
    name: scenario.name,
    label: scenario.label,
    connections: options.connections,
    durationS: Math.round(result.duration * 100) / 100,
    requests: ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    reqPerSec: Math.round(reqPerSec * 10) / 10,
    eventsPerSec: scenario.eventsPerRequest > 0 ? Math.round(reqPerSec * scenario.eventsPerRequest * 10) / 10 : null,
    latencyMs: {
      p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99,
      mean: Math.round(result.latency.mean * 100) / 100, max: result.latency.max,
    },
    peakRssMb: memory.peakMb,
    cpu: cost,
    failures,
    drainMs: null,
  }
}

/** One request as the scenario would send it: a scenario that fails alone is reported, not measured. */
export async function probe(scenario: Scenario, baseUrl: string): Promise<{ ok: boolean; status: number; body: string }> {
  assertLocal(baseUrl)
  const next = scenario.vary?.() ?? {}
  const res = await fetch(`${baseUrl}${next.path ?? scenario.path}`, {
    method: scenario.method,
    headers: next.headers ?? scenario.headers,
    body: scenario.method === 'POST' ? next.body : undefined,
    signal: AbortSignal.timeout(30_000),
  })
  const body = await res.text()
  return { ok: res.ok, status: res.status, body: body.slice(0, 500) }
}

/**
 * Waits until the service has finished what the last run left in flight (requests autocannon
 * stopped waiting for still hold database connections), so the next scenario starts clean:
 * `isIdle` is asked every 250 ms, for at most `timeoutMs`. Returns the time waited.
 */
export async function drain(isIdle: () => Promise<boolean>, timeoutMs: number): Promise<{ ms: number; idle: boolean }> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (await isIdle().catch(() => false)) return { ms: Math.round(performance.now() - started), idle: true }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { ms: Math.round(performance.now() - started), idle: false }
}

/** The server answers its readiness check (for the service, a database round trip) within a second. */
export async function answersQuickly(baseUrl: string, readyPath: string): Promise<boolean> {
  assertLocal(baseUrl)
  const res = await fetch(`${baseUrl}${readyPath}`, { signal: AbortSignal.timeout(1_000) })
  await res.arrayBuffer()
  return res.ok
}
