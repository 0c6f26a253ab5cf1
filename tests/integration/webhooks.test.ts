// Subscriptions: given a subscription and a real receiver on a loopback port, when events are
// appended and the worker drains, then the receiver gets each matching event once, signed.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { notificationTypes } from '../../src/domain/webhooks.js'
import { buildTestApp, ce } from '../helpers/app.js'
import { deliveryRows, signedWith, startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('a subscription returns its secret once, pings, and the receiver verifies with standardwebhooks', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  ctx.clock.set(new Date().toISOString())
  const receiver = await startReceiver(t)
  const { res, id, secret } = await subscribe(ctx, receiver, { description: 'HRIS sync' })
  t.equal(res.statusCode, 201)
  t.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.match(res.json().webhook, { url: receiver.url, events: ['*'], includePersonal: false, paused: false, disabledReason: null, description: 'HRIS sync' })

  const got = await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}` })
  t.equal(got.statusCode, 200)
  t.notOk('secret' in got.json(), 'the secret is never shown again')
  t.equal((await ctx.request({ method: 'GET', url: '/v1/webhooks' })).json().data.length, 1)

  t.equal(await ctx.app.webhooks.drain(ctx.tenantId), 1)
  t.equal(receiver.received.length, 1)
  const [ping] = receiver.received
  if (!ping) throw new Error('no ping')
  t.match(ping.json, { type: 'webhook.test', specversion: '1.0', source: 'journey-ledger' })
  t.same(new Webhook(secret).verify(ping.body, { 'webhook-id': String(ping.headers['webhook-id']), 'webhook-timestamp': String(ping.headers['webhook-timestamp']), 'webhook-signature': String(ping.headers['webhook-signature']) }), ping.json)

  const log = await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })
  t.match(log.json().data, [{ id: ping.headers['webhook-id'], type: 'webhook.test', status: 'succeeded', attempts: 1, lastStatusCode: 200 }])
  const one = await ctx.request({ method: 'GET', url: `/v1/webhooks/${id}/deliveries/${String(ping.headers['webhook-id'])}` })
  t.match(one.json().attemptLog, [{ attempt: 1, statusCode: 200, responseBody: 'ok', error: null }])

  const audit = await ctx.request({ method: 'GET', url: '/v1/audit?action=webhook.created' })
  t.equal(audit.json().data.length, 1)
})

t.test('appended events reach the subscriptions whose filters match, once each, personal fields only when asked', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const promises = await startReceiver(t)
  const everything = await startReceiver(t)
  const personal = await startReceiver(t)
  const a = await subscribe(ctx, promises, { events: ['promise.*'] })
  await subscribe(ctx, everything, { events: ['*'] })
  const p = await subscribe(ctx, personal, { events: ['promise.made', 'employee.exited'], includePersonal: true })
  t.equal(p.res.statusCode, 201)
  await ctx.app.webhooks.drain(ctx.tenantId)
  for (const r of [promises, everything, personal]) r.received.length = 0

  const batch = [
    ce('candidate.applied', 'j-1', { personId: 'p-1' }),
    ce('promise.made', 'j-1', { promiseId: 'pr-1', category: 'career', text: 'Promotion review in a year', madeBy: 'mgr-1', dueBy: '2027-06-01' }),
  ]
  t.equal((await ctx.request({ method: 'POST', url: '/v1/events', payload: batch })).statusCode, 201)
  // A repeat is not announced twice.
  t.equal((await ctx.request({ method: 'POST', url: '/v1/events', payload: batch })).statusCode, 201)
  await ctx.app.webhooks.drain(ctx.tenantId)

  t.same(promises.received.map((r) => r.json.type), ['promise.made'])
  t.same(everything.received.map((r) => r.json.type), ['candidate.applied', 'promise.made'])
  t.same(personal.received.map((r) => r.json.type), ['promise.made'])
  const [plain] = promises.received
  const [full] = personal.received
  if (!plain || !full) throw new Error('missing deliveries')
  t.match(plain.json, { id: batch[1]?.id, source: 'test:hris', subject: 'j-1', data: { promiseId: 'pr-1', text: null } })
  t.match(String(plain.json.dataref), /^\/v1\/journeys\/j-1\/events\?cursor=.+&limit=1$/)
  const fetched = await ctx.request({ method: 'GET', url: String(plain.json.dataref) })
  t.match(fetched.json().data, [{ id: batch[1]?.id, data: { text: 'Promotion review in a year' } }], 'dataref reads the event with the right scope')
  t.match(full.json, { data: { text: 'Promotion review in a year' } })
  t.notOk('dataref' in full.json)
  t.ok(signedWith(a.secret, plain))
  t.notOk(signedWith(p.secret, plain), 'each subscription signs with its own secret')
})

t.test('includePersonal needs people:manage; filters and URLs are checked; another tenant sees nothing', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  const key = await ctx.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'hooks', scopes: ['webhooks:manage'] } })
  const hooksKey = String(key.json().key)
  t.equal((await subscribe(ctx, receiver, { includePersonal: true }, hooksKey)).res.statusCode, 403)
  t.equal((await subscribe(ctx, receiver, {}, hooksKey)).res.statusCode, 201)
  const badFilter = await subscribe(ctx, receiver, { events: ['promise.*', 'promise.made', 'nope.*', 'employee.fired'] })
  t.equal(badFilter.res.statusCode, 400)
  t.same(badFilter.res.json().errors.map((e: { path: string }) => e.path), ['/events/2', '/events/3'])
  t.equal((await subscribe(ctx, receiver, { url: 'ftp://example.com/x' })).res.statusCode, 400)
  t.equal((await subscribe(ctx, receiver, { events: [] })).res.statusCode, 400)

  const mine = await subscribe(ctx, receiver)
  const other = await ctx.otherTenant()
  for (const [method, url] of [['GET', `/v1/webhooks/${mine.id}`], ['DELETE', `/v1/webhooks/${mine.id}`], ['GET', `/v1/webhooks/${mine.id}/deliveries`], ['POST', `/v1/webhooks/${mine.id}/test`]] as const) {
    t.equal((await ctx.request({ method, url, key: other.adminKey })).statusCode, 404, `${method} ${url} from another tenant`)
  }
  t.equal((await ctx.request({ method: 'GET', url: `/v1/webhooks/${'x'.repeat(128)}` })).statusCode, 404)
  t.equal((await ctx.request({ method: 'DELETE', url: `/v1/webhooks/${mine.id}` })).statusCode, 204)
  t.equal((await ctx.request({ method: 'GET', url: `/v1/webhooks/${mine.id}` })).statusCode, 404)
})

t.test('a batch rolled back by a domain rule leaves no delivery row', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const receiver = await startReceiver(t)
  await subscribe(ctx, receiver)
  const res = await ctx.request({ method: 'POST', url: '/v1/events', payload: [
    ce('candidate.applied', 'j-2', { personId: 'p-2' }),
    ce('promise.kept', 'j-2', { promiseId: 'never-made' }),
  ] })
  t.equal(res.statusCode, 409)
  t.same((await deliveryRows(ctx)).map((r) => r.type), ['webhook.test'])
})

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
