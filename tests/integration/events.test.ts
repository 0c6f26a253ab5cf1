// POST /v1/events, GET /v1/events and GET /v1/journeys/{id}/events: the ledger's write and read
// paths as an integrator sees them.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import {
  countEvents, expectProblem, getOk, given, on, postEvents, readWholeFeed, streamOf,
  type AppendResult, type Page, type StoredEvent,
} from '../helpers/spine.js'

const applied = (journeyId: string, personId = `p-${journeyId}`, extra: Record<string, unknown> = {}) =>
  ce('candidate.applied', journeyId, { personId }, extra)
const appended = (res: { json<T>(): T }) => res.json<{ data: AppendResult[] }>().data

t.test('one event or a batch, in each of the three content types', async (t) => {
  const app = await buildTestApp(t)

  // when one event is posted as application/json, without a time
  const single = await postEvents(app, applied('j-1', 'p-1'))
  t.equal(single.statusCode, 201)
  const [first] = appended(single)
  t.match(first, { source: 'test:hris', subject: 'j-1', version: 1, position: Number, duplicate: false })

  // when a batch is posted as application/cloudevents-batch+json
  const batch = await postEvents(app, [ce('interview.held', 'j-1', { interviewer: 'm-1' }), ce('offer.made', 'j-1', { role: 'Engineer' })],
    { contentType: 'application/cloudevents-batch+json' })
  t.equal(batch.statusCode, 201)
  t.same(appended(batch).map((r) => r.version), [2, 3], 'a batch continues the stream in order')

  // when one event is posted as application/cloudevents+json
  const structured = await postEvents(app, ce('offer.accepted', 'j-1'), { contentType: 'application/cloudevents+json; charset=utf-8' })
  t.equal(structured.statusCode, 201)
  t.equal(appended(structured)[0]?.version, 4)

  // then the stream holds all four, in order, with the time defaulted to the clock's now
  const stream = await streamOf(app, 'j-1')
  t.same(stream.map((e) => e.type), ['candidate.applied', 'interview.held', 'offer.made', 'offer.accepted'])
  t.same(stream.map((e) => e.version), [1, 2, 3, 4])
  t.equal(stream[0]?.time, app.clock.now().toISOString(), 'no time: the time of arrival')
  t.match(stream[0], { specversion: '1.0', id: first?.id, datacontenttype: 'application/json', data: { personId: 'p-1' }, position: first?.position })
  t.ok(stream.every((e, i) => i === 0 || e.position > (stream[i - 1]?.position ?? 0)), 'positions increase')

  // a batch holds up to 1000 events
  const checkins = (n: number) => Array.from({ length: n }, (_, i) => ce('checkin.held', 'j-1', { expectationsMet: 1 + (i % 5) }))
  const full = await postEvents(app, checkins(1000))
  t.equal(full.statusCode, 201, '1000 events')
  t.equal(appended(full).at(-1)?.version, 1004)
  expectProblem(t, await postEvents(app, checkins(1001)), 400, { errors: [{ path: '', message: /at most 1000/ }] })
})

t.test('a bad event stores nothing, and the problem points at it', async (t) => {
  const app = await buildTestApp(t)

  // when the second of three events breaks its schema
  const bad = await postEvents(app, [applied('j-1'), ce('pulse.answered', 'j-1', { enps: 11 }), ce('pulse.answered', 'j-1', { enps: 7 })])
  const problem = expectProblem(t, bad, 400, { code: 'validation', instance: '/v1/events' })
  t.match(problem.errors, [{ path: '/1/data/enps', message: String }])
  t.equal(problem.errors?.length, 1, 'only the bad event is named')

  // when the third breaks a rule (keeping a promise never made), the valid ones before it are not kept either
  const impossible = await postEvents(app, [applied('j-2'), ce('interview.held', 'j-2'), ce('promise.kept', 'j-2', { promiseId: 'pr-none' })])
  expectProblem(t, impossible, 409, { code: 'rule-violated', rule: 'promise-not-made', errors: [{ path: '/2' }] })

  // then nothing at all was stored
  t.equal(await countEvents(app), 0, 'no event in the ledger')
  t.same((await getOk<Page<StoredEvent>>(app, '/v1/events')).data, [], 'the feed is empty')
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-1/events' }), 404)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-2' }), 404)

  // and a single event's problems point into it without an index
  const noSpec: Record<string, unknown> = { ...applied('j-3') }
  delete noSpec.specversion
  expectProblem(t, await postEvents(app, noSpec), 400, { errors: [{ path: '/specversion', message: 'is required' }] })
  expectProblem(t, await postEvents(app, ce('candidate.hired', 'j-3', { personId: 'p-3' })), 400, { errors: [{ path: '/type' }] })
  const beyondSkew = new Date(app.clock.now().getTime() + 25 * 3_600_000).toISOString()
  expectProblem(t, await postEvents(app, applied('j-3', 'p-3', { time: beyondSkew })), 400, { errors: [{ path: '/time', message: 'is in the future' }] })
  expectProblem(t, await postEvents(app, ce('candidate.applied', 'j-3', {})), 400, { errors: [{ path: '/data/personId' }] })
  expectProblem(t, await postEvents(app, []), 400, { code: 'validation' })
  t.equal(await countEvents(app), 0, 'still nothing stored')

  // and a backdated event is welcome
  t.equal((await postEvents(app, applied('j-3', 'p-3', { time: on('2025-11-03') }))).statusCode, 201, 'a backfill from last year')
})

t.test('the same source and id is stored once', async (t) => {
  const app = await buildTestApp(t)
  const event = applied('j-1', 'p-1')

  // when the same event is posted twice
  const [stored] = appended(await postEvents(app, event))
  const again = await postEvents(app, event)
  t.equal(again.statusCode, 201, 'a retry is not an error')
  t.match(appended(again), [{ id: stored?.id, source: stored?.source, subject: 'j-1', version: stored?.version, position: stored?.position, duplicate: true }],
    'the first result, marked duplicate')

  // when a batch holds one event twice (and the stored one a third time)
  const twice = ce('interview.held', 'j-1', { interviewer: 'm-1' })
  const results = appended(await postEvents(app, [twice, twice, event]))
  t.equal(results[0]?.duplicate, false)
  t.match(results[1], { duplicate: true, position: results[0]?.position, version: results[0]?.version })
  t.match(results[2], { duplicate: true, position: stored?.position })

  // when another system uses the same id, it is another event
  const [other] = appended(await postEvents(app, { ...twice, source: 'ats:greenhouse' }))
  t.equal(other?.duplicate, false)

  // then the stream holds each event once
  t.same((await streamOf(app, 'j-1')).map((e) => `${e.source} ${e.id}`), [`test:hris ${event.id}`, `test:hris ${twice.id}`, `ats:greenhouse ${twice.id}`])
})

t.test('expectedversion guards a stream against writers who missed an update', async (t) => {
  const app = await buildTestApp(t)
  t.equal((await postEvents(app, applied('j-1', 'p-1', { expectedversion: 0 }))).statusCode, 201, '0 on a new stream')
  const stale = await postEvents(app, ce('interview.held', 'j-1', {}, { expectedversion: 0 }))
  const problem = expectProblem(t, stale, 409, { code: 'version-mismatch' })
  t.match(problem.detail, /version 1/)
  t.equal((await postEvents(app, ce('interview.held', 'j-1', {}, { expectedversion: 1 }))).statusCode, 201, 'the current version')
  expectProblem(t, await postEvents(app, ce('interview.held', 'j-new', {}, { expectedversion: 3 })), 409, { code: 'version-mismatch' })
  t.equal((await streamOf(app, 'j-1')).length, 2)

  // a retry of a stored event is a duplicate, even though the stream has moved past its expectedversion
  const first = applied('j-2', 'p-2', { expectedversion: 0 })
  await given(app, first, ce('interview.held', 'j-2'))
  const retry = await postEvents(app, first)
  t.equal(retry.statusCode, 201)
  t.match(appended(retry), [{ duplicate: true, version: 1 }])

  // an offer's terms are promises the ledger appends to the stream itself: the journey's version counts them
  const withTerm = (journeyId: string, extra: Record<string, unknown> = {}) =>
    ce('offer.made', journeyId, { terms: [{ category: 'compensation', text: 'Review' }] }, extra)
  const [offer] = await given(app, withTerm('j-2', { expectedversion: 2 }))
  t.equal(offer?.version, 3)
  const { version } = await getOk<{ version: number }>(app, '/v1/journeys/j-2')
  t.equal(version, 4, 'the offer and its derived promise')
  t.equal((await postEvents(app, ce('interview.held', 'j-2', {}, { expectedversion: version }))).statusCode, 201, 'the journey\'s version is a valid expectedversion')

  // a writer that chains expectedversion from each append's response
  const [, offerOnJ3] = await given(app, applied('j-3', 'p-3'), withTerm('j-3'))
  const chained = await postEvents(app, ce('interview.held', 'j-3', {}, { expectedversion: offerOnJ3?.streamVersion }))
  t.equal(chained.statusCode, 201, 'the version the offer\'s append returned is a valid expectedversion for the next write')
})

t.test('domain rules answer 409 naming the rule', async (t) => {
  const app = await buildTestApp(t)
  await given(app,
    ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-01' }, { time: on('2026-04-01') }),
    ce('employee.exited', 'j-1', { lastDay: '2026-05-31' }, { time: on('2026-05-31') }))

  const cases: [string, Record<string, unknown>][] = [
    ['second-exit', ce('employee.exited', 'j-1', { lastDay: '2026-06-01' })],
    ['hire-after-exit', ce('employee.hired', 'j-1', { startDate: '2026-07-01' })],
    ['journey-unknown', ce('interview.held', 'j-unknown')],
    ['promise-not-made', ce('promise.kept', 'j-1', { promiseId: 'pr-1' })],
    ['person-mismatch', ce('candidate.applied', 'j-1', { personId: 'p-2' })],
  ]
  for (const [rule, event] of cases) {
    const problem = expectProblem(t, await postEvents(app, event), 409, { code: 'rule-violated', rule })
    t.notOk(problem.errors, `${rule}: a single event needs no index`)
  }
  t.equal((await streamOf(app, 'j-1')).length, 2, 'nothing was added')
})

t.test('a promise id belongs to one journey, whether the other journey made it earlier or in the same batch', async (t) => {
  const app = await buildTestApp(t)
  const made = (journeyId: string, promiseId: string) => ce('promise.made', journeyId, { promiseId, category: 'career', text: 'A mentor', madeBy: 'm-1' })
  await given(app, applied('j-1'), applied('j-2'), made('j-1', 'pr-1'))

  expectProblem(t, await postEvents(app, made('j-2', 'pr-1')), 409, { rule: 'promise-exists' })
  expectProblem(t, await postEvents(app, [made('j-1', 'pr-2'), made('j-1', 'pr-2')]), 409, { rule: 'promise-exists', errors: [{ path: '/1' }] })
  expectProblem(t, await postEvents(app, [made('j-1', 'pr-3'), made('j-2', 'pr-3')]), 409, { rule: 'promise-exists', errors: [{ path: '/1' }] })
  t.equal(await countEvents(app), 3, 'nothing stored by the refused requests')
})

t.test('what the parser refuses: content types, malformed JSON, bodies over the limit', async (t) => {
  const app = await buildTestApp(t, { bodyLimit: 2048 })
  const raw = (payload: string, contentType: string) => app.request({ method: 'POST', url: '/v1/events', payload, headers: { 'content-type': contentType } })
  const event = JSON.stringify(applied('j-1'))

  expectProblem(t, await raw(event, 'text/plain'), 415, { code: 'unsupported-media-type' })
  expectProblem(t, await raw('{"specversion": "1.0",', 'application/json'), 400, { code: 'malformed-json' })
  expectProblem(t, await raw('[{"specversion"', 'application/cloudevents-batch+json'), 400, { code: 'malformed-json' })
  const many = JSON.stringify(Array.from({ length: 20 }, (_, i) => applied(`j-${i}`)))
  t.ok(many.length > 2048, 'the batch is over the limit')
  expectProblem(t, await raw(many, 'application/json'), 413, { code: 'body-too-large' })
  t.equal((await raw(event, 'application/json')).statusCode, 201, 'a body under the limit is fine')
  t.equal(await countEvents(app), 1)
})

t.test('Idempotency-Key: a retry gets the first response, another body gets 422', async (t) => {
  const app = await buildTestApp(t)
  const withKey = (events: unknown, key: string, options: { tenantKey?: string } = {}) =>
    postEvents(app, events, { headers: { 'idempotency-key': key }, key: options.tenantKey })
  const event = applied('j-1', 'p-1')

  const first = await withKey(event, 'sync-42')
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'], 'the first response is not a replay')

  // when the client retries with the same key and body
  const replay = await withKey(event, 'sync-42')
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.match(replay.headers['content-type'], /^application\/json/)
  t.same(replay.json(), first.json(), 'the same body')
  t.equal(appended(replay)[0]?.duplicate, false, 'a replay, not a second append (which would say duplicate: true)')

  // when the key is reused for another body
  expectProblem(t, await withKey(applied('j-2', 'p-2'), 'sync-42'), 422, { code: 'idempotency-key-reused' })
  // when the key is empty
  expectProblem(t, await withKey(applied('j-2', 'p-2'), ''), 400, { errors: [{ location: 'header' }] })

  // a refused request is replayed as refused
  const impossible = ce('promise.kept', 'j-1', { promiseId: 'pr-x' })
  const refused = await withKey(impossible, 'sync-43')
  expectProblem(t, refused, 409, { rule: 'promise-not-made' })
  const refusedAgain = await withKey(impossible, 'sync-43')
  t.equal(refusedAgain.headers['idempotent-replayed'], 'true')
  t.same(expectProblem(t, refusedAgain, 409), refused.json())

  // another tenant's key space is its own
  const other = await app.otherTenant()
  const elsewhere = await withKey(event, 'sync-42', { tenantKey: other.adminKey })
  t.equal(elsewhere.statusCode, 201)
  t.notOk(elsewhere.headers['idempotent-replayed'], 'same key in another tenant runs')
  t.equal((await streamOf(app, 'j-1')).length, 1, 'one event stored in this tenant')
})

t.test('the feed pages through every event once, in commit order, and a poller resumes where it left off', async (t) => {
  const app = await buildTestApp(t)
  const posted: AppendResult[] = []
  posted.push(...await given(app, applied('j-1'), applied('j-2')))
  posted.push(...await given(app, ce('interview.held', 'j-1'), ce('employee.hired', 'j-2', { startDate: '2026-07-01' })))
  posted.push(...await given(app, ce('vacancy.published', 'vac-1', { title: 'Engineer' })))
  posted.push(...await given(app, applied('j-3', 'p-3', { time: on('2026-01-01') }), ce('candidate.rejected', 'j-1')))

  // when a reader pages with limit 2
  const read = await readWholeFeed(app, { limit: 2 })
  t.same(read.events.map((e) => e.id), posted.map((r) => r.id), 'every event once, in the order written (backdated ones too)')
  t.same(read.pages, [2, 2, 2, 1, 0])
  t.ok(read.cursor, 'the cursor stays set at the end of the feed')

  // when it polls again with nothing new, and then after another write
  const idle = await getOk<Page<StoredEvent>>(app, `/v1/events?after=${read.cursor}`)
  t.same(idle, { data: [], nextCursor: read.cursor }, 'nothing new: same cursor')
  const [late] = await given(app, ce('interview.held', 'j-3'))
  const resumed = await readWholeFeed(app, { after: read.cursor })
  t.same(resumed.events.map((e) => e.id), [late?.id], 'only the new event')
  const viaCursor = await getOk<Page<StoredEvent>>(app, `/v1/events?cursor=${read.cursor}`)
  t.same(viaCursor.data.map((e) => e.id), [late?.id], '`cursor` works like `after`')

  // filters
  const byType = await readWholeFeed(app, { filter: 'type=candidate.applied' })
  t.same(byType.events.map((e) => e.subject), ['j-1', 'j-2', 'j-3'])
  const bySubject = await readWholeFeed(app, { filter: 'subject=j-1' })
  t.same(bySubject.events.map((e) => e.type), ['candidate.applied', 'interview.held', 'candidate.rejected'])
  const vacancies = await readWholeFeed(app, { filter: 'subject=vac-1&type=vacancy.published' })
  t.equal(vacancies.events.length, 1)

  // bad cursors and limits
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/events?after=not-a-cursor' }), 400, { errors: [{ path: '/after', location: 'query' }] })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/events?cursor=bm9wZQ' }), 400, { errors: [{ path: '/cursor' }] })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/events?limit=0' }), 400, { errors: [{ path: '/limit', location: 'query' }] })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/events?limit=201' }), 400)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/events?type=employee.promoted' }), 400)
})

t.test('a cursor whose numbers overflow is a 400, not a 500', async (t) => {
  const app = await buildTestApp(t)
  for (const token of ['99999999999999999999:1', '1:9999999999999999999']) {
    const cursor = Buffer.from(token).toString('base64url')
    expectProblem(t, await app.request({ method: 'GET', url: `/v1/events?after=${cursor}` }), 400, { errors: [{ path: '/after' }] })
  }
})

t.test('one journey\'s stream in stream order, paged, 404 for what is not a journey', async (t) => {
  const app = await buildTestApp(t)
  // given events whose world times are not in arrival order
  await given(app, applied('j-1', 'p-1', { time: on('2026-05-01') }), ce('offer.made', 'j-1', {}, { time: on('2026-05-20') }))
  await given(app, ce('interview.held', 'j-1', {}, { time: on('2026-05-10') }), ce('vacancy.published', 'vac-1', { title: 'Engineer' }))

  const stream = await streamOf(app, 'j-1')
  t.same(stream.map((e) => [e.version, e.type]), [[1, 'candidate.applied'], [2, 'offer.made'], [3, 'interview.held']], 'stream order, not world time')

  const page1 = await getOk<Page<StoredEvent>>(app, '/v1/journeys/j-1/events?limit=2')
  t.same(page1.data.map((e) => e.version), [1, 2])
  t.ok(page1.nextCursor)
  const page2 = await getOk<Page<StoredEvent>>(app, `/v1/journeys/j-1/events?limit=2&cursor=${page1.nextCursor}`)
  t.same(page2, { data: [stream[2]], nextCursor: null })

  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-none/events' }), 404, { code: 'not-found' })
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/vac-1/events' }), 404)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys/j-1/events?cursor=%25%25' }), 400)
  // '2abc' and '' parsed leniently once (as version 2 and as the first page); a cursor is exactly what the API handed out
  for (const text of ['2abc', '', '-1', '1e3']) {
    const cursor = Buffer.from(text).toString('base64url')
    expectProblem(t, await app.request({ method: 'GET', url: `/v1/journeys/j-1/events?cursor=${cursor}` }), 400, { errors: [{ path: '/cursor' }] })
  }
})
