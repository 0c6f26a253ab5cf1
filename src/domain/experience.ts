// The individual's own view (GET /v1/journeys/{id}/experience): the experience events of one
// journey as series, oldest first, and per series its last value and its change over the last
// 90 days. Pure: opened events and the clock in. Never aggregated, so never suppressed.

export const experienceTypes = ['pulse.answered', 'checkin.held', 'recognition.given', 'development.started', 'development.completed', 'role.changed'] as const

/** An experience event as the reader may see it: personal fields opened, or null once the person was erased. */
export interface OpenedEvent { id: string; type: string; time: string; data: Record<string, unknown>; erased?: boolean }

export const pulseScales = ['enps', 'valued', 'safe', 'autonomy', 'expectationsMet'] as const
export type PulseScale = (typeof pulseScales)[number]

export interface PulseEntry { time: string; eventId: string; enps: number | null; valued: number | null; safe: number | null; autonomy: number | null; expectationsMet: number | null }
export interface CheckinEntry {
  time: string; eventId: string; with: string | null; expectationsMet: number | null
  motivations: string[] | null; interests: string[] | null; developmentWishes: string[] | null; notes: string | null; erased: boolean
}
export interface RecognitionEntry { time: string; eventId: string; by: string | null; kind: string | null; note: string | null; erased: boolean }
export interface DevelopmentEntry { time: string; eventId: string; status: 'started' | 'completed'; kind: string | null; title: string | null; erased: boolean }
export interface RoleChangeEntry { time: string; eventId: string; kind: string | null; role: string | null; department: string | null; manager: string | null }

/** A numeric series' trend: its last reading, and how far it moved over the window. */
export interface NumericTrend { readings: number; last: number | null; lastAt: string | null; change: number | null }
/** An event series' trend: when it last happened, and how often within the window. */
export interface CountTrend { last: string | null; inWindow: number }

export interface ExperienceSeries {
  pulses: PulseEntry[]
  checkins: CheckinEntry[]
  recognition: RecognitionEntry[]
  development: DevelopmentEntry[]
  roleChanges: RoleChangeEntry[]
  trends: {
    windowDays: number
    enps: NumericTrend; valued: NumericTrend; safe: NumericTrend; autonomy: NumericTrend
    /** From pulses and check-ins together, as the expectations-falling signal reads them. */
    expectationsMet: NumericTrend
    recognition: CountTrend
    development: CountTrend
  }
}

export const trendWindowDays = 90
const dayMs = 86_400_000

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const strs = (v: unknown): string[] | null => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null)

interface Reading { time: string; value: number }

/**
 * Last value, and change over the window: the last reading minus the value as it stood when the
 * window opened (the latest reading at or before then; if the series began inside it, its first
 * reading); null under two readings. Readings after `now` (dated ahead) are not counted yet.
 */
export function numericTrend(series: readonly Reading[], now: Date, windowDays = trendWindowDays): NumericTrend {
  const upToNow = series.filter((r) => Date.parse(r.time) <= now.getTime())
  const last = upToNow[upToNow.length - 1]
  if (!last) return { readings: 0, last: null, lastAt: null, change: null }
  const opened = now.getTime() - windowDays * dayMs
  const before = upToNow.filter((r) => Date.parse(r.time) <= opened)
  const baseline = before[before.length - 1] ?? upToNow[0]
  return { readings: upToNow.length, last: last.value, lastAt: last.time, change: upToNow.length < 2 || !baseline ? null : last.value - baseline.value }
}

function countTrend(times: readonly string[], now: Date, windowDays = trendWindowDays): CountTrend {
  const upToNow = times.filter((t) => Date.parse(t) <= now.getTime())
  const opened = now.getTime() - windowDays * dayMs
  return { last: upToNow[upToNow.length - 1] ?? null, inWindow: upToNow.filter((t) => Date.parse(t) > opened).length }
}

/** The series of one journey from its experience events, ordered by time (as the timeline reads them). */
export function experienceSeries(events: readonly OpenedEvent[], now: Date): ExperienceSeries {
  const out: Omit<ExperienceSeries, 'trends'> = { pulses: [], checkins: [], recognition: [], development: [], roleChanges: [] }
  const expectations: Reading[] = []
  for (const e of events) {
    const d = e.data
    const base = { time: e.time, eventId: e.id }
    const erased = e.erased === true
    switch (e.type) {
      case 'pulse.answered':
        out.pulses.push({ ...base, enps: num(d.enps), valued: num(d.valued), safe: num(d.safe), autonomy: num(d.autonomy), expectationsMet: num(d.expectationsMet) })
        break
      case 'checkin.held':
        out.checkins.push({
          ...base, with: str(d.with), expectationsMet: num(d.expectationsMet), motivations: strs(d.motivations), interests: strs(d.interests),
          developmentWishes: strs(d.developmentWishes), notes: str(d.notes), erased,
        })
        break
      case 'recognition.given':
        out.recognition.push({ ...base, by: str(d.by), kind: str(d.kind), note: str(d.note), erased })
        break
      case 'development.started': case 'development.completed':
        out.development.push({ ...base, status: e.type === 'development.started' ? 'started' : 'completed', kind: str(d.kind), title: str(d.title), erased })
        break
      case 'role.changed':
        out.roleChanges.push({ ...base, kind: str(d.kind), role: str(d.role), department: str(d.department), manager: str(d.manager) })
        break
      default:
    }
    const met = num(d.expectationsMet)
    if ((e.type === 'pulse.answered' || e.type === 'checkin.held') && met !== null) expectations.push({ time: e.time, value: met })
  }
  const scale = (name: Exclude<PulseScale, 'expectationsMet'>) =>
    numericTrend(out.pulses.flatMap((p) => (p[name] === null ? [] : [{ time: p.time, value: p[name] }])), now)
  return {
    ...out,
    trends: {
      windowDays: trendWindowDays,
      enps: scale('enps'), valued: scale('valued'), safe: scale('safe'), autonomy: scale('autonomy'),
      expectationsMet: numericTrend(expectations, now),
      recognition: countTrend(out.recognition.map((r) => r.time), now),
      development: countTrend(out.development.filter((d) => d.status === 'started').map((d) => d.time), now),
    },
  }
}
