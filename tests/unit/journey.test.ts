// The journey and promise rules and folds, pure: no database, the clock passed in as a value.
import t from 'tap'
import { hasValidData, type EventData, type JourneyEventType } from '../../src/domain/catalogue.js'
import { checked, type Judged, type Stored } from '../helpers/domain-events.js'
import { effectiveStage, expectationsTrend, foldJourney, type Journey, type Point } from '../../src/domain/journey.js'
import { checkJourneyEvent, evolveFacts, noJourney, type JourneyFacts } from '../../src/domain/journey-rules.js'
import type { Envelope } from '../../src/domain/ledger-event.js'
import {
  checkPromiseEvent, evolveOutcomes, foldPromises, promiseStatus,
  type Outcome, type PromiseEvent, type PromiseEventType, type PromiseOutcomes, type PromiseRecord,
} from '../../src/domain/promise.js'
import { activeSignals, armExperienceSignals, armPromiseSignals, defaultThresholds, journeySignals } from '../../src/domain/signals.js'

// ---- small builders ----

let arrival = 0
/** A stored event of journey j-1; `position` is the arrival order, so a backfill is a later position with an earlier time. */
function ev<K extends JourneyEventType>(type: K, time: string, data: EventData<K>) {
  arrival += 1
  return {
    id: `e-${arrival}`, source: 'test:hris', subject: 'j-1', time, ...checked(type, data),
    version: arrival, position: arrival, recordedAt: `2026-12-01T00:00:${String(arrival % 60).padStart(2, '0')}.000Z`,
    personRef: null, sealed: null,
  }
}

const incoming = <K extends JourneyEventType>(type: K, data: EventData<K>, time = '2026-06-01T09:00:00.000Z') => ({ ...checked(type, data), subject: 'j-1', time })

/** The facts after an event the rules accept (they throw otherwise), as the store judges and then evolves. */
function judge(facts: JourneyFacts, e: Judged): JourneyFacts {
  checkJourneyEvent(facts, e)
  return evolveFacts(facts, e)
}

/** Applies events to the rules one by one, as the store does in arrival order. */
function factsAfter(...events: Judged[]): JourneyFacts {
  return events.reduce(judge, noJourney)
}

function fold(events: Stored[]): Journey {
  const journey = foldJourney(events)
  if (!journey) throw new Error('expected a journey')
  return journey
}

const day = (date: string, hour = 9) => `${date}T${String(hour).padStart(2, '0')}:00:00.000Z`

// ---- checkJourneyEvent ----

t.test('the journey rules reject only what cannot have happened', async (t) => {
  const breaks = (rule: string, facts: JourneyFacts, e: Judged) =>
    t.throws(() => checkJourneyEvent(facts, e), { status: 409, code: 'rule-violated', extensions: { rule } }, `${e.type} breaks ${rule}`)

  // given no journey yet
  breaks('journey-unknown', noJourney, incoming('interview.held', {}))
  breaks('journey-unknown', noJourney, incoming('promise.kept', { promiseId: 'pr-1' }))
  t.throws(() => checkJourneyEvent(noJourney, incoming('employee.hired', { startDate: '2026-07-01' })),
    { status: 400, code: 'validation', extensions: { errors: [{ path: '/data/personId' }] } }, 'employee.hired opening a journey needs personId')
  t.notOk(hasValidData({ type: 'candidate.applied', data: { vacancyId: 'vac-1' } }), 'an application without personId is refused by its schema already')

  // given an application
  const applied = factsAfter(incoming('candidate.applied', { personId: 'p-1', vacancyId: 'vac-1' }))
  t.match(applied, { exists: true, personRef: 'p-1', vacancyId: 'vac-1', hired: false, exited: false })
  t.equal(noJourney.exists, false, 'the rules never change the facts they are given')
  breaks('person-mismatch', applied, incoming('employee.hired', { personId: 'p-2', startDate: '2026-07-01' }))
  breaks('person-mismatch', applied, incoming('candidate.applied', { personId: 'p-2' }))
  breaks('onboarding-before-hire', applied, incoming('onboarding.completed', {}))
  breaks('exit-before-hire', applied, incoming('exit.announced', { kind: 'voluntary' }))
  breaks('exit-before-hire', applied, incoming('employee.exited', { lastDay: '2026-07-01' }))

  // when the hire names no person, the journey's person stands
  const hired = judge(applied, incoming('employee.hired', { startDate: '2026-07-01' }))
  t.match(hired, { hired: true, personRef: 'p-1' })
  t.match(judge(hired, incoming('onboarding.completed', {})), { hired: true }, 'onboarding after the hire is fine')

  // given an exit
  const exited = factsAfter(
    incoming('employee.hired', { personId: 'p-1', startDate: '2026-07-01' }),
    incoming('exit.announced', { kind: 'voluntary' }),
    incoming('employee.exited', { lastDay: '2026-12-31' }),
  )
  t.match(exited, { hired: true, exitAnnounced: true, exited: true })
  breaks('second-exit', exited, incoming('employee.exited', { lastDay: '2027-01-31' }))
  breaks('second-exit', exited, incoming('exit.announced', { kind: 'involuntary' }))
  breaks('hire-after-exit', exited, incoming('employee.hired', { personId: 'p-1', startDate: '2027-02-01' }))
  t.match(judge(exited, incoming('alumni.referred', { referredPersonId: 'p-9' })), { exited: true }, 'an alumnus may still refer someone')

  // promise events go through the promise rules and are remembered in the facts
  const promised = judge(hired, incoming('promise.made', { promiseId: 'pr-1', category: 'career', text: 'x', madeBy: 'm-1' }))
  t.equal(promised.promises['pr-1'], 'open')
  t.same(hired.promises, {}, 'the earlier facts keep their own promise outcomes')
  const kept = judge(promised, incoming('promise.kept', { promiseId: 'pr-1' }))
  t.equal(kept.promises['pr-1'], 'kept')
  t.equal(promised.promises['pr-1'], 'open', 'and so do the facts before the keep')
  breaks('promise-closed', kept, incoming('promise.broken', { promiseId: 'pr-1', reason: 'x' }))
})

// ---- foldJourney ----

t.test('a journey walks every stage in order, each period closed by the next', async (t) => {
  const j = fold([
    ev('candidate.applied', day('2026-01-05'), { personId: 'p-1', vacancyId: 'vac-1' }),
    ev('interview.held', day('2026-01-12'), { interviewer: 'm-1' }),
    ev('offer.made', day('2026-01-20'), { role: 'Engineer', department: 'Platform', startDate: '2026-03-01' }),
    ev('offer.accepted', day('2026-01-22'), {}),
    ev('employee.hired', day('2026-01-25'), { role: 'Senior Engineer', department: 'Platform', manager: 'm-1', startDate: '2026-03-02' }),
    ev('onboarding.completed', day('2026-04-30'), {}),
    ev('exit.announced', day('2026-09-01'), { kind: 'voluntary', lastDay: '2026-09-30' }),
    ev('employee.exited', day('2026-09-30', 17), { lastDay: '2026-09-30', regrettable: true }),
  ])
  t.same(j.stages, [
    { stage: 'applied', enteredAt: day('2026-01-05'), leftAt: day('2026-01-20') },
    { stage: 'offered', enteredAt: day('2026-01-20'), leftAt: day('2026-01-22') },
    { stage: 'hired', enteredAt: day('2026-01-22'), leftAt: '2026-03-02T00:00:00.000Z' },
    { stage: 'onboarding', enteredAt: '2026-03-02T00:00:00.000Z', leftAt: day('2026-04-30') },
    { stage: 'active', enteredAt: day('2026-04-30'), leftAt: day('2026-09-01') },
    { stage: 'leaving', enteredAt: day('2026-09-01'), leftAt: day('2026-09-30', 17) },
    { stage: 'exited', enteredAt: day('2026-09-30', 17), leftAt: null },
  ], 'onboarding from the start date; employee.hired after offer.accepted does not open a second hired period')
  t.match(j, {
    personRef: 'p-1', vacancyId: 'vac-1', stage: 'exited', stageSince: day('2026-09-30', 17),
    role: 'Senior Engineer', department: 'Platform', manager: 'm-1', startDate: '2026-03-02', hiredAt: day('2026-01-25'),
    exitedAt: day('2026-09-30', 17), lastDay: '2026-09-30', exitKind: 'voluntary', regrettable: true, version: 8, createdAt: day('2026-01-05'),
  })
})

t.test('a journey that is not hired closes, from applied or from offered, but a hire is never closed', async (t) => {
  const stageNames = (j: Journey) => j.stages.map((s) => s.stage)
  const applied = ev('candidate.applied', day('2026-02-01'), { personId: 'p-1' })

  t.same(stageNames(fold([applied, ev('candidate.rejected', day('2026-02-03'), {})])), ['applied', 'closed'])
  t.same(stageNames(fold([applied, ev('candidate.withdrew', day('2026-02-03'), {})])), ['applied', 'closed'])
  const declined = fold([applied, ev('offer.made', day('2026-02-05'), {}), ev('offer.declined', day('2026-02-07'), { reason: 'x' })])
  t.same(stageNames(declined), ['applied', 'offered', 'closed'])
  t.equal(declined.stage, 'closed')
  t.equal(declined.stageSince, day('2026-02-07'))

  const hired = fold([applied, ev('offer.made', day('2026-02-05'), {}), ev('offer.accepted', day('2026-02-06'), {}), ev('candidate.withdrew', day('2026-02-07'), {})])
  t.equal(hired.stage, 'hired', 'a withdrawal after acceptance does not close a hire')
})

t.test('backfilled events land in their place, and stages only move forward', async (t) => {
  // given the HRIS sent the application and the hire, and the ATS backfills the offer later
  const j = fold([
    ev('candidate.applied', day('2026-01-05'), { personId: 'p-1' }),
    ev('employee.hired', day('2026-01-25'), { role: 'Engineer', startDate: '2026-03-01' }),
    ev('onboarding.completed', day('2026-04-01'), {}),
    ev('offer.made', day('2026-01-20'), { role: 'Offered role', startDate: '2026-02-15' }),
  ])
  t.same(j.stages.map((s) => [s.stage, s.enteredAt, s.leftAt]), [
    ['applied', day('2026-01-05'), day('2026-01-20')],
    ['offered', day('2026-01-20'), day('2026-01-25')],
    ['hired', day('2026-01-25'), '2026-03-01T00:00:00.000Z'],
    ['onboarding', '2026-03-01T00:00:00.000Z', day('2026-04-01')],
    ['active', day('2026-04-01'), null],
  ])
  t.equal(j.role, 'Engineer', 'the later hire decides the role, whatever order they arrived in')
  t.equal(j.startDate, '2026-03-01')

  // when an offer is backfilled with a time after the hire, the journey does not step back
  const late = fold([
    ev('candidate.applied', day('2026-01-05'), { personId: 'p-1' }),
    ev('employee.hired', day('2026-01-25'), { role: 'Engineer', startDate: '2026-03-01' }),
    ev('offer.made', day('2026-02-01'), { role: 'Other', startDate: '2026-05-01' }),
    ev('candidate.rejected', day('2026-02-02'), {}),
  ])
  t.equal(late.stage, 'hired')
  t.same(late.stages.map((s) => s.stage), ['applied', 'hired'])
  t.match(late, { role: 'Engineer', startDate: '2026-03-01' }, 'an offer after the hire does not rewrite the placement')

  // and a role change moves the placement
  const moved = fold([
    ev('employee.hired', day('2026-01-25'), { personId: 'p-1', role: 'Engineer', department: 'Platform', manager: 'm-1', startDate: '2026-03-01' }),
    ev('role.changed', day('2026-08-01'), { role: 'Staff Engineer', manager: 'm-2', kind: 'promotion' }),
  ])
  t.match(moved, { role: 'Staff Engineer', department: 'Platform', manager: 'm-2' })
  t.equal(foldJourney([]), null, 'no events, no journey')
})

t.test('the onboarding period stands between hire and the next stage when the start date falls between them', async (t) => {
  const stagesOf = (events: Stored[]) => fold(events).stages.map((s) => s.stage)
  const hire = (time: string, startDate: string) => ev('employee.hired', time, { personId: 'p-1', startDate })
  t.same(stagesOf([hire(day('2026-03-01'), '2026-04-01'), ev('onboarding.completed', day('2026-05-01'), {})]), ['hired', 'onboarding', 'active'])
  t.same(stagesOf([hire(day('2026-03-01'), '2026-06-01'), ev('exit.announced', day('2026-04-01'), { kind: 'voluntary' })]), ['hired', 'leaving'],
    'leaving before the start date: never onboarded')
  t.same(stagesOf([hire(day('2026-03-01'), '2026-06-01')]), ['hired'], 'not started yet: the read path decides (effectiveStage)')
})

t.test('a signed hire becomes onboarding on its start date, without an event', async (t) => {
  t.equal(effectiveStage('hired', '2026-06-10', '2026-06-09'), 'hired', 'the day before')
  t.equal(effectiveStage('hired', '2026-06-10', '2026-06-10'), 'onboarding', 'on the start date')
  t.equal(effectiveStage('hired', '2026-06-10', '2026-09-01'), 'onboarding', 'after it')
  t.equal(effectiveStage('hired', null, '2026-09-01'), 'hired', 'without a start date')
  t.equal(effectiveStage('active', '2026-06-10', '2026-09-01'), 'active', 'other stages stay as they are')
  t.equal(effectiveStage('offered', '2026-06-10', '2026-09-01'), 'offered')
})

t.test('the expectations trend reads the last three readings', async (t) => {
  const points = (...values: number[]): Point[] => values.map((value, i) => ({ time: day(`2026-0${i + 1}-01`), value, source: 'pulse' }))
  t.equal(expectationsTrend(points()), null, 'no readings')
  t.equal(expectationsTrend(points(3)), null, 'one reading is no trend')
  t.equal(expectationsTrend(points(4, 3)), 'falling')
  t.equal(expectationsTrend(points(3, 4)), 'rising')
  t.equal(expectationsTrend(points(3, 3)), 'steady')
  t.equal(expectationsTrend(points(5, 4, 3)), 'falling')
  t.equal(expectationsTrend(points(2, 3, 5)), 'rising')
  t.equal(expectationsTrend(points(4, 2, 3)), 'steady', 'a dip that recovers is not a fall')
  t.equal(expectationsTrend(points(1, 5, 4, 3)), 'falling', 'older readings do not count')
})

// ---- signals ----

t.test('experience signals: the thresholds of issue 15, probed at their edges', async (t) => {
  const hire = ev('employee.hired', day('2025-12-01'), { personId: 'p-1', role: 'Backend Engineer', department: 'Platform', startDate: '2026-01-05' })
  const th = defaultThresholds
  const signalsOf = (j: Journey, thresholds = th) => journeySignals(j, thresholds)
  const on = (j: Journey, at: string, thresholds = th) => activeSignals(signalsOf(j, thresholds), new Date(at)).map((s) => s.name)

  // unrecognised: more than 180 days since the start (or the last recognition)
  const quiet = fold([hire])
  t.same(on(quiet, '2026-07-04T00:00:00.000Z'), [], '180 days after the start is not more than 180')
  t.same(on(quiet, '2026-07-04T00:00:00.001Z'), ['unrecognised'], 'a millisecond later it is')
  t.match(signalsOf(quiet).unrecognised?.why, /more than 180 days since the start on 2026-01-05/)
  t.same(on(quiet, '2026-03-01T00:00:00.000Z', { ...th, unrecognisedDays: 30 }), ['unrecognised'], 'the threshold is configuration, applied at read time')
  const praised = fold([hire, ev('recognition.given', day('2026-03-01'), { kind: 'compliment' })])
  t.same(on(praised, '2026-08-28T09:00:00.000Z'), [], '180 days after the recognition')
  t.same(on(praised, '2026-08-28T09:00:00.001Z'), ['unrecognised'])
  t.match(signalsOf(praised).unrecognised?.why, /since the last, on 2026-03-01/)

  // stalled: a development wish, and no development started within 120 days
  const wish = ev('checkin.held', day('2026-02-01'), { developmentWishes: ['#lead'] })
  const wished = fold([hire, wish, ev('recognition.given', day('2026-05-01'), { kind: 'award' })])
  t.same(on(wished, '2026-06-01T09:00:00.000Z'), [], '120 days after the wish')
  t.same(on(wished, '2026-06-01T09:00:00.001Z'), ['stalled'], 'more than 120 days after it')
  t.match(signalsOf(wished).stalled?.why, /check-in of 2026-02-01.*120 days/)
  t.notOk(signalsOf(fold([hire, wish, ev('development.started', day('2026-05-30'), { title: 'Course', kind: 'training' })])).stalled, 'development started within 120 days')
  t.notOk(signalsOf(fold([hire, wish, ev('development.started', day('2026-08-01'), { title: 'Course' })])).stalled, 'development started late ends it')
  t.notOk(signalsOf(fold([hire, ev('checkin.held', day('2026-02-01'), { developmentWishes: [] })])).stalled, 'an empty list is no wish')
  const again = fold([hire, wish, ev('development.started', day('2026-03-01'), { title: 'Course' }), ev('checkin.held', day('2026-04-01'), { developmentWishes: ['#mentor'] })])
  t.equal(signalsOf(again).stalled?.since, '2026-07-30T09:00:00.001Z', 'a wish after the development counts from its own check-in')

  // interest-outside-role: an interest named in two check-ins
  const curious = [
    hire,
    ev('checkin.held', day('2026-02-01'), { interests: ['#data'], expectationsMet: 4 }),
    ev('checkin.held', day('2026-03-01'), { interests: ['#lead', '#data'] }),
  ]
  t.equal(fold(curious).signals['interest-outside-role']?.since, day('2026-03-01'))
  t.match(fold(curious).signals['interest-outside-role']?.why, /named again/)
  t.notOk(fold([...curious, ev('development.started', day('2026-03-10'), { title: 'Course' })]).signals['interest-outside-role'], 'development since the check-in disarms it')
  t.notOk(fold(curious.slice(0, 2)).signals['interest-outside-role'], 'an interest named once is no signal')
  t.notOk(fold([hire, ev('checkin.held', day('2026-02-01'), { interests: ['#a', '#a'] })]).signals['interest-outside-role'], 'twice in one check-in is one check-in')
  t.notOk(fold([hire, ev('checkin.held', day('2026-02-01'), { interests: ['#a'] }), ev('checkin.held', day('2026-03-01'), { interests: ['#b'] })]).signals['interest-outside-role'], 'different interests are no signal')
  t.notOk(fold([hire, ev('checkin.held', day('2026-02-01'), { interests: ['#a'] }), ev('checkin.held', day('2026-03-01'), { developmentWishes: ['#a'] })]).signals['interest-outside-role'], 'a wish is not an interest named again')

  // expectations-falling: the first of the last three readings minus the last is 2 or more
  const readings = (...values: number[]) => fold([hire, ...values.map((v, i) => ev(i % 2 ? 'checkin.held' : 'pulse.answered', day(`2026-0${i + 2}-01`), { expectationsMet: v }))])
  t.notOk(signalsOf(readings(5, 4, 4))['expectations-falling'], '5, 4, 4: a one-point dip that holds is no signal')
  t.notOk(signalsOf(readings(5, 3, 4))['expectations-falling'], '5, 3, 4: a dip that recovers to one below')
  t.notOk(signalsOf(readings(5, 5, 5, 4))['expectations-falling'])
  t.notOk(signalsOf(readings(5))['expectations-falling'], 'one reading')
  t.equal(signalsOf(readings(5, 3))['expectations-falling']?.since, day('2026-03-01'), 'two readings, down by two')
  const falling = readings(4, 3, 2)
  t.equal(signalsOf(falling)['expectations-falling']?.since, day('2026-04-01'))
  t.match(signalsOf(falling)['expectations-falling']?.why, /fell by 2 over the last 3 readings \(4 → 3 → 2\)/)
  t.notOk(signalsOf(readings(5, 4, 3, 3))['expectations-falling'], 'older readings do not count: 4, 3, 3')
  t.ok(signalsOf(readings(5, 4, 3, 3), { ...th, expectationsReadings: 4 })['expectations-falling'], 'a wider window is configuration')
  t.notOk(signalsOf(falling, { ...th, expectationsDrop: 3 })['expectations-falling'], 'so is the drop')
  t.same(falling.experience.expectationsMet.map((p) => p.source), ['pulse', 'checkin', 'pulse'])
  t.match(falling.experience.latestPulse, { time: day('2026-04-01'), expectationsMet: 2 })

  // someone who left is not nagged
  const gone = fold([hire, wish, ev('checkin.held', day('2026-02-02'), { expectationsMet: 1 }), ev('employee.exited', day('2026-03-01'), { lastDay: '2026-03-01' })])
  t.same(gone.signals, {})
  t.same(signalsOf(gone), {})
  t.same(armExperienceSignals(gone), {})
})

t.test('promise signals: the day after the earliest open due date, and a kept promise the employee rates poorly', async (t) => {
  const promise = (id: string, outcome: PromiseRecord['outcome'], dueDate: string | null, assessedFulfilled: number | null = null): PromiseRecord => ({
    id, journeyId: 'j-1', category: 'career', textRef: { source: 's', eventId: id }, madeBy: 'm-1', madeAt: null, kind: null,
    madeTime: day('2026-01-01'), dueBy: dueDate, dueAfterStartDays: null, dueDate, outcome, closedAt: null, brokenCause: null,
    renegotiations: 0, lastRenegotiationAgreed: null, assessedFulfilled, assessedAt: assessedFulfilled === null ? null : day('2026-05-01'),
    inheritedFrom: null,
  })
  const armed = armPromiseSignals([
    promise('pr-late', 'open', '2026-08-01'),
    promise('pr-early', 'open', '2026-07-01'),
    promise('pr-kept-early', 'kept', '2026-02-01', 2),
    promise('pr-kept-fine', 'kept', '2026-02-01', 4),
  ])
  t.equal(armed['promise-overdue']?.since, '2026-07-02T00:00:00.000Z')
  t.match(armed['promise-overdue']?.why, /pr-early/)
  t.equal(armed['perception-gap']?.since, day('2026-05-01'))
  t.match(armed['perception-gap']?.why, /pr-kept-early/)
  t.same(activeSignals(armed, new Date('2026-07-01T23:59:59Z')).map((s) => s.name), ['perception-gap'], 'due today is not overdue yet')
  t.same(activeSignals(armed, new Date('2026-07-02T00:00:00Z')).map((s) => s.name), ['promise-overdue', 'perception-gap'])
  t.same(armPromiseSignals([promise('pr-undated', 'open', null), promise('pr-kept', 'kept', '2026-01-01', 3)]), {}, 'no due date, no gap: nothing armed')

  // and the journey fold arms them beside the experience signals
  const promisedJourney = fold([
    ev('employee.hired', day('2026-01-05'), { personId: 'p-1', startDate: '2026-02-01' }),
    ev('promise.made', day('2026-01-06'), { promiseId: 'pr-mentor', category: 'career', text: 'A mentor', madeBy: 'm-1', dueAfterStartDays: 30 }),
  ])
  t.equal(promisedJourney.signals['promise-overdue']?.since, '2026-03-04T00:00:00.000Z', 'due 30 days after the start date, overdue the day after')
  t.equal(journeySignals(promisedJourney, defaultThresholds).unrecognised?.since, '2026-07-31T00:00:00.001Z', 'beside the threshold signals, judged at read time')
})

// ---- promises ----

t.test('a promise status depends on the day it is read', async (t) => {
  const open = { outcome: 'open' as const, dueDate: '2026-07-01', renegotiations: 0 }
  t.equal(promiseStatus(open, '2026-06-01'), 'open', 'a month ahead')
  t.equal(promiseStatus(open, '2026-06-16'), 'open', '15 days ahead')
  t.equal(promiseStatus(open, '2026-06-17'), 'due', '14 days ahead')
  t.equal(promiseStatus(open, '2026-07-01'), 'due', 'on the due date')
  t.equal(promiseStatus(open, '2026-07-02'), 'overdue', 'the day after')

  const renegotiated = { ...open, renegotiations: 1 }
  t.equal(promiseStatus(renegotiated, '2026-06-01'), 'renegotiated')
  t.equal(promiseStatus(renegotiated, '2026-06-20'), 'due', 'falling due outranks renegotiated')
  t.equal(promiseStatus(renegotiated, '2026-07-02'), 'overdue')

  t.equal(promiseStatus({ outcome: 'open', dueDate: null, renegotiations: 0 }, '2099-01-01'), 'open', 'undated promises never fall due')
  for (const outcome of ['kept', 'broken', 'withdrawn'] as const) {
    t.equal(promiseStatus({ ...open, outcome }, '2026-07-02'), outcome, `${outcome} stays ${outcome} past its due date`)
  }
})

t.test('the promise rules', async (t) => {
  type PromiseJudged = Pick<Envelope, 'subject' | 'time'> & PromiseEvent
  const none: PromiseOutcomes = {}
  const on = <K extends PromiseEventType>(type: K, data: EventData<K>, time = day('2026-06-01')) => ({ ...checked(type, data), subject: 'j-1', time })
  /** The outcomes after an event the rules accept (they throw otherwise). */
  const outcomesAfter = (outcomes: PromiseOutcomes, e: PromiseJudged): PromiseOutcomes => {
    checkPromiseEvent(outcomes, e)
    return evolveOutcomes(outcomes, e)
  }
  const made: EventData<'promise.made'> = { promiseId: 'pr-1', category: 'development', text: 'A course', madeBy: 'm-1' }

  t.same(outcomesAfter(none, on('promise.made', made)), { 'pr-1': 'open' })
  t.same(outcomesAfter(none, on('promise.made', { ...made, dueBy: '2026-06-01' })), { 'pr-1': 'open' }, 'due the day it is made is fine')
  t.throws(() => checkPromiseEvent(none, on('promise.made', { ...made, dueBy: '2026-05-31' })),
    { status: 400, code: 'validation', extensions: { errors: [{ path: '/data/dueBy' }] } }, 'due before it was made: 400')
  t.same(none, {}, 'the rules never change the outcomes they are given')

  const open: PromiseOutcomes = { 'pr-1': 'open' }
  const rule = (rule: string) => ({ name: 'ProblemError', status: 409, extensions: { rule } })
  t.throws(() => checkPromiseEvent(open, on('promise.made', made)), rule('promise-exists'))
  t.throws(() => checkPromiseEvent(none, on('promise.kept', { promiseId: 'pr-1' })), rule('promise-not-made'))
  t.throws(() => checkPromiseEvent(none, on('promise.assessed', { promiseId: 'pr-1', fulfilled: 3 })), rule('promise-not-made'))
  t.throws(() => checkPromiseEvent(open, on('promise.renegotiated', { promiseId: 'pr-1', dueBy: '2026-05-01', agreedByEmployee: true })),
    { name: 'ProblemError', status: 400, extensions: { errors: [{ path: '/data/dueBy' }] } }, 'a renegotiated due date in the past: 400')
  t.same(outcomesAfter(open, on('promise.renegotiated', { promiseId: 'pr-1', dueBy: '2026-09-01', agreedByEmployee: true })), { 'pr-1': 'open' })

  const closers: [PromiseJudged, Outcome][] = [
    [on('promise.kept', { promiseId: 'pr-1', evidence: 'Course booked.' }), 'kept'],
    [on('promise.broken', { promiseId: 'pr-1', reason: 'Budget frozen.' }), 'broken'],
    [on('promise.withdrawn', { promiseId: 'pr-1', reason: 'Recorded twice.' }), 'withdrawn'],
  ]
  // new terms, so that the closed promise is the only thing wrong with it
  const renegotiation = on('promise.renegotiated', { promiseId: 'pr-1', text: 'A course next year', agreedByEmployee: true })
  for (const [closer, outcome] of closers) {
    t.same(outcomesAfter(open, closer), { 'pr-1': outcome }, `${closer.type} closes it as ${outcome}`)
    const closed: PromiseOutcomes = { 'pr-1': outcome }
    for (const next of [...closers.map(([e]) => e), renegotiation]) {
      t.throws(() => checkPromiseEvent(closed, next), rule('promise-closed'), `${next.type} after ${closer.type}`)
    }
    t.same(outcomesAfter(closed, on('promise.assessed', { promiseId: 'pr-1', fulfilled: 2 })), { 'pr-1': outcome }, `the employee may assess a ${outcome} promise`)
  }
})

t.test('the promise fold: due dates from the start date, outcomes even when backfilled before the promise', async (t) => {
  const promises = foldPromises('j-1', [
    ev('employee.hired', day('2026-01-01'), { personId: 'p-1', startDate: '2026-06-01' }),
    ev('promise.made', day('2026-01-02'), { promiseId: 'pr-b', category: 'compensation', text: 'Review', madeBy: 'm-1', dueAfterStartDays: 30 }),
    ev('promise.made', day('2026-01-03'), { promiseId: 'pr-a', category: 'career', text: 'Mentor', madeBy: 'm-1', dueBy: '2026-03-01' }),
    // the keep was backfilled with a time before the promise's own
    ev('promise.kept', day('2026-01-01'), { promiseId: 'pr-a' }),
    ev('promise.renegotiated', day('2026-02-01'), { promiseId: 'pr-b', dueBy: '2026-09-01', agreedByEmployee: true }),
    ev('promise.assessed', day('2026-02-02'), { promiseId: 'pr-a', fulfilled: 2 }),
  ], '2026-06-01')
  t.same(promises.map((p) => p.id), ['pr-a', 'pr-b'], 'ordered by id')
  t.match(promises[0], { outcome: 'kept', closedAt: day('2026-01-01'), assessedFulfilled: 2, dueDate: '2026-03-01' })
  t.match(promises[1], { outcome: 'open', renegotiations: 1, lastRenegotiationAgreed: true, dueBy: '2026-09-01', dueAfterStartDays: null, dueDate: '2026-09-01' })

  const unrenegotiated = foldPromises('j-1', [
    ev('promise.made', day('2026-01-02'), { promiseId: 'pr-b', category: 'compensation', text: 'Review', madeBy: 'm-1', dueAfterStartDays: 30 }),
  ], '2026-06-01')
  t.equal(unrenegotiated[0]?.dueDate, '2026-07-01', 'startDate + dueAfterStartDays')
  t.equal(foldPromises('j-1', [ev('promise.made', day('2026-01-02'), { promiseId: 'pr-c', category: 'other', text: 'x', madeBy: 'm', dueAfterStartDays: 30 })], null)[0]?.dueDate, null,
    'no start date yet: no due date')
})
