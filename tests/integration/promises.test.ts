// Promises from each source (vacancy, offer, direct) through to their outcomes, by both doors
// (the promise actions and POST /v1/events); statuses as the injected clock moves; the two views;
// the list's filters and pages; and the bad inputs, each a problem document with nothing stored.
import t, { type Test } from 'tap'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { countEvents, expectProblem, getOk, given, journey, on, postEvents, type Page, type StoredEvent } from '../helpers/spine.js'

interface PromiseView {
  id: string
  journeyId: string
  category: string
  text: string | null
  madeBy: string
  madeAt: string | null
  kind: string | null
  madeTime: string
  dueBy: string | null
  dueAfterStartDays: number | null
  dueDate: string | null
  status: string
  closedAt: string | null
  cause: string | null
  renegotiations: number
  inheritedFrom: { kind: string; id: string; index: number } | null
  employeeView: { fulfilled: number; assessedAt: string } | null
  gap: boolean
}

interface PromiseDetail extends PromiseView {
  employerView: { outcome: string; closedAt: string | null }
  employeeComment: string | null
  history: StoredEvent[]
}

const list = (app: TestApp, query: string) => getOk<Page<PromiseView>>(app, `/v1/promises?${query}`)
const detail = (app: TestApp, id: string) => getOk<PromiseDetail>(app, `/v1/promises/${id}`)
/** An exact JSON Pointer (tap's match takes a plain string as a substring: '' would match any path). */
const at = (pointer: string) => new RegExp(`^${pointer.replace(/[/.]/g, '\\$&')}$`)
const noCounts = { open: 0, due: 0, overdue: 0, kept: 0, broken: 0, renegotiated: 0, withdrawn: 0 }

/** Each promise of a journey with its status, as the list shows them today. */
async function statusesOf(app: TestApp, journeyId: string): Promise<Record<string, string>> {
  const page = await list(app, `journeyId=${journeyId}&limit=200`)
  return Object.fromEntries(page.data.map((p) => [p.id, p.status]))
}

type Action = 'keep' | 'break' | 'renegotiate' | 'withdraw' | 'assess'
const typeOf: Record<Action, string> = {
  keep: 'promise.kept', break: 'promise.broken', renegotiate: 'promise.renegotiated', withdraw: 'promise.withdrawn', assess: 'promise.assessed',
}

/** One way in: the promise actions (`/v1/promises/{id}/keep`...) or the ledger itself (`POST /v1/events`). */
interface Door {
  name: 'actions' | 'events'
  make(t: Test, app: TestApp, journeyId: string, body: Record<string, unknown>): Promise<string>
  act(t: Test, app: TestApp, journeyId: string, promiseId: string, action: Action, body: Record<string, unknown>): Promise<PromiseDetail>
}

const doors: Door[] = [
  {
    name: 'actions',
    async make(t, app, journeyId, body) {
      const res = await app.request({ method: 'POST', url: `/v1/journeys/${journeyId}/promises`, payload: body })
      t.equal(res.statusCode, 201, `POST /v1/journeys/${journeyId}/promises: ${res.body.slice(0, 200)}`)
      const made = res.json<PromiseDetail>()
      t.match(made, { journeyId, text: body.text, madeBy: body.madeBy, madeTime: app.clock.now().toISOString() }, 'the 201 carries the promise')
      return made.id
    },
    async act(t, app, _journeyId, promiseId, action, body) {
      const res = await app.request({ method: 'POST', url: `/v1/promises/${promiseId}/${action}`, payload: body })
      t.equal(res.statusCode, 200, `POST /v1/promises/${promiseId}/${action}: ${res.body.slice(0, 200)}`)
      const answered = res.json<PromiseDetail>()
      t.same(answered, await detail(app, promiseId), 'the action answers with the promise as GET shows it')
      return answered
    },
  },
  {
    name: 'events',
    async make(t, app, journeyId, body) {
      const res = await postEvents(app, ce('promise.made', journeyId, body))
      t.equal(res.statusCode, 201, `promise.made: ${res.body.slice(0, 200)}`)
      const mine = (await list(app, `journeyId=${journeyId}&limit=200`)).data.filter((p) => p.text === body.text)
      t.equal(mine.length, 1, 'the promise is listed once')
      return mine[0]?.id ?? 'missing'
    },
    async act(t, app, journeyId, promiseId, action, body) {
      const res = await postEvents(app, ce(typeOf[action], journeyId, { promiseId, ...body }))
      t.equal(res.statusCode, 201, `${typeOf[action]}: ${res.body.slice(0, 200)}`)
      t.match(res.json(), { data: [{ subject: journeyId, duplicate: false }] })
      return detail(app, promiseId)
    },
  },
]

for (const door of doors) {
  t.test(`a promise from each source, resolved through the ${door.name}`, async (t) => {
    const app = await buildTestApp(t) // the clock says 2026-06-01T09:00Z
    const now = () => app.clock.now().toISOString()

    // given a vacancy that promises remote work, and an offer made through it with a training budget
    const [, , offer] = await given(app,
      ce('vacancy.published', 'vac-eng', {
        title: 'Engineer', department: 'Platform', publishedBy: 'rec-anna',
        promises: [{ category: 'flexibility', text: 'remote two days a week', dueAfterStartDays: 30 }],
      }, { time: on('2026-05-01') }),
      ce('candidate.applied', 'j-1', { personId: 'p-1', vacancyId: 'vac-eng' }, { time: on('2026-05-05') }),
      ce('offer.made', 'j-1', {
        role: 'Engineer', madeBy: 'mgr-max', startDate: '2026-07-01',
        terms: [{ category: 'development', text: 'training budget 2000 EUR', dueAfterStartDays: 90 }],
      }, { time: on('2026-05-20') }))
    if (!offer) throw new Error('the offer was not stored')

    // then the offer term is a promise made at offer; the vacancy's is not the journey's until the hire
    const beforeHire = await list(app, 'journeyId=j-1')
    t.equal(beforeHire.data.length, 1, 'only the offer term before the hire')
    const training = beforeHire.data[0]
    t.match(training, {
      journeyId: 'j-1', category: 'development', text: 'training budget 2000 EUR', madeBy: 'mgr-max', madeAt: 'offer', kind: 'transactional',
      madeTime: on('2026-05-20'), dueBy: null, dueAfterStartDays: 90, dueDate: '2026-09-29', status: 'open', closedAt: null,
      renegotiations: 0, inheritedFrom: { kind: 'offer', id: offer.id, index: 0 }, employeeView: null, gap: false,
    })
    const trainingId = training?.id ?? 'missing'

    // when the hire is signed: the vacancy's promise is inherited, made at vacancy by its publisher
    await given(app,
      ce('offer.accepted', 'j-1', {}, { time: on('2026-05-22') }),
      ce('employee.hired', 'j-1', { startDate: '2026-07-01', manager: 'mgr-max' }, { time: on('2026-05-25') }))
    const inherited = (await list(app, 'journeyId=j-1&madeBy=rec-anna')).data
    t.equal(inherited.length, 1, 'one promise inherited from the vacancy')
    t.match(inherited[0], {
      journeyId: 'j-1', category: 'flexibility', text: 'remote two days a week', madeBy: 'rec-anna', madeAt: 'vacancy',
      madeTime: on('2026-05-25'), dueAfterStartDays: 30, dueDate: '2026-07-31', status: 'open',
      inheritedFrom: { kind: 'vacancy', id: 'vac-eng', index: 0 },
    })
    const remoteId = inherited[0]?.id ?? 'missing'

    // and the manager makes two promises directly
    const promoId = await door.make(t, app, 'j-1', {
      promiseId: 'pr-promo', category: 'career', text: 'promotion review after 12 months', madeBy: 'mgr-max', madeAt: 'onboarding', kind: 'relational', dueBy: '2027-06-01',
    })
    t.equal(promoId, 'pr-promo', 'the client\'s key is the promise id')
    const laptopId = await door.make(t, app, 'j-1', { category: 'other', text: 'a laptop in the first week', madeBy: 'mgr-max', dueAfterStartDays: 7 })
    t.match(laptopId, /^prm_[A-Za-z0-9_-]{22}$/, 'without a promiseId the server makes one')
    t.match(await detail(app, promoId), {
      id: 'pr-promo', journeyId: 'j-1', category: 'career', text: 'promotion review after 12 months', madeBy: 'mgr-max', madeAt: 'onboarding',
      kind: 'relational', madeTime: now(), dueBy: '2027-06-01', dueAfterStartDays: null, dueDate: '2027-06-01', status: 'open',
      inheritedFrom: null, employerView: { outcome: 'open', closedAt: null }, employeeView: null, employeeComment: null, gap: false,
    })
    t.equal((await detail(app, laptopId)).dueDate, '2026-07-08', 'startDate 2026-07-01 + 7 days')

    // statuses as the clock moves (never waiting: the clock is set)
    t.same(await statusesOf(app, 'j-1'), { [remoteId]: 'open', [trainingId]: 'open', [promoId]: 'open', [laptopId]: 'open' }, '2026-06-01: all open')
    app.clock.set('2026-06-23T23:00:00.000Z')
    t.equal((await statusesOf(app, 'j-1'))[laptopId], 'open', '15 days before its due date: still open')
    app.clock.set('2026-06-24T00:30:00.000Z')
    t.equal((await statusesOf(app, 'j-1'))[laptopId], 'due', '14 days before its due date: due')
    t.same((await journey(app, 'j-1')).promises, { ...noCounts, open: 3, due: 1 }, 'the journey counts it as due')
    app.clock.set('2026-07-08T22:00:00.000Z')
    t.equal((await statusesOf(app, 'j-1'))[laptopId], 'due', 'on its due date: still due')
    app.clock.set('2026-07-09T08:00:00.000Z')
    t.same(await statusesOf(app, 'j-1'), { [remoteId]: 'open', [trainingId]: 'open', [promoId]: 'open', [laptopId]: 'overdue' }, '2026-07-09: the laptop is overdue')
    t.same((await journey(app, 'j-1')).promises, { ...noCounts, open: 3, overdue: 1 })

    // when the HRIS moves the start date to 2026-07-15, the due dates that hang on it move too
    await given(app, ce('employee.hired', 'j-1', { startDate: '2026-07-15' }))
    const moved = Object.fromEntries((await list(app, 'journeyId=j-1')).data.map((p) => [p.id, [p.dueDate, p.status]]))
    t.same(moved, {
      [laptopId]: ['2026-07-22', 'due'], [remoteId]: ['2026-08-14', 'open'], [trainingId]: ['2026-10-13', 'open'], [promoId]: ['2027-06-01', 'open'],
    }, 'dueAfterStartDays follow the new start date; dueBy stays')
    t.equal((await list(app, 'journeyId=j-1&madeBy=rec-anna')).data.length, 1, 'the corrected hire does not inherit the vacancy\'s promise again')

    // withdraw: the laptop was recorded by mistake
    app.clock.set('2026-07-16T10:00:00.000Z')
    const withdrawn = await door.act(t, app, 'j-1', laptopId, 'withdraw', { reason: 'Recorded twice by mistake' })
    t.match(withdrawn, { status: 'withdrawn', closedAt: now(), employerView: { outcome: 'withdrawn', closedAt: now() }, gap: false })
    t.same(withdrawn.history.map((e) => e.type), ['promise.made', 'promise.withdrawn'])

    // keep: the remote days, with the employee's view before and after
    app.clock.set('2026-07-30T10:00:00.000Z')
    const assessedEarly = await door.act(t, app, 'j-1', remoteId, 'assess', { fulfilled: 1, comment: 'Not once so far' })
    t.match(assessedEarly, { status: 'open', employeeView: { fulfilled: 1, assessedAt: now() }, employeeComment: 'Not once so far', gap: false },
      'the employee may assess an open promise; no gap while the employer has not said kept')
    app.clock.set('2026-08-01T10:00:00.000Z')
    t.equal((await detail(app, remoteId)).status, 'due', 'due 2026-08-14: within 14 days')
    const kept = await door.act(t, app, 'j-1', remoteId, 'keep', { evidence: 'Remote Tuesdays and Thursdays in the rota' })
    t.match(kept, {
      status: 'kept', closedAt: now(), employerView: { outcome: 'kept', closedAt: now() },
      employeeView: { fulfilled: 1, assessedAt: '2026-07-30T10:00:00.000Z' }, gap: true,
    }, 'kept, but the employee said 1: a gap')
    app.clock.set('2026-08-10T10:00:00.000Z')
    t.match(await door.act(t, app, 'j-1', remoteId, 'assess', { fulfilled: 4, comment: 'Works now' }),
      { status: 'kept', employeeView: { fulfilled: 4, assessedAt: now() }, employeeComment: 'Works now', gap: false }, 'the latest assessment counts: 4, no gap')
    app.clock.set('2026-08-20T10:00:00.000Z')
    const regap = await door.act(t, app, 'j-1', remoteId, 'assess', { fulfilled: 2 })
    t.match(regap, { employeeView: { fulfilled: 2 }, employeeComment: null, gap: true }, 'kept and assessed 2: a gap again')
    t.same(regap.history.map((e) => e.type), ['promise.made', 'promise.assessed', 'promise.kept', 'promise.assessed', 'promise.assessed'])

    // break: the training budget, overdue first
    app.clock.set('2026-10-20T10:00:00.000Z')
    t.equal((await detail(app, trainingId)).status, 'overdue', 'due 2026-10-13')
    const broken = await door.act(t, app, 'j-1', trainingId, 'break', { reason: 'Training budget frozen for the year', cause: 'circumstances' })
    t.match(broken, { status: 'broken', cause: 'circumstances', closedAt: now(), employerView: { outcome: 'broken' }, gap: false })
    t.match(await door.act(t, app, 'j-1', trainingId, 'assess', { fulfilled: 1 }), { status: 'broken', employeeView: { fulfilled: 1 }, gap: false },
      'broken and assessed 1: the two views agree')

    // renegotiate, then keep: the promotion review
    app.clock.set('2027-05-20T10:00:00.000Z')
    t.equal((await detail(app, promoId)).status, 'due')
    const renegotiated = await door.act(t, app, 'j-1', promoId, 'renegotiate', { text: 'promotion review after 15 months', dueBy: '2027-09-01', agreedByEmployee: true })
    t.match(renegotiated, {
      status: 'renegotiated', text: 'promotion review after 15 months', dueBy: '2027-09-01', dueDate: '2027-09-01', renegotiations: 1, closedAt: null,
    }, 'open again with new words and a new date')
    t.same((await journey(app, 'j-1')).promises, { ...noCounts, renegotiated: 1, kept: 1, broken: 1, withdrawn: 1 })
    app.clock.set('2027-08-25T10:00:00.000Z')
    t.equal((await detail(app, promoId)).status, 'due', 'a renegotiated promise falls due like any other')
    app.clock.set('2027-09-02T10:00:00.000Z')
    t.equal((await detail(app, promoId)).status, 'overdue')
    const promoKept = await door.act(t, app, 'j-1', promoId, 'keep', { evidence: 'Promoted to Senior Engineer' })
    t.match(promoKept, { status: 'kept', closedAt: now(), renegotiations: 1, text: 'promotion review after 15 months' })
    t.same(promoKept.history.map((e) => [e.type, e.time]), [
      ['promise.made', '2026-06-01T09:00:00.000Z'], ['promise.renegotiated', '2027-05-20T10:00:00.000Z'], ['promise.kept', '2027-09-02T10:00:00.000Z'],
    ], 'the history, in time order')
    t.match(promoKept.history[1]?.data, { promiseId: promoId, text: 'promotion review after 15 months', agreedByEmployee: true })

    // then every promise is closed, and the journey counts them
    t.same(await statusesOf(app, 'j-1'), { [remoteId]: 'kept', [trainingId]: 'broken', [promoId]: 'kept', [laptopId]: 'withdrawn' })
    t.same((await journey(app, 'j-1')).promises, { ...noCounts, kept: 2, broken: 1, withdrawn: 1 })
    t.same((await list(app, 'status=kept')).data.filter((p) => p.gap).map((p) => p.id), [remoteId], 'the list shows the gap too')
  })
}

t.test('listing promises: every filter, and pages without gaps or duplicates', async (t) => {
  const app = await buildTestApp(t) // 2026-06-01
  // given three journeys and 24 promises across makers, categories and due dates (some undated, some on the same day)
  const categories = ['flexibility', 'compensation', 'development', 'career']
  const makers = ['mgr-a', 'mgr-b', 'rec-c']
  const dues: (Record<string, unknown>)[] = [
    { dueBy: '2026-06-01' }, { dueBy: '2026-06-10' }, { dueBy: '2026-06-15' }, { dueBy: '2026-06-16' }, {},
    { dueBy: '2026-08-01' }, { dueAfterStartDays: 0 }, { dueAfterStartDays: 45 },
  ]
  const made: { id: string; journeyId: string; madeBy: string; category: string }[] = []
  const events: Record<string, unknown>[] = []
  for (const [j, journeyId] of ['j-a', 'j-b', 'j-c'].entries()) {
    events.push(ce('employee.hired', journeyId, { personId: `p-${journeyId}`, startDate: '2026-06-05' }, { time: on('2026-05-01') }))
    for (const [k, due] of dues.entries()) {
      const id = `pr-${journeyId}-${k}`
      const madeBy = makers[(j + k) % makers.length] ?? 'mgr-a'
      const category = categories[k % categories.length] ?? 'other'
      made.push({ id, journeyId, madeBy, category })
      events.push(ce('promise.made', journeyId, { promiseId: id, category, text: `promise ${id}`, madeBy, ...due }, { time: on('2026-05-02') }))
    }
  }
  events.push(
    ce('promise.kept', 'j-a', { promiseId: 'pr-j-a-0' }, { time: on('2026-05-20') }),
    ce('promise.broken', 'j-b', { promiseId: 'pr-j-b-5', reason: 'no', cause: 'reneged' }, { time: on('2026-05-20') }),
    ce('promise.withdrawn', 'j-c', { promiseId: 'pr-j-c-4' }, { time: on('2026-05-20') }),
    ce('promise.renegotiated', 'j-a', { promiseId: 'pr-j-a-4', dueBy: '2026-12-01', agreedByEmployee: false }, { time: on('2026-05-21') }),
    ce('promise.renegotiated', 'j-b', { promiseId: 'pr-j-b-1', text: 'promise pr-j-b-1, later', agreedByEmployee: true }, { time: on('2026-05-21') }))
  await given(app, ...events)

  const all = await list(app, 'limit=200')
  t.equal(all.data.length, 24)
  t.equal(all.nextCursor, null, 'one page holds them all')
  t.same(all.data.map((p) => p.id).sort(), made.map((p) => p.id).sort(), 'every promise, once')
  const dueKey = (p: PromiseView) => p.dueDate ?? '9999-12-31'
  const expectedOrder = [...all.data].sort((a, b) => dueKey(a).localeCompare(dueKey(b)) || (a.id < b.id ? -1 : 1)).map((p) => p.id)
  t.same(all.data.map((p) => p.id), expectedOrder, 'ordered by due date (undated last), then id')
  t.same(all.data.slice(-3).map((p) => [p.id, p.dueDate]), [['pr-j-a-4', '2026-12-01'], ['pr-j-b-4', null], ['pr-j-c-4', null]],
    'the undated promises come last (pr-j-a-4 has a date since its renegotiation)')

  // the statuses on 2026-06-01 (the horizon is 2026-06-15)
  const byId = new Map(all.data.map((p) => [p.id, p]))
  t.match(byId.get('pr-j-a-0'), { status: 'kept' })
  t.match(byId.get('pr-j-b-0'), { status: 'due' }, 'due today')
  t.match(byId.get('pr-j-a-6'), { status: 'due', dueDate: '2026-06-05' }, 'the start date + 0')
  t.match(byId.get('pr-j-a-2'), { status: 'due', dueDate: '2026-06-15' }, 'exactly 14 days ahead')
  t.match(byId.get('pr-j-a-3'), { status: 'open', dueDate: '2026-06-16' }, '15 days ahead')
  t.match(byId.get('pr-j-a-4'), { status: 'renegotiated', dueDate: '2026-12-01', renegotiations: 1 })
  t.match(byId.get('pr-j-b-1'), { status: 'due', text: 'promise pr-j-b-1, later', renegotiations: 1 }, 'renegotiated in words only: still due 2026-06-10')
  t.match(byId.get('pr-j-b-5'), { status: 'broken', cause: 'reneged' })
  t.match(byId.get('pr-j-c-4'), { status: 'withdrawn' })

  // each status filter returns exactly the promises showing that status, and together they are all
  const statuses = ['open', 'due', 'overdue', 'kept', 'broken', 'renegotiated', 'withdrawn']
  const checkStatusFilters = async (when: string) => {
    const everything = (await list(app, 'limit=200')).data
    let total = 0
    for (const status of statuses) {
      const found = (await list(app, `status=${status}&limit=200`)).data.map((p) => p.id)
      t.same(found, everything.filter((p) => p.status === status).map((p) => p.id), `${when}: status=${status}`)
      total += found.length
    }
    t.equal(total, everything.length, `${when}: each promise has exactly one status`)
  }
  await checkStatusFilters('2026-06-01')
  t.same((await list(app, 'status=due&limit=200')).data.map((p) => p.id),
    ['pr-j-b-0', 'pr-j-c-0', 'pr-j-a-6', 'pr-j-b-6', 'pr-j-c-6', 'pr-j-a-1', 'pr-j-b-1', 'pr-j-c-1', 'pr-j-a-2', 'pr-j-b-2', 'pr-j-c-2'])
  t.same((await list(app, 'status=overdue')).data, [], 'nothing overdue yet')

  // when the clock moves on, the same promises fall due and overdue
  app.clock.set('2026-06-16T09:00:00.000Z')
  t.same((await list(app, 'status=overdue&limit=200')).data.map((p) => p.id),
    ['pr-j-b-0', 'pr-j-c-0', 'pr-j-a-6', 'pr-j-b-6', 'pr-j-c-6', 'pr-j-a-1', 'pr-j-b-1', 'pr-j-c-1', 'pr-j-a-2', 'pr-j-b-2', 'pr-j-c-2'])
  await checkStatusFilters('2026-06-16')
  app.clock.set('2026-12-02T09:00:00.000Z')
  t.same((await list(app, 'status=renegotiated')).data, [], 'the renegotiated date has passed')
  t.same((await list(app, 'status=overdue&journeyId=j-a&category=flexibility')).data.map((p) => p.id), ['pr-j-a-4'], 'the renegotiated promise is overdue now')
  await checkStatusFilters('2026-12-02')
  app.clock.set('2026-06-01T09:00:00.000Z')

  // the other filters, alone and together
  const ids = (rows: { id: string }[]) => rows.map((p) => p.id).sort()
  for (const journeyId of ['j-a', 'j-b', 'j-c']) {
    t.same(ids((await list(app, `journeyId=${journeyId}`)).data), ids(made.filter((p) => p.journeyId === journeyId)), `journeyId=${journeyId}`)
  }
  for (const madeBy of makers) {
    t.same(ids((await list(app, `madeBy=${madeBy}&limit=200`)).data), ids(made.filter((p) => p.madeBy === madeBy)), `madeBy=${madeBy}`)
  }
  for (const category of categories) {
    t.same(ids((await list(app, `category=${category}&limit=200`)).data), ids(made.filter((p) => p.category === category)), `category=${category}`)
  }
  t.same((await list(app, 'category=wellbeing')).data, [], 'a category nobody promised')
  t.same(ids((await list(app, 'madeBy=mgr-a&category=flexibility&journeyId=j-a')).data),
    ids(made.filter((p) => p.madeBy === 'mgr-a' && p.category === 'flexibility' && p.journeyId === 'j-a')), 'filters combine with AND')
  for (const before of ['2026-06-01', '2026-06-10', '2026-06-16', '2026-07-21', '2099-01-01']) {
    t.same(ids((await list(app, `dueBefore=${before}&limit=200`)).data), ids(all.data.filter((p) => p.dueDate !== null && p.dueDate < before)),
      `dueBefore=${before}: strictly before, undated never`)
  }
  t.same((await list(app, 'dueBefore=2026-06-01')).data, [], 'nothing is due before the earliest due date')
  t.same(ids((await list(app, 'dueBefore=2026-06-16&status=due&madeBy=mgr-b')).data),
    ids(all.data.filter((p) => p.status === 'due' && p.madeBy === 'mgr-b' && (p.dueDate ?? '9') < '2026-06-16')))

  // pages: every limit walks the same list, without gaps or duplicates
  const walk = async (query: string, limit: number) => {
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    for (let guard = 0; guard < 100; guard++) {
      const page: Page<PromiseView> = await list(app, `${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
      sizes.push(page.data.length)
      seen.push(...page.data.map((p) => p.id))
      cursor = page.nextCursor
      if (!cursor) break
    }
    return { seen, sizes }
  }
  for (const limit of [1, 5, 7, 24]) {
    const { seen, sizes } = await walk('', limit)
    t.same(seen, expectedOrder, `limit=${limit}: the same order as one page`)
    t.equal(new Set(seen).size, 24, `limit=${limit}: no duplicates`)
    t.ok(sizes.slice(0, -1).every((n) => n === limit), `limit=${limit}: full pages until the last (${sizes.join(',')})`)
  }
  const { seen: openPages } = await walk('status=open', 2)
  t.same(openPages, (await list(app, 'status=open&limit=200')).data.map((p) => p.id), 'a filtered walk across the undated boundary')
  t.ok(openPages.length >= 4, `several pages of open promises (${openPages.length})`)

  // bad cursors and bad filters: 400 problems
  const cursorOf = (raw: string) => Buffer.from(raw).toString('base64url')
  for (const bad of ['not-a-cursor', '%25%25', cursorOf('2026-06-01'), cursorOf('2026-06-01|bad id!'), cursorOf('someday|pr-1'), cursorOf('2026-13-45|pr-j-a-1'), 'x'.repeat(513)]) {
    const problem = expectProblem(t, await app.request({ method: 'GET', url: `/v1/promises?cursor=${bad}` }), 400, { code: 'validation' }, { cursor: bad })
    t.match(problem.errors, [{ path: at('/cursor') }], 'the problem points at the cursor')
  }
  for (const [query, path] of [['status=late', 'status'], ['category=salary', 'category'], ['dueBefore=2026-02-30', 'dueBefore'], ['dueBefore=tomorrow', 'dueBefore'],
    ['limit=0', 'limit'], ['limit=201', 'limit'], ['madeBy=a%20b', 'madeBy']] as const) {
    const problem = expectProblem(t, await app.request({ method: 'GET', url: `/v1/promises?${query}` }), 400, { code: 'validation' }, { query })
    t.match(problem.errors, [{ path: at(`/${path}`) }], `${query}: the problem names ${path}`)
  }
})

t.test('bad inputs: a problem document each, and nothing stored', async (t) => {
  const app = await buildTestApp(t) // 2026-06-01
  await given(app,
    ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-15' }, { time: on('2026-05-01') }),
    ce('employee.hired', 'j-2', { personId: 'p-2', startDate: '2026-05-15' }, { time: on('2026-05-01') }),
    ce('promise.made', 'j-1', { promiseId: 'pr-1', category: 'development', text: 'A course', madeBy: 'mgr-1', dueBy: '2026-09-01' }, { time: on('2026-05-02') }),
    ce('promise.made', 'j-1', { promiseId: 'pr-2', category: 'career', text: 'A mentor', madeBy: 'mgr-1' }, { time: on('2026-05-02') }),
    ce('promise.kept', 'j-1', { promiseId: 'pr-2', evidence: 'Mentor assigned' }, { time: on('2026-05-20') }))
  const stored = await countEvents(app)
  const before = await detail(app, 'pr-1')
  const post = (url: string, payload: unknown, key?: string | null) => app.request({ method: 'POST', url, payload: JSON.stringify(payload), key, headers: { 'content-type': 'application/json' } })
  const nothingStored = async (what: string) => {
    t.equal(await countEvents(app), stored, `${what}: no event stored`)
  }

  // an unknown promise: 404 through the actions and on read, 409 promise-not-made through the ledger
  for (const action of ['keep', 'break', 'renegotiate', 'withdraw', 'assess'] as const) {
    const body = { keep: {}, break: { reason: 'x' }, renegotiate: { dueBy: '2026-12-01', agreedByEmployee: true }, withdraw: {}, assess: { fulfilled: 3 } }[action]
    const problem = expectProblem(t, await post(`/v1/promises/pr-none/${action}`, body), 404, { code: 'not-found', instance: `/v1/promises/pr-none/${action}` })
    t.match(problem.detail, /pr-none/)
  }
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/promises/pr-none' }), 404, { code: 'not-found' })
  expectProblem(t, await postEvents(app, ce('promise.kept', 'j-1', { promiseId: 'pr-none' })), 409, { code: 'rule-violated', rule: 'promise-not-made', detail: /pr-none/ })
  expectProblem(t, await postEvents(app, ce('promise.assessed', 'j-2', { promiseId: 'pr-1', fulfilled: 3 })), 409, { rule: 'promise-not-made' },
    { why: 'a promise of another journey is not this journey\'s' })
  expectProblem(t, await post('/v1/journeys/j-none/promises', { category: 'career', text: 'x', madeBy: 'mgr-1' }), 404, { code: 'not-found', detail: /j-none/ })
  await nothingStored('unknown promise or journey')

  // closing twice: 409 naming the rule, through both doors, whatever the second outcome
  for (const action of ['keep', 'break', 'withdraw', 'renegotiate'] as const) {
    const body = { keep: {}, break: { reason: 'late' }, withdraw: {}, renegotiate: { dueBy: '2026-12-01', agreedByEmployee: true } }[action]
    const problem = expectProblem(t, await post(`/v1/promises/pr-2/${action}`, body), 409, { code: 'rule-violated', rule: 'promise-closed' }, { action })
    t.match(problem.detail, /pr-2 is already kept/)
    expectProblem(t, await postEvents(app, ce(typeOf[action], 'j-1', { promiseId: 'pr-2', ...body })), 409, { rule: 'promise-closed' }, { action })
  }
  expectProblem(t, await postEvents(app, [ce('promise.kept', 'j-1', { promiseId: 'pr-1' }), ce('promise.broken', 'j-1', { promiseId: 'pr-1', reason: 'x' })]), 409,
    { rule: 'promise-closed', errors: [{ path: at('/1') }] }, { why: 'kept then broken in one batch: the batch is refused' })
  t.equal((await detail(app, 'pr-1')).status, 'open', 'and the keep of that batch was not stored either')
  expectProblem(t, await post('/v1/journeys/j-2/promises', { promiseId: 'pr-1', category: 'career', text: 'x', madeBy: 'mgr-1' }), 409, { rule: 'promise-exists' })
  expectProblem(t, await post('/v1/journeys/j-1/promises', { promiseId: 'pr-1', category: 'career', text: 'x', madeBy: 'mgr-1' }), 409, { rule: 'promise-exists' })
  await nothingStored('closing twice')

  // assessing out of range (1-5)
  for (const fulfilled of [0, 6, 2.5, '3', null]) {
    // a numeric string too: a JSON body is not coerced (only query strings and paths are)
    expectProblem(t, await post('/v1/promises/pr-1/assess', { fulfilled }), 400, { code: 'validation', errors: [{ path: at('/fulfilled') }] }, { fulfilled })
    expectProblem(t, await postEvents(app, ce('promise.assessed', 'j-1', { promiseId: 'pr-1', fulfilled })), 400, { errors: [{ path: at('/data/fulfilled') }] }, { fulfilled })
  }
  expectProblem(t, await post('/v1/promises/pr-1/assess', { comment: 'no score' }), 400, { errors: [{ path: at('/fulfilled') }] })
  await nothingStored('assessing out of range')

  // a due date before the promise was made (today is 2026-06-01)
  expectProblem(t, await post('/v1/journeys/j-1/promises', { category: 'career', text: 'x', madeBy: 'mgr-1', dueBy: '2026-05-31' }), 400,
    { code: 'validation', errors: [{ path: at('/dueBy'), message: /2026-06-01/ }] }, { why: 'through the action: the pointer is into its body' })
  expectProblem(t, await postEvents(app, ce('promise.made', 'j-1', { promiseId: 'pr-3', category: 'career', text: 'x', madeBy: 'mgr-1', dueBy: '2026-04-30' }, { time: on('2026-05-01') })),
    400, { errors: [{ path: at('/data/dueBy'), message: /2026-05-01/ }] }, { why: 'a backdated promise: before its own time' })
  expectProblem(t, await postEvents(app, ce('offer.made', 'j-1', { terms: [{ category: 'other', text: 'x' }, { category: 'other', text: 'y', dueBy: '2026-05-01' }] })),
    400, { errors: [{ path: at('/data/terms/1/dueBy') }] }, { why: 'an offer term due before the offer' })
  expectProblem(t, await post('/v1/promises/pr-1/renegotiate', { dueBy: '2026-05-31', agreedByEmployee: true }), 400, { errors: [{ path: at('/dueBy') }] }, { why: 'a renegotiated date in the past' })
  expectProblem(t, await post('/v1/journeys/j-1/promises', { category: 'career', text: 'x', madeBy: 'mgr-1', dueBy: '2026-12-01', dueAfterStartDays: 30 }), 400,
    { code: 'validation' }, { why: 'dueBy and dueAfterStartDays together' })
  expectProblem(t, await post('/v1/journeys/j-1/promises', { category: 'career', madeBy: 'mgr-1' }), 400, { errors: [{ path: at('/text') }] })
  expectProblem(t, await post('/v1/journeys/j-1/promises', { category: 'career', text: 'x', madeBy: 'mgr-1', inheritedFrom: { kind: 'vacancy', id: 'v', index: 0 } }), 400,
    { code: 'validation' }, { why: 'inheritedFrom is the server\'s to write' })
  await nothingStored('due dates')

  // renegotiating without new terms (neither words nor a date) is no renegotiation
  expectProblem(t, await post('/v1/promises/pr-1/renegotiate', { agreedByEmployee: true }), 400, { code: 'validation', errors: [{ path: at('') }] })
  expectProblem(t, await postEvents(app, ce('promise.renegotiated', 'j-1', { promiseId: 'pr-1', agreedByEmployee: false })), 400,
    { code: 'validation', errors: [{ path: at('/data') }] })
  expectProblem(t, await post('/v1/promises/pr-1/renegotiate', { text: 'x', dueBy: '2026-12-01' }), 400, { errors: [{ path: at('/agreedByEmployee') }] })
  await nothingStored('renegotiating without new terms')

  // the wrong scope: 403; another tenant's promise: 404
  const keyWith = async (scopes: string[]) => {
    const res = await post('/v1/api-keys', { name: scopes.join(' '), scopes })
    t.equal(res.statusCode, 201, `key ${scopes.join(' ')}`)
    return res.json<{ key: string }>().key
  }
  const reader = await keyWith(['events:read'])
  const eventWriter = await keyWith(['events:write'])
  const promiseWriter = await keyWith(['promises:write'])
  expectProblem(t, await post('/v1/promises/pr-1/keep', {}, reader), 403, { code: 'forbidden', detail: /promises:write/ })
  expectProblem(t, await post('/v1/promises/pr-1/assess', { fulfilled: 4 }, eventWriter), 403, { code: 'forbidden', detail: /promises:write/ })
  expectProblem(t, await post('/v1/journeys/j-1/promises', { category: 'career', text: 'x', madeBy: 'mgr-1' }, reader), 403, { code: 'forbidden' })
  expectProblem(t, await postEvents(app, ce('promise.kept', 'j-1', { promiseId: 'pr-1' }), { key: promiseWriter }), 403, { code: 'forbidden', detail: /events:write/ })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/promises', key: promiseWriter }), 403, { code: 'forbidden', detail: /events:read/ })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/promises/pr-1', key: promiseWriter }), 403, { code: 'forbidden' })
  expectProblem(t, await post('/v1/promises/pr-1/keep', {}, null), 401)
  const other = await app.otherTenant()
  expectProblem(t, await post('/v1/promises/pr-1/keep', {}, other.adminKey), 404, { code: 'not-found' })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/promises/pr-1', key: other.adminKey }), 404)
  t.same((await getOk<Page<PromiseView>>(app, '/v1/promises', other.adminKey)).data, [], 'the other tenant lists none of ours')
  await nothingStored('wrong scope or tenant')

  // and the promise is as it was
  t.same(await detail(app, 'pr-1'), before, 'pr-1 untouched by every refused request')
  // while the right scope goes through
  const ok = await post('/v1/promises/pr-1/keep', { evidence: 'Course booked' }, promiseWriter)
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { id: 'pr-1', status: 'kept', history: [{ type: 'promise.made' }, { type: 'promise.kept', source: /^api:/, data: { evidence: 'Course booked' } }] })
  t.equal(await countEvents(app), stored + 1, 'one event stored')
})

t.test('a promise action retried with the same Idempotency-Key is stored once', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-15' }, { time: on('2026-05-01') }))
  const make = () => app.request({
    method: 'POST', url: '/v1/journeys/j-1/promises', headers: { 'idempotency-key': 'make-1' },
    payload: { category: 'wellbeing', text: 'A quiet room', madeBy: 'mgr-1', dueBy: '2026-07-01' },
  })
  const first = await make()
  t.equal(first.statusCode, 201)
  const again = await make()
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json(), 'the first response again')
  const stored = await countEvents(app)
  t.equal(stored, 2, 'the hire and one promise')
  const id = first.json<PromiseDetail>().id
  const keep = () => app.request({ method: 'POST', url: `/v1/promises/${id}/keep`, headers: { 'idempotency-key': 'keep-1' }, payload: {} })
  t.equal((await keep()).statusCode, 200)
  const replay = await keep()
  t.equal(replay.statusCode, 200, 'a retried keep is not "closed twice"')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(await countEvents(app), stored + 1)
  t.same((await journey(app, 'j-1')).promises, { ...noCounts, kept: 1 })
})
