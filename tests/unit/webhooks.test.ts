// Webhook rules without a database: filters, the back-off schedule with its jitter, and verdicts.
import t from 'tap'
import { backoffSeconds, filterProblems, judgeAttempt, matches, newWebhookSecret } from '../../src/domain/webhooks.js'

t.test('filters: exact types, families, *; anything else is named by index', async (t) => {
  t.same(filterProblems(['*', 'promise.*', 'employee.exited', 'promise.due', 'webhook.test']), [])
  t.same(filterProblems(['employee.fired', 'nope.*', 'promise']).map((p) => p.path), ['/events/0', '/events/1', '/events/2'])
  t.ok(matches(['promise.*'], 'promise.overdue'))
  t.ok(matches(['*'], 'vacancy.closed'))
  t.notOk(matches(['promise.made'], 'promise.kept'))
  t.notOk(matches(['employee.*'], 'exit.announced'))
})

t.test('secrets are whsec_ and 32 random bytes', async (t) => {
  const secret = newWebhookSecret()
  t.match(secret, /^whsec_/)
  t.equal(Buffer.from(secret.slice(6), 'base64').length, 32)
  t.not(newWebhookSecret(), secret)
})

t.test('only 2xx succeeds; the schedule is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h within 10 % jitter, then exhausted', async (t) => {
  const fail = { statusCode: 500, retryAfterSeconds: null }
  t.same(judgeAttempt(1, { statusCode: 204, retryAfterSeconds: null }, 0.5), { kind: 'succeeded' })
  t.same(judgeAttempt(1, { statusCode: 302, retryAfterSeconds: null }, 0.5).kind, 'retry', 'a redirect is not followed, and not a success')
  backoffSeconds.forEach((base, i) => {
    t.same(judgeAttempt(i + 1, fail, 0.5), { kind: 'retry', afterSeconds: base })
    const low = judgeAttempt(i + 1, fail, 0)
    const high = judgeAttempt(i + 1, fail, 0.999)
    t.ok(low.kind === 'retry' && low.afterSeconds >= base * 0.9 && high.kind === 'retry' && high.afterSeconds <= base * 1.1)
  })
  t.same(judgeAttempt(8, fail, 0.5), { kind: 'exhausted' })
  t.same(judgeAttempt(1, { statusCode: null, retryAfterSeconds: null }, 0.5).kind, 'retry', 'no answer is a failure')
})

t.test('410 is gone; Retry-After on 429 and 503 is honoured (up to a day), ignored on others', async (t) => {
  t.same(judgeAttempt(3, { statusCode: 410, retryAfterSeconds: null }, 0.5), { kind: 'gone' })
  t.same(judgeAttempt(1, { statusCode: 429, retryAfterSeconds: 120 }, 0.5), { kind: 'retry', afterSeconds: 120 })
  t.same(judgeAttempt(1, { statusCode: 503, retryAfterSeconds: 10 ** 9 }, 0.5), { kind: 'retry', afterSeconds: 86_400 })
  t.same(judgeAttempt(1, { statusCode: 500, retryAfterSeconds: 120 }, 0.5), { kind: 'retry', afterSeconds: 5 })
})
