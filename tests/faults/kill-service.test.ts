// Given the real service under a load of idempotent ingests, when it is killed with SIGKILL (no
// shutdown at all) and started again on the same port, then every event that got a 201 is in the
// ledger with the version and position it was given, nothing is stored twice, and the
// projections equal a rebuild from the ledger.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { rebuildProjections } from '../../src/store/rebuild.js'
import {
  brokenStreams, createTenantVia, duplicateEvents, ledgerOf, openTestDatabase, postgresUrl, projectionSnapshot,
  startService, suiteSeed, waitFor, within,
} from '../helpers/faults.js'
import { startJourneyLoad, unexpectedAnswers } from '../helpers/load.js'

const databaseUrl = postgresUrl()

if (!databaseUrl) {
  t.plan(0, 'skipped: DATABASE_URL is not set (CI runs this against PostgreSQL)')
} else {
  t.test('kill -9 of the service mid-load, then a restart', async (t) => {
    const seed = suiteSeed()
    t.comment(`seed ${seed} (FAULT_SEED=${seed} reproduces the load)`)
    const first = await startService(t, { databaseUrl })
    const { db } = await openTestDatabase(t, databaseUrl)
    const tenant = await createTenantVia(first, 'Fault kill-9')
    const runId = randomBytes(4).toString('hex')

    const load = startJourneyLoad({
      targets: [first.baseUrl], key: tenant.adminKey, runId, seed, journeys: 2_000, concurrency: 8,
      deadline: Date.now() + 90_000, idempotencyKeys: true, retryDelayMs: 100,
    })
    t.teardown(async () => {
      load.abort()
      await load.done
    })

    await waitFor('150 events acknowledged', () => (load.acknowledged() >= 150 ? true : undefined), 30_000)
    const killedAt = Date.now()
    first.signal('SIGKILL')
    const exit = await within(first.exited, 10_000)
    t.same(exit, { code: null, signal: 'SIGKILL' }, 'the service died of SIGKILL')
    const ackedAtKill = load.acknowledged()

    // The same port, as a supervisor would restart it: the clients keep retrying the same URL.
    const second = await startService(t, { databaseUrl, port: first.port })
    const restartedAt = Date.now()
    await waitFor('150 more events acknowledged after the restart', () => (load.acknowledged() >= ackedAtKill + 150 ? true : undefined), 45_000)
    load.stop()
    // Keys claimed by the killed process stay "in flight" until abandoned (60 s): do not wait that long.
    await within(load.done, 10_000)
    load.abort()
    await load.done
    t.ok(second.alive(), 'the restarted service is alive')
    t.comment(`killed after ${ackedAtKill} acknowledgements; restarted in ${restartedAt - killedAt} ms; ${load.acknowledged()} acknowledged in all`)

    const unexpected = unexpectedAnswers(load.attempts)
    t.same(unexpected.map((a) => ({ status: a.answer.status, body: a.answer.body })).slice(0, 5), [],
      'every answer was a 201, a retryable 503 or 409 in flight, or no answer while the service was dead')
    const noAnswer = load.attempts.filter((a) => a.answer.status === 0)
    const afterRestart = noAnswer.filter((a) => a.started > restartedAt)
    t.same(afterRestart.map((a) => a.answer.error), [], 'once restarted, every request got an answer')
    const inFlight = load.attempts.filter((a) => a.answer.status === 409)
    const stuck = [...load.outcomes.values()].filter((o) => !o.result)
    t.comment(`${noAnswer.length} requests got no answer while the service was dead; ${inFlight.length} retries were told ` +
      `their Idempotency-Key was in flight (claims of the killed process: abandoned after 60 s); ${stuck.length} events left unacknowledged`)

    const stored = new Map((await ledgerOf(db, tenant.tenantId)).map((r) => [`${r.source}/${r.id}`, r]))
    const outcomes = [...load.outcomes.values()]
    const missing = outcomes.filter((o) => o.result && !stored.has(`${o.event.source}/${o.event.id}`))
    t.same(missing.map((o) => o.event.id), [], 'every event that got a 201 is in the ledger')
    const moved = outcomes.filter((o) => {
      const row = stored.get(`${o.event.source}/${o.event.id}`)
      return o.result && row && (row.version !== o.result.version || row.position !== o.result.position)
    })
    t.same(moved.map((o) => o.event.id), [], 'each 201 named the version and position the ledger holds')
    const strangers = [...stored.values()].filter((r) => r.source === `fault:${runId}` && !load.outcomes.has(`${r.source}/${r.id}`))
    t.same(strangers.map((r) => r.id), [], 'the ledger holds no event the clients did not send')
    t.same(await duplicateEvents(db, tenant.tenantId), [], 'no source + id is stored twice')
    t.same(await brokenStreams(db, tenant.tenantId), [], 'every stream has versions 1..n, no gaps, no repeats')

    const projected = await projectionSnapshot(db, tenant.tenantId)
    t.ok((projected.journeys?.length ?? 0) > 0, `projections to compare (${projected.journeys?.length ?? 0} journeys, ${projected.promises?.length ?? 0} promises)`)
    await rebuildProjections(db, { tenantId: tenant.tenantId })
    t.same(await projectionSnapshot(db, tenant.tenantId), projected, 'the projections equal a rebuild from the ledger')
  })
}
