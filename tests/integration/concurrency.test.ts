// Concurrent writers (PostgreSQL only: PGlite runs one statement at a time). The stream lock,
// the unique indexes and the idempotency claim must each let exactly one writer win.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryOne } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, ce } from '../helpers/app.js'
import { countEvents, expectProblem, given, postEvents, streamOf, type AppendResult } from '../helpers/spine.js'

const postgresOnly = { skip: process.env.DATABASE_URL ? false : 'PostgreSQL only: PGlite is one connection and serialises everything' }
const times = <T>(n: number, make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => make(i)))
const count = (values: unknown[], wanted: unknown) => values.filter((v) => v === wanted).length

t.test('ten writers with the same expectedversion: one wins, nine get 409', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  await given(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }))

  const responses = await times(10, (i) => postEvents(app, ce('interview.held', 'j-1', { interviewer: `m-${i}` }, { expectedversion: 1 })))

  t.same(responses.map((r) => r.statusCode).sort(), [201, ...Array(9).fill(409)])
  for (const lost of responses.filter((r) => r.statusCode === 409)) expectProblem(t, lost, 409, { code: 'version-mismatch' })
  const stream = await streamOf(app, 'j-1')
  t.same(stream.map((e) => e.version), [1, 2], 'exactly one event was added')
})

t.test('ten retries of one event at once: stored once, every retry told so', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  const event = ce('candidate.applied', 'j-1', { personId: 'p-1' })

  // on a new stream, where the writers also race to create the stream
  const responses = await times(10, () => postEvents(app, event))

  t.same(responses.map((r) => r.statusCode), Array(10).fill(201), 'no retry is an error')
  const results = responses.map((r) => r.json<{ data: AppendResult[] }>().data[0])
  t.equal(count(results.map((r) => r?.duplicate), false), 1, 'one stored it')
  t.equal(count(results.map((r) => r?.duplicate), true), 9, 'nine were told it is a duplicate')
  t.equal(new Set(results.map((r) => r?.position)).size, 1, 'all name the same position')
  t.equal((await streamOf(app, 'j-1')).length, 1)
  t.equal(await countEvents(app), 1)
})

t.test('batches locking the same streams in opposite orders do not deadlock', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  await given(app, ce('candidate.applied', 'j-x', { personId: 'p-x' }), ce('candidate.applied', 'j-y', { personId: 'p-y' }))

  const responses = await times(10, (i) => postEvents(app, i % 2 === 0
    ? [ce('interview.held', 'j-x'), ce('interview.held', 'j-y')]
    : [ce('interview.held', 'j-y'), ce('interview.held', 'j-x')]))

  t.same(responses.map((r) => r.statusCode), Array(10).fill(201))
  t.same((await streamOf(app, 'j-x')).map((e) => e.version), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'versions without gaps or repeats')
  t.equal((await streamOf(app, 'j-y')).length, 11)
})

t.test('two requests with the same Idempotency-Key at once: one runs, the other waits its turn or gets the replay', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  const event = ce('candidate.applied', 'j-1', { personId: 'p-1' })
  const send = () => postEvents(app, event, { headers: { 'idempotency-key': 'import-7' } })

  const [a, b] = await Promise.all([send(), send()])
  const responses = [a, b].filter((r) => r !== undefined)
  const ran = responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)
  const others = responses.filter((r) => !ran.includes(r))
  t.equal(ran.length, 1, 'exactly one ran')
  for (const other of others) {
    if (other.statusCode === 409) expectProblem(t, other, 409, { code: 'idempotency-in-flight' })
    else t.match({ status: other.statusCode, replayed: other.headers['idempotent-replayed'], body: other.json() },
      { status: 201, replayed: 'true', body: ran[0]?.json() }, 'the other is the replay')
  }
  t.equal(await countEvents(app), 1, 'one event stored')

  // and once the first has finished, a retry is always the replay
  const later = await send()
  t.equal(later.headers['idempotent-replayed'], 'true')
})

t.test('two journeys making the same promise id at once: one wins, the other is told the rule', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  const journeys = Array.from({ length: 6 }, (_, i) => `j-${i}`)
  await given(app, ...journeys.map((j) => ce('candidate.applied', j, { personId: `p-${j}` })))

  const responses = await Promise.all(journeys.map((j) => postEvents(app, ce('promise.made', j, { promiseId: 'pr-shared', category: 'career', text: 'A mentor', madeBy: 'm-1' }))))

  const statuses = responses.map((r) => r.statusCode)
  t.equal(count(statuses, 201), 1, 'one journey holds the promise')
  t.same(statuses.filter((s) => s !== 201), Array(5).fill(409), `the others get 409 promise-exists (got ${statuses.join(' ')})`)
  t.equal(await countEvents(app), 7, 'six applications and one promise')
})

t.test('twenty Idempotency-Keys claimed at once, and one key sent six times: each key is its own', postgresOnly, async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 10 })
  await postEvents(app, ce('candidate.applied', 'j-warm', { personId: 'p-warm' })) // the API key is cached, as in steady traffic
  const own = Array.from({ length: 20 }, (_, i) => ({ key: `import-${i}`, event: ce('candidate.applied', `j-${i}`, { personId: `p-${i}` }) }))
  const shared = ce('candidate.applied', 'j-shared', { personId: 'p-shared' })
  const send = (key: string, event: Record<string, unknown>) => postEvents(app, event, { headers: { 'idempotency-key': key } })

  const responses = await Promise.all([...own.map((o) => send(o.key, o.event)), ...Array.from({ length: 6 }, () => send('import-shared', shared))])

  const mine = responses.slice(0, 20)
  t.same(mine.map((r) => r.statusCode), Array(20).fill(201), 'every request with a key of its own ran')
  mine.forEach((r, i) => t.equal(r.json<{ data: AppendResult[] }>().data[0]?.subject, `j-${i}`, `key ${i} answered for its own event`))
  const sharing = responses.slice(20)
  t.equal(sharing.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined).length, 1, 'the shared key ran once')
  for (const other of sharing.filter((r) => r.statusCode !== 201)) expectProblem(t, other, 409, { code: 'idempotency-in-flight' })
  t.equal(await countEvents(app), 1 + 20 + 1)

  // Claims of one group share a transaction, and with it now(): fewer claim times than keys.
  const claimed = await asOwner(app.app.db, (tx) => queryOne<{ times: number }>(tx, sql`
    select count(distinct created_at)::int as times from idempotency_keys where tenant_id = ${app.tenantId}`))
  t.ok((claimed?.times ?? 21) < 21, `21 keys claimed in ${claimed?.times} transactions`)

  // and later every key replays its own first response
  const replays = await Promise.all(own.map((o) => send(o.key, o.event)))
  replays.forEach((r, i) => t.match({ replayed: r.headers['idempotent-replayed'], body: r.json() }, { replayed: 'true', body: mine[i]?.json() }, `key ${i} replays its own response`))
})
