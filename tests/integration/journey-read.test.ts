// The single read of a journey (one statement, tag parts beside the row) answers
// exactly what the transaction-scoped read used by lists answers, and tags the same answer alike:
// after events, a day change, a rebuild from the ledger and an erasure.
import t, { type Test } from 'tap'
import { isoDate } from '../../src/domain/journey.js'
import { inTenant } from '../../src/store/database.js'
import { readCountedJourneys } from '../../src/store/journeys.js'
import { rebuildProjections } from '../../src/store/rebuild.js'
import { journeyView } from '../../routes/journeys.js'
import { buildTestApp, ce, onPostgres, type TestApp } from '../helpers/app.js'
import { given, on } from '../helpers/spine.js'

/** The journey as the list path builds it: read in a tenant transaction, viewed by the route's journeyView. */
async function asListed(app: TestApp, id: string): Promise<unknown> {
  const now = app.clock.now()
  const [row] = await inTenant(app.app.db, app.tenantId, (tx) => readCountedJourneys(tx, app.tenantId, [id], isoDate(now)))
  return row && JSON.parse(JSON.stringify(journeyView(row, now, app.app.config.signals)))
}

async function expectSameAnswer(t: Test, app: TestApp, id: string, when: string): Promise<string> {
  const res = await app.request({ method: 'GET', url: `/v1/journeys/${id}` })
  t.equal(res.statusCode, 200, `${when}: 200`)
  t.same(res.json(), await asListed(app, id), `${when}: the same journey as the list path`)
  t.equal((await app.request({ method: 'GET', url: `/v1/journeys/${id}`, headers: { 'if-none-match': String(res.headers.etag) } })).statusCode, 304, `${when}: its tag answers 304`)
  return String(res.headers.etag)
}

t.test('a journey read equals the list path\'s journey after events, a day change, a rebuild and an erasure', async (t) => {
  const app = await buildTestApp(t)
  app.clock.set('2026-06-01T09:00:00.000Z')
  await given(app,
    ce('candidate.applied', 'j-r', { personId: 'p-r', vacancyId: 'v-1', channel: 'referral' }, { time: on('2026-04-01') }),
    ce('offer.made', 'j-r', { role: 'Engineer', department: 'R&D', startDate: '2026-06-10', terms: [{ category: 'compensation', text: 'A raise after a year', dueAfterStartDays: 365 }] }, { time: on('2026-04-10') }),
    ce('employee.hired', 'j-r', { personId: 'p-r', role: 'Engineer', department: 'R&D', manager: 'm-1', startDate: '2026-06-10' }, { time: on('2026-04-20') }),
    ce('promise.made', 'j-r', { promiseId: 'pr-r1', category: 'career', text: 'A review', madeBy: 'm-1', dueBy: '2026-06-20' }, { time: on('2026-05-02') }),
    ce('checkin.held', 'j-r', { with: 'm-1', expectationsMet: 5, interests: ['data'], notes: 'fine' }, { time: on('2026-05-10') }),
    ce('pulse.answered', 'j-r', { enps: 6, expectationsMet: 3 }, { time: on('2026-05-20') }),
    ce('checkin.held', 'j-r', { with: 'm-1', expectationsMet: 2, interests: ['data'] }, { time: on('2026-05-30') }))

  const signed = await expectSameAnswer(t, app, 'j-r', 'signed, not started')
  app.clock.set('2026-06-12T09:00:00.000Z')
  const started = await expectSameAnswer(t, app, 'j-r', 'a day change: onboarding, the promise due')
  t.not(started, signed)
  app.clock.set('2026-06-25T09:00:00.000Z')
  const overdue = await expectSameAnswer(t, app, 'j-r', 'a day change: the promise overdue')
  t.not(overdue, started)

  t.ok(await rebuildProjections(app.app.db, onPostgres ? { tenantId: app.tenantId } : {}))
  t.equal(await expectSameAnswer(t, app, 'j-r', 'after a rebuild'), overdue, 'a rebuild keeps the answer, and so its tag')

  t.equal((await app.request({ method: 'DELETE', url: '/v1/people/p-r' })).statusCode, 204)
  const erased = await expectSameAnswer(t, app, 'j-r', 'after the erasure')
  t.not(erased, overdue)
  t.equal((await app.request({ method: 'GET', url: '/v1/journeys/j-r' })).json().personId, null)
})
