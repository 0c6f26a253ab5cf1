// The rules that depend on the clock (promise status, effective stage, active signals) are defined
// once in the domain; the store computes them in SQL too, for filters, counts and analytics. Over
// generated cases (seeded, so a run is repeatable), the database answers as the domain does.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { sql, type SQL } from 'drizzle-orm'
import { effectiveStage, isoDate, stages, type Stage } from '../../src/domain/journey.js'
import { promiseStatus, promiseStatuses, type Outcome, type PromiseRecord } from '../../src/domain/promise.js'
import { activeSignals, armPromiseSignals, defaultThresholds, journeySignals, type ArmedSignals, type SignalFacts, type SignalName, type SignalThresholds } from '../../src/domain/signals.js'
import { query, type Queryable } from '../../src/store/database.js'
import { signalCondition, stageCondition } from '../../src/store/journeys.js'
import { statusCondition, statusSql } from '../../src/store/promises.js'
import { buildTestApp } from '../helpers/app.js'

// One app for the file: the cases read no tenant's data, only the projection tables' row types.
const { app } = await buildTestApp(t)
const seed = 20261111
const dayMs = 86_400_000
const dayOf = (n: number) => new Date(n * dayMs).toISOString().slice(0, 10)
/** Days from 2020-01-01 to 2030-12-31: month ends, leap days and year ends included. */
const dayNumber = fc.integer({ min: 18262, max: 21914 })
/** Days from today, often on the rules' edges (due yesterday, today, in 14 and 15 days), else anywhere within a year. */
const edges = [-15, -1, 0, 1, 13, 14, 15, 16]
const dayOffset = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: -400, max: 400 }))

/** For each key, whether a row meets its condition; null is no, as in a WHERE. */
function memberships<K extends string>(keys: readonly K[], condition: (key: K) => SQL): SQL {
  return sql`jsonb_build_object(${sql.join(keys.map((k) => sql`${k}::text, coalesce((${condition(k)}), false)`), sql`, `)})`
}

/** Rows of a projection table built from JSON (the table's own column names and types), with what `columns` computes over them. */
function overRows<R>(db: Queryable, table: 'promises' | 'journeys', rows: readonly object[], columns: SQL): Promise<R[]> {
  return query<R>(db, sql`select id, ${columns} from jsonb_populate_recordset(null::${sql.identifier(table)}, ${JSON.stringify(rows)}::jsonb) order by id::int`)
}

function expectSame(actual: unknown, expected: unknown, what: () => string): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what()}: the database says ${JSON.stringify(actual)}, the domain ${JSON.stringify(expected)}`)
}

interface PromiseCase { outcome: Outcome; dueOffset: number | null; renegotiations: number }
const promiseCase: fc.Arbitrary<PromiseCase> = fc.record({
  outcome: fc.constantFrom<Outcome>('open', 'open', 'open', 'kept', 'broken', 'withdrawn'),
  dueOffset: fc.option(dayOffset, { nil: null, freq: 5 }),
  renegotiations: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
})
const dueDateOf = (todayN: number, c: PromiseCase) => (c.dueOffset === null ? null : dayOf(todayN + c.dueOffset))

t.test('promise status: statusSql and every statusCondition answer as promiseStatus', async (t) => {
  const seen = new Map<string, number>()
  const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1)
  await fc.assert(fc.asyncProperty(dayNumber, fc.array(promiseCase, { minLength: 1, maxLength: 12 }), async (todayN, cases) => {
    const today = dayOf(todayN)
    const promises = cases.map((c) => ({ outcome: c.outcome, dueDate: dueDateOf(todayN, c), renegotiations: c.renegotiations }))
    // due_key as the projection writes it: the due date, undated promises last
    const rows = promises.map((p, i) => ({ id: String(i), outcome: p.outcome, due_date: p.dueDate, due_key: p.dueDate ?? 'infinity', renegotiations: p.renegotiations }))
    const answers = await overRows<{ id: string; status: string; filters: Record<string, boolean> }>(app.db, 'promises', rows,
      sql`${statusSql(today)} as status, ${memberships(promiseStatuses, (s) => statusCondition(s, today))} as filters`)
    expectSame(answers.length, promises.length, () => 'rows')
    promises.forEach((p, i) => {
      const expected = promiseStatus(p, today)
      const what = () => `${JSON.stringify(p)} on ${today}`
      expectSame(answers[i]?.status, expected, () => `statusSql of ${what()}`)
      expectSame(answers[i]?.filters, Object.fromEntries(promiseStatuses.map((s) => [s, s === expected])), () => `statusCondition of ${what()}`)
      count(expected)
      const c = cases[i]
      if (c?.outcome === 'open' && c.dueOffset !== null && edges.includes(c.dueOffset)) count(`open, due in ${c.dueOffset} days`)
    })
  }), { seed, numRuns: 100 })
  // the cases reached every status and every edge of the window, so a change to either side shows
  for (const key of [...promiseStatuses, ...edges.map((d) => `open, due in ${d} days`)]) t.ok((seen.get(key) ?? 0) >= 3, `${key}: ${seen.get(key) ?? 0} cases`)
})

t.test('effective stage: each stageCondition holds the rows whose effectiveStage it names', async (t) => {
  const seen = new Map<string, number>()
  const journeyCase = fc.record({
    stage: fc.oneof(fc.constant<Stage>('hired'), fc.constantFrom(...stages)),
    startOffset: fc.option(dayOffset, { nil: null, freq: 5 }),
  })
  await fc.assert(fc.asyncProperty(dayNumber, fc.array(journeyCase, { minLength: 1, maxLength: 10 }), async (todayN, cases) => {
    const today = dayOf(todayN)
    const journeys = cases.map((c) => ({ stage: c.stage, startDate: c.startOffset === null ? null : dayOf(todayN + c.startOffset) }))
    const rows = journeys.map((j, i) => ({ id: String(i), stage: j.stage, start_date: j.startDate }))
    const answers = await overRows<{ id: string; filters: Record<string, boolean> }>(app.db, 'journeys', rows,
      sql`${memberships(stages, (s) => stageCondition(s, today))} as filters`)
    expectSame(answers.length, journeys.length, () => 'rows')
    journeys.forEach((j, i) => {
      const expected = effectiveStage(j.stage, j.startDate, today)
      expectSame(answers[i]?.filters, Object.fromEntries(stages.map((s) => [s, s === expected])), () => `stageCondition of ${JSON.stringify(j)} on ${today}`)
      if (j.stage === 'hired') seen.set(`hired, read as ${expected}`, (seen.get(`hired, read as ${expected}`) ?? 0) + 1)
      if (j.stage === 'hired' && j.startDate === today) seen.set('starting today', (seen.get('starting today') ?? 0) + 1)
    })
  }), { seed, numRuns: 80 })
  for (const key of ['hired, read as hired', 'hired, read as onboarding', 'starting today']) t.ok((seen.get(key) ?? 0) >= 3, `${key}: ${seen.get(key) ?? 0} cases`)
})

/** Milliseconds from now, often on the edge (a millisecond either side), else anywhere within a year. */
const msOffset = fc.oneof(fc.constantFrom(-dayMs, -1, 0, 1, dayMs), fc.integer({ min: -400 * dayMs, max: 400 * dayMs }))
const instant = fc.tuple(dayNumber, fc.integer({ min: 0, max: dayMs - 1 })).map(([d, ms]) => new Date(d * dayMs + ms))
const onAt = (armed: ArmedSignals, now: Date) => new Set(activeSignals(armed, now).map((s) => s.name))

/** The signals the fold arms with a `since` (the others are judged from thresholds: see the next test). */
const armedNames = ['interest-outside-role', 'promise-overdue', 'perception-gap'] as const

t.test('active signals: each signalCondition holds the rows on which activeSignals shows it', async (t) => {
  let onEdge = 0
  const armedCase = fc.array(fc.option(msOffset, { nil: null }), { minLength: armedNames.length, maxLength: armedNames.length })
  await fc.assert(fc.asyncProperty(instant, fc.array(armedCase, { minLength: 1, maxLength: 8 }), async (now, cases) => {
    const armedSets = cases.map((offsets) => {
      const armed: ArmedSignals = {}
      armedNames.forEach((name, k) => {
        const off = offsets[k]
        if (off !== undefined && off !== null) armed[name] = { since: new Date(now.getTime() + off).toISOString(), why: 'generated' }
      })
      return armed
    })
    const rows = armedSets.map((signals, i) => ({ id: String(i), signals }))
    const answers = await overRows<{ id: string; filters: Record<string, boolean> }>(app.db, 'journeys', rows,
      sql`${memberships(armedNames, (name) => signalCondition(name, now, defaultThresholds))} as filters`)
    expectSame(answers.length, armedSets.length, () => 'rows')
    armedSets.forEach((armed, i) => {
      const on = onAt(armed, now)
      expectSame(answers[i]?.filters, Object.fromEntries(armedNames.map((name) => [name, on.has(name)])), () => `signalCondition of ${JSON.stringify(armed)} at ${now.toISOString()}`)
      onEdge += Object.values(armed).filter((s) => Math.abs(Date.parse(s.since) - now.getTime()) <= 1).length
    })
  }), { seed, numRuns: 80 })
  t.ok(onEdge >= 20, `${onEdge} signals armed within a millisecond of now`)
})

t.test('threshold signals: signalCondition under any thresholds holds the rows on which journeySignals shows them', async (t) => {
  const seen = new Map<string, number>()
  const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1)
  const thresholds: fc.Arbitrary<SignalThresholds> = fc.oneof(fc.constant(defaultThresholds), fc.record({
    expectationsDrop: fc.integer({ min: 1, max: 4 }), expectationsReadings: fc.integer({ min: 2, max: 6 }),
    unrecognisedDays: fc.integer({ min: 1, max: 400 }), stalledDays: fc.integer({ min: 1, max: 400 }),
  }))
  // Anchors often exactly the threshold before now, a millisecond either side.
  const anchor = (now: Date, days: number) => fc.option(fc.oneof(fc.constantFrom(-1, 0, 1), msOffset).map((off) => new Date(now.getTime() - days * dayMs + off).toISOString()), { nil: null, freq: 4 })
  const caseOf = (now: Date, th: SignalThresholds) => fc.record({
    stage: fc.constantFrom<Stage>('active', 'active', 'hired', 'onboarding', 'leaving', 'exited', 'applied'),
    startDate: fc.option(fc.integer({ min: -400, max: 30 }).map((d) => dayOf(Math.floor(now.getTime() / dayMs) + d)), { nil: null }),
    hiredAt: anchor(now, th.unrecognisedDays),
    lastRecognitionAt: anchor(now, th.unrecognisedDays),
    pendingWishAt: anchor(now, th.stalledDays),
    readings: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 6 }),
    lastReadingOffset: fc.constantFrom(-dayMs, -1, 0, 1),
  })
  const scenario = fc.tuple(instant, thresholds).chain(([now, th]) => fc.tuple(fc.constant(now), fc.constant(th), fc.array(caseOf(now, th), { minLength: 1, maxLength: 8 })))
  await fc.assert(fc.asyncProperty(scenario, async ([now, th, cases]) => {
    const journeys: SignalFacts[] = cases.map((c) => ({
      stage: c.stage, startDate: c.startDate, hiredAt: c.hiredAt,
      experience: {
        latestPulse: null, lastDevelopmentAt: null, lastRoleChangeAt: null, lastCheckinAt: null, interests: [], repeatedInterestAt: null,
        lastRecognitionAt: c.lastRecognitionAt, pendingWishAt: c.pendingWishAt,
        expectationsMet: c.readings.map((value, k) => ({ time: new Date(now.getTime() + c.lastReadingOffset - (c.readings.length - 1 - k) * dayMs).toISOString(), value, source: 'pulse' as const })),
      },
    }))
    const rows = journeys.map((j, i) => ({ id: String(i), stage: j.stage, start_date: j.startDate, hired_at: j.hiredAt, experience: j.experience, signals: {} }))
    const names = ['expectations-falling', 'unrecognised', 'stalled'] as const
    const answers = await overRows<{ id: string; filters: Record<string, boolean> }>(app.db, 'journeys', rows,
      sql`${memberships(names, (name) => signalCondition(name, now, th))} as filters`)
    journeys.forEach((j, i) => {
      const on = onAt(journeySignals({ ...j, signals: {} }, th), now)
      expectSame(answers[i]?.filters, Object.fromEntries(names.map((name) => [name, on.has(name)])), () => `signalCondition of ${JSON.stringify(j)} under ${JSON.stringify(th)} at ${now.toISOString()}`)
      for (const name of names) count(`${name} ${on.has(name) ? 'on' : 'off'}`)
    })
  }), { seed, numRuns: 80 })
  for (const name of ['expectations-falling', 'unrecognised', 'stalled']) {
    t.ok((seen.get(`${name} on`) ?? 0) >= 5 && (seen.get(`${name} off`) ?? 0) >= 5, `${name}: on ${seen.get(`${name} on`) ?? 0}, off ${seen.get(`${name} off`) ?? 0}`)
  }
})

/** A whole promise record, as the fold makes one, from a generated case. */
function promiseRecord(i: number, c: PromiseCase, dueDate: string | null): PromiseRecord {
  return {
    id: `p-${i}`, journeyId: 'j-1', category: 'development', textRef: { source: 'test:rules', eventId: `e-${i}` }, madeBy: 'm-1',
    madeAt: null, kind: null, madeTime: '2019-01-01T00:00:00.000Z', dueBy: dueDate, dueAfterStartDays: null, dueDate,
    outcome: c.outcome, closedAt: null, brokenCause: null, renegotiations: c.renegotiations, lastRenegotiationAgreed: null,
    assessedFulfilled: null, assessedAt: null, inheritedFrom: null,
  }
}

t.test('the promise-overdue signal is on, in the domain and in SQL, exactly when a promise is overdue', async (t) => {
  const seen = { on: 0, off: 0 }
  const overdue: SignalName = 'promise-overdue'
  await fc.assert(fc.asyncProperty(instant, fc.array(fc.array(promiseCase, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (now, journeys) => {
    const todayN = Math.floor(now.getTime() / dayMs)
    const today = isoDate(now)
    const promiseSets = journeys.map((cases) => cases.map((c, i) => promiseRecord(i, c, dueDateOf(todayN, c))))
    const armedSets = promiseSets.map((promises) => armPromiseSignals(promises))
    const answers = await overRows<{ id: string; on: boolean }>(app.db, 'journeys', armedSets.map((signals, i) => ({ id: String(i), signals })),
      sql`coalesce(${signalCondition(overdue, now, defaultThresholds)}, false) as on`)
    promiseSets.forEach((promises, i) => {
      const expected = promises.some((p) => promiseStatus(p, today) === 'overdue')
      const what = () => `promise-overdue for ${JSON.stringify(promises.map((p) => [p.outcome, p.dueDate]))} at ${now.toISOString()}`
      expectSame(onAt(armedSets[i] ?? {}, now).has(overdue), expected, () => `activeSignals, against promiseStatus, on ${what()}`)
      expectSame(answers[i]?.on, expected, () => `signalCondition on ${what()}`)
      seen[expected ? 'on' : 'off'] += 1
    })
  }), { seed, numRuns: 60 })
  t.ok(seen.on >= 10 && seen.off >= 10, `on in ${seen.on} journeys, off in ${seen.off}`)
})
