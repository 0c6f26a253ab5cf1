// Signals a manager acts on. The fold computes when each would fire (`since`, possibly in the
// future, like "no recognition 90 days after the last one"); a signal is on once `since` has
// passed, so reads and filters only compare `since` with the clock.
import { expectationsTrend, type Journey } from './journey.js'
import { addDays, hasPerceptionGap, type PromiseRecord } from './promise.js'

export const signalNames = ['expectations-falling', 'unrecognised', 'stalled', 'interest-outside-role', 'promise-overdue', 'perception-gap'] as const
export type SignalName = (typeof signalNames)[number]
export interface Signal { name: SignalName; since: string; why: string }
export type ArmedSignals = Partial<Record<SignalName, { since: string; why: string }>>

const day = 24 * 60 * 60 * 1000
export const unrecognisedAfterDays = 90
export const stalledAfterDays = 365

function plusDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * day).toISOString()
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b
  if (b === null) return a
  return Date.parse(a) >= Date.parse(b) ? a : b
}

const employed = new Set(['hired', 'onboarding', 'active', 'leaving'])

/** When each experience signal fires for this journey (promise signals are added by the promise fold). */
export function armExperienceSignals(j: Journey): ArmedSignals {
  const armed: ArmedSignals = {}
  const exp = j.experience
  const points = exp.expectationsMet
  if (expectationsTrend(points) === 'falling') {
    const last = points[points.length - 1]
    if (last) armed['expectations-falling'] = { since: last.time, why: `expectationsMet fell: ${points.slice(-3).map((p) => p.value).join(' → ')}` }
  }
  if (!employed.has(j.stage)) return armed
  const start = j.startDate ? `${j.startDate}T00:00:00.000Z` : j.hiredAt
  const lastRecognised = later(exp.lastRecognitionAt, start)
  if (lastRecognised) {
    armed.unrecognised = {
      since: plusDays(lastRecognised, unrecognisedAfterDays),
      why: exp.lastRecognitionAt ? `no recognition for ${unrecognisedAfterDays} days since ${exp.lastRecognitionAt.slice(0, 10)}` : `no recognition in the first ${unrecognisedAfterDays} days`,
    }
  }
  const lastGrowth = later(later(exp.lastDevelopmentAt, exp.lastRoleChangeAt), start)
  if (lastGrowth) {
    armed.stalled = { since: plusDays(lastGrowth, stalledAfterDays), why: `no development or role change for ${stalledAfterDays} days` }
  }
  // The words of interests are sealed; the fold compares their marks, so `why` names no interest.
  const repeated = exp.repeatedInterestAt
  const developedSince = repeated !== null && exp.lastDevelopmentAt !== null && Date.parse(exp.lastDevelopmentAt) >= Date.parse(repeated)
  if (repeated && !developedSince) {
    armed['interest-outside-role'] = { since: repeated, why: 'an interest or development wish named again in a later check-in, with no development started since (the check-ins say which)' }
  }
  return armed
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
