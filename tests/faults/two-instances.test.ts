// Given two instances of the service on one database, when many writers append to the same few
// journeys through both at once (each with the `expectedversion` it last read), and the same
// events (same source + id, or the same Idempotency-Key) are sent to both instances at the same
// moment, then optimistic concurrency holds (a stale expectedversion is a 409, never two events
// with one version), nothing is stored twice, and the projections equal a rebuild.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { rebuildProjections } from '../../src/store/rebuild.js'
import {
  brokenStreams, call, createTenantVia, duplicateEvents, ledgerOf, look, openTestDatabase, postgresUrl, problemDefects,
  projectionSnapshot, seededRandom, startService, suiteSeed, type Answer,
} from '../helpers/faults.js'
import { firstResult } from '../helpers/load.js'

const databaseUrl = postgresUrl()
const journeyCount = 6
const writersPerInstance = 8
const writesPerWriter = 30
const duplicatePairs = 60

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

if (!databaseUrl) {
  t.plan(0, 'skipped: DATABASE_URL is not set (CI runs this against PostgreSQL)')
} else {
  t.test('two instances, one database, the same journeys', async (t) => {
    const seed = suiteSeed()
    t.comment(`seed ${seed} (FAULT_SEED=${seed} reproduces the writers' choices)`)
    const random = seededRandom(seed)
    const [a, b] = await Promise.all([startService(t, { databaseUrl }), startService(t, { databaseUrl })])
    if (!a || !b) throw new Error('two instances expected')
    const instances = [a, b]
    const { db } = await openTestDatabase(t, databaseUrl)
    const tenant = await createTenantVia(a, 'Fault two-instances')
    const runId = randomBytes(4).toString('hex')
    const source = `fault:${runId}`
    const key = tenant.adminKey
    const journeys = Array.from({ length: journeyCount }, (_, i) => `j-${runId}-${i}`)
    let eventNo = 0
    const event = (subject: string, type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      ({ specversion: '1.0', id: `e${eventNo++}`, source, type, subject, data, ...extra })

    for (const subject of journeys) {
      const opened = await call(a.baseUrl, 'POST', '/v1/events', {
        key, body: event(subject, 'employee.hired', { personId: `p-${subject}`, startDate: '2025-03-03', manager: 'm-1', department: 'Ops' }),
      })
      t.equal(opened.status, 201, `journey ${subject} opened`)
    }

    // Writers: read the journey's version through one instance, append with it through either.
    interface Write { subject: string; expected: number; id: string; answer: Answer }
    const writes: Write[] = []
    const writer = async (home: number) => {
      for (let i = 0; i < writesPerWriter; i++) {
        const subject = journeys[Math.floor(random() * journeys.length)] ?? ''
        const reader = instances[(home + i) % 2] ?? a
        const read = await call(reader.baseUrl, 'GET', `/v1/journeys/${subject}`, { key })
        const version = isRecord(read.body) && typeof read.body.version === 'number' ? read.body.version : -1
        if (read.status !== 200 || version < 1) {
          writes.push({ subject, expected: version, id: '', answer: read })
          continue
        }
        const body = random() < 0.5
          ? event(subject, 'pulse.answered', { enps: Math.floor(random() * 11) }, { expectedversion: version })
          : event(subject, 'checkin.held', { expectationsMet: 1 + Math.floor(random() * 5) }, { expectedversion: version })
        const target = instances[Math.floor(random() * 2)] ?? a
        writes.push({ subject, expected: version, id: body.id, answer: await call(target.baseUrl, 'POST', '/v1/events', { key, body }) })
      }
    }

    // Twins: one event sent to both instances at once, half with the same Idempotency-Key too.
    interface Twin { id: string; withKey: boolean; answers: Answer[] }
    const twins: Twin[] = []
    const twinSender = async () => {
      for (let i = 0; i < duplicatePairs; i++) {
        const subject = journeys[i % journeys.length] ?? ''
        const body = event(subject, 'recognition.given', { kind: 'compliment' })
        const withKey = i % 2 === 0
        const headers: Record<string, string> = withKey ? { 'idempotency-key': `twin-${runId}-${i}` } : {}
        const answers = await Promise.all(instances.map((instance) => call(instance.baseUrl, 'POST', '/v1/events', { key, body, headers })))
        twins.push({ id: body.id, withKey, answers })
      }
    }

    const started = Date.now()
    await Promise.all([
      ...Array.from({ length: writersPerInstance * 2 }, (_, w) => writer(w % 2)),
      twinSender(),
    ])
    const elapsed = Date.now() - started
    t.ok(a.alive() && b.alive(), 'both instances are alive')

    // Optimistic concurrency.
    const created = writes.filter((w) => w.answer.status === 201)
    const conflicts = writes.filter((w) => w.answer.status === 409)
    const odd = writes.filter((w) => w.answer.status !== 201 && w.answer.status !== 409)
    t.same(odd.map((w) => ({ status: w.answer.status, body: w.answer.body })).slice(0, 5), [], 'every versioned write got a 201 or a 409')
    const badConflicts = conflicts.filter((w) => problemDefects(w.answer).length > 0 || !isRecord(w.answer.body) || w.answer.body.code !== 'version-mismatch')
    t.same(badConflicts.map((w) => w.answer.body).slice(0, 5), [], 'every 409 is a version-mismatch problem document')
    t.ok(conflicts.length > 0, `writers collided (${conflicts.length} conflicts of ${writes.length} writes)`)
    const wrongVersion = created.filter((w) => firstResult(w.answer.body)?.version !== w.expected + 1)
    t.same(wrongVersion.map((w) => ({ expected: w.expected, got: firstResult(w.answer.body)?.version })), [],
      'each accepted write took exactly the version after the one it expected')
    t.comment(`${writes.length} versioned writes in ${elapsed} ms: ${created.length} stored, ${conflicts.length} conflicts`)

    // No duplicates.
    const twinProblems = twins.filter((twin) => {
      const results = twin.answers.map((ans) => (ans.status === 201 ? firstResult(ans.body) : undefined))
      const stored = results.filter((r) => r !== undefined)
      // A replay (same Idempotency-Key) repeats the first answer, duplicate: false included.
      const fresh = twin.answers.filter((ans, i) => results[i]?.duplicate === false && ans.headers.get('idempotent-replayed') !== 'true')
      const samePlace = new Set(stored.map((r) => `${r.version}/${r.position}`)).size <= 1
      const othersOk = twin.answers.every((ans) => ans.status === 201
        || (twin.withKey && ans.status === 409 && isRecord(ans.body) && ans.body.code === 'idempotency-in-flight'))
      return fresh.length !== 1 || !samePlace || !othersOk
    })
    t.same(twinProblems.map((twin) => ({ id: twin.id, answers: twin.answers.map((ans) => [ans.status, ans.body]) })).slice(0, 3), [],
      'each event sent to both instances at once was stored by exactly one; the other answered duplicate, replayed, or in flight')
    const tally = new Map<string, number>()
    for (const twin of twins) {
      for (const ans of twin.answers) {
        const kind = ans.headers.get('idempotent-replayed') === 'true' ? 'replayed' : ans.status === 201 ? (firstResult(ans.body)?.duplicate ? 'duplicate' : 'stored') : String(ans.status)
        tally.set(kind, (tally.get(kind) ?? 0) + 1)
      }
    }
    t.comment(`twins: ${[...tally].map(([k, v]) => `${k}: ${v}`).join(', ')}`)

    const ledger = (await ledgerOf(db, tenant.tenantId)).filter((r) => r.source === source)
    const byId = new Map(ledger.map((r) => [r.id, r]))
    t.same(await duplicateEvents(db, tenant.tenantId), [], 'no source + id is stored twice')
    t.same(await brokenStreams(db, tenant.tenantId), [], 'no two events of a stream share a version; versions are 1..n')
    const ghost = created.filter((w) => byId.get(w.id)?.version !== firstResult(w.answer.body)?.version)
    t.same(ghost.map((w) => w.id), [], 'every accepted write is in the ledger at the version it was given')
    const refusedButStored = conflicts.filter((w) => byId.has(w.id))
    t.same(refusedButStored.map((w) => w.id), [], 'no refused write was stored')
    t.equal(ledger.length, journeys.length + created.length + twins.length, 'the ledger holds the openings, the accepted writes and one copy of each twin')

    const versions = await look<{ id: string; version: number }>(db, sql`
      select j.id, j.version from journeys j where j.tenant_id = ${tenant.tenantId} order by j.id`)
    const streamLength = new Map<string, number>()
    for (const row of ledger) streamLength.set(row.subject, Math.max(streamLength.get(row.subject) ?? 0, row.version))
    t.same(versions.map((v) => [v.id, v.version]), [...streamLength].sort(([x], [y]) => (x < y ? -1 : 1)), 'each journey\'s version is its stream\'s length')
    const projected = await projectionSnapshot(db, tenant.tenantId)
    await rebuildProjections(db, { tenantId: tenant.tenantId })
    t.same(await projectionSnapshot(db, tenant.tenantId), projected, 'the projections equal a rebuild from the ledger')
  })
}
