// Given deliveries committed with their events, some claimed and in flight to a receiver that has
// not answered, when the service is killed with SIGKILL and started again, then every delivery
// arrives after the restart: the unclaimed ones at once, the claimed ones once their lease ends.
import t from 'tap'
import { call, createTenantVia, postgresUrl, startService, waitFor, within } from '../helpers/faults.js'
import { ce } from '../helpers/app.js'
import { startReceiver } from '../helpers/webhooks.js'

const databaseUrl = postgresUrl()
const env = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_POLL_INTERVAL_MS: '100', WEBHOOK_CONCURRENCY: '8' }

if (!databaseUrl) {
  t.plan(0, 'skipped: DATABASE_URL is not set (CI runs this against PostgreSQL)')
} else {
  t.test('kill -9 between commit and delivery: delivered after the restart', async (t) => {
    let holding = true
    const receiver = await startReceiver(t, () => (holding ? { status: 200, delayMs: 30_000 } : { status: 200 }))
    const first = await startService(t, { databaseUrl, env })
    const tenant = await createTenantVia(first, 'Webhooks kill-9')
    const subscribed = await call(first.baseUrl, 'POST', '/v1/webhooks', { key: tenant.adminKey, body: { url: receiver.url, events: ['candidate.applied'] } })
    t.equal(subscribed.status, 201)
    const body = subscribed.body
    const webhookId = typeof body === 'object' && body !== null && 'webhook' in body && typeof body.webhook === 'object' && body.webhook !== null && 'id' in body.webhook ? String(body.webhook.id) : ''
    const events = Array.from({ length: 20 }, (_, i) => ce('candidate.applied', `kill-${i}`, { personId: `kp-${i}` }))
    t.equal((await call(first.baseUrl, 'POST', '/v1/events', { key: tenant.adminKey, body: events })).status, 201)

    await waitFor('a delivery in flight', () => (receiver.received.length > 0 ? true : undefined), 10_000)
    first.signal('SIGKILL')
    t.same(await within(first.exited, 10_000), { code: null, signal: 'SIGKILL' })
    const inFlightAtKill = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))
    t.ok(inFlightAtKill.size > 0 && inFlightAtKill.size < 21, `${inFlightAtKill.size} of 21 in flight when killed`)
    holding = false

    const second = await startService(t, { databaseUrl, env, port: first.port })
    const deliveries = await waitFor('every delivery succeeded', async () => {
      const answer = await call(second.baseUrl, 'GET', `/v1/webhooks/${webhookId}/deliveries?limit=200`, { key: tenant.adminKey })
      const list = typeof answer.body === 'object' && answer.body !== null && 'data' in answer.body && Array.isArray(answer.body.data) ? answer.body.data : []
      const ids = list.flatMap((d: unknown) => (typeof d === 'object' && d !== null && 'id' in d && 'status' in d ? [{ id: String(d.id), status: String(d.status) }] : []))
      return ids.length === 21 && ids.every((d) => d.status === 'succeeded') ? ids : undefined
    }, 60_000, 250)
    const received = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))
    t.same(deliveries.filter((d) => !received.has(d.id)), [], 'the receiver got every delivery')
    t.same([...inFlightAtKill].filter((id) => receiver.received.filter((r) => r.headers['webhook-id'] === id).length < 2), [],
      'those in flight at the kill were sent again, with the same webhook-id')
  })
}
