// The experience and exit analytics as an independent client computes them from the events it
// posted (issue 15), with nothing from the store: written from the API's documented words.
import { addDays, answeredPeriod, hiddenCells, ratio, type Model, type PostedEvent, type Query } from './analytics-model.js'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)

interface Placement { department: string | null; manager: string | null; role: string | null; hired: boolean }

/** Each journey's current department, manager and role: offer.made before the hire, employee.hired, role.changed. */
function placements(events: readonly PostedEvent[]): Map<string, Placement> {
  const out = new Map<string, Placement>()
  for (const e of [...events].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))) {
    const p = out.get(e.subject) ?? { department: null, manager: null, role: null, hired: false }
    const place = () => {
      p.department = str(e.data.department) ?? p.department
      p.manager = str(e.data.manager) ?? p.manager
      p.role = str(e.data.role) ?? p.role
    }
    if (e.type === 'offer.made' && !p.hired) place()
    if (e.type === 'employee.hired') { place(); p.hired = true }
    if (e.type === 'role.changed') place()
    out.set(e.subject, p)
  }
  return out
}

const enps = (scores: number[]) => ratio(100 * (scores.filter((s) => s >= 9).length - scores.filter((s) => s <= 6).length), scores.length, 1)
const mean = (values: (number | null)[]) => {
  const given = values.filter((v): v is number => v !== null)
  return ratio(given.reduce((a, b) => a + b, 0), given.length, 2)
}

function inPeriod(time: string, q: Query): boolean {
  const { from, to } = answeredPeriod(q)
  return (!from || time >= `${from}T00:00:00.000Z`) && (!to || time < `${addDays(to, 1)}T00:00:00.000Z`)
}

/** Groups items by key (byte order), hides groups by distinct people, then splits by broken promise, as documented. */
function grouped<T extends { journeyId: string }>(model: Model, items: T[], key: (i: T) => string, min: number, broken: Set<string>,
  figures: (items: T[]) => object, splitFigures: (items: T[]) => object) {
  const people = (xs: T[]) => new Set(xs.map((x) => model.journeys.get(x.journeyId)?.personId ?? x.journeyId)).size
  const groups = new Map<string, T[]>()
  for (const i of items) groups.set(key(i), [...(groups.get(key(i)) ?? []), i])
  const names = [...groups.keys()].sort()
  const hidden = hiddenCells(names.map((g) => people(groups.get(g) ?? [])), min)
  return names.map((group, index) => {
    if (hidden[index]) return { group, suppressed: true }
    const xs = groups.get(group) ?? []
    const splits = [xs.filter((x) => broken.has(x.journeyId)), xs.filter((x) => !broken.has(x.journeyId))]
    const [withHidden, withoutHidden] = hiddenCells(splits.map(people), min)
    const shown = (h: boolean | undefined, s: T[] | undefined) => (h === false ? splitFigures(s ?? []) : { suppressed: true })
    return { group, ...figures(xs), withBrokenPromise: shown(withHidden, splits[0]), withoutBrokenPromise: shown(withoutHidden, splits[1]) }
  })
}

const brokenJourneys = (model: Model) => new Set([...model.promises.values()].filter((p) => p.outcome === 'broken').map((p) => p.journeyId))

export function expectedExperience(model: Model, events: readonly PostedEvent[], q: Query) {
  const place = placements(events)
  const people = (xs: { journeyId: string }[]) => new Set(xs.map((x) => model.journeys.get(x.journeyId)?.personId ?? x.journeyId)).size
  const pulses = events.filter((e) => e.type === 'pulse.answered' && inPeriod(e.time, q)).map((e) => ({
    journeyId: e.subject, enps: num(e.data.enps), valued: num(e.data.valued), safe: num(e.data.safe), autonomy: num(e.data.autonomy), met: num(e.data.expectationsMet),
  }))
  const key = (p: { journeyId: string }) => {
    const at = place.get(p.journeyId)
    const value = q.groupBy === 'department' ? at?.department : q.groupBy === 'manager' ? at?.manager : at?.role
    return value ?? 'unknown'
  }
  const scores = (ps: typeof pulses) => ps.map((p) => p.enps).filter((s): s is number => s !== null)
  const data = grouped(model, pulses, key, q.minGroupSize, brokenJourneys(model), (ps) => ({
    respondents: people(ps), responses: ps.length, enps: enps(scores(ps)),
    promoters: scores(ps).filter((s) => s >= 9).length, passives: scores(ps).filter((s) => s === 7 || s === 8).length, detractors: scores(ps).filter((s) => s <= 6).length,
    valued: mean(ps.map((p) => p.valued)), safe: mean(ps.map((p) => p.safe)), autonomy: mean(ps.map((p) => p.autonomy)), expectationsMet: mean(ps.map((p) => p.met)),
  }), (ps) => ({ respondents: people(ps), enps: enps(scores(ps)) }))
  return { groupBy: q.groupBy, ...answeredPeriod(q), minGroupSize: q.minGroupSize, data }
}

export function expectedExits(model: Model, events: readonly PostedEvent[], q: Query) {
  const place = placements(events)
  const { from, to } = answeredPeriod(q)
  const byJourney = (type: string) => {
    const out = new Map<string, PostedEvent[]>()
    for (const e of events.filter((x) => x.type === type)) out.set(e.subject, [...(out.get(e.subject) ?? []), e])
    return out
  }
  const interviews = byJourney('exit.interviewed')
  const referrals = byJourney('alumni.referred')
  const exited = byJourney('employee.exited')
  const exits = [...model.journeys.values()].filter((j) => j.exited && j.lastDay !== null && (!from || j.lastDay >= from) && (!to || j.lastDay <= to)).map((j) => {
    // the latest interview by time; among equal times the later posted
    const interview = [...(interviews.get(j.id) ?? [])].reverse().sort((a, b) => (a.time > b.time ? -1 : a.time < b.time ? 1 : 0))[0]
    const d = interview?.data ?? {}
    const regrettable = (exited.get(j.id) ?? []).map((e) => e.data.regrettable).filter((r) => typeof r === 'boolean').pop() === true
    return {
      journeyId: j.id, person: j.personId ?? j.id, interviewed: interview !== undefined, recommend: num(d.wouldRecommend),
      wouldReturn: typeof d.wouldReturn === 'boolean' ? d.wouldReturn : null, promisesKept: num(d.promisesKept),
      reasons: Array.isArray(d.reasons) ? d.reasons.filter((r): r is string => typeof r === 'string') : [],
      regrettable, referrals: (referrals.get(j.id) ?? []).length,
      cohort: j.hired && j.startDate ? j.startDate.slice(0, 7) : 'not-hired', department: place.get(j.id)?.department ?? 'unknown',
    }
  })
  type Exit = (typeof exits)[number]
  const recommend = (xs: Exit[]) => xs.map((x) => x.recommend).filter((r): r is number => r !== null)
  const topReasons = (xs: Exit[]) => {
    const named = new Map<string, Set<string>>()
    for (const x of xs) for (const r of x.reasons) {
      const reason = r.trim().toLowerCase().replace(/\s+/g, ' ')
      named.set(reason, (named.get(reason) ?? new Set()).add(x.person))
    }
    return [...named].map(([reason, who]) => ({ reason, people: who.size })).filter((r) => r.people >= q.minGroupSize)
      .sort((a, b) => b.people - a.people || (a.reason < b.reason ? -1 : 1)).slice(0, 5)
  }
  const answered = (xs: Exit[]) => xs.filter((x) => x.wouldReturn !== null)
  const data = grouped(model, exits, (x) => (q.groupBy === 'department' ? x.department : x.cohort), q.minGroupSize, brokenJourneys(model), (xs) => ({
    exits: xs.length, interviewed: xs.filter((x) => x.interviewed).length, exitEnps: enps(recommend(xs)),
    wouldReturnRate: ratio(answered(xs).filter((x) => x.wouldReturn).length, answered(xs).length, 4),
    meanPromisesKept: mean(xs.map((x) => x.promisesKept)), regrettableShare: ratio(xs.filter((x) => x.regrettable).length, xs.length, 4),
    topReasons: topReasons(xs),
    ambassadors: new Set(xs.filter((x) => x.referrals > 0).map((x) => x.person)).size, referrals: xs.reduce((a, x) => a + x.referrals, 0),
  }), (xs) => ({ exits: xs.length, interviewed: xs.filter((x) => x.interviewed).length, exitEnps: enps(recommend(xs)) }))
  return { groupBy: q.groupBy, ...answeredPeriod(q), minGroupSize: q.minGroupSize, data }
}
