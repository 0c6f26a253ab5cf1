// Signals a manager acts on. Two kinds: those whose thresholds are configuration
// (expectations-falling, unrecognised, stalled) are judged at read time from the facts the fold
// keeps, so a changed threshold applies at once and a rebuild gives the same answer; the others
// are armed by the fold (`since`, possibly in the future) and are on once `since` has passed.
import type { Journey } from './journey.js'
import { addDays, hasPerceptionGap, type PromiseRecord } from './promise.js'

export const signalNames = ['expectations-falling', 'unrecognised', 'stalled', 'interest-outside-role', 'promise-overdue', 'perception-gap'] as const
export type SignalName = (typeof signalNames)[number]
export interface Signal { name: SignalName; since: string; why: string }
export type ArmedSignals = Partial<Record<SignalName, { since: string; why: string }>>

/** The configurable thresholds of the signals judged at read time (config.ts reads them). */
export interface SignalThresholds {
  /** expectations-falling: the first of the window minus the last reading is at least this. */
  expectationsDrop: number
  /** expectations-falling: the window, in readings (at most readingsKept; two readings suffice while fewer exist). */
  expectationsReadings: number
  /** unrecognised: employed for more than this many days since the start or the last recognition. */
  unrecognisedDays: number
  /** stalled: a development wish with no development started for more than this many days. */
  stalledDays: number
}

export const defaultThresholds: SignalThresholds = { expectationsDrop: 2, expectationsReadings: 3, unrecognisedDays: 180, stalledDays: 120 }

/** expectationsMet readings the fold keeps: the largest window a threshold may ask for. */
export const readingsKept = 6

const day = 24 * 60 * 60 * 1000

/** The first instant *more than* `days` days after `iso` (1 ms later), when a "more than N days" signal switches on. */
export function moreThanDaysAfter(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * day + 1).toISOString()
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b
  if (b === null) return a
  return Date.parse(a) >= Date.parse(b) ? a : b
}

/** Stages in which a person works here: the only ones a manager is nudged about. */
export const employedStages = ['hired', 'onboarding', 'active', 'leaving'] as const
const employed = new Set<string>(employedStages)

export type SignalFacts = Pick<Journey, 'stage' | 'startDate' | 'hiredAt' | 'experience'>

/** The start of employment the day counts run from: the start date, else the hire. */
export function employmentStart(j: Pick<Journey, 'startDate' | 'hiredAt'>): string | null {
  return j.startDate ? `${j.startDate}T00:00:00.000Z` : j.hiredAt
}

/** The window of readings expectations-falling judges, and the drop over it (first minus last); null under two readings. */
export function expectationsDrop(values: readonly number[], window: number): { window: number[]; drop: number } | null {
  const last = values.slice(-Math.max(2, window))
  const first = last[0]
  const final = last[last.length - 1]
  if (last.length < 2 || first === undefined || final === undefined) return null
  return { window: last, drop: first - final }
}

/** When each threshold signal fires for this journey under these thresholds (see activeSignals for the clock). */
export function thresholdSignals(j: SignalFacts, th: SignalThresholds): ArmedSignals {
  const armed: ArmedSignals = {}
  if (!employed.has(j.stage)) return armed
  const exp = j.experience
  const fall = expectationsDrop(exp.expectationsMet.map((p) => p.value), th.expectationsReadings)
  const lastReading = exp.expectationsMet[exp.expectationsMet.length - 1]
  if (fall && lastReading && fall.drop >= th.expectationsDrop) {
    armed['expectations-falling'] = { since: lastReading.time, why: `expectationsMet fell by ${fall.drop} over the last ${fall.window.length} readings (${fall.window.join(' → ')}); the threshold is ${th.expectationsDrop}` }
  }
  const start = employmentStart(j)
  const lastRecognised = later(exp.lastRecognitionAt, start)
  if (lastRecognised) {
    armed.unrecognised = {
      since: moreThanDaysAfter(lastRecognised, th.unrecognisedDays),
      why: exp.lastRecognitionAt && lastRecognised === exp.lastRecognitionAt
        ? `no recognition for more than ${th.unrecognisedDays} days since the last, on ${exp.lastRecognitionAt.slice(0, 10)}`
        : `no recognition in more than ${th.unrecognisedDays} days since the start on ${lastRecognised.slice(0, 10)}`,
    }
  }
  const wish = exp.pendingWishAt ?? null
  if (wish) {
    armed.stalled = { since: moreThanDaysAfter(wish, th.stalledDays), why: `a development wish named in the check-in of ${wish.slice(0, 10)}, and no development started within ${th.stalledDays} days` }
  }
  return armed
}

/** When the fold-armed experience signal fires: an interest named again in a later check-in, with no development started since. */
export function armExperienceSignals(j: Journey): ArmedSignals {
  const armed: ArmedSignals = {}
  if (!employed.has(j.stage)) return armed
  const exp = j.experience
  // The words of interests are sealed; the fold compares their marks, so `why` names no interest.
  const repeated = exp.repeatedInterestAt
  const developedSince = repeated !== null && exp.lastDevelopmentAt !== null && Date.parse(exp.lastDevelopmentAt) >= Date.parse(repeated)
  if (repeated && !developedSince) {
    armed['interest-outside-role'] = { since: repeated, why: 'an interest named in an earlier check-in was named again, with no development started since (the check-ins at /experience say which)' }
  }
  return armed
}

/** Every signal of a journey row: the threshold ones judged now, beside those the fold armed. */
export function journeySignals(j: SignalFacts & { signals: ArmedSignals }, th: SignalThresholds): ArmedSignals {
  const { 'expectations-falling': _f, unrecognised: _u, stalled: _s, ...armed } = j.signals
  return { ...thresholdSignals(j, th), ...armed }
}

/** The signals on at `now`: the one definition, which the store's signalCondition is held to by tests/integration/time-rules. */
export function activeSignals(armed: ArmedSignals, now: Date): Signal[] {
  const out: Signal[] = []
  for (const name of signalNames) {
    const s = armed[name]
    if (s && Date.parse(s.since) <= now.getTime()) out.push({ name, since: s.since, why: s.why })
  }
  return out
}

/** When the promise signals fire: the day after an open promise's due date; at a kept promise's poor assessment. */
export function armPromiseSignals(promises: readonly PromiseRecord[]): ArmedSignals {
  const armed: ArmedSignals = {}
  const overdue = promises.filter((p) => p.outcome === 'open' && p.dueDate !== null)
    .sort((a, b) => ((a.dueDate ?? '') < (b.dueDate ?? '') ? -1 : 1))[0]
  if (overdue?.dueDate) {
    armed['promise-overdue'] = { since: `${addDays(overdue.dueDate, 1)}T00:00:00.000Z`, why: `promise ${overdue.id} (${overdue.category}) was due ${overdue.dueDate}` }
  }
  const gap = promises.filter(hasPerceptionGap).sort((a, b) => ((a.assessedAt ?? '') < (b.assessedAt ?? '') ? -1 : 1))[0]
  if (gap?.assessedAt) {
    armed['perception-gap'] = { since: gap.assessedAt, why: `promise ${gap.id} (${gap.category}) was kept, but the employee rates it ${gap.assessedFulfilled}/5` }
  }
  return armed
}
