// Issue 15: signal thresholds as configuration; bad experience inputs are problem documents and
// store nothing; a boomerang is a rehire with both journeys on the person.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import { experienceOf, happen, J, signalsAt } from '../helpers/experience.js'
import { countEvents, expectProblem, getOk, given, on, postEvents } from '../helpers/spine.js'

t.test('thresholds are configuration, applied at read time', async (t) => {
  const app = await buildTestApp(t, { signals: { expectationsDrop: 1, expectationsReadings: 2, unrecognisedDays: 30, stalledDays: 10 } })
  await happen(app, '2026-01-05', ['employee.hired', { personId: 'p-cfg', startDate: '2026-01-05' }])
  await happen(app, '2026-01-10', ['checkin.held', { expectationsMet: 5, developmentWishes: ['x'] }])
  await happen(app, '2026-01-20', ['pulse.answered', { expectationsMet: 4 }])
  t.same(await signalsAt(app, '2026-02-04T00:00:00.000Z'), ['expectations-falling', 'stalled'])
  t.same(await signalsAt(app, '2026-02-04T00:00:00.001Z'), ['expectations-falling', 'unrecognised', 'stalled'])
})

t.test('bad experience inputs: problem documents, nothing stored', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('employee.hired', J, { personId: 'p-bad', startDate: '2026-01-05' }, { time: on('2026-01-01') }))
  const before = await countEvents(app)
  const cases: [string, Record<string, unknown>, string][] = [
    ['pulse.answered', { enps: 11 }, '/data/enps'],
    ['pulse.answered', { enps: -1 }, '/data/enps'],
    ['pulse.answered', { valued: 0 }, '/data/valued'],
    ['pulse.answered', { safe: 6 }, '/data/safe'],
    ['pulse.answered', { autonomy: 2.5 }, '/data/autonomy'],
    ['pulse.answered', {}, '/data'],
    ['checkin.held', { expectationsMet: 6 }, '/data/expectationsMet'],
    ['exit.interviewed', { wouldRecommend: 11 }, '/data/wouldRecommend'],
    ['exit.interviewed', { promisesKept: 0 }, '/data/promisesKept'],
  ]
  for (const [type, data, path] of cases) {
    const problem = expectProblem(t, await postEvents(app, ce(type, J, data)), 400)
    t.ok(problem.errors?.some((e) => e.path === path), `${type} ${JSON.stringify(data)}: ${path}`)
  }
  expectProblem(t, await postEvents(app, [ce('recognition.given', J, { kind: 'award' }), ce('pulse.answered', J, { enps: 12 })]), 400, { errors: [{ path: '/1/data/enps' }] })
  expectProblem(t, await postEvents(app, ce('pulse.answered', 'j-nobody', { enps: 8 })), 409, { rule: 'journey-unknown' })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-nobody/experience' }), 404)
  t.equal(await countEvents(app), before, 'nothing stored')
  const exp = await experienceOf(app)
  t.same([exp.pulses, exp.recognition, exp.checkins], [[], [], []])
  t.same(exp.trends.enps, { readings: 0, last: null, lastAt: null, change: null })
})

t.test('a boomerang: a person who left and is hired again is a rehire, with both journeys on the person', async (t) => {
  const app = await buildTestApp(t)
  await given(app,
    ce('employee.hired', 'j-first', { personId: 'p-boomerang', department: 'Platform', startDate: '2024-01-08' }, { time: on('2023-12-01') }),
    ce('employee.exited', 'j-first', { lastDay: '2025-03-31' }, { time: on('2025-03-31') }),
    ce('alumni.referred', 'j-first', { referredPersonId: 'p-friend' }, { time: on('2025-06-01') }))
  // applying again is not yet a rehire; the hire is
  await given(app, ce('candidate.applied', 'j-second', { personId: 'p-boomerang' }, { time: on('2025-09-01') }))
  t.equal((await getOk<{ rehire: boolean }>(app, '/v1/journeys/j-second')).rehire, false, 'an application is not a rehire')
  await given(app, ce('employee.hired', 'j-second', { department: 'Data', startDate: '2025-11-03' }, { time: on('2025-10-01') }))
  const person = await getOk<{ journeys: { id: string; rehire: boolean; stage: string }[]; rehires: number }>(app, '/v1/people/p-boomerang')
  t.same(person.journeys.map((j) => [j.id, j.stage, j.rehire]), [['j-first', 'exited', false], ['j-second', 'onboarding', true]])
  t.equal(person.rehires, 1)
  // a second journey of someone still employed is no boomerang
  await given(app,
    ce('employee.hired', 'j-a', { personId: 'p-twice', startDate: '2024-01-08' }, { time: on('2023-12-01') }),
    ce('employee.hired', 'j-b', { personId: 'p-twice', startDate: '2025-01-06' }, { time: on('2024-12-01') }))
  t.same((await getOk<{ rehires: number }>(app, '/v1/people/p-twice')).rehires, 0)
})
