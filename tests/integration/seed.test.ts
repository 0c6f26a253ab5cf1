// journey seed: a demo population through the same path as POST /v1/events, deterministic for a
// seed, so a rerun adds nothing and a new user sees meaningful analytics at once.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { queryOne } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { seedPopulation } from '../../src/store/seed.js'
import { buildTestApp } from '../helpers/app.js'
import { countEvents, getOk } from '../helpers/spine.js'

t.test('the same seed twice stores one population; the analytics show it', async (t) => {
  const h = await buildTestApp(t)
  const seed = (s: number) => seedPopulation(h.app.db, h.app.keyring, { tenantId: h.tenantId, journeys: 80, seed: s, now: h.clock.now(), batchSize: 200 })

  const first = await seed(11)
  t.equal(first.journeys, 80, 'the journeys asked for')
  t.ok(first.events > 80 * 5, `a whole journey each, not an application only (${first.events} events)`)
  t.equal(first.duplicates, 0)
  // the ledger also holds the promises it derived (an offer's terms, a vacancy's promises at hire)
  const ledger = await countEvents(h)
  const derived = await asOwner(h.app.db, (tx) => queryOne<{ n: number }>(tx, sql`
    select count(*)::int as n from events where tenant_id = ${h.tenantId} and source = 'journey-ledger'`))
  t.ok((derived?.n ?? 0) > 0, 'the population inherits promises from vacancies and offers')
  t.equal(ledger, first.events + (derived?.n ?? 0), 'every event reported is in the ledger, beside the derived promises')

  const again = await seed(11)
  t.equal(again.duplicates, again.events, 'the rerun is all duplicates')
  t.equal(await countEvents(h), ledger, 'and adds nothing')

  const journeys = await getOk<{ data: { stage: string }[] }>(h, '/v1/journeys?limit=200')
  t.equal(journeys.data.length, 80 + first.rehires, 'the journeys asked for, and the boomerangs\' second journeys')
  t.ok(new Set(journeys.data.map((j) => j.stage)).size >= 3, `journeys at several stages (${[...new Set(journeys.data.map((j) => j.stage))].join(', ')})`)
  const analytics = await getOk<{ data: { group: string; made?: number; kept?: number; broken?: number }[] }>(h, '/v1/analytics/promises?groupBy=category&minGroupSize=3')
  const shown = analytics.data.filter((g) => g.made !== undefined)
  t.ok(shown.length >= 2, 'promise figures for several categories')
  t.ok(shown.some((g) => (g.kept ?? 0) > 0) && shown.some((g) => (g.broken ?? 0) > 0), 'promises kept and promises broken')

  const other = await seed(12)
  t.equal(other.duplicates, 0, 'another seed is another population')
})

t.test('the demo population shows every signal and every experience analytic', async (t) => {
  const h = await buildTestApp(t)
  h.clock.set('2026-06-01T09:00:00.000Z')
  const report = await seedPopulation(h.app.db, h.app.keyring, { tenantId: h.tenantId, journeys: 200, seed: 3, now: h.clock.now(), batchSize: 500 })
  t.ok(report.rehires > 0, `${report.rehires} boomerangs hired again`)
  for (const signal of ['expectations-falling', 'unrecognised', 'stalled', 'interest-outside-role', 'promise-overdue', 'perception-gap']) {
    const page = await getOk<{ data: unknown[] }>(h, `/v1/journeys?signal=${signal}&limit=200`)
    t.ok(page.data.length > 0, `${signal}: ${page.data.length} journeys`)
  }
  let rehires = 0
  for (let cursor: string | null = ''; cursor !== null;) {
    const page: { data: { rehire: boolean }[]; nextCursor: string | null } = await getOk(h, `/v1/journeys?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    rehires += page.data.filter((j) => j.rehire).length
    cursor = page.nextCursor
  }
  t.equal(rehires, report.rehires, 'each shows as a rehire')
  const experience = await getOk<{ data: { enps?: number; withBrokenPromise?: { enps?: number } }[] }>(h, '/v1/analytics/experience?groupBy=department&minGroupSize=3')
  t.ok(experience.data.some((g) => typeof g.enps === 'number' && typeof g.withBrokenPromise?.enps === 'number'), 'eNPS by department, split by broken promises')
  const exits = await getOk<{ data: { exitEnps?: number; topReasons?: unknown[]; ambassadors?: number }[] }>(h, '/v1/analytics/exits?groupBy=department&minGroupSize=3')
  t.ok(exits.data.some((g) => typeof g.exitEnps === 'number' && (g.topReasons?.length ?? 0) > 0), 'exit eNPS and top reasons')
  t.ok(exits.data.some((g) => (g.ambassadors ?? 0) > 0), 'ambassadors who brought someone')
})
