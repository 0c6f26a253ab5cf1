// GET /v1/journeys/{id} and GET /v1/journeys: the journey projection as a manager reads it.
import t from 'tap'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { expectProblem, getOk, given, journey, on, postEvents, streamOf, type JourneyView, type Page } from '../helpers/spine.js'

const ids = (page: Page<JourneyView>) => page.data.map((j) => j.id)
const list = (app: TestApp, query: string) => getOk<Page<JourneyView>>(app, `/v1/journeys?${query}`)
const stageNames = (j: JourneyView) => j.stages.map((s) => s.stage)

/** A hire as the HRIS records it: `hiredOn` is when it was signed. */
const hired = (journeyId: string, hiredOn: string, data: Record<string, unknown>) =>
  ce('employee.hired', journeyId, { personId: `p-${journeyId}`, ...data }, { time: on(hiredOn) })

t.test('a journey from vacancy to exit', async (t) => {
  const app = await buildTestApp(t)
  // given the whole story, as ATS and HRIS send it over months
  await given(app,
    ce('vacancy.published', 'vac-eng', { title: 'Engineer', department: 'Platform', promises: [{ category: 'flexibility', text: 'Two remote days a week' }] }, { time: on('2025-12-01') }))
  await given(app,
    ce('candidate.applied', 'j-1', { personId: 'p-1', vacancyId: 'vac-eng', channel: 'referral' }, { time: on('2026-01-05') }),
    ce('interview.held', 'j-1', { interviewer: 'm-1' }, { time: on('2026-01-12') }),
    ce('offer.made', 'j-1', { role: 'Engineer', department: 'Platform', startDate: '2026-03-02', terms: [{ category: 'compensation', text: 'Salary review', dueAfterStartDays: 183 }] }, { time: on('2026-01-20') }))
  await given(app,
    ce('offer.accepted', 'j-1', {}, { time: on('2026-01-22') }),
    hired('j-1', '2026-01-25', { personId: 'p-1', role: 'Senior Engineer', department: 'Platform', manager: 'm-1', startDate: '2026-03-02' }))
  await given(app, ce('onboarding.completed', 'j-1', {}, { time: on('2026-04-30') }))
  await given(app,
    ce('exit.announced', 'j-1', { kind: 'voluntary', lastDay: '2026-05-29' }, { time: on('2026-05-01') }),
    ce('employee.exited', 'j-1', { lastDay: '2026-05-29', regrettable: true }, { time: on('2026-05-29', 17) }))

  // when the journey is read
  const j = await journey(app, 'j-1')

  // then it tells the story
  t.match(j, {
    id: 'j-1', personId: 'p-1', vacancyId: 'vac-eng', stage: 'exited', stageSince: on('2026-05-29', 17),
    role: 'Senior Engineer', department: 'Platform', manager: 'm-1', startDate: '2026-03-02',
    exitedAt: on('2026-05-29', 17), lastDay: '2026-05-29',
  })
  t.same(j.stages.map((s) => [s.stage, s.enteredAt]), [
    ['applied', on('2026-01-05')], ['offered', on('2026-01-20')], ['hired', on('2026-01-22')], ['onboarding', '2026-03-02T00:00:00.000Z'],
    ['active', on('2026-04-30')], ['leaving', on('2026-05-01')], ['exited', on('2026-05-29', 17)],
  ])
  t.ok(j.stages.every((s, i) => s.leftAt === (j.stages[i + 1]?.enteredAt ?? null)), 'each period ends where the next begins')
  const stream = await streamOf(app, 'j-1')
  t.equal(j.version, stream.length, 'version is the stream version')
  t.same(stream.filter((e) => e.source === 'journey-ledger').map((e) => e.data.madeAt), ['offer', 'vacancy'],
    'the offer term and the vacancy promise became promises of the journey')
  t.match(j.promises, { open: 2, kept: 0, broken: 0 })
  t.same(j.signals, [], 'no signals for someone who left')
})

t.test('a backfilled event lands in its place in the stages', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }, { time: on('2026-05-01') }))
  await given(app, hired('j-1', '2026-05-20', { personId: 'p-1', startDate: '2026-07-01' }))
  t.same(stageNames(await journey(app, 'j-1')), ['applied', 'hired'])

  // when the ATS backfills the offer that came between them
  await given(app, ce('offer.made', 'j-1', { role: 'Engineer' }, { time: on('2026-05-10') }))

  const j = await journey(app, 'j-1')
  t.same(j.stages, [
    { stage: 'applied', enteredAt: on('2026-05-01'), leftAt: on('2026-05-10') },
    { stage: 'offered', enteredAt: on('2026-05-10'), leftAt: on('2026-05-20') },
    { stage: 'hired', enteredAt: on('2026-05-20'), leftAt: null },
  ])
  t.match(j, { stage: 'hired', stageSince: on('2026-05-20'), version: 3 })

  // and a rejection backfilled after the hire does not undo it
  await given(app, ce('candidate.rejected', 'j-1', {}, { time: on('2026-05-25') }))
  t.equal((await journey(app, 'j-1')).stage, 'hired')
})

t.test('listing journeys: filters, the start date as the clock passes it, signals, pages', async (t) => {
  const app = await buildTestApp(t)
  // given five journeys at five stages (the clock says 2026-06-01)
  await given(app,
    ce('candidate.applied', 'j-a', { personId: 'p-a', vacancyId: 'vac-1' }, { time: on('2026-05-01') }),
    ce('candidate.applied', 'j-b', { personId: 'p-j-b', vacancyId: 'vac-1' }, { time: on('2026-04-01') }),
    hired('j-b', '2026-05-02', { department: 'Eng', manager: 'm-1', startDate: '2026-07-01' }),
    hired('j-c', '2026-04-01', { department: 'Eng', manager: 'm-2', startDate: '2026-05-01' }),
    hired('j-d', '2026-03-01', { department: 'Sales', manager: 'm-1', startDate: '2026-04-01' }),
    ce('onboarding.completed', 'j-d', {}, { time: on('2026-04-15') }),
    ce('recognition.given', 'j-d', { by: 'm-1', kind: 'award' }, { time: on('2026-06-01', 8) }),
    hired('j-e', '2025-12-01', { department: 'Sales', manager: 'm-3', startDate: '2026-01-01' }),
    ce('employee.exited', 'j-e', { lastDay: '2026-05-01' }, { time: on('2026-05-01') }))

  t.same(ids(await list(app, 'stage=applied')), ['j-a'])
  t.same(ids(await list(app, 'stage=hired')), ['j-b'], 'signed, start date ahead')
  t.same(ids(await list(app, 'stage=onboarding')), ['j-c'], 'signed, start date passed: onboarding without an event')
  t.same(ids(await list(app, 'stage=active')), ['j-d'])
  t.same(ids(await list(app, 'stage=exited')), ['j-e'])
  t.same(ids(await list(app, 'department=Eng')), ['j-b', 'j-c'])
  t.same(ids(await list(app, 'manager=m-1')), ['j-b', 'j-d'])
  t.same(ids(await list(app, 'vacancyId=vac-1')), ['j-a', 'j-b'])
  t.same(ids(await list(app, 'personId=p-j-c')), ['j-c'])
  t.same(ids(await list(app, 'department=Sales&stage=active')), ['j-d'], 'filters combine')
  t.same(ids(await list(app, 'department=Nowhere')), [])
  const c = await journey(app, 'j-c')
  t.match(c, { stage: 'onboarding', stageSince: '2026-05-01T00:00:00.000Z' })
  t.same(stageNames(c), ['hired', 'onboarding'])

  // when the clock reaches j-b's start date
  app.clock.set('2026-07-01T08:00:00.000Z')
  t.same(ids(await list(app, 'stage=onboarding')), ['j-b', 'j-c'])
  t.same(ids(await list(app, 'stage=hired')), [])

  // signals switch on as the clock passes them: more than 180 days without recognition
  app.clock.set('2026-10-28T00:00:00.000Z')
  t.same(ids(await list(app, 'signal=unrecognised')), [], 'nobody yet: j-c started 180 days ago to the millisecond')
  app.clock.set('2026-11-01T00:00:00.000Z')
  t.same(ids(await list(app, 'signal=unrecognised')), ['j-c'], 'j-c started 2026-05-01; j-d was recognised on 2026-06-01')
  t.match((await journey(app, 'j-c')).signals, [{ name: 'unrecognised', since: '2026-10-28T00:00:00.001Z', why: String }])
  app.clock.set('2026-12-01T00:00:00.000Z')
  t.same(ids(await list(app, 'signal=unrecognised')), ['j-c', 'j-d'], 'the exited j-e never counts')

  // paging: limit 2 over five journeys returns each once
  const seen: string[] = []
  let cursor: string | null = null
  const sizes: number[] = []
  do {
    const page: Page<JourneyView> = await list(app, `limit=2${cursor ? `&cursor=${cursor}` : ''}`)
    sizes.push(page.data.length)
    seen.push(...ids(page))
    cursor = page.nextCursor
  } while (cursor)
  t.same(seen, ['j-a', 'j-b', 'j-c', 'j-d', 'j-e'])
  t.same(sizes, [2, 2, 1])
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys?cursor=%25%25' }), 400, { errors: [{ path: '/cursor' }] })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys?stage=retired' }), 400)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-none' }), 404)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j%20a' }), 400, { errors: [{ location: 'path' }] })
})

t.test('a rehire is a new journey of the same person', async (t) => {
  const app = await buildTestApp(t)
  await given(app,
    hired('j-first', '2024-12-01', { personId: 'p-7', startDate: '2025-01-01', department: 'Eng' }),
    ce('employee.exited', 'j-first', { lastDay: '2025-12-31' }, { time: on('2025-12-31') }))

  // when the HRIS hires the person again on the old journey, the ledger refuses
  expectProblem(t, await postEvents(app, hired('j-first', '2026-05-01', { personId: 'p-7', startDate: '2026-07-01' })), 409, { rule: 'hire-after-exit' })

  // when it opens a new journey for them
  await given(app, hired('j-second', '2026-05-01', { personId: 'p-7', startDate: '2026-07-01', department: 'Sales' }))

  const journeys = await list(app, 'personId=p-7')
  t.same(journeys.data.map((j) => [j.id, j.stage, j.department]), [['j-first', 'exited', 'Eng'], ['j-second', 'hired', 'Sales']])
})

t.test('the onboarding period stays in the stages once onboarding is completed', async (t) => {
  const app = await buildTestApp(t)
  await given(app,
    hired('j-1', '2026-03-01', { startDate: '2026-04-01' }),
    ce('onboarding.completed', 'j-1', {}, { time: on('2026-05-15') }))
  t.same((await journey(app, 'j-1')).stages, [
    { stage: 'hired', enteredAt: on('2026-03-01'), leftAt: '2026-04-01T00:00:00.000Z' },
    { stage: 'onboarding', enteredAt: '2026-04-01T00:00:00.000Z', leftAt: on('2026-05-15') },
    { stage: 'active', enteredAt: on('2026-05-15'), leftAt: null },
  ], 'hired until the start date, onboarding until it is completed')
})

t.test('a hire recorded after the start date keeps the stages in time order', async (t) => {
  const app = await buildTestApp(t)
  // the contract was signed on 2026-05-10 for a start on 2026-05-04 (paperwork after the first day)
  await given(app, hired('j-1', '2026-05-10', { startDate: '2026-05-04' }))
  const j = await journey(app, 'j-1')
  t.equal(j.stage, 'onboarding')
  t.ok(j.stages.every((s) => s.leftAt === null || s.leftAt >= s.enteredAt), `no period ends before it begins: ${JSON.stringify(j.stages)}`)
  t.ok(j.stages.every((s, i) => i === 0 || s.enteredAt >= (j.stages[i - 1]?.enteredAt ?? '')), 'periods in order')
})

t.test('a batch that publishes a vacancy and hires through it inherits its promises, as separate requests do', async (t) => {
  const app = await buildTestApp(t)
  const vacancy = (id: string) => ce('vacancy.published', id, { title: 'Engineer', promises: [{ category: 'development', text: 'A course a year' }] }, { time: on('2026-04-01') })
  const apply = (journeyId: string, vacancyId: string) => ce('candidate.applied', journeyId, { personId: `p-${journeyId}`, vacancyId }, { time: on('2026-04-05') })

  // separately: the hire inherits the vacancy's promise
  await given(app, vacancy('vac-1'))
  await given(app, apply('j-1', 'vac-1'), hired('j-1', '2026-04-20', { startDate: '2026-05-01' }))
  t.equal((await journey(app, 'j-1')).promises.open, 1, 'separate requests: inherited')

  // in one batch (an HRIS import): the same
  await given(app, vacancy('vac-2'), apply('j-2', 'vac-2'), hired('j-2', '2026-04-20', { startDate: '2026-05-01' }))
  t.equal((await journey(app, 'j-2')).promises.open, 1, 'one batch: inherited too')
})
