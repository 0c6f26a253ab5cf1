// What an independent client computes from the events it posted, with nothing from the store:
// journeys and promises folded by hand (events in the order posted, which is time order for a
// generated population), then the analytics figures as the API documents them, suppression included
// (written anew here from the contract's words, not from src/domain/suppression.ts).
import { createHash } from 'node:crypto'

export interface PostedEvent { id: string; source: string; type: string; subject: string; time: string; data: Record<string, unknown> }

export interface ModelJourney {
  id: string
  /** The person of the journey (the first personId given): a rehired person has several journeys. */
  personId: string | null
  vacancyId: string | null
  department: string | null
  startDate: string | null
  hired: boolean
  exited: boolean
  lastDay: string | null
}

export interface ModelPromise {
  id: string
  journeyId: string
  category: string
  madeBy: string
  madeAt: string | null
  madeTime: string
  dueBy: string | null
  dueAfterStartDays: number | null
  outcome: 'open' | 'kept' | 'broken' | 'withdrawn'
  closedAt: string | null
  renegotiations: number
  assessed: number | null
}

export interface Model { journeys: Map<string, ModelJourney>; promises: Map<string, ModelPromise> }

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
const asRecord = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v)) : {})

/** The documented id of a promise the ledger derives from an offer term or a vacancy promise. */
const derivedId = (...parts: string[]) => `prm_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22)}`
const asKey = (v: string) => v.replace(/[^A-Za-z0-9._:@-]/g, '-').slice(0, 128) || 'unknown'

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00.000Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

export function buildModel(events: readonly PostedEvent[]): Model {
  const vacancies = new Map<string, { publishedBy: string; promises: Record<string, unknown>[] }>()
  const journeys = new Map<string, ModelJourney>()
  const promises = new Map<string, ModelPromise>()
  const make = (journeyId: string, id: string, time: string, d: Record<string, unknown>, madeBy: string, madeAt: string | null) => {
    promises.set(id, {
      id, journeyId, category: str(d.category) ?? 'other', madeBy, madeAt, madeTime: time, dueBy: str(d.dueBy),
      dueAfterStartDays: num(d.dueAfterStartDays), outcome: 'open', closedAt: null, renegotiations: 0, assessed: null,
    })
  }
  for (const e of events) {
    const d = e.data
    if (e.type === 'vacancy.published') {
      vacancies.set(e.subject, { publishedBy: str(d.publishedBy) ?? e.source, promises: Array.isArray(d.promises) ? d.promises.map(asRecord) : [] })
      continue
    }
    const j = journeys.get(e.subject) ?? { id: e.subject, personId: null, vacancyId: null, department: null, startDate: null, hired: false, exited: false, lastDay: null }
    journeys.set(e.subject, j)
    const p = promises.get(str(d.promiseId) ?? '')
    if (e.type === 'candidate.applied' || e.type === 'employee.hired') j.personId = j.personId ?? str(d.personId)
    switch (e.type) {
      case 'candidate.applied':
        j.vacancyId = str(d.vacancyId) ?? j.vacancyId
        break
      case 'offer.made':
        if (!j.hired) {
          j.department = str(d.department) ?? j.department
          j.startDate = str(d.startDate) ?? j.startDate
        }
        ;(Array.isArray(d.terms) ? d.terms : []).forEach((term, index) => make(
          e.subject, derivedId(e.subject, 'offer', e.source, e.id, String(index)), e.time, asRecord(term), str(d.madeBy) ?? asKey(e.source), 'offer'))
        break
      case 'employee.hired': {
        const vacancy = !j.hired && j.vacancyId ? vacancies.get(j.vacancyId) : undefined
        vacancy?.promises.forEach((vp, index) => make(
          e.subject, derivedId(e.subject, 'vacancy', j.vacancyId ?? '', String(index)), e.time, vp, asKey(vacancy.publishedBy), 'vacancy'))
        j.hired = true
        j.department = str(d.department) ?? j.department
        j.startDate = str(d.startDate) ?? j.startDate
        break
      }
      case 'role.changed':
        j.department = str(d.department) ?? j.department
        break
      case 'exit.announced':
        j.lastDay = str(d.lastDay) ?? j.lastDay
        break
      case 'employee.exited':
        j.exited = true
        j.lastDay = str(d.lastDay) ?? j.lastDay
        break
      case 'promise.made':
        make(e.subject, str(d.promiseId) ?? '', e.time, d, str(d.madeBy) ?? '', str(d.madeAt))
        break
      case 'promise.kept': case 'promise.broken': case 'promise.withdrawn':
        if (p && p.outcome === 'open') {
          p.outcome = e.type === 'promise.kept' ? 'kept' : e.type === 'promise.broken' ? 'broken' : 'withdrawn'
          p.closedAt = e.time
        }
        break
      case 'promise.renegotiated':
        if (p) {
          p.renegotiations += 1
          if (str(d.dueBy)) {
            p.dueBy = str(d.dueBy)
            p.dueAfterStartDays = null
          }
        }
        break
      case 'promise.assessed':
        if (p) p.assessed = num(d.fulfilled)
        break
      default:
    }
  }
  return { journeys, promises }
}

export function dueDate(p: ModelPromise, model: Model): string | null {
  const start = model.journeys.get(p.journeyId)?.startDate ?? null
  return p.dueBy ?? (p.dueAfterStartDays !== null && start !== null ? addDays(start, p.dueAfterStartDays) : null)
}

/** num/den rounded half away from zero to `places` decimals, in exact integer arithmetic. */
export function ratio(num: number, den: number, places: number): number | null {
  if (den === 0) return null
  const scale = 10 ** places
  const sign = Math.sign(num) * Math.sign(den)
  const [n, d] = [Math.abs(num), Math.abs(den)]
  return (sign * Math.floor((2 * n * scale + d) / (2 * d))) / scale
}

export interface Query { groupBy: string; from?: string; to?: string; minGroupSize: number; today: string }

/** The period as answered: from the first day of `from`'s month to the last day of `to`'s. */
export function answeredPeriod(q: { from?: string; to?: string }): { from: string | null; to: string | null } {
  const lastDay = (date: string) => addDays(`${addDays(`${date.slice(0, 7)}-01`, 32).slice(0, 7)}-01`, -1)
  return { from: q.from ? `${q.from.slice(0, 7)}-01` : null, to: q.to ? lastDay(q.to) : null }
}

/** Distinct people behind some journeys. */
const peopleOf = (model: Model, journeyIds: Iterable<string>) => new Set([...journeyIds].map((id) => model.journeys.get(id)?.personId ?? `journey:${id}`)).size

/**
 * Which of some cells (by their people) are hidden: every one under `min`; and if that hides exactly
 * one, also the smallest of the rest (the earliest listed among equals).
 */
export function hiddenCells(people: number[], min: number): boolean[] {
  const hidden = people.map((n) => n < min)
  if (hidden.filter((h) => h).length === 1) {
    let next = -1
    people.forEach((n, i) => { if (!hidden[i] && (next === -1 || n < (people[next] ?? 0))) next = i })
    if (next !== -1) hidden[next] = true
  }
  return hidden
}

/** Groups the items by key, in byte order of the key; hides groups by their distinct people; computes figures of the others. */
function grouped<T extends { journeyId: string }>(model: Model, items: T[], key: (item: T) => string, min: number, figures: (items: T[]) => object) {
  const groups = new Map<string, T[]>()
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  const names = [...groups.keys()].sort()
  const hidden = hiddenCells(names.map((g) => peopleOf(model, (groups.get(g) ?? []).map((m) => m.journeyId))), min)
  return names.map((group, i) => (hidden[i] ? { group, suppressed: true } : { group, ...figures(groups.get(group) ?? []) }))
}

function journeyKey(groupBy: string, j: ModelJourney | undefined): string {
  if (groupBy === 'department') return j?.department ?? 'unknown'
  if (groupBy === 'vacancy') return j?.vacancyId ?? 'unknown'
  return j?.hired && j.startDate ? j.startDate.slice(0, 7) : 'not-hired'
}

export function expectedPromiseAnalytics(model: Model, q: Query) {
  const period = answeredPeriod(q)
  const fromMs = period.from ? Date.parse(`${period.from}T00:00:00.000Z`) : -Infinity
  const toMs = period.to ? Date.parse(`${addDays(period.to, 1)}T00:00:00.000Z`) : Infinity
  const items = [...model.promises.values()].filter((p) => Date.parse(p.madeTime) >= fromMs && Date.parse(p.madeTime) < toMs)
  const key = (p: ModelPromise) => {
    if (q.groupBy === 'madeBy') return p.madeBy
    if (q.groupBy === 'category') return p.category
    if (q.groupBy === 'madeAt') return p.madeAt ?? 'unknown'
    return journeyKey(q.groupBy, model.journeys.get(p.journeyId))
  }
  const data = grouped(model, items, key, q.minGroupSize, (ps) => {
    const count = (f: (p: ModelPromise) => boolean) => ps.filter(f).length
    const overdue = count((p) => p.outcome === 'open' && (dueDate(p, model) ?? '9999-12-31') < q.today)
    const kept = ps.filter((p) => p.outcome === 'kept')
    const broken = count((p) => p.outcome === 'broken')
    // Calendar days (UTC) from the day made to the day kept; the median of whole numbers is whole or half.
    const utcDay = (time: string) => Math.floor(Date.parse(time) / 86_400_000)
    const days = kept.map((p) => utcDay(p.closedAt ?? '') - utcDay(p.madeTime)).sort((a, b) => a - b)
    const mid = Math.floor(days.length / 2)
    const median = days.length === 0 ? null : days.length % 2 === 1 ? (days[mid] ?? 0) : ((days[mid - 1] ?? 0) + (days[mid] ?? 0)) / 2
    return {
      made: ps.length, kept: kept.length, broken, renegotiated: count((p) => p.renegotiations > 0),
      withdrawn: count((p) => p.outcome === 'withdrawn'), open: count((p) => p.outcome === 'open'), overdue,
      keepRate: ratio(kept.length, kept.length + broken + overdue, 4),
      medianDaysToKeep: median,
      perceptionGap: count((p) => p.outcome === 'kept' && p.assessed !== null && p.assessed <= 2),
    }
  })
  return { groupBy: q.groupBy, ...period, minGroupSize: q.minGroupSize, data }
}

export function expectedRetention(model: Model, q: Query) {
  const broken = new Set([...model.promises.values()].filter((p) => p.outcome === 'broken').map((p) => p.journeyId))
  const period = answeredPeriod(q)
  const hires = [...model.journeys.values()]
    .filter((j) => j.hired && j.startDate !== null && (!period.from || j.startDate >= period.from) && (!period.to || j.startDate <= period.to))
    .map((j) => ({ ...j, journeyId: j.id }))
  const figures = (js: ModelJourney[]) => {
    const exits = js.filter((j) => j.exited)
    const early = exits.filter((j) => j.lastDay !== null && j.startDate !== null && j.lastDay < addDays(j.startDate, 365)).length
    return { hires: js.length, exits: exits.length, earlyExits: early, earlyExitRate: ratio(early, js.length, 4) }
  }
  const data = grouped(model, hires, (j) => journeyKey(q.groupBy, j), q.minGroupSize, (js) => {
    const splits = [js.filter((j) => broken.has(j.id)), js.filter((j) => !broken.has(j.id))]
    const [withHidden, withoutHidden] = hiddenCells(splits.map((s) => peopleOf(model, s.map((j) => j.id))), q.minGroupSize)
    const shown = (hidden: boolean | undefined, split: ModelJourney[] | undefined) => (hidden === false ? figures(split ?? []) : { suppressed: true })
    return { ...figures(js), withBrokenPromise: shown(withHidden, splits[0]), withoutBrokenPromise: shown(withoutHidden, splits[1]) }
  })
  return { groupBy: q.groupBy, ...period, minGroupSize: q.minGroupSize, data }
}
