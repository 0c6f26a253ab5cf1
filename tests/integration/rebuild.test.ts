// Projections are the fold of the ledger: rebuilding them from the events yields the very rows the
// append path wrote, for every event type of the catalogue.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { eventTypes } from '../../src/domain/catalogue.js'
import { execute, query } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { rebuildProjections } from '../../src/store/rebuild.js'
import { buildTestApp, ce, onPostgres, type TestApp } from '../helpers/app.js'
import { given, on, postEvents } from '../helpers/spine.js'

const projections = ['journeys', 'promises', 'vacancies'] as const

/** Every projection row of the tenant as canonical JSON text, in key order. */
async function snapshot(app: TestApp): Promise<Record<(typeof projections)[number], string[]>> {
  const rows = (table: string) => asOwner(app.app.db, (tx) => query<{ row: string }>(tx, sql`
    select to_jsonb(x)::text as row from ${sql.identifier(table)} x where tenant_id = ${app.tenantId} order by id`))
  const [journeys, promises, vacancies] = await Promise.all(projections.map(async (table) => (await rows(table)).map((r) => r.row)))
  return { journeys: journeys ?? [], promises: promises ?? [], vacancies: vacancies ?? [] }
}

// On the shared PostgreSQL other test files hold their own tenants: rebuild ours only.
const rebuild = (app: TestApp) => rebuildProjections(app.app.db, onPostgres ? { tenantId: app.tenantId } : {})

/** A whole career plus a candidate who never joined: every event type of the catalogue, some backfilled. */
async function scriptEveryType(app: TestApp): Promise<string[]> {
  const posted: string[] = []
  const post = async (...events: ReturnType<typeof ce>[]) => {
    await given(app, ...events)
    posted.push(...events.map((e) => e.type))
  }
  const at = (date: string) => ({ time: on(date) })
  const promise = (promiseId: string, category: string, due: Record<string, unknown>, time: string) =>
    ce('promise.made', 'j-1', { promiseId, category, text: `Promise ${promiseId}`, madeBy: 'm-1', madeAt: 'onboarding', kind: 'transactional', ...due }, at(time))

  await post(ce('vacancy.published', 'vac-1', { title: 'Engineer', department: 'Platform', publishedBy: 'r-1', promises: [{ category: 'flexibility', text: 'Remote Fridays', dueAfterStartDays: 30 }] }, at('2025-09-01')))
  await post(
    ce('candidate.applied', 'j-1', { personId: 'p-1', vacancyId: 'vac-1', channel: 'referral' }, at('2025-10-01')),
    ce('offer.made', 'j-1', { role: 'Engineer', department: 'Platform', madeBy: 'r-1', startDate: '2025-11-03', terms: [{ category: 'compensation', text: 'Review', dueAfterStartDays: 180 }] }, at('2025-10-10')),
    ce('offer.accepted', 'j-1', {}, at('2025-10-12')))
  await post(
    ce('employee.hired', 'j-1', { role: 'Engineer', department: 'Platform', manager: 'm-1', startDate: '2025-11-03' }, at('2025-10-15')),
    ce('vacancy.closed', 'vac-1', { reason: 'Filled' }, at('2025-10-16')))
  // the ATS backfills the interview after the hire
  await post(ce('interview.held', 'j-1', { interviewer: 'm-1', notes: 'Strong' }, at('2025-10-05')))
  await post(
    ce('onboarding.completed', 'j-1', {}, at('2025-12-01')),
    ce('checkin.held', 'j-1', { with: 'm-1', expectationsMet: 4, motivations: ['autonomy'], interests: ['data'], developmentWishes: ['lead'], notes: 'Good' }, at('2026-01-10')),
    ce('pulse.answered', 'j-1', { enps: 8, valued: 4, safe: 5, autonomy: 3, expectationsMet: 3 }, at('2026-02-01')),
    ce('recognition.given', 'j-1', { by: 'm-1', kind: 'award', note: 'Outage' }, at('2026-02-10')),
    ce('development.started', 'j-1', { kind: 'course', title: 'Data' }, at('2026-02-15')),
    ce('development.completed', 'j-1', { kind: 'course', title: 'Data' }, at('2026-03-15')),
    ce('role.changed', 'j-1', { role: 'Staff Engineer', manager: 'm-2', kind: 'promotion' }, at('2026-03-20')))
  await post(
    promise('pr-kept', 'development', { dueBy: '2026-04-30' }, '2026-01-15'),
    promise('pr-broken', 'flexibility', { dueAfterStartDays: 200 }, '2026-01-15'),
    promise('pr-reneg', 'career', { dueBy: '2026-09-01' }, '2026-01-15'),
    promise('pr-withdrawn', 'wellbeing', {}, '2026-01-15'))
  await post(
    ce('promise.kept', 'j-1', { promiseId: 'pr-kept', evidence: 'Paid' }, at('2026-04-01')),
    ce('promise.assessed', 'j-1', { promiseId: 'pr-kept', fulfilled: 2, comment: 'No time to study' }, at('2026-04-05')),
    ce('promise.broken', 'j-1', { promiseId: 'pr-broken', reason: 'Budget', cause: 'reneged' }, at('2026-05-01')),
    ce('promise.renegotiated', 'j-1', { promiseId: 'pr-reneg', text: 'Next year', dueBy: '2026-12-01', agreedByEmployee: true }, at('2026-05-05')),
    ce('promise.withdrawn', 'j-1', { promiseId: 'pr-withdrawn', reason: 'Twice' }, at('2026-05-06')))
  await post(
    ce('exit.announced', 'j-1', { kind: 'voluntary', reason: 'Moving', lastDay: '2026-05-29' }, at('2026-05-10')),
    ce('exit.interviewed', 'j-1', { reasons: ['relocation'], wouldRecommend: 9, wouldReturn: true, promisesKept: 3, notes: 'Fine' }, at('2026-05-20')),
    ce('employee.exited', 'j-1', { lastDay: '2026-05-29', regrettable: true }, at('2026-05-29')),
    ce('alumni.referred', 'j-1', { referredPersonId: 'p-9' }, at('2026-05-31')))
  // a second journey: a candidate who declined, withdrew and was rejected
  await post(
    ce('candidate.applied', 'j-2', { personId: 'p-2', vacancyId: 'vac-1' }, at('2025-09-10')),
    ce('offer.made', 'j-2', { role: 'Engineer', terms: [{ category: 'career', text: 'Lead role', dueBy: '2026-09-01' }] }, at('2025-09-20')),
    ce('offer.declined', 'j-2', { reason: 'Elsewhere' }, at('2025-09-25')),
    ce('candidate.withdrew', 'j-2', { reason: 'Moved' }, at('2025-09-26')),
    ce('candidate.rejected', 'j-2', { reason: 'Closed' }, at('2025-09-27')))
  return posted
}

t.test('a rebuild from the ledger yields the rows the append path wrote, for every event type', async (t) => {
  const app = await buildTestApp(t)
  const posted = await scriptEveryType(app)
  t.same([...new Set(posted)].sort(), [...eventTypes].sort(), 'the script covers the whole catalogue')

  const before = await snapshot(app)
  t.same([before.journeys.length, before.vacancies.length], [2, 1], 'two journeys, one vacancy')
  t.equal(before.promises.length, 7, 'four promises made, one from the vacancy, one from each offer')

  // when every projection is rebuilt
  const report = await rebuild(app)
  t.ok(report.streams >= 3 && report.events >= posted.length, `the rebuild read our streams (${JSON.stringify(report)})`)
  t.same(await snapshot(app), before, 'identical rows')

  // when rows are lost or damaged behind the ledger's back
  await asOwner(app.app.db, async (tx) => {
    await execute(tx, sql`delete from journeys where tenant_id = ${app.tenantId} and id = 'j-1'`)
    await execute(tx, sql`delete from promises where tenant_id = ${app.tenantId} and id = 'pr-kept'`)
    await execute(tx, sql`update journeys set stage = 'active', version = 1 where tenant_id = ${app.tenantId} and id = 'j-2'`)
    await execute(tx, sql`update vacancies set open = true where tenant_id = ${app.tenantId}`)
    await execute(tx, sql`
      insert into journeys (tenant_id, id, person_ref, stage, stage_since, version, stages, experience, signals, created_at, updated_at)
      select tenant_id, 'j-ghost', person_ref, stage, stage_since, version, stages, experience, signals, created_at, updated_at
      from journeys where tenant_id = ${app.tenantId} and id = 'j-2'`)
  })
  const damaged = await snapshot(app)
  t.notSame(damaged, before, 'the damage shows')

  // then a rebuild restores them exactly, and drops the row no stream stands behind
  await rebuild(app)
  t.same(await snapshot(app), before, 'restored identical, the ghost gone')
})

/** A journey's projection rows and its stored state, as canonical JSON text. */
async function journeyRows(app: TestApp, journeyId: string): Promise<string[]> {
  return (await asOwner(app.app.db, (tx) => query<{ row: string }>(tx, sql`
    select to_jsonb(j)::text as row from journeys j where tenant_id = ${app.tenantId} and id = ${journeyId}
    union all select * from (select to_jsonb(p)::text from promises p where tenant_id = ${app.tenantId} and journey_id = ${journeyId} order by id) p
    union all select state::text from streams where tenant_id = ${app.tenantId} and kind = 'journey' and id = ${journeyId}`))).map((r) => r.row)
}

/** One career, in world-time order: hire, check-ins and pulses, promises made and resolved, an exit. */
function career(journeyId: string): ReturnType<typeof ce>[] {
  const at = (date: string) => ({ time: on(date) })
  return [
    ce('candidate.applied', journeyId, { personId: `p-${journeyId}`, channel: 'referral' }, at('2025-01-05')),
    ce('offer.made', journeyId, { role: 'Engineer', department: 'Platform', startDate: '2025-02-03', terms: [{ category: 'compensation', text: 'Review', dueAfterStartDays: 180 }] }, at('2025-01-20')),
    ce('employee.hired', journeyId, { role: 'Engineer', department: 'Platform', manager: 'm-1', startDate: '2025-02-03' }, at('2025-01-25')),
    ce('promise.made', journeyId, { promiseId: `${journeyId}-pr1`, category: 'development', text: 'A course', madeBy: 'm-1', dueBy: '2025-06-30' }, at('2025-02-10')),
    ce('onboarding.completed', journeyId, {}, at('2025-03-01')),
    ce('pulse.answered', journeyId, { enps: 9, expectationsMet: 5 }, at('2025-03-15')),
    ce('checkin.held', journeyId, { with: 'm-1', expectationsMet: 4, interests: ['data'], notes: 'Fine' }, at('2025-04-01')),
    ce('promise.kept', journeyId, { promiseId: `${journeyId}-pr1`, evidence: 'Done' }, at('2025-05-01')),
    ce('promise.assessed', journeyId, { promiseId: `${journeyId}-pr1`, fulfilled: 2 }, at('2025-05-10')),
    ce('role.changed', journeyId, { role: 'Senior Engineer', kind: 'promotion' }, at('2025-06-01')),
    ce('pulse.answered', journeyId, { enps: 5, expectationsMet: 2 }, at('2025-07-01')),
    ce('exit.announced', journeyId, { kind: 'voluntary', lastDay: '2025-08-31' }, at('2025-08-01')),
  ]
}

t.test('the live state and rows equal a rebuild from the ledger, whatever order the events arrived in', async (t) => {
  const app = await buildTestApp(t)
  // A few seeded shuffles: each delivers the career in a random order, one to three events per request.
  // An event the rules refuse yet (a keep before its promise) is sent again after the others, as an integrator retries.
  let seed = 7
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647
  for (let run = 0; run < 6; run++) {
    const journeyId = `j-order-${run}`
    let waiting = career(journeyId).sort(() => random() - 0.5)
    for (let round = 0; waiting.length > 0 && round < 20; round++) {
      const refused: typeof waiting = []
      for (let i = 0; i < waiting.length;) {
        const chunk = waiting.slice(i, i += 1 + Math.floor(random() * 3))
        const res = await postEvents(app, chunk)
        if (res.statusCode !== 201) refused.push(...chunk)
      }
      waiting = refused
    }
    t.equal(waiting.length, 0, `run ${run}: every event stored in the end`)
    const live = await journeyRows(app, journeyId)
    t.equal(live.length, 4, `run ${run}: a journey, two promises and a state`)
    await rebuild(app)
    t.same(await journeyRows(app, journeyId), live, `run ${run}: the rebuild equals what the append path wrote`)
  }
})
