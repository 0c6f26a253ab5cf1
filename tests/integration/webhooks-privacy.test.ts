// Erasure before delivery: given a delivery queued for an event with personal fields, when the
// person is erased before the worker sends it, then the receiver gets none of what was erased.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import { startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('a person erased before delivery: the notification carries nothing erased', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  await subscribe(ctx, receiver, { events: ['checkin.held'], includePersonal: true })
  await ctx.request({ method: 'POST', url: '/v1/events', payload: [
    ce('candidate.applied', 'j-e', { personId: 'p-erased' }),
    ce('checkin.held', 'j-e', { with: 'mgr-1', notes: 'Wants to move to Lisbon' }),
  ] })
  t.equal((await ctx.request({ method: 'DELETE', url: '/v1/people/p-erased' })).statusCode, 204)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const checkin = receiver.received.find((r) => r.json.type === 'checkin.held')
  t.ok(checkin, 'still announced')
  t.match(checkin?.json, { erased: true, data: { notes: null, with: 'mgr-1' } })
  t.notOk(receiver.received.some((r) => r.body.includes('Lisbon')), 'the erased text was never sent')
})
