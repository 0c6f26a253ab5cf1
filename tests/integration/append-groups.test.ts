// Group commit: concurrent single-event requests of one tenant share transactions, and each still
// gets the answer it would have got alone: its own results, its own problem, nothing of a refused
// request stored. Runs on both databases.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryOne } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { countEvents, expectProblem, given, on, postEvents, streamOf, type AppendResult } from '../helpers/spine.js'

const applied = (journeyId: string) => ce('candidate.applied', journeyId, { personId: `p-${journeyId}` })

/** The transactions that stored the tenant's events (of journeys whose id starts with `prefix`): each row's xmin is its inserting transaction. */
async function transactionsOf(app: TestApp, prefix = ''): Promise<number> {
  const row = await asOwner(app.app.db, (tx) => queryOne<{ n: number }>(tx, sql`
    select count(distinct xmin::text)::int as n from events where tenant_id = ${app.tenantId} and starts_with(subject, ${prefix})`))
  return row?.n ?? 0
}

t.test('thirty requests at once share transactions, and each gets its own results', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8 })
  const events = Array.from({ length: 30 }, (_, i) => applied(`j-${i}`))
  await given(app, applied('j-first')) // the key is looked up once and cached, as in steady traffic

  const responses = await Promise.all(events.map((event) => postEvents(app, event)))

  t.same(responses.map((r) => r.statusCode), Array(30).fill(201))
  responses.forEach((response, i) => {
    const data = response.json<{ data: AppendResult[] }>().data
    t.match(data, [{ id: events[i]?.id, subject: `j-${i}`, version: 1, streamVersion: 1, duplicate: false }], `request ${i} got its own result`)
  })
  const positions = responses.map((r) => r.json<{ data: AppendResult[] }>().data[0]?.position)
  t.equal(new Set(positions).size, 30, 'thirty positions')
  // On PGlite too: a group is taken one turn of the event loop after its first request came in.
  const transactions = await transactionsOf(app)
  t.ok(transactions < 1 + 30, `31 events in ${transactions} transactions`)
  t.equal(await countEvents(app), 1 + 30)
})

t.test('a request that breaks a rule fails alone; the others of its group are stored', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8 })
  await given(app,
    ce('employee.hired', 'j-gone', { personId: 'p-gone', startDate: '2026-05-01' }, { time: on('2026-04-01') }),
    ce('employee.exited', 'j-gone', { lastDay: '2026-05-31' }, { time: on('2026-05-31') }))
  const good = Array.from({ length: 12 }, (_, i) => applied(`j-${i}`))
  const bad = ce('employee.hired', 'j-gone', { startDate: '2026-07-01' })
  const badBatch = [applied('j-batch'), ce('employee.exited', 'j-gone', { lastDay: '2026-06-01' })]

  const [first, ...rest] = await Promise.all([postEvents(app, bad), postEvents(app, badBatch), ...good.map((e) => postEvents(app, e))])
  const [batchAnswer, ...goodAnswers] = rest

  if (!first || !batchAnswer) throw new Error('missing responses')
  const single = expectProblem(t, first, 409, { code: 'rule-violated', rule: 'hire-after-exit' })
  t.notOk(single.errors, 'a single event needs no index')
  expectProblem(t, batchAnswer, 409, { rule: 'second-exit', errors: [{ path: '/1' }] })
  t.same(goodAnswers.map((r) => r.statusCode), Array(12).fill(201), 'every other request was stored')
  t.equal((await streamOf(app, 'j-gone')).length, 2, 'nothing added to the exited journey')
  t.equal((await app.request({ method: 'GET', url: '/v1/journeys/j-batch' })).statusCode, 404, 'the refused batch stored nothing, its valid event neither')
  t.equal(await countEvents(app), 2 + 12)
  t.ok(await transactionsOf(app) < 1 + 12, 'the stored requests shared transactions: the refused ones were grouped with them and taken out')
})

t.test('the same event in concurrent requests is stored once; every request names it', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8 })
  const event = applied('j-1')
  const others = Array.from({ length: 8 }, (_, i) => applied(`j-other-${i}`))

  const responses = await Promise.all([...Array.from({ length: 6 }, () => postEvents(app, event)), ...others.map((e) => postEvents(app, e))])

  t.same(responses.map((r) => r.statusCode), Array(14).fill(201))
  const results = responses.slice(0, 6).map((r) => r.json<{ data: AppendResult[] }>().data[0])
  t.equal(results.filter((r) => r?.duplicate === false).length, 1, 'one request stored it')
  t.equal(new Set(results.map((r) => r?.position)).size, 1, 'all six name the same position')
  t.equal((await streamOf(app, 'j-1')).length, 1)
  t.equal(await countEvents(app), 1 + 8)
})

t.test('the group knobs come from the config: groups of at most one event are no groups', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8, appendGroups: { concurrency: 2, maxEvents: 1, ownBatch: 50, maxQueuedEvents: 10_000 } })
  await given(app, applied('j-first'))

  const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => postEvents(app, applied(`j-${i}`))))

  t.same(responses.map((r) => r.statusCode), Array(30).fill(201))
  t.equal(await transactionsOf(app), 1 + 30, 'a transaction per request (the first test shares them with the defaults)')
})

t.test('requests of at least ownBatch events run alone; smaller ones still share transactions', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8, appendGroups: { concurrency: 2, maxEvents: 200, ownBatch: 2, maxQueuedEvents: 10_000 } })
  await given(app, applied('j-first'))
  const pairs = Array.from({ length: 10 }, (_, i) => [applied(`j-pair-${i}-a`), applied(`j-pair-${i}-b`)])
  const singles = Array.from({ length: 10 }, (_, i) => applied(`j-single-${i}`))

  const responses = await Promise.all([...pairs, ...singles].map((body) => postEvents(app, body)))

  t.same(responses.map((r) => r.statusCode), Array(20).fill(201))
  t.equal(await transactionsOf(app, 'j-pair-'), 10, 'each two-event batch had a transaction of its own')
  const singleTransactions = await transactionsOf(app, 'j-single-')
  t.ok(singleTransactions < 10, `ten single events in ${singleTransactions} transactions`)
})
