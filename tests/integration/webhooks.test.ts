// Subscriptions: given a subscription and a real receiver on a loopback port, when events are
// appended and the worker drains, then the receiver gets each matching event once, signed.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
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
