// A real listening server and a real HTTP client, as an HRIS would use it: the README's journey
// from vacancy to exit, then the reads an integrator relies on.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

t.test('the README walk-through over real HTTP', async (t) => {
  const { app, adminKey, clock } = await buildTestApp(t)
  clock.set('2026-11-23T12:00:00.000Z')
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${address}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null }
  }
  const event = (id: string, type: string, subject: string, time: string, data: Record<string, unknown> = {}) =>
    ({ specversion: '1.0', id, source: 'hris:demo', type, subject, time, data })

  const vacancy = await call('POST', '/v1/events', event('v1', 'vacancy.published', 'vac-17', '2026-01-05T09:00:00Z', {
    title: 'Backend Engineer', department: 'Platform', publishedBy: 'rec-ana',
    promises: [{ category: 'flexibility', text: 'Remote two days a week', dueAfterStartDays: 30 }],
  }))
  t.equal(vacancy.status, 201)
  const hire = await call('POST', '/v1/events', [
    event('e1', 'candidate.applied', 'j-42', '2026-01-10T09:00:00Z', { personId: 'p-7', vacancyId: 'vac-17' }),
    event('e2', 'offer.made', 'j-42', '2026-01-20T09:00:00Z', { role: 'Backend Engineer', madeBy: 'rec-ana', startDate: '2026-02-01', terms: [{ category: 'development', text: 'Training budget 2000 EUR', dueAfterStartDays: 180 }] }),
    event('e3', 'offer.accepted', 'j-42', '2026-01-22T09:00:00Z'),
    event('e4', 'employee.hired', 'j-42', '2026-01-23T09:00:00Z', { department: 'Platform', manager: 'mgr-3', startDate: '2026-02-01' }),
  ], { 'content-type': 'application/cloudevents-batch+json' })
  t.equal(hire.status, 201)
  t.same(hire.json.data.map((r: { id: string }) => r.id), ['e1', 'e2', 'e3', 'e4'])

  // The vacancy's promise and the offer's term were inherited as promises of the journey.
  const promises = await call('GET', '/v1/promises?journeyId=j-42')
  t.same(promises.json.data.map((p: { madeAt: string; status: string; text: string }) => [p.madeAt, p.status, p.text]), [
    ['vacancy', 'overdue', 'Remote two days a week'],
    ['offer', 'overdue', 'Training budget 2000 EUR'],
  ])
  const remote = promises.json.data[0]
  const kept = await call('POST', `/v1/promises/${remote.id}/keep`, { evidence: 'Policy signed' }, { 'idempotency-key': 'keep-remote' })
  t.equal(kept.status, 200)
  t.equal(kept.json.status, 'kept')
  const replay = await call('POST', `/v1/promises/${remote.id}/keep`, { evidence: 'Policy signed' }, { 'idempotency-key': 'keep-remote' })
  t.equal(replay.headers.get('idempotent-replayed'), 'true', 'a retry replays the first answer')
  t.same(replay.json, kept.json)
  t.equal((await call('POST', `/v1/promises/${remote.id}/keep`, {})).status, 409, 'a kept promise cannot be kept again')

  const exit = await call('POST', '/v1/events', [
    event('e8', 'exit.announced', 'j-42', '2026-09-01T09:00:00Z', { kind: 'voluntary', lastDay: '2026-09-30' }),
    event('e10', 'employee.exited', 'j-42', '2026-09-30T17:00:00Z', { lastDay: '2026-09-30', regrettable: true }),
  ])
  t.equal(exit.status, 201)
  const again = await call('POST', '/v1/events', event('e11', 'employee.exited', 'j-42', '2026-10-01T09:00:00Z', { lastDay: '2026-10-01' }))
  t.equal(again.status, 409)
  t.equal(again.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal(again.json.rule, 'second-exit')

  const journey = await call('GET', '/v1/journeys/j-42')
  t.equal(journey.json.stage, 'exited')
  t.same(journey.json.stages.map((s: { stage: string }) => s.stage), ['applied', 'offered', 'hired', 'onboarding', 'leaving', 'exited'])
  t.same(journey.json.promises, { open: 0, due: 0, overdue: 1, kept: 1, broken: 0, renegotiated: 0, withdrawn: 0 })

  // The feed pages in commit order and hands back a cursor to resume from.
  const first = await call('GET', '/v1/events?limit=3')
  const rest = await call('GET', `/v1/events?limit=200&after=${first.json.nextCursor}`)
  const ids = [...first.json.data, ...rest.json.data].map((e: { id: string }) => e.id)
  t.equal(new Set(ids).size, ids.length, 'no event twice')
  t.ok(ids.includes('v1') && ids.includes('e10'))

  const docs = await fetch(`${address}/docs/`)
  t.equal(docs.status, 200, 'the interactive reference is served')
  const spec = await (await fetch(`${address}/openapi.json`)).json()
  t.equal(spec.openapi, '3.1.0')
})
