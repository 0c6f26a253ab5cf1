// Suppression probes, as an attacker at the threshold would try them: a department of five with one
// early leaver, two windows a day apart, a rehired person, and the group that would reveal the one
// small group by subtraction. Each answer is also held to the model a client computes by hand.
import t from 'tap'
import { buildModel, expectedPromiseAnalytics, expectedRetention, type PostedEvent } from '../helpers/analytics-model.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'

const today = '2026-06-01'
/** A CloudEvent of the test's HR system at `time` (09:00 UTC on a date, unless a time is given). */
const event = (type: string, subject: string, data: Record<string, unknown>, time: string): PostedEvent =>
  ({ ...ce(type, subject, data), time: time.length === 10 ? `${time}T09:00:00.000Z` : time })

interface Hire { journey: string; person: string; department: string; startDate: string; brokenPromise?: boolean; lastDay?: string }

/** A hire's events: hired (opening the journey), a promise made on the first day, its breach, the exit. */
function hireEvents(h: Hire): PostedEvent[] {
  const promiseId = `${h.journey}-p1`
  return [
    event('employee.hired', h.journey, { personId: h.person, department: h.department, startDate: h.startDate }, h.startDate),
    event('promise.made', h.journey, { promiseId, category: 'development', text: 'A course each year.', madeBy: 'mgr-1' }, h.startDate),
    ...(h.brokenPromise ? [event('promise.broken', h.journey, { promiseId, reason: 'Budget frozen.' }, `${h.startDate}T12:00:00.000Z`)] : []),
    ...(h.lastDay ? [event('employee.exited', h.journey, { lastDay: h.lastDay }, h.lastDay)] : []),
  ]
}

const staff = (department: string, startDates: string[]): Hire[] =>
  startDates.map((startDate, i) => ({ journey: `j-${department}-${i}`, person: `p-${department}-${i}`, department, startDate }))

/** Posts the hires; returns every event posted to the app so far (the model's input). */
async function hire(h: TestApp, posted: PostedEvent[], hires: Hire[]): Promise<PostedEvent[]> {
  const events = hires.flatMap(hireEvents)
  const res = await h.request({ method: 'POST', url: '/v1/events', payload: events })
  if (res.statusCode !== 201) throw new Error(`POST /v1/events: ${res.statusCode} ${res.body}`)
  posted.push(...events)
  return posted
}

type Group = { group: string; suppressed?: true; withBrokenPromise?: { suppressed?: true }; withoutBrokenPromise?: { suppressed?: true } } & Record<string, unknown>
async function get(h: TestApp, path: string, query: Record<string, string>) {
  const res = await h.request({ method: 'GET', url: `${path}?${new URLSearchParams(query).toString()}` })
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body}`)
  return res.json<{ from: string | null; to: string | null; data: Group[] }>()
}

const modelQuery = (q: Record<string, string>) => ({ groupBy: q.groupBy ?? '', minGroupSize: Number(q.minGroupSize ?? 5), from: q.from, to: q.to, today })

t.test('a department of five with one early leaver: the splits are withheld and nothing reveals the leaver', async (t) => {
  const h = await buildTestApp(t)
  const finance = staff('Finance', ['2025-01-06', '2025-02-03', '2025-02-17', '2025-03-10', '2025-04-07'])
  finance[0] = { ...finance[0]!, brokenPromise: true, lastDay: '2025-06-30' }
  const posted = await hire(h, [], [...finance, ...staff('Engineering', ['2025-01-06', '2025-01-13', '2025-02-03', '2025-03-03', '2025-03-17', '2025-04-14', '2025-05-05'])])
  const model = buildModel(posted)

  const byDepartment = await get(h, '/v1/analytics/retention', { groupBy: 'department', minGroupSize: '5' })
  t.same(byDepartment.data.find((g) => g.group === 'Finance'), {
    group: 'Finance', hires: 5, exits: 1, earlyExits: 1, earlyExitRate: 0.2,
    withBrokenPromise: { suppressed: true }, withoutBrokenPromise: { suppressed: true },
  }, 'the group total is shown; neither split, since the total minus one reveals the other')
  t.same(byDepartment.data.find((g) => g.group === 'Engineering')?.withBrokenPromise, { suppressed: true }, 'an empty split is withheld too, and its sibling with it')
  for (const groupBy of ['department', 'hireCohort', 'vacancy']) {
    const q = { groupBy, minGroupSize: '5' }
    const res = await get(h, '/v1/analytics/retention', q)
    t.same(res, expectedRetention(model, modelQuery(q)), `retention by ${groupBy} as the model computes it`)
    t.notOk(res.data.some((g) => g.withBrokenPromise && !g.withBrokenPromise.suppressed), `by ${groupBy}: no split with a broken promise is shown`)
  }
  for (const groupBy of ['department', 'hireCohort', 'category']) {
    const q = { groupBy, minGroupSize: '5' }
    t.same(await get(h, '/v1/analytics/promises', q), expectedPromiseAnalytics(model, modelQuery(q)), `promises by ${groupBy} as the model computes it`)
  }
})

t.test('two windows one day apart give identical figures for a group near the threshold', async (t) => {
  const h = await buildTestApp(t)
  // Six people (under 2 x 5): a window of exact days would hold five of them either way, but not the same five.
  const posted = await hire(h, [], staff('Operations', ['2025-03-05', '2025-04-10', '2025-05-02', '2025-05-20', '2025-06-15', '2025-06-16']))
  const model = buildModel(posted)
  for (const path of ['/v1/analytics/retention', '/v1/analytics/promises']) {
    const first = { groupBy: 'department', minGroupSize: '5', from: '2025-03-05', to: '2025-06-15' }
    const second = { ...first, from: '2025-03-06', to: '2025-06-16' }
    const [a, b] = [await get(h, path, first), await get(h, path, second)]
    t.same(a, b, `${path}: the same answer`)
    t.match(a, { from: '2025-03-01', to: '2025-06-30' }, 'over the whole months, as echoed')
    const expected = path.endsWith('retention') ? expectedRetention(model, modelQuery(first)) : expectedPromiseAnalytics(model, modelQuery(first))
    t.same(a, expected, 'as the model computes it')
    t.match(a.data, [{ group: 'Operations', ...(path.endsWith('retention') ? { hires: 6 } : { made: 6 }) }], 'all six people')
  }
  const narrow = await get(h, '/v1/analytics/retention', { groupBy: 'department', minGroupSize: '5', from: '2025-06-16', to: '2025-06-16' })
  t.same(narrow.data, [{ group: 'Operations', suppressed: true }], 'one day is a whole month too: the two June hires, withheld')
})

t.test('a rehired person counts once: group size is distinct people, not journeys', async (t) => {
  const h = await buildTestApp(t)
  const legal = staff('Legal', ['2025-01-06', '2025-02-03', '2025-03-03', '2025-04-07'])
  const rehire: Hire = { journey: 'j-Legal-again', person: 'p-Legal-0', department: 'Legal', startDate: '2025-09-01' }
  const posted = await hire(h, [], [{ ...legal[0]!, lastDay: '2025-05-30' }, ...legal.slice(1), rehire])
  for (const path of ['/v1/analytics/retention', '/v1/analytics/promises']) {
    const res = await get(h, path, { groupBy: 'department', minGroupSize: '5' })
    t.same(res.data, [{ group: 'Legal', suppressed: true }], `${path}: five journeys of four people are withheld`)
  }
  await hire(h, posted, staff('Legal', ['2025-01-06', '2025-02-03', '2025-03-03', '2025-04-07', '2025-05-05']).slice(4))
  const q = { groupBy: 'department', minGroupSize: '5' }
  const res = await get(h, '/v1/analytics/retention', q)
  t.match(res.data, [{ group: 'Legal', hires: 6, exits: 1 }], 'a fifth person: shown, every journey a hire')
  t.same(res, expectedRetention(buildModel(posted), modelQuery(q)), 'as the model computes it')
})

t.test('complementary suppression: the one small group takes the next smallest with it', async (t) => {
  const h = await buildTestApp(t)
  const months = (n: number) => Array.from({ length: n }, (_, i) => `2025-${String((i % 12) + 1).padStart(2, '0')}-0${(i % 7) + 1}`)
  const posted = await hire(h, [], [...staff('Audit', months(3)), ...staff('Billing', months(6)), ...staff('Cloud', months(9)), ...staff('Design', months(7))])
  const model = buildModel(posted)
  for (const path of ['/v1/analytics/retention', '/v1/analytics/promises']) {
    const q = { groupBy: 'department', minGroupSize: '5' }
    const res = await get(h, path, q)
    t.same(res.data.map((g) => [g.group, g.suppressed === true]), [['Audit', true], ['Billing', true], ['Cloud', false], ['Design', false]],
      `${path}: Audit (3 people) is under 5, Billing (6) the next smallest`)
    t.same(res, path.endsWith('retention') ? expectedRetention(model, modelQuery(q)) : expectedPromiseAnalytics(model, modelQuery(q)), 'as the model computes it')
  }
  await hire(h, posted, staff('Equity', months(4)))
  const res = await get(h, '/v1/analytics/retention', { groupBy: 'department', minGroupSize: '5' })
  t.same(res.data.map((g) => [g.group, g.suppressed === true]), [['Audit', true], ['Billing', false], ['Cloud', false], ['Design', false], ['Equity', true]],
    'two small groups hide each other: Billing is shown again')
  const all = await get(h, '/v1/analytics/retention', { groupBy: 'department', minGroupSize: '3' })
  t.notOk(all.data.some((g) => g.suppressed), 'with a minimum of 3 nothing is small, so nothing is withheld')
})
