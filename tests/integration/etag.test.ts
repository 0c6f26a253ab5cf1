// Reads of one journey or promise carry an ETag; If-None-Match with it answers 304 until anything
// the answer shows changes: an event, or the day passing a due date.
import t from 'tap'
import { matchesTag } from '../../src/plugins/etag.js'
import { buildTestApp, ce } from '../helpers/app.js'
import { expectProblem, given, on } from '../helpers/spine.js'

t.test('a journey read answers 304 while it is unchanged, and 200 with a new ETag after an event or when a promise falls overdue', async (t) => {
  const app = await buildTestApp(t)
  app.clock.set('2026-06-01T09:00:00.000Z')
  await given(app,
    ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-05-01' }, { time: on('2026-04-20') }),
    ce('promise.made', 'j-1', { promiseId: 'pr-1', category: 'career', text: 'A review', madeBy: 'm-1', dueBy: '2026-06-20' }, { time: on('2026-05-02') }))
  const read = (url: string, tag?: string) => app.request({ method: 'GET', url, headers: tag ? { 'if-none-match': tag } : {} })

  for (const url of ['/v1/journeys/j-1', '/v1/promises/pr-1']) {
    const first = await read(url)
    t.equal(first.statusCode, 200)
    const tag = first.headers.etag
    t.match(tag, /^"[A-Za-z0-9_-]{27}"$/, `${url}: a strong ETag`)
    if (typeof tag !== 'string') continue
    const unchanged = await read(url, tag)
    t.equal(unchanged.statusCode, 304, `${url}: 304 with the current tag`)
    t.equal(unchanged.body, '', 'and no body')
    t.equal(unchanged.headers.etag, tag, 'the tag is repeated')
    t.equal((await read(url, `"other", W/${tag}`)).statusCode, 304, 'a list, and a weak form of the tag, match too')
    t.equal((await read(url, '"other"')).statusCode, 200, 'another tag does not')

    // when the day moves the promise to overdue, without any event
    app.clock.set('2026-06-25T09:00:00.000Z')
    const later = await read(url, tag)
    t.equal(later.statusCode, 200, `${url}: the clock changed the answer`)
    t.not(later.headers.etag, tag)
    app.clock.set('2026-06-01T09:00:00.000Z')
    t.equal((await read(url, tag)).statusCode, 304, 'the same day, the same answer')
  }

  // when an event changes the journey
  const before = (await read('/v1/journeys/j-1')).headers.etag
  await given(app, ce('pulse.answered', 'j-1', { enps: 9 }, { time: on('2026-05-30') }))
  const after = await read('/v1/journeys/j-1', typeof before === 'string' ? before : undefined)
  t.equal(after.statusCode, 200)
  t.not(after.headers.etag, before)

  // a problem never carries a tag or becomes a 304
  const missing = await read('/v1/journeys/j-none', '*')
  expectProblem(t, missing, 404)
  t.equal(missing.headers.etag, undefined)
  t.equal((await app.request({ method: 'GET', url: '/v1/journeys', headers: { 'if-none-match': '*' } })).statusCode, 200, 'lists carry no ETag')
})

t.test('If-None-Match matching', async (t) => {
  t.ok(matchesTag('"a"', '"a"'))
  t.ok(matchesTag('W/"a"', '"a"'))
  t.ok(matchesTag('"b" , "a"', '"a"'))
  t.ok(matchesTag('*', '"a"'))
  t.notOk(matchesTag('"b"', '"a"'))
  t.notOk(matchesTag(undefined, '"a"'))
  t.notOk(matchesTag('', '"a"'))
})
