// Secrets and switches: a secret is never replayed, a rotation signs with both secrets for 24 h,
// a paused subscription holds its deliveries.
import t from 'tap'
import { buildTestApp, ce } from '../helpers/app.js'
import { signedWith, startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('a secret sent with Idempotency-Key is not replayed', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  const send = () => ctx.request({ method: 'POST', url: '/v1/webhooks', headers: { 'idempotency-key': 'hook-1' }, payload: { url: receiver.url, events: ['*'] } })
  t.equal((await send()).statusCode, 201)
  const replay = await send()
  t.equal(replay.statusCode, 409)
  t.match(replay.json(), { code: 'secret-not-replayable' })
})

t.test('rotation: during the overlap both secrets sign, a receiver holding either verifies; after 24 h only the new one', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  const { id, secret: old } = await subscribe(ctx, receiver)
  const rotated = await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret` })
  t.equal(rotated.statusCode, 200)
  const fresh = String(rotated.json().secret)
  t.not(fresh, old)
  t.equal(rotated.json().webhook.previousSecretExpiresAt, new Date(ctx.clock.now().getTime() + 86_400_000).toISOString())
  await ctx.app.webhooks.drain(ctx.tenantId)
  const [during] = receiver.received
  if (!during) throw new Error('no delivery')
  t.equal(String(during.headers['webhook-signature']).split(' ').length, 2)
  t.ok(signedWith(old, during), 'the old secret verifies during the overlap')
  t.ok(signedWith(fresh, during), 'the new secret verifies during the overlap')

  ctx.clock.advanceDays(1.01)
  t.equal((await ctx.request({ method: 'POST', url: `/v1/webhooks/${id}/test` })).statusCode, 202)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const after = receiver.received[1]
  if (!after) throw new Error('no second delivery')
  t.ok(signedWith(fresh, after))
  t.notOk(signedWith(old, after), 'the old secret no longer signs')
})

t.test('paused subscriptions hold deliveries, resuming sends them', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  const { id } = await subscribe(ctx, receiver, { events: ['candidate.applied'] })
  const paused = await ctx.request({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { paused: true } })
  t.match(paused.json(), { paused: true })
  await ctx.request({ method: 'POST', url: '/v1/events', payload: ce('candidate.applied', 'j-3', { personId: 'p-3' }) })
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0)
  t.equal((await ctx.request({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { paused: false } })).statusCode, 200)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 2)
  t.same(receiver.received.map((r) => r.json.type), ['webhook.test', 'candidate.applied'])
  t.equal((await ctx.request({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { events: ['bogus'] } })).statusCode, 400)
  t.equal((await ctx.request({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: {} })).statusCode, 400)
})
