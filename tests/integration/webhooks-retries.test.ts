// Retries: given receivers that fail, time out, answer 410 or 429 with Retry-After, when the
// injected clock moves past each back-off, then every notification arrives with the same webhook-id.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { advance, startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('a failing receiver gets the same webhook-id on every attempt, at the back-off schedule, until it answers 2xx', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t, (_r, n) => (n < 2 ? { status: 500, body: 'down for maintenance' } : { status: 204 }))
  const { id } = await subscribe(ctx, receiver, { events: ['webhook.test'] })
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  advance(ctx, 4)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0, 'not before the first back-off (5 s, less 10 % jitter)')
  advance(ctx, 2)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  advance(ctx, 240)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0, 'the second back-off is about 5 minutes')
  advance(ctx, 100)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.equal(receiver.received.length, 3)
  const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']))
  t.equal(ids.size, 1, 'one webhook-id for every attempt')
  t.not(receiver.received[0]?.headers['webhook-timestamp'], receiver.received[2]?.headers['webhook-timestamp'], 'each attempt has its own timestamp')

  const delivery = await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries/${String([...ids][0])}` })
  t.match(delivery.json(), { status: 'succeeded', attempts: 3, lastStatusCode: 204, nextAttemptAt: null })
  t.match(delivery.json().attemptLog, [
    { attempt: 1, statusCode: 500, responseBody: 'down for maintenance' }, { attempt: 2, statusCode: 500 }, { attempt: 3, statusCode: 204 },
  ])
  t.equal((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries?status=succeeded` })).json().data.length, 1)
  t.equal((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries?status=pending` })).json().data.length, 0)
})

t.test('429 with Retry-After is honoured', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t, (_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 }))
  await subscribe(ctx, receiver)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  advance(ctx, 60)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 0, 'not before Retry-After')
  advance(ctx, 61)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.equal(receiver.received.length, 2)
})

t.test('a receiver that does not answer in time fails the attempt; the retry arrives', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t, (_r, n) => (n === 0 ? { status: 200, delayMs: 2_000 } : { status: 200, delayMs: 100 }))
  const { id } = await subscribe(ctx, receiver)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const [first] = (await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).json().data
  t.match(first, { status: 'pending', attempts: 1, lastStatusCode: null })
  t.match(first.lastError, /500 ms/)
  advance(ctx, 6)
  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.match((await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).json().data, [{ status: 'succeeded', attempts: 2 }])
})
