// Two instances on one PostgreSQL database: given 500 notifications due, when both workers drain
// at once, then each notification is delivered exactly once (claims skip rows the other holds).
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, ce, onPostgres, testConfig } from '../helpers/app.js'
import { startReceiver, subscribe, webhookSettings } from '../helpers/webhooks.js'

t.test('two workers racing over 500 notifications deliver each exactly once', { skip: onPostgres ? false : 'PostgreSQL only (PGlite is one connection)' }, async (t) => {
  const ctx = await buildTestApp(t, { webhooks: { ...webhookSettings, concurrency: 8, timeoutMs: 5_000 } })
  const second = await buildApp(testConfig({ now: ctx.clock.now, webhooks: { ...webhookSettings, concurrency: 8, timeoutMs: 5_000 } }))
  t.teardown(() => second.close())
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 2 }))
  await subscribe(ctx, receiver)
  for (let batch = 0; batch < 5; batch++) {
    const events = Array.from({ length: batch === 4 ? 99 : 100 }, (_, i) => ce('candidate.applied', `race-${batch}-${i}`, { personId: `p-${batch}-${i}` }))
    t.equal((await ctx.request({ method: 'POST', url: '/v1/events', payload: events })).statusCode, 201)
  }
  const [a, b] = await Promise.all([ctx.app.webhooks.drain(ctx.tenantId), second.webhooks.drain(ctx.tenantId)])
  t.equal(a + b, 500, `attempts: ${a} + ${b}`)
  t.ok(a > 0 && b > 0, 'both workers took part')
  const perId = new Map<string, number>()
  for (const r of receiver.received) perId.set(String(r.headers['webhook-id']), (perId.get(String(r.headers['webhook-id'])) ?? 0) + 1)
  t.equal(perId.size, 500, 'every notification arrived')
  t.same([...perId.values()].filter((n) => n !== 1), [], 'none twice')
})
