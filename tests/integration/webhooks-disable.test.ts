// Giving up: given a receiver that answers 410 or keeps failing, then the subscription is disabled
// (and resumed by hand), retries run out, and a manual retry or a recovery resends with the same id.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import { advance, startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('410 Gone disables the subscription; deliveries are held until it is resumed', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t, (_r, n) => (n === 0 ? { status: 410 } : { status: 200 }))
  const { id } = await subscribe(ctx, receiver)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const hook = (await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}` })).json()
  t.match(hook, { disabledReason: /410/, disabledAt: ctx.clock.now().toISOString() })
  await ctx.request({ method: 'POST', url: '/v1/events', payload: ce('candidate.applied', 'j-9', { personId: 'p-9' }) })
  advance(ctx, 3600)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0, 'nothing is sent to a disabled subscription')
  t.match((await ctx.request({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { paused: false } })).json(), { disabledReason: null, disabledAt: null })
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.same(receiver.received.map((r) => r.json.type), ['webhook.test', 'candidate.applied'])
})

t.test('retries run out after the schedule; a manual retry and a recovery resend with the same webhook-id; 5 days of failures disable', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  let up = false
  const receiver = await startReceiver(t, () => ({ status: up ? 200 : 503 }))
  const started = ctx.clock.now().toISOString()
  const { id } = await subscribe(ctx, receiver)
  for (let i = 0; i < 8; i++) {
    t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1, `attempt ${i + 1}`)
    advance(ctx, 11 * 3600)
  }
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0, 'no ninth attempt')
  const [spent] = (await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).json().data
  t.match(spent, { status: 'failed', attempts: 8, lastStatusCode: 503, nextAttemptAt: null })
  t.equal((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}` })).json().disabledReason, null, 'failing for less than 5 days')

  const retried = await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/deliveries/${String(spent.id)}/retry` })
  t.equal(retried.statusCode, 202)
  t.match(retried.json(), { id: spent.id, status: 'pending' })
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.equal((await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/deliveries/nope/retry` })).statusCode, 404)

  up = true
  const recovered = await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/recover`, payload: { since: started } })
  t.match(recovered.json(), { resent: 1 })
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'the same webhook-id throughout')
  t.match((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).json().data, [{ status: 'succeeded' }])

  // A failure now starts the 5 days; another 5 days later disables the subscription.
  up = false
  await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/test` })
  await ctx.app.webhooks.drain(ctx.tenantId)
  ctx.clock.advanceDays(5.01)
  await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/test` })
  await ctx.app.webhooks.drain(ctx.tenantId)
  t.match((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}` })).json(), { disabledReason: /5 days/ })
})
