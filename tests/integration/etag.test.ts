// Reads of one journey or promise carry a weak ETag made of what the answer depends on (the stream
// version, the day while the day can change the answer, the signals on, erasure); If-None-Match
// with it answers 304 until anything the answer shows changes.
import t from 'tap'
import { matchesTag } from '../../routes/etags.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { expectProblem, given, on } from '../helpers/spine.js'

const read = (app: TestApp, url: string, tag?: string, key?: string) => app.request({ method: 'GET', url, key, headers: tag ? { 'if-none-match': tag } : {} })

t.test('a journey or promise read answers 304 while it is unchanged, and 200 with a new ETag after an event or when a promise falls overdue', async (t) => {
  const app = await buildTestApp(t)
  app.clock.set('2026-06-01T09:00:00.000Z')
  await given(app,
    ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-01' }, { time: on('2026-04-20') }),
    ce('promise.made', 'j-1', { promiseId: 'pr-1', category: 'career', text: 'A review', madeBy: 'm-1', dueBy: '2026-06-20' }, { time: on('2026-05-02') }))

  for (const url of ['/v1/journeys/j-1', '/v1/promises/pr-1']) {
    const first = await read(app, url)
    t.equal(first.statusCode, 200)
    const tag = first.headers.etag
    t.match(tag, /^W\/"[a-z0-9.-]+"$/, `${url}: a weak ETag`)
    if (typeof tag !== 'string') continue
    const unchanged = await read(app, url, tag)
    t.equal(unchanged.statusCode, 304, `${url}: 304 with the current tag`)
    t.equal(unchanged.body, '', 'and no body')
    t.equal(unchanged.headers.etag, tag, 'the tag is repeated')
    t.equal((await read(app, url, `"other", ${tag}`)).statusCode, 304, 'a list holding the tag matches')
    t.equal((await read(app, url, tag.replace(/^W\//, ''))).statusCode, 304, 'the strong form of the tag matches (weak comparison)')
    t.equal((await read(app, url, '*')).statusCode, 304, '* matches an existing one')
    t.equal((await read(app, url, '"other"')).statusCode, 200, 'another tag does not')
    t.equal((await read(app, url, '"other"')).headers.etag, tag, 'the 200 carries the same tag as the 304')

    // when the day moves the promise to overdue, without any event
    app.clock.set('2026-06-25T09:00:00.000Z')
    const later = await read(app, url, tag)
    t.equal(later.statusCode, 200, `${url}: the clock changed the answer`)
    t.not(later.headers.etag, tag)
    app.clock.set('2026-06-01T09:00:00.000Z')
    t.equal((await read(app, url, tag)).statusCode, 304, 'the same day, the same answer')
  }

  // when an event changes the journey, and the promise (its history)
  const before = await read(app, '/v1/journeys/j-1')
  const promiseBefore = await read(app, '/v1/promises/pr-1')
  await given(app, ce('pulse.answered', 'j-1', { enps: 9 }, { time: on('2026-05-30') }))
  const after = await read(app, '/v1/journeys/j-1', String(before.headers.etag))
  t.equal(after.statusCode, 200, 'an event: 200')
  t.not(after.headers.etag, before.headers.etag)
  t.equal((await read(app, '/v1/journeys/j-1', String(after.headers.etag))).statusCode, 304, 'and 304 with the new tag')
  await given(app, ce('promise.kept', 'j-1', { promiseId: 'pr-1' }, { time: on('2026-05-31') }))
  t.equal((await read(app, '/v1/promises/pr-1', String(promiseBefore.headers.etag))).statusCode, 200, 'a promise event: 200')

  // a problem never carries a tag or becomes a 304
  const missing = await read(app, '/v1/journeys/j-none', '*')
  expectProblem(t, missing, 404)
  t.equal(missing.headers.etag, undefined)
  expectProblem(t, await read(app, '/v1/promises/pr-none', '*'), 404)
  t.equal((await app.request({ method: 'GET', url: '/v1/journeys', headers: { 'if-none-match': '*' } })).statusCode, 200, 'lists carry no ETag')
})

t.test('the day is in a journey\'s tag only while the day can change its answer; a signal switching on mid-day changes it', async (t) => {
  const app = await buildTestApp(t)
  app.clock.set('2026-06-01T09:00:00.000Z')
  await given(app,
    ce('employee.hired', 'j-s', { personId: 'p-s', startDate: '2026-06-10' }, { time: on('2026-05-20') }),
    ce('recognition.given', 'j-s', { by: 'm-1', kind: 'compliment' }, { time: on('2026-05-25', 14) }))
  const signed = await read(app, '/v1/journeys/j-s')
  t.equal(signed.json().stage, 'hired')
  app.clock.set('2026-06-02T09:00:00.000Z')
  t.equal((await read(app, '/v1/journeys/j-s', String(signed.headers.etag))).statusCode, 200, 'a start date ahead: the next day is another answer')

  app.clock.set('2026-06-11T09:00:00.000Z')
  const started = await read(app, '/v1/journeys/j-s')
  t.equal(started.json().stage, 'onboarding')
  app.clock.set('2026-06-12T09:00:00.000Z')
  t.equal((await read(app, '/v1/journeys/j-s', String(started.headers.etag))).statusCode, 304, 'nothing ahead that the day changes: 304 the next day too')

  // unrecognised switches on 180 days (the default threshold) after the last recognition, at that time of day
  app.clock.set('2026-06-16T09:00:00.000Z')
  await given(app, ce('recognition.given', 'j-s', { by: 'm-1', kind: 'compliment' }, { time: on('2026-06-15', 14) }))
  app.clock.set('2026-12-12T13:00:00.000Z')
  const morning = await read(app, '/v1/journeys/j-s')
  t.notOk(morning.json<{ signals: { name: string }[] }>().signals.some((s) => s.name === 'unrecognised'), 'not yet at 13:00')
  app.clock.set('2026-12-12T15:00:00.000Z')
  const afternoon = await read(app, '/v1/journeys/j-s', String(morning.headers.etag))
  t.equal(afternoon.statusCode, 200, 'the signal switched on at 14:00: the same day, another answer')
  t.ok(afternoon.json<{ signals: { name: string }[] }>().signals.some((s) => s.name === 'unrecognised'))
})

t.test('erasure changes the tag of the person\'s journey and promise (no event is appended)', async (t) => {
  const app = await buildTestApp(t)
  app.clock.set('2026-06-01T09:00:00.000Z')
  await given(app,
    ce('employee.hired', 'j-e', { personId: 'p-e', startDate: '2026-05-01' }, { time: on('2026-04-20') }),
    ce('promise.made', 'j-e', { promiseId: 'pr-e', category: 'career', text: 'A review', madeBy: 'm-1' }, { time: on('2026-05-02') }))
  const journeyBefore = await read(app, '/v1/journeys/j-e')
  const promiseBefore = await read(app, '/v1/promises/pr-e')
  t.equal((await app.request({ method: 'DELETE', url: '/v1/people/p-e' })).statusCode, 204)
  const journeyAfter = await read(app, '/v1/journeys/j-e', String(journeyBefore.headers.etag))
  t.equal(journeyAfter.statusCode, 200)
  t.equal(journeyAfter.json().personId, null)
  const promiseAfter = await read(app, '/v1/promises/pr-e', String(promiseBefore.headers.etag))
  t.equal(promiseAfter.statusCode, 200)
  t.equal(promiseAfter.json().text, null)
})

t.test('a promise\'s tag differs for a caller who sees who wrote its events', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('employee.hired', 'j-w', { personId: 'p-w', startDate: '2026-05-01' }),
    ce('promise.made', 'j-w', { promiseId: 'pr-w', category: 'career', text: 'A review', madeBy: 'm-1' }))
  const reader = (await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['events:read'] } })).json<{ key: string }>().key
  const asAdmin = await read(app, '/v1/promises/pr-w')
  const asReader = await read(app, '/v1/promises/pr-w', String(asAdmin.headers.etag), reader)
  t.equal(asReader.statusCode, 200, 'the admin\'s tag is not the reader\'s answer')
  t.not(asReader.headers.etag, asAdmin.headers.etag)
})

t.test('another tenant\'s journey or promise answers 404 to If-None-Match: *, never 304', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('employee.hired', 'j-t', { personId: 'p-t', startDate: '2026-05-01' }),
    ce('promise.made', 'j-t', { promiseId: 'pr-t', category: 'career', text: 'A review', madeBy: 'm-1' }))
  const other = await app.otherTenant()
  expectProblem(t, await read(app, '/v1/journeys/j-t', '*', other.adminKey), 404)
  expectProblem(t, await read(app, '/v1/journeys/j-t', undefined, other.adminKey), 404)
  expectProblem(t, await read(app, '/v1/promises/pr-t', '*', other.adminKey), 404)
})

t.test('If-None-Match matching', async (t) => {
  t.ok(matchesTag('"a"', '"a"'))
  t.ok(matchesTag('W/"a"', '"a"'))
  t.ok(matchesTag('"a"', 'W/"a"'))
  t.ok(matchesTag('"b" , W/"a"', 'W/"a"'))
  t.ok(matchesTag('*', 'W/"a"'))
  t.notOk(matchesTag('"b"', 'W/"a"'))
  t.notOk(matchesTag(undefined, '"a"'))
  t.notOk(matchesTag('', '"a"'))
})
