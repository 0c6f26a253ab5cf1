// Derived notifications: given an open promise, when the clock passes into its due window and
// past its due date, then the sweep announces promise.due and promise.overdue once each; a
// renegotiated due date is announced anew.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import { startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('promise.due and promise.overdue, once per promise and due date, by a sweep that can run twice at once', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  const everything = await startReceiver(t)
  await subscribe(ctx, receiver, { events: ['promise.due', 'promise.overdue'] })
  await subscribe(ctx, everything, { events: ['employee.hired'] })
  t.equal((await ctx.request({ method: 'POST', url: '/v1/events', payload: ce('candidate.applied', 'j-n', { personId: 'p-n' }) })).statusCode, 201)
  const made = await ctx.request({ method: 'POST', url: '/v1/journeys/j-n/promises', payload: { promiseId: 'pr-n', category: 'career', text: 'A review', madeBy: 'mgr-n', dueBy: '2026-06-10' } })
  t.equal(made.statusCode, 201)
  await ctx.request({ method: 'POST', url: '/v1/journeys/j-n/promises', payload: { promiseId: 'pr-far', category: 'career', text: 'Later', madeBy: 'mgr-n', dueBy: '2027-06-10' } })

  const [a, b] = await Promise.all([ctx.app.webhooks.sweep(ctx.tenantId), ctx.app.webhooks.sweep(ctx.tenantId)])
  t.equal(a + b, 1, 'one promise.due, whichever sweep found it')
  t.equal(await ctx.app.webhooks.sweep(ctx.tenantId), 0)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const due = receiver.received.filter((r) => r.json.type === 'promise.due')
  t.equal(due.length, 1)
  t.match(due[0]?.json, { type: 'promise.due', subject: 'j-n', source: 'journey-ledger', data: { promiseId: 'pr-n', dueDate: '2026-06-10', category: 'career', madeBy: 'mgr-n' } })
  t.notOk(JSON.stringify(due[0]?.json).includes('A review'), 'no personal text in a derived notification')
  t.equal(everything.received.filter((r) => String(r.json.type).startsWith('promise.')).length, 0, 'only subscriptions listening get it')

  ctx.clock.advanceDays(10)
  t.equal(await ctx.app.webhooks.sweep(ctx.tenantId), 1)
  t.equal(await ctx.app.webhooks.sweep(ctx.tenantId), 0)
  const renegotiated = await ctx.request({ method: 'POST', url: '/v1/promises/pr-n/renegotiate', payload: { dueBy: '2026-06-20', agreedByEmployee: true } })
  t.equal(renegotiated.statusCode, 200)
  t.equal(await ctx.app.webhooks.sweep(ctx.tenantId), 1, 'the new due date is due again')
  await ctx.app.webhooks.drain(ctx.tenantId)
  t.same(receiver.received.filter((r) => r.json.type !== 'webhook.test').map((r) => [r.json.type, (r.json.data as { dueDate: string }).dueDate]),
    [['promise.due', '2026-06-10'], ['promise.overdue', '2026-06-10'], ['promise.due', '2026-06-20']])
})
