// The journey aggregate's state and evolve. The state holds the facts the rules judge a new event
// by (arrival order, journey-rules.ts), and the journey and its promises folded in world-time
// order, so a backfilled event lands in its place. Pure: the clock is passed in.
import { byTime, type Envelope } from './ledger-event.js'
import { checkJourneyEvent, evolveFacts, noJourney, personRefOf, type JourneyEvent, type JourneyFacts } from './journey-rules.js'
import { addMade, applyEvents, draftBook, isPromiseEvent, promisesOf, type PromiseBook, type PromiseRecord } from './promise.js'
import { armExperienceSignals, armPromiseSignals, readingsKept, type ArmedSignals } from './signals.js'

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
  /** Marks of the interests named in check-ins (never their words: see store/append-people.ts). */
  interests: string[]
  /** The first check-in that named an interest an earlier one had named. */
  repeatedInterestAt: string | null
  /** The first check-in naming a development wish since the last development started (the stalled signal counts from it). */
  pendingWishAt: string | null
}

export interface Journey {
  id: string
  /** The person, by the ledger's reference: reads name them by the client's id while it is mapped. */
  personRef: string
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

export interface JourneyState {
  kind: 'journey'
  facts: JourneyFacts
  /** The journey folded in world-time order, before the read-time additions of projectJourney; null before its first event. */
  journey: Journey | null
  /**
   * The journey's promises, and their outcomes in `facts.promises`: loaded only for an append that
   * needs them (needsPromises), so that a journey's stored state does not grow with its promises;
   * null otherwise (see storedState and withPromises).
   */
  promises: PromiseBook | null
  /** When the promise signals fire, as of the last fold of the promises. */
  promiseSignals: ArmedSignals
  /** The latest world time folded: an event before it is a backfill. */
  lastTime: string | null
  /** Set by evolve on a backfill: the fold is behind and must be redone from the stream's history (foldJourneyState). */
  backfilled?: true
}

export const newJourney: JourneyState = { kind: 'journey', facts: noJourney, journey: null, promises: {}, promiseSignals: {}, lastTime: null }

/** Whether deciding or evolving this event reads the journey's promises: promise events, and those that move the start date (due dates). */
export function needsPromises(event: { type: string }): boolean {
  return isPromiseEvent(event) || event.type === 'employee.hired' || event.type === 'offer.made'
}

/** The state as the store keeps it: without the promises, which live in their own rows. */
export function storedState(state: JourneyState): JourneyState {
  return { ...state, promises: null, facts: { ...state.facts, promises: {} } }
}

/** A stored state with the journey's promises (from their rows) loaded. */
export function withPromises(state: JourneyState, promises: PromiseBook): JourneyState {
  const outcomes = Object.fromEntries(Object.values(promises).map((p) => [p.id, p.outcome]))
  return { ...state, promises, facts: { ...state.facts, promises: outcomes } }
}

function loadedPromises(state: JourneyState): PromiseBook {
  if (!state.promises) throw new Error('the journey\'s promises were not loaded for an event that needs them')
  return state.promises
}

/** When the promise signals fire, from every promise of the journey. */
function promiseSignalsOf(promises: PromiseBook, startDate: string | null): ArmedSignals {
  return armPromiseSignals(promisesOf(promises, startDate))
}

// ---- evolve (world-time order) ----

function emptyExperience(): Experience {
  return { latestPulse: null, expectationsMet: [], lastRecognitionAt: null, lastDevelopmentAt: null, lastRoleChangeAt: null, lastCheckinAt: null, interests: [], repeatedInterestAt: null, pendingWishAt: null }
}

function newJourneyRow(id: string, first: Envelope): Journey {
  return {
    id, personRef: '', vacancyId: null, stage: 'applied', stageSince: first.time, role: null, department: null, manager: null,
    startDate: null, hiredAt: null, exitedAt: null, lastDay: null, exitKind: null, regrettable: null, version: 0,
    stages: [], experience: emptyExperience(), signals: {}, createdAt: first.time, updatedAt: first.recordedAt,
  }
}

/** A copy of a journey whose nested parts the caller may change. */
function draftJourney(j: Journey): Journey {
  return { ...j, stages: j.stages.map((s) => ({ ...s })), experience: { ...j.experience, expectationsMet: [...j.experience.expectationsMet], interests: [...j.experience.interests] } }
}

/** Enters a stage (the lifecycle only moves forward, whatever order backfilled events arrive in). */
function enter(j: Journey, stage: Stage, at: string): void {
  const current = j.stages.length > 0 ? j.stage : null
  if (current !== null && rank[stage] <= rank[current]) return
  const open = j.stages[j.stages.length - 1]
  if (open) open.leftAt = at
  j.stages.push({ stage, enteredAt: at, leftAt: null })
  j.stage = stage
  j.stageSince = at
}

function place(j: Journey, d: { role?: string; department?: string; manager?: string }): void {
  j.role = d.role ?? j.role
  j.department = d.department ?? j.department
  j.manager = d.manager ?? j.manager
}

/** Applies one event, in world-time order, to a journey draft. */
function applyToJourney(j: Journey, e: Envelope & JourneyEvent): void {
  j.version = Math.max(j.version, e.version)
  if (e.recordedAt > j.updatedAt) j.updatedAt = e.recordedAt
  const personRef = personRefOf(e)
  if (personRef && !j.personRef) j.personRef = personRef
  applyToExperience(j.experience, e)
  switch (e.type) {
    case 'candidate.applied':
      j.vacancyId = e.data.vacancyId ?? j.vacancyId
      return enter(j, 'applied', e.time)
    case 'offer.made':
      if (!j.hiredAt) {
        place(j, e.data)
        j.startDate = e.data.startDate ?? j.startDate
      }
      return enter(j, 'offered', e.time)
    case 'offer.accepted':
      return enter(j, 'hired', e.time)
    case 'offer.declined': case 'candidate.withdrew': case 'candidate.rejected':
      if (j.stages.length === 0 || j.stage === 'applied' || j.stage === 'offered') enter(j, 'closed', e.time)
      return
    case 'employee.hired':
      place(j, e.data)
      j.startDate = e.data.startDate
      j.hiredAt = j.hiredAt ?? e.time
      return enter(j, 'hired', e.time)
    case 'onboarding.completed':
      return enter(j, 'active', e.time)
    case 'role.changed':
      return place(j, e.data)
    case 'exit.announced':
      j.exitKind = e.data.kind
      j.lastDay = e.data.lastDay ?? j.lastDay
      return enter(j, 'leaving', e.time)
    case 'employee.exited':
      j.lastDay = e.data.lastDay
      j.exitedAt = e.time
      j.regrettable = e.data.regrettable ?? j.regrettable
      return enter(j, 'exited', e.time)
    default:
  }
}

/** Applies one event, in world-time order, to the experience of a journey draft. */
function applyToExperience(exp: Experience, e: Envelope & JourneyEvent): void {
  switch (e.type) {
    case 'role.changed':
      exp.lastRoleChangeAt = e.time
      return
    case 'pulse.answered': {
      exp.latestPulse = { time: e.time, ...e.data }
      if (e.data.expectationsMet !== undefined) addReading(exp, { time: e.time, value: e.data.expectationsMet, source: 'pulse' })
      return
    }
    case 'checkin.held': {
      if (e.data.expectationsMet !== undefined) addReading(exp, { time: e.time, value: e.data.expectationsMet, source: 'checkin' })
      exp.lastCheckinAt = e.time
      const named = new Set(e.data.interests ?? [])
      if (exp.repeatedInterestAt === null && exp.interests.some((mark) => named.has(mark))) exp.repeatedInterestAt = e.time
      // Bounded: a person names a handful of interests over the years, not thousands.
      exp.interests = [...new Set([...exp.interests, ...named])].slice(-100)
      if (exp.pendingWishAt === null && (e.data.developmentWishes ?? []).length > 0) exp.pendingWishAt = e.time
      return
    }
    case 'recognition.given':
      exp.lastRecognitionAt = e.time
      return
    case 'development.started':
      exp.lastDevelopmentAt = e.time
      exp.pendingWishAt = null
      return
    case 'development.completed':
      exp.lastDevelopmentAt = e.time
      return
    default:
  }
}

// Only the recent trend matters to a manager (readingsKept); the full series is at /experience.
function addReading(exp: Experience, point: Point): void {
  exp.expectationsMet = [...exp.expectationsMet, point].slice(-readingsKept)
}

/**
 * The state after a stored event. An event in world-time order folds in place; one before the
 * latest folded (a backfill) leaves the fold marked `backfilled`, to be redone from history.
 */
export function evolveJourney(state: JourneyState, e: Envelope & JourneyEvent): JourneyState {
  const facts = evolveFacts(state.facts, e)
  if (state.lastTime !== null && Date.parse(e.time) < Date.parse(state.lastTime)) return { ...state, facts, backfilled: true }
  const journey = state.journey ? draftJourney(state.journey) : newJourneyRow(e.subject, e)
  applyToJourney(journey, e)
  if (!needsPromises(e)) return { ...state, facts, journey, lastTime: e.time }
  const promises = draftBook(loadedPromises(state))
  if (isPromiseEvent(e)) {
    addMade(promises, e.subject, [e])
    applyEvents(promises, [e])
  }
  return { ...state, facts, journey, promises, promiseSignals: promiseSignalsOf(promises, journey.startDate), lastTime: e.time }
}

/**
 * The state from a whole stream: facts in arrival order (stored history is accepted as it stands:
 * an event that would break a rule today changes no fact), the fold in world-time order.
 */
export function foldJourneyState(events: readonly (Envelope & JourneyEvent)[]): JourneyState {
  let facts = noJourney
  for (const e of [...events].sort((a, b) => a.position - b.position)) {
    try {
      checkJourneyEvent(facts, e)
      facts = evolveFacts(facts, e)
    } catch {
      // Only new events are judged.
    }
  }
  const ordered = [...events].sort(byTime)
  const first = ordered[0]
  if (!first) return { ...newJourney, facts }
  const journey = newJourneyRow(first.subject, first)
  for (const e of ordered) applyToJourney(journey, e)
  const promises: PromiseBook = {}
  const promiseEvents = ordered.filter(isPromiseEvent)
  addMade(promises, first.subject, promiseEvents)
  applyEvents(promises, promiseEvents)
  return { kind: 'journey', facts, journey, promises, promiseSignals: promiseSignalsOf(promises, journey.startDate), lastTime: ordered[ordered.length - 1]?.time ?? null }
}

/**
 * The journey and its promises as read models store them: onboarding inserted, signals armed, the
 * promises' due dates resolved (no promises when they were not loaded: their rows stand as they are).
 */
export function projectJourney(state: JourneyState): { journey: Journey; promises: PromiseRecord[] } | null {
  if (!state.journey) return null
  const journey = draftJourney(state.journey)
  insertOnboarding(journey)
  journey.signals = { ...armExperienceSignals(journey), ...state.promiseSignals }
  return { journey, promises: state.promises ? promisesOf(state.promises, journey.startDate) : [] }
}

/** The journey projection of a whole stream (tests and tools; the store keeps the state instead). */
export function foldJourney(events: readonly (Envelope & JourneyEvent)[]): Journey | null {
  return projectJourney(foldJourneyState(events))?.journey ?? null
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
