// A demo population: CloudEvents for N journeys, from vacancy to exit, generated deterministically
// from a seed (mulberry32) and the `now` passed in. Journey i depends only on (seed, i, vacancies),
// so a population of 100 000 journeys is generated one journey at a time, never all in memory.
import type { EventType, PromiseCategory } from './catalogue.js'
import { promisesFromOffer, promisesFromVacancy } from './promise.js'

export interface PopulationEvent {
  specversion: '1.0'
  id: string
  source: string
  type: EventType
  subject: string
  time: string
  data: Record<string, unknown>
}

export interface PopulationOptions { journeys: number; seed: number; now: Date; vacancies?: number }

export interface Population {
  /** vacancy.published events: post these first, hires inherit their promises. */
  vacancies: PopulationEvent[]
  /** Each journey's events in time order, generated lazily (iterating again yields the same events). */
  journeys: Iterable<PopulationEvent[]>
}

const day = 86_400_000
const hour = 3_600_000

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Mixes the seed and a journey's index into that journey's own PRNG seed. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) >>> 0
}

class Dice {
  constructor(readonly next: () => number) {}
  chance(p: number): boolean { return this.next() < p }
  between(min: number, max: number): number { return min + this.next() * (max - min) }
  int(min: number, max: number): number { return min + Math.floor(this.next() * (max - min + 1)) }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }
}

const departments = ['Engineering', 'Sales', 'Customer Success', 'Finance', 'People', 'Marketing', 'Operations']
const roles = ['Specialist', 'Senior Specialist', 'Lead', 'Associate']
const slug = (name: string) => name.toLowerCase().replace(/[^a-z]+/g, '-')
const managersOf = (department: string) => [1, 2, 3].map((k) => `mgr-${slug(department)}-${k}`)
const recruiters = ['rec-anna', 'rec-bram', 'rec-chloe', 'rec-dev']
const ideas: [PromiseCategory, string, 'transactional' | 'relational'][] = [
  ['flexibility', 'Two remote days a week.', 'transactional'], ['compensation', 'A salary review after six months.', 'transactional'],
  ['development', 'A conference of your choice each year.', 'transactional'], ['career', 'A path to the next level within two years.', 'relational'],
  ['culture', 'A team that decides together.', 'relational'], ['wellbeing', 'No on-call in the first three months.', 'transactional'],
  ['autonomy', 'You choose how you work.', 'relational'], ['community', 'Time for the guild every month.', 'relational'],
  ['other', 'A desk by the window.', 'transactional'],
]

interface VacancyPlan { id: string; department: string; publishedBy: string; promises: { category: PromiseCategory; text: string; dueAfterStartDays?: number }[] }
interface Context { seed: number; tag: string; nowMs: number; vacancies: VacancyPlan[] }

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const midnight = (ms: number) => Math.floor(ms / day) * day
/** Some moment of the working day (08:00-17:00 UTC) of the day `ms` falls on. */
const office = (dice: Dice, ms: number) => midnight(ms) + 8 * hour + dice.int(0, 9 * 3600) * 1000

/** A journey's events as they are planned; `build` orders them and keeps only what has happened by now. */
class Timeline {
  private readonly items: { ms: number; seq: number; event: Omit<PopulationEvent, 'time'> }[] = []
  constructor(readonly subject: string) {}
  add(ms: number, source: string, type: EventType, data: Record<string, unknown> = {}): { id: string; source: string; time: string } {
    const seq = this.items.length
    const id = `${this.subject}.${seq}`
    this.items.push({ ms, seq, event: { specversion: '1.0', id, source, type, subject: this.subject, data } })
    return { id, source, time: new Date(ms).toISOString() }
  }
  build(nowMs: number): PopulationEvent[] {
    const sorted = [...this.items].sort((a, b) => a.ms - b.ms || a.seq - b.seq)
    const out: PopulationEvent[] = []
    let last = -Infinity
    // Strictly increasing times, so "the latest" of anything is never a tie.
    for (const item of sorted) {
      const ms = Math.max(item.ms, last + 1)
      if (ms > nowMs) break
      last = ms
      out.push({ ...item.event, time: new Date(ms).toISOString() })
    }
    return out
  }
}

export function generatePopulation(options: PopulationOptions): Population {
  const { journeys, seed, now } = options
  const dice = new Dice(mulberry32(mix(seed, 0x7fffffff)))
  const tag = seed.toString(36)
  const count = options.vacancies ?? Math.min(500, Math.max(3, Math.round(journeys / 30)))
  const publishedMs = now.getTime() - (3 * 365 + 150) * day
  const plans: VacancyPlan[] = []
  const vacancies = Array.from({ length: count }, (_, k): PopulationEvent => {
    const department = departments[k % departments.length] ?? 'Engineering'
    const promised = Array.from({ length: dice.int(1, 3) }, () => {
      const [category, text] = dice.pick(ideas)
      return { category, text, ...(dice.chance(0.6) ? { dueAfterStartDays: dice.pick([90, 180, 365]) } : {}) }
    })
    const plan = { id: `vac-${tag}-${String(k + 1).padStart(3, '0')}`, department, publishedBy: dice.pick(recruiters), promises: promised }
    plans.push(plan)
    return {
      specversion: '1.0', id: `${plan.id}.0`, source: 'ats:greenhouse', type: 'vacancy.published', subject: plan.id,
      time: new Date(office(dice, publishedMs - dice.int(0, 30) * day)).toISOString(),
      data: { title: `${dice.pick(roles)}, ${department}`, department, publishedBy: plan.publishedBy, promises: promised },
    }
  })
  const context: Context = { seed, tag, nowMs: now.getTime(), vacancies: plans }
  return {
    vacancies,
    journeys: { *[Symbol.iterator]() { for (let i = 0; i < journeys; i++) yield journeyEvents(i, context) } },
  }
}

/** The population in batches of at most `size` events, in a valid order; a journey is never split. */
export function* populationBatches(population: Population, size = 500): Generator<PopulationEvent[]> {
  for (let i = 0; i < population.vacancies.length; i += size) yield population.vacancies.slice(i, i + size)
  let batch: PopulationEvent[] = []
  for (const events of population.journeys) {
    if (batch.length > 0 && batch.length + events.length > size) {
      yield batch
      batch = []
    }
    batch.push(...events)
  }
  if (batch.length > 0) yield batch
}

interface Planned { id: string; madeMs: number; dueMs: number | null }
interface Outcome { ms: number; type: EventType; data: Record<string, unknown> }

/** What becomes of a promise: kept ~65%, broken ~15%, renegotiated ~7% (then kept, broken or open), withdrawn ~3%, else open. */
function planOutcomes(dice: Dice, p: Planned): Outcome[] {
  const span = Math.max(day, (p.dueMs ?? p.madeMs + 180 * day) - p.madeMs)
  const at = (from: number, lo: number, hi: number) => office(dice, Math.max(from + day, from + span * dice.between(lo, hi)))
  const kept = (from: number) => ({ ms: at(from, 0.3, 1.1), type: 'promise.kept' as const, data: { promiseId: p.id, evidence: 'Done, as agreed.' } })
  const broken = (from: number) => ({
    ms: at(from, 0.5, 1.2), type: 'promise.broken' as const,
    data: { promiseId: p.id, reason: 'It did not happen.', cause: dice.pick(['reneged', 'misunderstood', 'circumstances']) },
  })
  const r = dice.next()
  let out: Outcome[] = []
  if (r < 0.62) out = [kept(p.madeMs)]
  else if (r < 0.77) out = [broken(p.madeMs)]
  else if (r < 0.84) {
    const ms = at(p.madeMs, 0.3, 0.9)
    const dueBy = isoDay(ms + dice.int(60, 240) * day)
    out = [{ ms, type: 'promise.renegotiated', data: { promiseId: p.id, text: 'New terms.', dueBy, agreedByEmployee: dice.chance(0.7) } }]
    const next = dice.next()
    if (next < 0.55) out.push(kept(ms))
    else if (next < 0.8) out.push(broken(ms))
  } else if (r < 0.86) out = [{ ms: at(p.madeMs, 0.1, 0.8), type: 'promise.withdrawn', data: { promiseId: p.id, reason: 'No longer relevant.' } }]
  const last = out[out.length - 1]
  if (last && last.type !== 'promise.renegotiated' && last.type !== 'promise.withdrawn' && dice.chance(0.45)) {
    // The employee's view: mostly in line, but some kept promises do not feel kept (the perception gap).
    const fulfilled = last.type === 'promise.broken' ? dice.int(1, 2) : dice.chance(0.15) ? dice.int(1, 2) : dice.int(3, 5)
    const ms = last.ms + dice.int(3, 40) * day
    out.push({ ms, type: 'promise.assessed', data: { promiseId: p.id, fulfilled } })
    if (dice.chance(0.1)) out.push({ ms: ms + dice.int(30, 90) * day, type: 'promise.assessed', data: { promiseId: p.id, fulfilled: dice.int(1, 5) } })
  }
  return out
}

function journeyEvents(i: number, ctx: Context): PopulationEvent[] {
  const dice = new Dice(mulberry32(mix(ctx.seed, i)))
  const id = `j-${ctx.tag}-${String(i).padStart(6, '0')}`
  const tl = new Timeline(id)
  const vacancy = ctx.vacancies.length > 0 && dice.chance(0.75) ? dice.pick(ctx.vacancies) : null
  const department = vacancy?.department ?? dice.pick(departments)
  const manager = dice.pick(managersOf(department))
  const recruiter = vacancy?.publishedBy ?? dice.pick(recruiters)
  const role = `${dice.pick(roles)}, ${department}`
  const hired = dice.chance(0.88)
  const todayMs = midnight(ctx.nowMs)
  // Hires start over the last three years; candidates who were not hired applied over the same years.
  const [startMs, appliedMs] = hired
    ? ((s: number) => [s, office(dice, s - dice.int(60, 120) * day)])(todayMs - dice.int(1, 3 * 365) * day)
    : ((a: number) => [midnight(a) + dice.int(60, 120) * day, a])(office(dice, todayMs - dice.int(10, 3 * 365 + 60) * day))
  const personId = `p-${ctx.tag}-${String(i).padStart(6, '0')}`
  tl.add(appliedMs, 'ats:greenhouse', 'candidate.applied', {
    personId, ...(vacancy ? { vacancyId: vacancy.id } : {}), channel: dice.pick(['referral', 'job board', 'career site']),
  })
  const interviewMs = office(dice, appliedMs + dice.int(7, 20) * day)
  tl.add(interviewMs, 'ats:greenhouse', 'interview.held', { interviewer: manager })
  const offerMs = office(dice, appliedMs + dice.int(25, 40) * day)
  const terms = Array.from({ length: dice.chance(0.7) ? dice.int(1, 2) : 0 }, () => {
    const [category, text] = dice.pick(ideas)
    return dice.chance(0.7) ? { category, text, dueAfterStartDays: dice.pick([90, 183, 365]) } : { category, text, dueBy: isoDay(startMs + dice.int(30, 400) * day) }
  })
  const offerData = { role, department, madeBy: recruiter, startDate: isoDay(startMs), terms }
  const makesOffer = hired || dice.chance(0.3)
  const offer = makesOffer ? tl.add(offerMs, 'ats:greenhouse', 'offer.made', offerData) : null
  const fromOffer = offer ? promisesFromOffer(id, { ...offer, data: offerData }) : []
  const dueOf = (d: Record<string, unknown>) =>
    typeof d.dueBy === 'string' ? Date.parse(d.dueBy) : typeof d.dueAfterStartDays === 'number' ? startMs + d.dueAfterStartDays * day : null

  if (!hired) {
    const endMs = office(dice, (offer ? offerMs : interviewMs) + dice.int(2, 10) * day)
    if (offer) {
      tl.add(endMs, 'ats:greenhouse', 'offer.declined', { reason: 'Accepted another offer.' })
      for (const p of fromOffer) tl.add(endMs + hour, 'ats:greenhouse', 'promise.withdrawn', { promiseId: p.promiseId, reason: 'The offer was declined.' })
    } else if (dice.chance(0.7)) tl.add(endMs, 'ats:greenhouse', 'candidate.rejected', { reason: 'Another candidate fitted better.' })
    else tl.add(endMs, 'ats:greenhouse', 'candidate.withdrew', { reason: 'Stayed with the current employer.' })
    return tl.build(ctx.nowMs)
  }

  const acceptedMs = office(dice, offerMs + dice.int(1, 5) * day)
  tl.add(acceptedMs, 'ats:greenhouse', 'offer.accepted')
  const hiredMs = office(dice, acceptedMs + dice.int(0, 2) * day)
  tl.add(hiredMs, 'hris:personio', 'employee.hired', { role, department, manager, startDate: isoDay(startMs) })
  tl.add(office(dice, startMs + dice.int(20, 60) * day), 'hris:personio', 'onboarding.completed')

  // Every promise of the journey: inherited from the vacancy (made at hire), the offer's terms, and promises made directly.
  const planned: Planned[] = [
    ...fromOffer.map((p) => ({ id: p.promiseId, madeMs: offerMs, dueMs: dueOf(p.data) })),
    ...(vacancy ? promisesFromVacancy(id, vacancy) : []).map((p) => ({ id: p.promiseId, madeMs: hiredMs, dueMs: dueOf(p.data) })),
  ]
  const direct: { madeMs: number; data: Record<string, unknown> }[] = []
  for (let k = dice.int(0, 2); k > 0; k--) {
    const early = dice.chance(0.4)
    const madeMs = office(dice, early ? startMs + dice.int(1, 20) * day : startMs + dice.int(60, 700) * day)
    const [category, text, kind] = dice.pick(ideas)
    const due = dice.next()
    const after = Math.round((madeMs - startMs) / day) + dice.int(30, 270)
    const data = {
      promiseId: `${id}-p${k}`, category, text, madeBy: manager, ...(dice.chance(0.95) ? { madeAt: early ? 'onboarding' : 'employment' } : {}), kind,
      ...(due < 0.7 ? { dueBy: isoDay(startMs + after * day) } : due < 0.8 ? { dueAfterStartDays: after } : {}),
    }
    direct.push({ madeMs, data })
    planned.push({ id: data.promiseId, madeMs, dueMs: dueOf(data) })
  }
  const outcomes = planned.flatMap((p) => planOutcomes(dice, p))

  // Leaving: far more likely some months after a broken promise.
  const firstBreach = Math.min(...outcomes.filter((o) => o.type === 'promise.broken' && o.ms <= ctx.nowMs).map((o) => o.ms))
  const announceMs = Number.isFinite(firstBreach)
    ? dice.chance(0.42) ? office(dice, firstBreach + dice.int(20, 300) * day) : null
    : dice.chance(0.15) ? office(dice, startMs + dice.int(30, Math.max(31, (todayMs - startMs) / day)) * day) : null
  const exitMs = announceMs === null ? null : office(dice, announceMs + dice.int(14, 60) * day)
  const endMs = exitMs ?? ctx.nowMs
  for (const p of direct) if (p.madeMs < endMs) tl.add(p.madeMs, 'hris:personio', 'promise.made', p.data)
  for (const o of outcomes) if (o.ms < endMs) tl.add(o.ms, 'hris:personio', o.type, o.data)

  const life = 'survey:culture-amp'
  for (let ms = office(dice, startMs + dice.int(30, 90) * day); ms < endMs; ms = office(dice, ms + dice.int(240, 420) * day)) {
    tl.add(ms, 'hris:personio', 'checkin.held', {
      with: manager, expectationsMet: dice.int(Number.isFinite(firstBreach) && ms > firstBreach ? 1 : 3, 5),
      interests: [dice.pick(['data', 'leadership', 'design', 'sales'])], notes: 'Talked about the next months.',
      // A wish no development follows within 120 days shows the stalled signal.
      ...(dice.chance(0.4) ? { developmentWishes: [dice.pick(['lead a team', 'public speaking', 'data skills', 'mentoring'])] } : {}),
    })
  }
  for (let ms = office(dice, startMs + dice.int(45, 120) * day); ms < endMs; ms = office(dice, ms + dice.int(240, 420) * day)) {
    tl.add(ms, life, 'pulse.answered', { enps: dice.int(0, 10), valued: dice.int(1, 5), safe: dice.int(1, 5), autonomy: dice.int(1, 5), expectationsMet: dice.int(1, 5) })
  }
  const during = () => office(dice, dice.between(startMs + 14 * day, endMs))
  if (dice.chance(0.5)) tl.add(during(), 'hris:personio', 'recognition.given', { by: manager, kind: dice.pick(['compliment', 'award', 'bonus']), note: 'Thank you.' })
  if (dice.chance(0.35)) {
    const ms = during()
    tl.add(ms, 'hris:personio', 'development.started', { kind: dice.pick(['training', 'course', 'mentoring']), title: 'A course' })
    const done = office(dice, ms + dice.int(30, 120) * day)
    if (done < endMs && dice.chance(0.7)) tl.add(done, 'hris:personio', 'development.completed', { kind: 'course', title: 'A course' })
  }
  if (endMs - startMs > 400 * day && dice.chance(0.15)) {
    const lateral = dice.chance(0.3)
    const to = lateral ? dice.pick(departments) : department
    tl.add(office(dice, dice.between(startMs + 365 * day, endMs)), 'hris:personio', 'role.changed', {
      role: `${dice.pick(roles)}, ${to}`, department: to, manager: dice.pick(managersOf(to)), kind: lateral ? 'lateral' : 'promotion',
    })
  }
  if (announceMs !== null && exitMs !== null) {
    const voluntary = dice.chance(0.8)
    tl.add(announceMs, 'hris:personio', 'exit.announced', { kind: voluntary ? 'voluntary' : 'involuntary', lastDay: isoDay(exitMs) })
    tl.add(exitMs - 2 * hour, 'exit-tool:leapsome', 'exit.interviewed', {
      reasons: [dice.pick(Number.isFinite(firstBreach) ? ['promises', 'career', 'manager'] : ['relocation', 'career', 'pay'])],
      wouldRecommend: dice.int(0, 10), wouldReturn: dice.chance(0.5), promisesKept: dice.int(Number.isFinite(firstBreach) ? 1 : 3, 5),
    })
    tl.add(exitMs, 'hris:personio', 'employee.exited', { lastDay: isoDay(exitMs), regrettable: voluntary && dice.chance(0.6) })
    if (dice.chance(0.15)) tl.add(exitMs + dice.int(30, 400) * day, 'hris:personio', 'alumni.referred', { referredPersonId: `p-${ctx.tag}-ref-${i}` })
    const rejoinMs = office(dice, exitMs + dice.int(90, 500) * day)
    if (rejoinMs + 60 * day < ctx.nowMs && dice.chance(0.3)) return [...tl.build(ctx.nowMs), ...rehireEvents(dice, `${id}${rehireSuffix}`, personId, rejoinMs, { role, department, manager }, ctx.nowMs)]
  }
  return tl.build(ctx.nowMs)
}

/** The id suffix of a boomerang's second journey (the same person, hired again after leaving). */
export const rehireSuffix = '-rehire'

/** A boomerang's new journey: applied through the alumni channel, hired again, and its first pulses. */
function rehireEvents(dice: Dice, id: string, personId: string, appliedMs: number, placement: { role: string; department: string; manager: string }, nowMs: number): PopulationEvent[] {
  const tl = new Timeline(id)
  const startMs = midnight(appliedMs) + dice.int(30, 60) * day
  tl.add(appliedMs, 'ats:greenhouse', 'candidate.applied', { personId, channel: 'alumni' })
  tl.add(office(dice, appliedMs + dice.int(5, 20) * day), 'hris:personio', 'employee.hired', { ...placement, startDate: isoDay(startMs) })
  tl.add(office(dice, startMs + dice.int(10, 30) * day), 'hris:personio', 'onboarding.completed')
  for (let ms = office(dice, startMs + dice.int(30, 90) * day); ms < nowMs; ms = office(dice, ms + dice.int(240, 420) * day)) {
    tl.add(ms, 'survey:culture-amp', 'pulse.answered', { enps: dice.int(5, 10), valued: dice.int(2, 5), safe: dice.int(2, 5), autonomy: dice.int(2, 5), expectationsMet: dice.int(2, 5) })
  }
  return tl.build(nowMs)
}
