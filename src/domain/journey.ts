// The journey as a fold over its events. Rules are checked against the state built from what is
// already stored (arrival order); the projection is the fold of every event in world-time order,
// so a backfilled event lands in its place. Both are pure: the clock is passed in.
import { impossible, invalid } from './errors.js'
import { byTime, int, list, text, type LedgerEvent } from './ledger-event.js'
import { checkPromiseEvent, isPromiseEvent, type PromiseFacts } from './promise.js'
import { armExperienceSignals, type ArmedSignals } from './signals.js'

export const stages = ['applied', 'offered', 'hired', 'onboarding', 'active', 'leaving', 'exited', 'closed'] as const
export type Stage = (typeof stages)[number]

/** Lifecycle order: a stage only moves forward, whatever order backfilled events arrive in. */
const rank: Record<Stage, number> = { applied: 1, offered: 2, closed: 3, hired: 4, onboarding: 5, active: 6, leaving: 7, exited: 8 }

export interface StagePeriod { stage: Stage; enteredAt: string; leftAt: string | null }
export interface Point { time: string; value: number; source: 'pulse' | 'checkin' }
export interface Pulse { time: string; enps?: number; valued?: number; safe?: number; autonomy?: number; expectationsMet?: number }

export interface Experience {
  latestPulse: Pulse | null
  expectationsMet: Point[]
  lastRecognitionAt: string | null
  lastDevelopmentAt: string | null
  lastRoleChangeAt: string | null
  lastCheckinAt: string | null
  interests: string[]
}

export interface Journey {
  id: string
  personId: string
  vacancyId: string | null
  stage: Stage
  stageSince: string
  role: string | null
  department: string | null
  manager: string | null
  startDate: string | null
  hiredAt: string | null
  exitedAt: string | null
  lastDay: string | null
  exitKind: string | null
  regrettable: boolean | null
  version: number
  stages: StagePeriod[]
  experience: Experience
  /** When each signal fires (see signals.ts). */
  signals: ArmedSignals
  createdAt: string
  updatedAt: string
}

/** What the rules need to know, in arrival order. */
export interface JourneyFacts {
  exists: boolean
  personId: string | null
  vacancyId: string | null
  hired: boolean
  exitAnnounced: boolean
  exited: boolean
  promises: ReadonlyMap<string, PromiseFacts>
}

export const noJourney: JourneyFacts = { exists: false, personId: null, vacancyId: null, hired: false, exitAnnounced: false, exited: false, promises: new Map() }

const opening = new Set(['candidate.applied', 'employee.hired'])

/** Throws the rule a new event breaks; returns the facts after it. */
export function checkJourneyEvent(facts: JourneyFacts, event: Pick<LedgerEvent, 'type' | 'subject' | 'data' | 'time'>): JourneyFacts {
  const { type, data, subject } = event
  const personId = text(data, 'personId')
  if (!facts.exists) {
    if (!opening.has(type)) {
      throw impossible('journey-unknown', `journey ${subject} does not exist: its first event must be candidate.applied or employee.hired`)
    }
    if (!personId) throw invalid(`${type} opens journey ${subject} and needs personId`, [{ path: '/data/personId', message: 'is required when the journey is new' }])
  } else if (personId && facts.personId && personId !== facts.personId && opening.has(type)) {
    throw impossible('person-mismatch', `journey ${subject} belongs to person ${facts.personId}, not ${personId}`)
  }
  const next = { ...facts, exists: true, personId: facts.personId ?? personId ?? null, vacancyId: facts.vacancyId ?? text(data, 'vacancyId') ?? null }
  if (isPromiseEvent(type)) {
    const promise = checkPromiseEvent(facts.promises, event)
    const id = text(data, 'promiseId')
    return promise && id ? { ...next, promises: new Map([...facts.promises, [id, promise]]) } : next
  }
  switch (type) {
    case 'employee.hired':
      if (facts.exited) throw impossible('hire-after-exit', `journey ${subject} has exited; a rehire is a new journey with the same personId`)
      return { ...next, hired: true }
    case 'onboarding.completed':
      if (!facts.hired) throw impossible('onboarding-before-hire', `journey ${subject} has no employee.hired`)
      return next
    case 'exit.announced':
      if (facts.exited) throw impossible('second-exit', `journey ${subject} has already exited`)
      if (!facts.hired) throw impossible('exit-before-hire', `journey ${subject} was never hired`)
      return { ...next, exitAnnounced: true }
    case 'employee.exited':
      if (facts.exited) throw impossible('second-exit', `journey ${subject} has already exited`)
      if (!facts.hired) throw impossible('exit-before-hire', `journey ${subject} was never hired`)
      return { ...next, exited: true }
    default:
      return next
  }
}

export function journeyFacts(events: readonly Pick<LedgerEvent, 'type' | 'subject' | 'data' | 'time'>[]): JourneyFacts {
  let facts = noJourney
  for (const event of events) {
    try {
      facts = checkJourneyEvent(facts, event)
    } catch {
      // Stored history is accepted as it stands; only new events are judged.
    }
  }
  return facts
}

function emptyExperience(): Experience {
  return { latestPulse: null, expectationsMet: [], lastRecognitionAt: null, lastDevelopmentAt: null, lastRoleChangeAt: null, lastCheckinAt: null, interests: [] }
}

function strings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string')
}

/** The journey projection: every event of the stream folded in world-time order. */
export function foldJourney(id: string, events: readonly LedgerEvent[]): Journey | null {
  const ordered = [...events].sort(byTime)
  const first = ordered[0]
  if (!first) return null
  const j: Journey = {
    id, personId: '', vacancyId: null, stage: 'applied', stageSince: first.time, role: null, department: null, manager: null,
    startDate: null, hiredAt: null, exitedAt: null, lastDay: null, exitKind: null, regrettable: null, version: 0,
    stages: [], experience: emptyExperience(), signals: {}, createdAt: first.time, updatedAt: first.recordedAt,
  }
  let current: Stage | null = null
  const enter = (stage: Stage, at: string) => {
    if (current !== null && rank[stage] <= rank[current]) return
    const open = j.stages[j.stages.length - 1]
    if (open) open.leftAt = at
    j.stages.push({ stage, enteredAt: at, leftAt: null })
    current = stage
    j.stage = stage
    j.stageSince = at
  }
  const exp = j.experience
  for (const e of ordered) {
    const d = e.data
    j.version = Math.max(j.version, e.version)
    if (e.recordedAt > j.updatedAt) j.updatedAt = e.recordedAt
    const personId = text(d, 'personId')
    if (personId && !j.personId && (e.type === 'candidate.applied' || e.type === 'employee.hired')) j.personId = personId
    const placement = () => {
      j.role = text(d, 'role') ?? j.role
      j.department = text(d, 'department') ?? j.department
      j.manager = text(d, 'manager') ?? j.manager
    }
    switch (e.type) {
      case 'candidate.applied':
        j.vacancyId = text(d, 'vacancyId') ?? j.vacancyId
        enter('applied', e.time)
        break
      case 'offer.made':
        if (!j.hiredAt) {
          placement()
          j.startDate = text(d, 'startDate') ?? j.startDate
        }
        enter('offered', e.time)
        break
      case 'offer.accepted':
        enter('hired', e.time)
        break
      case 'offer.declined': case 'candidate.withdrew': case 'candidate.rejected':
        if (current === 'applied' || current === 'offered' || current === null) enter('closed', e.time)
        break
      case 'employee.hired':
        placement()
        j.startDate = text(d, 'startDate') ?? j.startDate
        j.hiredAt = j.hiredAt ?? e.time
        enter('hired', e.time)
        break
      case 'onboarding.completed':
        enter('active', e.time)
        break
      case 'role.changed':
        placement()
        exp.lastRoleChangeAt = e.time
        break
      case 'exit.announced':
        j.exitKind = text(d, 'kind') ?? j.exitKind
        j.lastDay = text(d, 'lastDay') ?? j.lastDay
        enter('leaving', e.time)
        break
      case 'employee.exited':
        j.lastDay = text(d, 'lastDay') ?? j.lastDay
        j.exitedAt = e.time
        j.regrettable = typeof d.regrettable === 'boolean' ? d.regrettable : j.regrettable
        enter('exited', e.time)
        break
      case 'pulse.answered': {
        const pulse: Pulse = { time: e.time }
        for (const k of ['enps', 'valued', 'safe', 'autonomy', 'expectationsMet'] as const) {
          const v = int(d, k)
          if (v !== undefined) pulse[k] = v
        }
        exp.latestPulse = pulse
        if (pulse.expectationsMet !== undefined) exp.expectationsMet.push({ time: e.time, value: pulse.expectationsMet, source: 'pulse' })
        break
      }
      case 'checkin.held': {
        const met = int(d, 'expectationsMet')
        if (met !== undefined) exp.expectationsMet.push({ time: e.time, value: met, source: 'checkin' })
        exp.lastCheckinAt = e.time
        const interests = [...strings(list(d, 'interests')), ...strings(list(d, 'developmentWishes'))]
        if (interests.length > 0) exp.interests = interests
        break
      }
      case 'recognition.given':
        exp.lastRecognitionAt = e.time
        break
      case 'development.started': case 'development.completed':
        exp.lastDevelopmentAt = e.time
        break
      default:
        break
    }
  }
  // Only the recent trend matters to a manager; the full series is at /experience.
  exp.expectationsMet = exp.expectationsMet.slice(-6)
  insertOnboarding(j)
  j.signals = armExperienceSignals(j)
  return j
}

/**
 * A signed hire starts onboarding on its start date without an event of its own: when a later
 * stage was entered after that date, the onboarding period stands between them in the history.
 */
function insertOnboarding(j: Journey): void {
  const at = j.stages.findIndex((s) => s.stage === 'hired')
  const hired = j.stages[at]
  const next = j.stages[at + 1]
  if (!hired || !next || !j.startDate || next.stage === 'onboarding') return
  const start = `${j.startDate}T00:00:00.000Z`
  if (start <= hired.enteredAt || start >= next.enteredAt) return
  hired.leftAt = start
  j.stages.splice(at + 1, 0, { stage: 'onboarding', enteredAt: start, leftAt: next.enteredAt })
}

export type Trend = 'rising' | 'falling' | 'steady' | null

/** Direction of the last three expectationsMet readings. */
export function expectationsTrend(points: readonly Point[]): Trend {
  if (points.length < 2) return null
  const last3 = points.slice(-3).map((p) => p.value)
  const first = last3[0] ?? 0
  const last = last3[last3.length - 1] ?? 0
  const middle = last3.length === 3 ? (last3[1] ?? 0) : first
  if (last < first && last <= middle) return 'falling'
  if (last > first && last >= middle) return 'rising'
  return 'steady'
}

/**
 * A signed-but-not-started hire becomes `onboarding` on its start date without an event. The one
 * definition: the store's stageCondition is held to it by tests/integration/time-rules.
 */
export function effectiveStage(stage: Stage, startDate: string | null, today: string): Stage {
  return stage === 'hired' && startDate !== null && startDate <= today ? 'onboarding' : stage
}

/** The stage, its start and the stage history as read on `today`: the stored ones, with the onboarding effectiveStage() begins. */
export function effectiveStages(j: Pick<Journey, 'stage' | 'stageSince' | 'startDate' | 'stages'>, today: string): Pick<Journey, 'stage' | 'stageSince' | 'stages'> {
  const stage = effectiveStage(j.stage, j.startDate, today)
  const history = [...j.stages]
  if (stage !== j.stage && j.startDate) {
    const last = history[history.length - 1]
    // A hire recorded after its start date: onboarding begins at the hire, never before it.
    const start = `${j.startDate}T00:00:00.000Z`
    const startedAt = last && last.enteredAt > start ? last.enteredAt : start
    if (last) history[history.length - 1] = { ...last, leftAt: startedAt }
    history.push({ stage, enteredAt: startedAt, leftAt: null })
  }
  return { stage, stageSince: history[history.length - 1]?.enteredAt ?? j.stageSince, stages: history }
}

export function isoDate(at: Date): string {
  return at.toISOString().slice(0, 10)
}
