// Given the real service under a load of idempotent ingests, when PostgreSQL dies (pg_ctl stop
// -m immediate) for a few seconds and comes back, then: while it is down every answer is a fast
// 503 problem document with Retry-After, /readyz fails and the process lives; afterwards the
// service recovers by itself, every event that got a 201 is in the ledger, and the clients that
// kept retrying end with each event stored exactly once.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { rebuildProjections } from '../../src/store/rebuild.js'
import {
  brokenStreams, call, ciPostgres, createTenantVia, duplicateEvents, ensurePostgresRunning, ledgerOf, openTestDatabase,
  problemDefects, projectionSnapshot, startPostgres, startService, stopPostgresImmediately, suiteSeed, waitFor, type Answer,
} from '../helpers/faults.js'
import { startJourneyLoad, unexpectedAnswers, type Attempt } from '../helpers/load.js'

const pg = ciPostgres()
const fastMs = 2_000 // a 503 must come back at least this fast
const downForMs = 4_000

if (typeof pg === 'string') {
  t.plan(0, `skipped: ${pg}`)
} else {
  t.test('the database dies mid-load and comes back', async (t) => {
    const seed = suiteSeed()
    t.comment(`seed ${seed} (FAULT_SEED=${seed} reproduces the load)`)
    t.teardown(() => ensurePostgresRunning(pg))
    const service = await startService(t, { databaseUrl: pg.databaseUrl })
    const { db } = await openTestDatabase(t, pg.databaseUrl)
    const tenant = await createTenantVia(service, 'Fault db-down')
    const runId = randomBytes(4).toString('hex')

    let downAt = Infinity
    let upAt = Infinity
    const duringOutage: Attempt[] = []
    const load = startJourneyLoad({
      targets: [service.baseUrl], key: tenant.adminKey, runId, seed, journeys: 2_000, concurrency: 8,
      deadline: Date.now() + 100_000, idempotencyKeys: true, retryDelayMs: 100,
      onAnswer: (attempt) => {
        if (attempt.started >= downAt && attempt.started + attempt.answer.ms <= upAt) duringOutage.push(attempt)
      },
    })
    t.teardown(async () => {
      load.abort()
      await load.done
    })
    // A dead service fails the test at once, with what it said before dying.
    const living = () => {
      if (!service.alive()) throw new Error(`the service process died; its last output:\n${service.output().slice(-4_000)}`)
    }

    await waitFor('100 events acknowledged before the fault', () => (living(), load.acknowledged() >= 100 ? true : undefined), 30_000)
    const ackedBefore = load.acknowledged()

    // The fault: every backend dies at once; the service's pool sees its connections vanish.
    downAt = Date.now()
    await stopPostgresImmediately(pg)
    const probes: { readyz: Answer; healthz: Answer }[] = []
    try {
      while (Date.now() - downAt < downForMs) {
        probes.push({
          readyz: await call(service.baseUrl, 'GET', '/readyz', { timeoutMs: 5_000 }),
          healthz: await call(service.baseUrl, 'GET', '/healthz', { timeoutMs: 5_000 }),
        })
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      living()
      t.pass('the service process is alive while the database is down')
    } finally {
      upAt = Date.now()
      await startPostgres(pg)
    }
    const restartedAt = Date.now()

    // Recovery without any help: /readyz turns 200 and the load moves on.
    const recoveredAt = await waitFor('/readyz to answer 200 after the restart', async () => {
      living()
      const ready = await call(service.baseUrl, 'GET', '/readyz', { timeoutMs: 5_000 })
      return ready.status === 200 ? Date.now() : undefined
    }, 30_000, 100)
    const ackedAtRecovery = load.acknowledged()
    await waitFor('100 more events acknowledged after recovery', () => (living(), load.acknowledged() >= ackedAtRecovery + 100 ? true : undefined), 45_000)
    load.stop()
    await load.done
    t.ok(service.alive(), 'the service process never died')
    t.comment(`acknowledged ${ackedBefore} before the fault, ${ackedAtRecovery} at recovery, ${load.acknowledged()} in all; ` +
      `PostgreSQL down ${upAt - downAt} ms, restarted in ${restartedAt - upAt} ms, service ready ${recoveredAt - restartedAt} ms later`)

    // While it was down.
    t.ok(probes.length > 0, 'probed the service while the database was down')
    const readyFailures = probes.filter((p) => p.readyz.status !== 503 || problemDefects(p.readyz).length > 0 || p.readyz.ms >= fastMs)
    t.same(readyFailures.map((p) => ({ status: p.readyz.status, ms: Math.round(p.readyz.ms), defects: problemDefects(p.readyz) })), [],
      '/readyz fails fast with a 503 problem document on every probe')
    t.same(probes.filter((p) => p.healthz.status !== 200).map((p) => p.healthz.status), [], '/healthz (process alive) stays 200')

    const outage503 = duringOutage.filter((a) => a.answer.status === 503)
    t.ok(outage503.length > 0, `ingests during the outage got 503s (${outage503.length})`)
    const all503 = load.attempts.filter((a) => a.answer.status === 503)
    const bad503 = all503.filter((a) => problemDefects(a.answer).length > 0 || !/^[1-9]\d*$/.test(a.answer.headers.get('retry-after') ?? ''))
    t.same(bad503.map((a) => ({ defects: problemDefects(a.answer), retryAfter: a.answer.headers.get('retry-after'), body: a.answer.body })).slice(0, 5), [],
      'every 503 is a problem document with a Retry-After in seconds')
    const slow = all503.filter((a) => a.answer.ms >= fastMs)
    t.same(slow.map((a) => Math.round(a.answer.ms)).slice(0, 10), [], `every 503 came back within ${fastMs} ms`)
    t.comment(`503s: ${all503.length}, slowest ${Math.round(Math.max(0, ...all503.map((a) => a.answer.ms)))} ms`)
    const dropped = load.attempts.filter((a) => a.answer.status === 0)
    t.same(dropped.map((a) => a.answer.error).slice(0, 5), [], 'no request lost its connection or timed out')
    const unexpected = unexpectedAnswers(load.attempts)
    t.same(unexpected.map((a) => ({ status: a.answer.status, body: a.answer.body })).slice(0, 5), [], 'no answer but 201, a 503, or a 409 for an Idempotency-Key in flight')
    const inFlight409 = load.attempts.filter((a) => a.answer.status === 409)
    if (inFlight409.length > 0) t.comment(`${inFlight409.length} retries were told their Idempotency-Key was still in flight`)

    // Afterwards: the ledger holds exactly what was acknowledged, once.
    const outcomes = [...load.outcomes.values()]
    const unacknowledged = outcomes.filter((o) => !o.result)
    t.same(unacknowledged.map((o) => `${o.event.id} after ${o.attempts} attempts`), [], 'every event the clients sent was acknowledged in the end')
    const stored = new Map((await ledgerOf(db, tenant.tenantId)).map((r) => [`${r.source}/${r.id}`, r]))
    const missing = outcomes.filter((o) => o.result && !stored.has(`${o.event.source}/${o.event.id}`))
    t.same(missing.map((o) => o.event.id), [], 'every event that got a 201 is in the ledger')
    const moved = outcomes.filter((o) => {
      const row = stored.get(`${o.event.source}/${o.event.id}`)
      return o.result && row && (row.version !== o.result.version || row.position !== o.result.position || row.subject !== o.event.subject)
    })
    t.same(moved.map((o) => o.event.id), [], 'each 201 named the version and position the ledger holds')
    const strangers = [...stored.values()].filter((r) => r.source === `fault:${runId}` && !load.outcomes.has(`${r.source}/${r.id}`))
    t.same(strangers.map((r) => r.id), [], 'the ledger holds no event the clients did not send')
    const retriedIntoDuplicate = outcomes.filter((o) => o.result?.duplicate)
    t.comment(`${retriedIntoDuplicate.length} events were stored by an attempt whose answer was lost; their retry answered duplicate: true`)
    t.same(await duplicateEvents(db, tenant.tenantId), [], 'no source + id is stored twice')
    t.same(await brokenStreams(db, tenant.tenantId), [], 'every stream has versions 1..n, no gaps, no repeats')

    const projected = await projectionSnapshot(db, tenant.tenantId)
    await rebuildProjections(db, { tenantId: tenant.tenantId })
    t.same(await projectionSnapshot(db, tenant.tenantId), projected, 'the projections equal a rebuild from the ledger')
  })
}
