// Does a journey's history make an append or a read slower? One journey grown to 1 000 events
// against journeys of 5, measured one request at a time (appends to one journey queue on its stream
// lock, so more connections would measure the queue), alternated in rounds so drift hits both sides.
import { latencySamples, type LatencySamples, type Scenario } from './load.js'
import { weeklyEvent, workingLife, type CloudEvent } from './working-life.js'

export interface LengthSettings {
  longEvents: number
  shortEvents: number
  rounds: number
  /** Per side and round; also the number of short journeys, so each gets one append a round and stays short. */
  requestsPerRound: number
  /** Per side, not counted. */
  warmupRequests: number
}

export interface Side { medianMs: number; p90Ms: number; samples: number }

export interface Comparison {
  label: string
  long: Side
  short: Side
  /** Median long ÷ median short, over every round's samples. */
  ratio: number
  rounds: { longMedianMs: number; shortMedianMs: number }[]
  non2xx: number
  errors: number
  failures: string[]
}

export interface JourneyLengthResult {
  settings: LengthSettings
  growMs: number
  /** Events a journey held when a measured request reached it: appends make both sides grow. */
  eventsWhenMeasured: { long: { min: number; max: number }; short: { min: number; max: number } }
  append: Comparison | null
  read: Comparison | null
}

const round2 = (n: number) => Math.round(n * 100) / 100

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  const at = (sorted.length - 1) * q
  const below = sorted[Math.floor(at)] ?? NaN
  const above = sorted[Math.ceil(at)] ?? NaN
  return below + (above - below) * (at - Math.floor(at))
}

function side(samples: readonly number[]): Side {
  const sorted = [...samples].sort((a, b) => a - b)
  return { medianMs: round2(quantile(sorted, 0.5)), p90Ms: round2(quantile(sorted, 0.9)), samples: sorted.length }
}

async function postEvents(baseUrl: string, apiKey: string, events: readonly CloudEvent[]): Promise<void> {
  const res = await fetch(`${baseUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(300_000),
  })
  const body = await res.text()
  if (!res.ok) throw new Error(`growing the journeys: POST /v1/events answered ${res.status}: ${body.slice(0, 300)}`)
}

/** Through the API, in batches as an HRIS backfill would send them. */
async function grow(baseUrl: string, apiKey: string, events: readonly CloudEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 250) await postEvents(baseUrl, apiKey, events.slice(i, i + 250))
}

function appends(name: string, journeyIds: readonly string[], tag: string, apiKey: string): Scenario {
  let n = 0
  return {
    name, label: 'POST /v1/events, 1 event', method: 'POST', path: '/v1/events', eventsPerRequest: 1,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    vary: () => {
      const journeyId = journeyIds[n % journeyIds.length] ?? ''
      const event = weeklyEvent(journeyId, `${tag}-${name}-${n}`, n % 2 === 0)
      n++
      return { body: JSON.stringify(event) }
    },
  }
}

function reads(name: string, journeyIds: readonly string[], apiKey: string): Scenario {
  let n = 0
  return {
    name, label: 'GET /v1/journeys/{id}', method: 'GET', path: '/v1/journeys/x', eventsPerRequest: 0,
    headers: { authorization: `Bearer ${apiKey}` },
    vary: () => ({ path: `/v1/journeys/${encodeURIComponent(journeyIds[n++ % journeyIds.length] ?? '')}` }),
  }
}

/** Warm-up, then `rounds` rounds, the side that goes first changing every round. */
async function compare(pair: { long: Scenario; short: Scenario }, baseUrl: string, s: LengthSettings): Promise<Comparison> {
  const all: Record<'long' | 'short', number[]> = { long: [], short: [] }
  const rounds: Comparison['rounds'] = []
  const failed: LatencySamples[] = []
  const run = async (which: 'long' | 'short', amount: number) => {
    const samples = await latencySamples(pair[which], baseUrl, amount)
    if (samples.non2xx > 0 || samples.errors > 0) failed.push(samples)
    return samples.ms
  }
  if (s.warmupRequests > 0) {
    await run('long', s.warmupRequests)
    await run('short', s.warmupRequests)
  }
  for (let r = 0; r < s.rounds; r++) {
    const order: ('long' | 'short')[] = r % 2 === 0 ? ['long', 'short'] : ['short', 'long']
    const medians = { long: NaN, short: NaN }
    for (const which of order) {
      const ms = await run(which, s.requestsPerRound)
      all[which].push(...ms)
      medians[which] = side(ms).medianMs
    }
    rounds.push({ longMedianMs: medians.long, shortMedianMs: medians.short })
  }
  const long = side(all.long)
  const short = side(all.short)
  return {
    label: pair.long.label, long, short, ratio: Math.round((long.medianMs / short.medianMs) * 1000) / 1000, rounds,
    non2xx: failed.reduce((sum, f) => sum + f.non2xx, 0), errors: failed.reduce((sum, f) => sum + f.errors, 0),
    failures: failed.flatMap((f) => f.failures).slice(0, 5),
  }
}

/**
 * The long journey takes every append; the short ones take one a round each, and the warm-up's went
 * to the first of them. (Reads run after the appends, on journeys grown by all of them.)
 */
function grownBy(s: LengthSettings): JourneyLengthResult['eventsWhenMeasured'] {
  const warm = s.warmupRequests
  return {
    long: { min: s.longEvents + warm, max: s.longEvents + warm + s.rounds * s.requestsPerRound - 1 },
    short: { min: s.shortEvents + (warm === s.requestsPerRound ? 1 : 0), max: s.shortEvents + (warm > 0 ? 1 : 0) + s.rounds - 1 },
  }
}

export async function runJourneyLength(o: {
  baseUrl: string
  apiKey: string
  tag: string
  settings: LengthSettings
  wanted: (name: string) => boolean
  log: (line: string) => void
}): Promise<JourneyLengthResult> {
  // More warm-up than short journeys would give some of them two appends before the rounds.
  const s = { ...o.settings, warmupRequests: Math.min(o.settings.warmupRequests, o.settings.requestsPerRound) }
  const longId = `jb-${o.tag}-long`
  const shortIds = Array.from({ length: s.requestsPerRound }, (_, i) => `jb-${o.tag}-short-${i}`)
  const now = Date.now()
  o.log(`journey length: growing ${longId} to ${s.longEvents} events and ${shortIds.length} journeys to ${s.shortEvents}`)
  const started = performance.now()
  await grow(o.baseUrl, o.apiKey, workingLife(longId, s.longEvents, now))
  await grow(o.baseUrl, o.apiKey, shortIds.flatMap((id) => workingLife(id, s.shortEvents, now)))
  const growMs = Math.round(performance.now() - started)

  const append = o.wanted('append-long-short')
    ? await compare({ long: appends('append-long', [longId], o.tag, o.apiKey), short: appends('append-short', shortIds, o.tag, o.apiKey) }, o.baseUrl, s)
    : null
  if (append) o.log(`append-long-short: median ${append.long.medianMs} ms on ${s.longEvents} events, ${append.short.medianMs} ms on ${s.shortEvents}: ratio ${append.ratio}`)
  const read = o.wanted('read-long-short')
    ? await compare({ long: reads('read-long', [longId], o.apiKey), short: reads('read-short', shortIds, o.apiKey) }, o.baseUrl, s)
    : null
  if (read) o.log(`read-long-short: median ${read.long.medianMs} ms on the long journey, ${read.short.medianMs} ms on a short one: ratio ${read.ratio}`)

  const untouched = { long: { min: s.longEvents, max: s.longEvents }, short: { min: s.shortEvents, max: s.shortEvents } }
  return { settings: s, growMs, eventsWhenMeasured: append ? grownBy(s) : untouched, append, read }
}
