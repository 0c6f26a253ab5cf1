// What integrators and operators see: the OpenAPI webhooks section and the metrics.
import t from 'tap'
import { notificationTypes } from '../../src/domain/webhooks.js'
import { buildTestApp } from '../helpers/app.js'
import { startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('the OpenAPI document lists every notification a subscription can receive, with its payload schema', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const document = (await ctx.request({ method: 'GET', url: '/openapi.json', key: null })).json()
  t.same(Object.keys(document.webhooks).sort(), [...notificationTypes].sort())
  t.same(document.webhooks['promise.made'].post.requestBody.content['application/json'].schema.properties.data, { $ref: '#/components/schemas/PromiseMadeData' })
  t.ok(document.components.schemas.PromiseMadeData, 'the referenced component exists')
})

t.test('metrics show the outbox and the attempts', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  await subscribe(ctx, receiver)
  const before = (await ctx.request({ method: 'GET', url: '/metrics', key: null })).body
  t.match(before, /journey_webhook_outbox_pending [1-9]/)
  await ctx.app.webhooks.drain(ctx.tenantId)
  const after = (await ctx.request({ method: 'GET', url: '/metrics', key: null })).body
  t.match(after, /journey_webhook_attempts_total\{outcome="succeeded"\} 1/)
  t.match(after, /journey_webhook_attempt_duration_seconds_count 1/)
  t.match(after, /journey_webhook_outbox_oldest_pending_seconds/)
})
