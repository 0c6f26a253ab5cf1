// Who wrote what: every stored event names the key that wrote it (shown to admins), sources the
// service writes under itself are refused from clients, and every key of up to 128 characters
// works on every route.
import t from 'tap'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { expectProblem, getOk, given, postEvents, type Page } from '../helpers/spine.js'

interface CreatedKey { id: string; key: string }
interface Read { id: string; source: string; type: string; writtenBy?: string | null }

async function createKey(app: TestApp, scopes: string[]): Promise<CreatedKey> {
  const res = await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: scopes.join(' '), scopes } })
  if (res.statusCode !== 201) throw new Error(`could not create a key: ${res.statusCode} ${res.body}`)
  return res.json<CreatedKey>()
}

t.test('every stored event names the key that wrote it, derived promises and promise actions included; admins see it', async (t) => {
  const app = await buildTestApp(t)
  const hris = await createKey(app, ['events:write', 'events:read'])
  const manager = await createKey(app, ['promises:write', 'events:read'])

  // given an HRIS key hires someone with an offer that promises a review, and a manager keeps it
  t.equal((await postEvents(app, [
    ce('candidate.applied', 'j-1', { personId: 'p-1' }),
    ce('offer.made', 'j-1', { role: 'Engineer', terms: [{ category: 'compensation', text: 'Review', dueAfterStartDays: 90 }] }),
  ], { key: hris.key })).statusCode, 201)
  const [term] = (await getOk<Page<{ id: string }>>(app, '/v1/promises?journeyId=j-1')).data
  t.ok(term, 'the offer term became a promise')
  t.equal((await app.request({ method: 'POST', url: `/v1/promises/${term?.id}/keep`, payload: { evidence: 'Done' }, key: manager.key })).statusCode, 200)
  await given(app, ce('interview.held', 'j-1', { interviewer: 'm-1' }))

  // then the admin reads who wrote each event, in the feed and in the stream
  const feed = (await getOk<Page<Read>>(app, '/v1/events?subject=j-1')).data
  t.same(feed.map((e) => [e.type, e.writtenBy]), [
    ['candidate.applied', hris.id], ['offer.made', hris.id], ['promise.made', hris.id], ['promise.kept', manager.id], ['interview.held', adminKeyId(feed)],
  ], 'the derived promise is the HRIS key\'s, the keep the manager\'s')
  t.same((await getOk<Page<Read>>(app, '/v1/journeys/j-1/events')).data.map((e) => e.writtenBy), feed.map((e) => e.writtenBy))

  // and a key without admin scope reads the same events without it
  const asHris = (await getOk<Page<Read>>(app, '/v1/events?subject=j-1', hris.key)).data
  t.equal(asHris.length, 5)
  t.notOk(asHris.some((e) => 'writtenBy' in e), 'no writtenBy for a non-admin reader')
})

/** The admin key's id, as the feed names it for the event the test's admin key wrote. */
function adminKeyId(feed: Read[]): string {
  const id = feed.at(-1)?.writtenBy
  if (typeof id !== 'string' || !id) throw new Error('the admin key wrote the last event')
  return id
}

t.test('sources the service writes under itself are refused from clients, and nothing is stored', async (t) => {
  const app = await buildTestApp(t)
  for (const source of ['journey-ledger', 'api:key_123', 'idem:abc']) {
    expectProblem(t, await postEvents(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }, { source })), 400, { errors: [{ path: '/source' }] }, { source })
  }
  expectProblem(t, await postEvents(app, [ce('candidate.applied', 'j-2', { personId: 'p-2' }), ce('interview.held', 'j-2', {}, { source: 'api:me' })]), 400,
    { errors: [{ path: '/1/source' }] })
  t.same((await getOk<Page<unknown>>(app, '/v1/events')).data, [], 'nothing stored')
  t.equal((await postEvents(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }, { source: 'ats:apis' }))).statusCode, 201, 'a source that merely contains the words is fine')
})

t.test('a person and a journey with 128-character keys: created, read, exported and erased, even percent-encoded', async (t) => {
  const app = await buildTestApp(t)
  const personId = `p:${'@'.repeat(126)}`
  const journeyId = `j:${'a'.repeat(126)}`
  t.equal(personId.length, 128)
  t.equal(journeyId.length, 128)
  await given(app, ce('employee.hired', journeyId, { personId, startDate: '2026-06-01' }), ce('checkin.held', journeyId, { notes: 'Fine' }))
  const encoded = encodeURIComponent(personId)
  t.ok(encoded.length > 300, 'every @ and : percent-encoded')

  t.match(await getOk(app, `/v1/journeys/${encodeURIComponent(journeyId)}`), { id: journeyId, personId })
  t.match(await getOk(app, `/v1/people/${encoded}`), { personId })
  t.match(await getOk(app, `/v1/people/${encoded}/export`), { personId })
  t.equal((await app.request({ method: 'DELETE', url: `/v1/people/${encoded}` })).statusCode, 204)
  const events = (await getOk<Page<{ data: Record<string, unknown>; erased?: boolean }>>(app, `/v1/journeys/${encodeURIComponent(journeyId)}/events`)).data
  t.match(events[1], { erased: true, data: { notes: null } }, 'erased')

  // a key of 129 characters is no key: a problem, not a 414 or a 500
  expectProblem(t, await app.request({ method: 'GET', url: `/v1/journeys/${'a'.repeat(129)}` }), 400)
})
