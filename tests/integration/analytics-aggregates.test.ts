// The maintained aggregates equal a computation from scratch: over generated populations posted in
// batches of random sizes, with some events held back and posted late (backfills that refold their
// journeys), department moves and late outcomes, the cells the appends maintained equal the cells
// filled anew from the projection rows, and every figure of every grouping is the same either way.
// A rebuild keeps them equal too.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { generatePopulation, mulberry32 as random, populationBatches, type PopulationEvent } from '../../src/domain/population.js'
import { fillPendingAggregates } from '../../src/store/aggregates.js'
import { promiseGroupings, retentionGroupings } from '../../src/store/analytics.js'
import { execute, query } from '../../src/store/database.js'
import { rebuildProjections } from '../../src/store/rebuild.js'
import { buildTestApp, ce, onPostgres, type TestApp } from '../helpers/app.js'
import { asOwner } from '../helpers/owner.js'

const now = new Date('2026-06-01T09:00:00.000Z')

/** The tenant's non-zero aggregate cells as canonical text, in key order. */
async function cells(h: TestApp): Promise<{ counts: string[]; people: string[] }> {
  return asOwner(h.app.db, async (tx) => ({
    counts: (await query<{ row: string }>(tx, sql`
      select concat_ws('|', analysis, grouping, month, group_key, measure, bucket, value) as row from analytics_counts
      where tenant_id = ${h.tenantId} and value <> 0 order by 1`)).map((r) => r.row),
    people: (await query<{ row: string }>(tx, sql`
      select concat_ws('|', analysis, grouping, month, group_key, split, person_ref, value) as row from analytics_people
      where tenant_id = ${h.tenantId} and value <> 0 order by 1`)).map((r) => r.row),
  }))
}

/** Every figure of every grouping of both endpoints, all time and over a period. */
async function figures(h: TestApp): Promise<unknown[]> {
  const answers: unknown[] = []
  for (const [path, groupings] of [['/v1/analytics/promises', promiseGroupings], ['/v1/analytics/retention', retentionGroupings]] as const) {
    for (const groupBy of groupings) {
      for (const period of ['', '&from=2024-03-01&to=2025-08-31']) {
        const res = await h.request({ method: 'GET', url: `${path}?groupBy=${groupBy}&minGroupSize=3${period}` })
        if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
        answers.push(res.json())
      }
    }
  }
  return answers
}

/** Posts a population in batches of random sizes; about one event in six that can arrive late is held back and posted last, one at a time. */
async function postShuffled(h: TestApp, seed: number, journeys: number): Promise<{ late: number; refused: number }> {
  const dice = random(seed)
  const population = generatePopulation({ journeys, seed, now })
  const all: PopulationEvent[] = [...population.vacancies, ...[...populationBatches(population, 1000)].flat().filter((e) => e.type !== 'vacancy.published')]
  const lateTypes = new Set(['role.changed', 'promise.assessed', 'pulse.answered', 'checkin.held', 'recognition.given'])
  const held = all.filter((e) => lateTypes.has(e.type) && dice() < 0.16)
  const heldIds = new Set(held.map((e) => e.id))
  const inOrder = all.filter((e) => !heldIds.has(e.id))
  for (let i = 0; i < inOrder.length;) {
    const size = 1 + Math.floor(dice() * 60)
    const res = await h.request({ method: 'POST', url: '/v1/events', payload: inOrder.slice(i, i + size) })
    if (res.statusCode !== 201) throw new Error(`POST /v1/events: ${res.statusCode} ${res.body}`)
    i += size
  }
  let refused = 0
  for (const event of held.sort(() => dice() - 0.5)) {
    const res = await h.request({ method: 'POST', url: '/v1/events', payload: event })
    if (res.statusCode !== 201) refused += 1
  }
  return { late: held.length, refused }
}

/** Department moves and outcomes that arrive today, on journeys and promises picked at random. */
async function postChanges(h: TestApp, seed: number): Promise<number> {
  const dice = random(seed + 1)
  const rows = await asOwner(h.app.db, (tx) => query<{ journeyId: string; promiseId: string | null }>(tx, sql`
    select j.id as "journeyId", (select p.id from promises p where p.tenant_id = j.tenant_id and p.journey_id = j.id and p.outcome = 'open' order by p.id limit 1) as "promiseId"
    from journeys j where j.tenant_id = ${h.tenantId} and j.stage in ('active', 'onboarding') order by j.id`))
  let accepted = 0
  for (const row of rows.filter(() => dice() < 0.3)) {
    const events = [ce('role.changed', row.journeyId, { department: dice() < 0.5 ? 'Moved' : 'Elsewhere', kind: 'lateral' })]
    if (row.promiseId !== null) events.push(dice() < 0.5 ? ce('promise.broken', row.journeyId, { promiseId: row.promiseId, reason: 'Budget cut.' }) : ce('promise.kept', row.journeyId, { promiseId: row.promiseId }))
    const res = await h.request({ method: 'POST', url: '/v1/events', payload: events })
    if (res.statusCode === 201) accepted += events.length
  }
  return accepted
}

/** Refills the tenant's aggregates from its projection rows, as the start-up does for a tenant that predates them. */
async function refill(h: TestApp): Promise<void> {
  await asOwner(h.app.db, (tx) => execute(tx, sql`insert into analytics_pending (tenant_id) values (${h.tenantId})`))
  await fillPendingAggregates(h.app.db)
}

for (const seed of [11, 23, 37]) {
  t.test(`seed ${seed}: maintained aggregates equal aggregates filled from scratch`, async (t) => {
    const h = await buildTestApp(t)
    h.clock.set(now.toISOString())
    const { late, refused } = await postShuffled(h, seed, 70)
    const changed = await postChanges(h, seed)
    t.comment(`${late} events posted late (${refused} refused by the rules), ${changed} changes today`)
    t.ok(late - refused > 10, 'late events were accepted and refolded their journeys')

    const maintained = await cells(h)
    const answered = await figures(h)
    t.ok(maintained.counts.length > 100 && maintained.people.length > 100, 'the population fills many cells')

    await refill(h)
    t.same(await cells(h), maintained, 'the cells filled from the projection rows are the cells the appends maintained')
    t.same(await figures(h), answered, 'and every figure is the same')

    await rebuildProjections(h.app.db, onPostgres ? { tenantId: h.tenantId } : {})
    t.same(await cells(h), maintained, 'a rebuild from the ledger leaves them as they were')

    h.clock.set('2026-09-01T09:00:00.000Z')
    const later = await figures(h)
    await refill(h)
    t.same(await figures(h), later, 'a later day moves overdue the same way for both')
  })
}

t.test('a fill from the projections repairs aggregates that drifted', async (t) => {
  const h = await buildTestApp(t)
  h.clock.set(now.toISOString())
  await postShuffled(h, 5, 30)
  const maintained = await cells(h)
  await asOwner(h.app.db, (tx) => execute(tx, sql`update analytics_counts set value = value + 7 where tenant_id = ${h.tenantId} and measure = 'made'`))
  t.not((await cells(h)).counts, maintained.counts, 'the counts drifted')
  await refill(h)
  t.same(await cells(h), maintained, 'a fill from the projections puts them right')
})
