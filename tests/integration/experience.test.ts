// Issue 15: one person's two years, told as the HRIS and the survey tool send it while the clock
// moves: the experience series, and every experience signal at the moments it should and should
// not be on.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { experienceOf, happen, J, signalsAt } from '../helpers/experience.js'
import { getOk, journey, on } from '../helpers/spine.js'

t.test('two years of one person: series and signals at their edges', async (t) => {
  const app = await buildTestApp(t)
  await happen(app, '2024-12-01', ['employee.hired', { personId: 'p-story', role: 'Engineer', department: 'Platform', manager: 'm-1', startDate: '2025-01-06' }])
  t.same(await signalsAt(app, '2025-01-06T00:00:00.000Z'), [], 'first day: nothing')
  await happen(app, '2025-02-01', ['onboarding.completed', {}])
  await happen(app, '2025-02-15', ['checkin.held', { with: 'm-1', expectationsMet: 5, motivations: ['autonomy'], interests: ['data'], developmentWishes: ['lead a team'], notes: 'Settling in.' }])
  await happen(app, '2025-03-01', ['pulse.answered', { enps: 9, valued: 4, safe: 5, autonomy: 4, expectationsMet: 5 }])
  await happen(app, '2025-04-01', ['recognition.given', { by: 'm-1', kind: 'compliment', note: 'Calm on-call week.' }])

  // an interest named again is on from that check-in
  t.same(await signalsAt(app, '2025-04-30T09:00:00.000Z'), [])
  await happen(app, '2025-05-01', ['checkin.held', { with: 'm-1', expectationsMet: 4, interests: ['data', 'speaking'] }])
  t.same(await signalsAt(app, '2025-05-01T09:00:00.000Z'), ['interest-outside-role'])
  t.match((await journey(app, J)).signals[0], { since: '2025-05-01T09:00:00.000Z', why: /named again/ })

  // a development started within 120 days of the wish of 2025-02-15: neither stalled nor the interest any more
  await happen(app, '2025-05-20', ['development.started', { kind: 'training', title: 'Data engineering course' }])
  t.same(await signalsAt(app, '2025-06-20T00:00:00.000Z'), [], 'the development came in time')

  // a new wish; 180 days after the last recognition (2025-04-01 09:00) unrecognised switches on
  await happen(app, '2025-07-01', ['checkin.held', { with: 'm-1', expectationsMet: 4, developmentWishes: ['mentoring'] }])
  await happen(app, '2025-09-01', ['pulse.answered', { enps: 6, valued: 3, expectationsMet: 3 }])
  t.same(await signalsAt(app, '2025-09-28T09:00:00.000Z'), [], '180 days after the recognition, to the millisecond')
  t.same(await signalsAt(app, '2025-09-28T09:00:00.001Z'), ['unrecognised'])

  // 120 days after the wish of 2025-07-01 with no development started: stalled
  t.same(await signalsAt(app, '2025-10-29T09:00:00.000Z'), ['unrecognised'])
  t.same(await signalsAt(app, '2025-10-29T09:00:00.001Z'), ['unrecognised', 'stalled'])
  const stalled = (await journey(app, J)).signals.find((s) => s.name === 'stalled')
  t.match(stalled, { since: '2025-10-29T09:00:00.001Z', why: /2025-07-01.*120 days/ })

  // expectations 5, 5, 4, 4, 3 then 2: the last three fall 4 → 3 → 2
  t.notOk((await journey(app, J)).signals.some((s) => s.name === 'expectations-falling'), '4, 4, 3: down by one')
  await happen(app, '2025-11-01', ['pulse.answered', { enps: 4, valued: 2, safe: 3, autonomy: 2, expectationsMet: 2 }])
  t.same(await signalsAt(app, '2025-11-01T10:00:00.000Z'), ['expectations-falling', 'unrecognised', 'stalled'])
  t.match((await journey(app, J)).signals[0]?.why, /fell by 2 over the last 3 readings \(4 → 3 → 2\)/)
  const listed = await getOk<{ data: { id: string }[] }>(app, '/v1/journeys?signal=expectations-falling')
  t.same(listed.data.map((j) => j.id), [J], 'the list filter agrees')

  // recognition, a role expansion (a development started) and a better pulse clear them
  await happen(app, '2025-12-01', ['recognition.given', { by: 'm-2', kind: 'award' }])
  await happen(app, '2026-01-15', ['role.changed', { role: 'Tech Lead', kind: 'expansion' }], ['development.started', { kind: 'role-expansion', title: 'Leading the data team' }])
  t.same(await signalsAt(app, '2026-01-16T00:00:00.000Z'), ['expectations-falling'], 'the reading has not changed yet')
  await happen(app, '2026-03-01', ['pulse.answered', { enps: 9, valued: 5, safe: 5, autonomy: 5, expectationsMet: 4 }])
  t.same(await signalsAt(app, '2026-05-30T09:00:00.000Z'), [])
  t.same(await signalsAt(app, '2026-05-30T09:00:00.001Z'), ['unrecognised'], 'more than 180 days after the award')
  for (const url of ['/v1/journeys?signal=stalled', '/v1/journeys?signal=interest-outside-role', '/v1/journeys?signal=expectations-falling']) {
    t.same((await getOk<{ data: unknown[] }>(app, url)).data, [], url)
  }

  // the series as the person and their manager read them, on 2026-03-15
  app.clock.set('2026-03-15T00:00:00.000Z')
  const exp = await experienceOf(app)
  t.equal(exp.personId, 'p-story')
  t.same(exp.pulses.map((p) => [p.time.slice(0, 10), p.enps, p.expectationsMet]), [['2025-03-01', 9, 5], ['2025-09-01', 6, 3], ['2025-11-01', 4, 2], ['2026-03-01', 9, 4]])
  t.same(exp.checkins.map((c) => c.time.slice(0, 10)), ['2025-02-15', '2025-05-01', '2025-07-01'], 'oldest first')
  t.match(exp.checkins[0], { expectationsMet: 5, motivations: ['autonomy'], interests: ['data'], developmentWishes: ['lead a team'], notes: 'Settling in.' }, 'the words, opened for the reader')
  t.same(exp.recognition.map((r) => [r.time.slice(0, 10), r.kind]), [['2025-04-01', 'compliment'], ['2025-12-01', 'award']])
  t.same(exp.development.map((d) => [d.status, d.kind, d.title]), [['started', 'training', 'Data engineering course'], ['started', 'role-expansion', 'Leading the data team']])
  t.same(exp.roleChanges.map((r) => [r.kind, r.role]), [['expansion', 'Tech Lead']])
  // 90 days before 2026-03-15 is 2025-12-15: the eNPS stood at 4 (2025-11-01), now 9
  t.same(exp.trends.enps, { readings: 4, last: 9, lastAt: on('2026-03-01'), change: 5 })
  t.same(exp.trends.safe, { readings: 3, last: 5, lastAt: on('2026-03-01'), change: 2 })
  t.same(exp.trends.expectationsMet, { readings: 7, last: 4, lastAt: on('2026-03-01'), change: 2 }, 'pulses and check-ins together: 2 then 4')
  t.same(exp.trends.recognition, { last: on('2025-12-01'), inWindow: 0 }, 'the award came before the window opened')
  t.same(exp.trends.development, { last: on('2026-01-15'), inWindow: 1 })

  // journey detail: the latest pulse and the expectationsMet trend
  const detail = await getOk<{ experience: { latestPulse: Record<string, unknown>; expectationsMet: { trend: string } } }>(app, `/v1/journeys/${J}`)
  t.match(detail.experience, { latestPulse: { time: on('2026-03-01'), enps: 9, expectationsMet: 4 }, expectationsMet: { trend: 'rising' } })

  // the exit: no signal nags about someone leaving and gone
  await happen(app, '2026-10-01', ['exit.announced', { kind: 'voluntary', lastDay: '2026-11-30' }])
  await happen(app, '2026-11-01', ['exit.interviewed', { reasons: ['growth'], wouldRecommend: 9, wouldReturn: true, promisesKept: 4 }])
  t.same(await signalsAt(app, '2026-11-02T00:00:00.000Z'), ['unrecognised'], 'still here while leaving')
  await happen(app, '2026-11-30', ['employee.exited', { lastDay: '2026-11-30', regrettable: true }])
  t.same(await signalsAt(app, '2026-12-01T00:00:00.000Z'), [])
})

