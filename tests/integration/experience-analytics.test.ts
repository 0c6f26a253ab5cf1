// GET /v1/analytics/experience and /exits (issue 15): a small population whose figures are
// computed by hand, suppression included; then a generated population against what a client
// computes from the events it posted (tests/helpers/experience-model.ts).
import t from 'tap'
import { generatePopulation, populationBatches, type PopulationEvent } from '../../src/domain/population.js'
import { buildModel, type PostedEvent } from '../helpers/analytics-model.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { expectedExits, expectedExperience } from '../helpers/experience-model.js'
import { expectProblem, given, on } from '../helpers/spine.js'

const get = async (h: TestApp, path: string, query: Record<string, string>) => {
  const res = await h.request({ method: 'GET', url: `${path}?${new URLSearchParams(query).toString()}` })
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
  return res.json<{ from: string | null; to: string | null; data: Record<string, unknown>[] }>()
}

const hire = (j: string, department: string, manager: string, startDate: string) =>
  ce('employee.hired', j, { personId: `p-${j}`, department, manager, role: 'Engineer', startDate }, { time: on(startDate) })

t.test('hand-computed: eNPS, scales, splits by broken promise, exits, reasons, ambassadors, suppression', async (t) => {
  const h = await buildTestApp(t)
  // Platform: six people. eNPS answers 10, 9, 9, 8, 3 and 0 -> (3 - 2) / 6 = 16.7; a second pulse of e1 in another month
  const platform = ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']
  await given(h, ...platform.map((j) => hire(j, 'Platform', 'm-1', '2025-01-06')))
  const scores: [string, number, number][] = [['e1', 10, 5], ['e2', 9, 4], ['e3', 9, 4], ['e4', 8, 3], ['e5', 3, 2], ['e6', 0, 1]]
  await given(h, ...scores.map(([j, enps, valued]) => ce('pulse.answered', j, { enps, valued, expectationsMet: valued }, { time: on('2025-03-10') })))
  await given(h, ce('pulse.answered', 'e1', { enps: 2, safe: 4 }, { time: on('2025-05-10') }))
  // e5 and e6 had a promise broken (a split of two people: withheld, and so its complement)
  for (const j of ['e5', 'e6']) {
    await given(h, ce('promise.made', j, { promiseId: `pr-${j}`, category: 'career', text: 'A path', madeBy: 'm-1' }, { time: on('2025-01-10') }))
    await given(h, ce('promise.broken', j, { promiseId: `pr-${j}`, reason: 'Budget' }, { time: on('2025-02-10') }))
  }
  // Sales: two people: suppressed, and with it the next smallest group (Platform is the only other)
  await given(h, hire('s1', 'Sales', 'm-2', '2025-01-06'), hire('s2', 'Sales', 'm-2', '2025-01-06'))
  await given(h, ce('pulse.answered', 's1', { enps: 10 }, { time: on('2025-03-10') }), ce('pulse.answered', 's2', { enps: 10 }, { time: on('2025-03-10') }))

  const all = await get(h, '/v1/analytics/experience', { groupBy: 'department', minGroupSize: '3' })
  t.same(all.data, [{ group: 'Platform', suppressed: true }, { group: 'Sales', suppressed: true }], 'one small group withholds the next smallest too')
  // a third Sales person and a group of its own for the window: shown
  await given(h, hire('s3', 'Sales', 'm-2', '2025-01-06'), ce('pulse.answered', 's3', { enps: 6 }, { time: on('2025-03-11') }))
  const march = await get(h, '/v1/analytics/experience', { groupBy: 'department', minGroupSize: '3', from: '2025-03-20', to: '2025-03-20' })
  t.same([march.from, march.to], ['2025-03-01', '2025-03-31'], 'whole months')
  t.same(march.data, [
    {
      group: 'Platform', respondents: 6, responses: 6, enps: 16.7, promoters: 3, passives: 1, detractors: 2,
      valued: 3.17, safe: null, autonomy: null, expectationsMet: 3.17,
      withBrokenPromise: { suppressed: true }, withoutBrokenPromise: { suppressed: true },
    },
    {
      group: 'Sales', respondents: 3, responses: 3, enps: 33.3, promoters: 2, passives: 0, detractors: 1,
      valued: null, safe: null, autonomy: null, expectationsMet: null,
      withBrokenPromise: { suppressed: true }, withoutBrokenPromise: { suppressed: true },
    },
  ])
  const wholeTime = await get(h, '/v1/analytics/experience', { groupBy: 'manager', minGroupSize: '3' })
  // m-1: seven answers: 10, 9, 9, 8, 3, 0, 2 -> (3 - 3) / 7 = 0; the broken split has 2 people: both splits withheld
  t.match(wholeTime.data[0], { group: 'm-1', respondents: 6, responses: 7, enps: 0, safe: 4, withBrokenPromise: { suppressed: true } })

  // exits: four of Platform leave in 2026-01; the interviews and an ambassador
  const exits: [string, number, boolean, number, string[], boolean][] = [
    ['e1', 10, true, 5, ['Career', 'pay'], true], ['e2', 9, false, 4, ['career '], false], ['e3', 6, true, 2, ['relocation'], true], ['e4', 4, false, 1, ['CAREER', 'manager'], false],
  ]
  for (const [j, wouldRecommend, wouldReturn, promisesKept, reasons, regrettable] of exits) {
    await given(h,
      ce('exit.interviewed', j, { wouldRecommend, wouldReturn, promisesKept, reasons }, { time: on('2026-01-20') }),
      ce('employee.exited', j, { lastDay: '2026-01-30', regrettable }, { time: on('2026-01-30') }))
  }
  await given(h, ce('alumni.referred', 'e1', { referredPersonId: 'p-new' }, { time: on('2026-03-01') }), ce('alumni.referred', 'e1', { referredPersonId: 'p-new2' }, { time: on('2026-04-01') }))
  const exitReport = await get(h, '/v1/analytics/exits', { groupBy: 'department', minGroupSize: '3', from: '2026-01-01' })
  t.same(exitReport.data, [{
    group: 'Platform', exits: 4, interviewed: 4, exitEnps: 0, wouldReturnRate: 0.5, meanPromisesKept: 3, regrettableShare: 0.5,
    topReasons: [{ reason: 'career', people: 3 }], ambassadors: 1, referrals: 2,
    withBrokenPromise: { suppressed: true }, withoutBrokenPromise: { suppressed: true },
  }], '(2 - 2) / 4 = 0; career named by three people; pay, relocation and manager by one each: not shown')
  const cohorts = await get(h, '/v1/analytics/exits', { groupBy: 'hireCohort', minGroupSize: '5' })
  t.same(cohorts.data, [{ group: '2025-01', suppressed: true }], 'four people under five')

  // erasing a person takes their reasons out of the count; the scores stay
  t.equal((await h.request({ method: 'DELETE', url: '/v1/people/p-e4' })).statusCode, 204)
  const afterErasure = await get(h, '/v1/analytics/exits', { groupBy: 'department', minGroupSize: '3', from: '2026-01-01', to: '2026-12-31' })
  t.match(afterErasure.data[0], { exits: 4, exitEnps: 0, topReasons: [] }, 'career now named by two people: withheld')

  const badQueries: Record<string, string>[] = [{ groupBy: 'department', minGroupSize: '2' }, { groupBy: 'vacancy' }, { groupBy: 'department', from: '2026-02-01', to: '2026-01-01' }]
  for (const query of badQueries) {
    expectProblem(t, await h.request({ method: 'GET', url: `/v1/analytics/exits?${new URLSearchParams(query).toString()}` }), 400)
  }
  expectProblem(t, await h.request({ method: 'GET', url: '/v1/analytics/experience?groupBy=hireCohort' }), 400)
})

t.test('a generated population: every figure equals a computation from its events alone', async (t) => {
  const h = await buildTestApp(t)
  const now = new Date('2026-06-01T09:00:00.000Z')
  h.clock.set(now.toISOString())
  const posted: PopulationEvent[] = []
  for (const batch of populationBatches(generatePopulation({ journeys: 200, seed: 15, now }), 1000)) {
    const res = await h.request({ method: 'POST', url: '/v1/events', payload: batch })
    if (res.statusCode !== 201) throw new Error(`POST /v1/events: ${res.statusCode} ${res.body}`)
    posted.push(...batch)
  }
  const events: PostedEvent[] = posted
  const model = buildModel(events)
  let [shown, splitsShown, reasonsShown, ambassadors] = [0, 0, 0, 0]
  const periods: Record<string, string>[] = [{}, { from: '2024-06-01', to: '2025-12-31' }, { from: '2025-09-14' }]
  for (const period of periods) {
    for (const minGroupSize of [3, 8]) {
      for (const groupBy of ['department', 'manager', 'role']) {
        const q = { groupBy, minGroupSize, ...period, today: '2026-06-01' }
        const body = await get(h, '/v1/analytics/experience', { groupBy, minGroupSize: String(minGroupSize), ...period })
        t.same(body, expectedExperience(model, events, q), `experience ${JSON.stringify(q)}`)
        shown += body.data.filter((g) => !g.suppressed).length
        splitsShown += body.data.filter((g) => g.withBrokenPromise !== undefined && !('suppressed' in Object(g.withBrokenPromise))).length
      }
      for (const groupBy of ['department', 'hireCohort']) {
        const q = { groupBy, minGroupSize, ...period, today: '2026-06-01' }
        const body = await get(h, '/v1/analytics/exits', { groupBy, minGroupSize: String(minGroupSize), ...period })
        t.same(body, expectedExits(model, events, q), `exits ${JSON.stringify(q)}`)
        shown += body.data.filter((g) => !g.suppressed).length
        splitsShown += body.data.filter((g) => g.withBrokenPromise !== undefined && !('suppressed' in Object(g.withBrokenPromise))).length
        reasonsShown += body.data.filter((g) => Array.isArray(g.topReasons) && g.topReasons.length > 0).length
        ambassadors += body.data.reduce((n, g) => n + (typeof g.ambassadors === 'number' ? g.ambassadors : 0), 0)
      }
    }
  }
  t.ok(shown > 20, `${shown} groups shown`)
  t.ok(splitsShown > 5, `${splitsShown} groups show their broken-promise splits`)
  t.ok(reasonsShown > 0, `${reasonsShown} groups show top reasons`)
  t.ok(ambassadors > 0, `${ambassadors} ambassadors counted over the reports`)
})
