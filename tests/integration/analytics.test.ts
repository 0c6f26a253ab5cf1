// GET /v1/analytics/promises and /retention: given a generated population posted through the API,
// every figure of every group equals what a client computes from the events it posted, suppression
// included; one journey in eight belongs to the person of the journey before it (a rehire).
import t from 'tap'
import { generatePopulation, populationBatches, type PopulationEvent } from '../../src/domain/population.js'
import { promiseGroupings, retentionGroupings } from '../../src/store/analytics.js'
import { buildModel, expectedPromiseAnalytics, expectedRetention, type Model, type Query } from '../helpers/analytics-model.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/** A subtest, as tap hands it to the callback. */
type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const now = new Date('2026-06-01T09:00:00.000Z')
const today = '2026-06-01'

async function post(h: TestApp, batch: PopulationEvent[], key = h.adminKey) {
  const res = await h.request({ method: 'POST', url: '/v1/events', payload: batch, key })
  if (res.statusCode !== 201) throw new Error(`POST /v1/events: ${res.statusCode} ${res.body}`)
}

/** The applicant of every eighth journey is the person of the journey before: groups then hold fewer people than journeys. */
function withRehires(batch: PopulationEvent[]): PopulationEvent[] {
  return batch.map((e) => {
    const person = e.type === 'candidate.applied' && typeof e.data.personId === 'string' ? /^(p-.+-)(\d{6})$/.exec(e.data.personId) : null
    const index = Number(person?.[2])
    return person && index % 8 === 7 ? { ...e, data: { ...e.data, personId: `${person[1]}${String(index - 1).padStart(6, '0')}` } } : e
  })
}

/** Posts a generated population in batches and returns the model a client builds from those events alone. */
async function populate(h: TestApp, options: { journeys: number; seed: number }, key = h.adminKey): Promise<Model> {
  const population = generatePopulation({ ...options, now })
  const posted: PopulationEvent[] = []
  // Batches of 1000, the contract's maximum (PGlite failed at commit on a few hundred before events.ts passed pairs as jsonb).
  for (const generated of populationBatches(population, 1000)) {
    const batch = withRehires(generated)
    await post(h, batch, key)
    posted.push(...batch)
  }
  return buildModel(posted)
}

async function get(h: TestApp, path: string, q: Omit<Query, 'today'>, key = h.adminKey) {
  const params = new URLSearchParams({ groupBy: q.groupBy, minGroupSize: String(q.minGroupSize), ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) })
  const res = await h.request({ method: 'GET', url: `${path}?${params.toString()}`, key })
  return { status: res.statusCode, body: res.json<{ data: { group: string; suppressed?: true; withBrokenPromise?: { suppressed?: true }; withoutBrokenPromise?: { suppressed?: true } }[] }>() }
}

t.test('analytics of a generated population equal a computation from its events alone', async (t) => {
  const h = await buildTestApp(t)
  h.clock.set(now.toISOString())
  const started = Date.now()
  const model = await populate(h, { journeys: 240, seed: 42 })
  t.comment(`posted ${model.journeys.size} journeys, ${model.promises.size} promises in ${Date.now() - started} ms`)
  const people = new Set([...model.journeys.values()].map((j) => j.personId)).size
  t.ok(people < model.journeys.size, `${people} people for ${model.journeys.size} journeys: some are rehires`)

  // The last two are answered over whole months: from 2024-11-01, to 2025-01-31.
  const periods = [{}, { from: '2024-01-01', to: '2025-06-30' }, { from: '2025-03-01' }, { to: '2024-05-31' }, { from: '2024-11-19', to: '2025-01-02' }]
  const check = async (t: Tap, m: Model) => {
    let suppressed = 0
    let shown = 0
    const splits = { withheld: 0, shown: 0 }
    for (const [path, groupings, expected] of [
      ['/v1/analytics/promises', promiseGroupings, expectedPromiseAnalytics],
      ['/v1/analytics/retention', retentionGroupings, expectedRetention],
    ] as const) {
      for (const groupBy of groupings) {
        for (const period of periods) {
          for (const minGroupSize of [3, 12]) {
            const q = { groupBy, minGroupSize, ...period }
            const res = await get(h, path, q)
            t.equal(res.status, 200)
            t.same(res.body, expected(m, { ...q, today }), `${path} ${JSON.stringify(q)}`)
            // Seen from outside, whatever the model says: never exactly one group withheld among shown ones, nor one split of two.
            const withheld = res.body.data.filter((g) => g.suppressed).length
            if (withheld === 1 && res.body.data.length > 1) t.fail(`${path} ${JSON.stringify(q)}: exactly one group withheld`)
            for (const g of res.body.data.filter((g) => !g.suppressed && g.withBrokenPromise)) {
              const hidden = [g.withBrokenPromise?.suppressed, g.withoutBrokenPromise?.suppressed].filter(Boolean).length
              if (hidden === 1) t.fail(`${path} ${JSON.stringify(q)}: one split of ${g.group} withheld, the other shown`)
              splits[hidden === 0 ? 'shown' : 'withheld'] += 1
            }
            if (minGroupSize === 12) {
              suppressed += res.body.data.filter((g) => g.suppressed).length
              shown += res.body.data.filter((g) => !g.suppressed).length
            }
          }
        }
      }
    }
    t.ok(suppressed > 0 && shown > 0, `minGroupSize 12 suppresses some groups (${suppressed}) and shows others (${shown})`)
    t.ok(splits.withheld > 0 && splits.shown > 0, `shown groups withhold their splits (${splits.withheld}) or show them (${splits.shown})`)
  }

  await t.test('every figure, every groupBy, with and without a period, suppression included', (t) => check(t, model))

  await t.test('the figures link broken promises to leaving', async (t) => {
    const res = await get(h, '/v1/analytics/retention', { groupBy: 'department', minGroupSize: 3 })
    const totals = { b: [0, 0], n: [0, 0] }
    type Split = { hires: number; exits: number } | { suppressed: true }
    for (const g of res.body.data as unknown as { withBrokenPromise: Split; withoutBrokenPromise: Split }[]) {
      if ('suppressed' in g.withBrokenPromise || 'suppressed' in g.withoutBrokenPromise) continue
      totals.b = [(totals.b[0] ?? 0) + g.withBrokenPromise.exits, (totals.b[1] ?? 0) + g.withBrokenPromise.hires]
      totals.n = [(totals.n[0] ?? 0) + g.withoutBrokenPromise.exits, (totals.n[1] ?? 0) + g.withoutBrokenPromise.hires]
    }
    const rate = ([exits, hires]: number[]) => (exits ?? 0) / (hires ?? 1)
    t.ok(rate(totals.b) > rate(totals.n) * 1.5, `exit rate with a broken promise ${rate(totals.b).toFixed(2)} > without ${rate(totals.n).toFixed(2)}`)
  })

  await t.test('another tenant\'s population changes nothing here', async (t) => {
    const other = await h.otherTenant()
    const otherModel = await populate(h, { journeys: 60, seed: 7 }, other.adminKey)
    await check(t, model)
    const theirs = await get(h, '/v1/analytics/promises', { groupBy: 'category', minGroupSize: 3 }, other.adminKey)
    t.same(theirs.body, expectedPromiseAnalytics(otherModel, { groupBy: 'category', minGroupSize: 3, today }), 'and theirs are their own')
  })
})

t.test('figures follow the ledger: an append or a new day is seen by the next read', async (t) => {
  const h = await buildTestApp(t)
  h.clock.set(now.toISOString())
  const batches = [...populationBatches(generatePopulation({ journeys: 40, seed: 3, now }), 50)]
  const half = Math.ceil(batches.length / 2)
  const posted: PopulationEvent[] = []
  for (const batch of batches.slice(0, half)) { await post(h, batch); posted.push(...batch) }
  const q = { groupBy: 'category' as const, minGroupSize: 3 }
  t.same((await get(h, '/v1/analytics/promises', q)).body.data, expectedPromiseAnalytics(buildModel(posted), { ...q, today }).data, 'the first half')
  for (const batch of batches.slice(half)) { await post(h, batch); posted.push(...batch) }
  const model = buildModel(posted)
  t.same((await get(h, '/v1/analytics/promises', q)).body.data, expectedPromiseAnalytics(model, { ...q, today }).data, 'all of it, once appended')
  const later = '2027-03-01'
  h.clock.set(`${later}T09:00:00.000Z`)
  const after = (await get(h, '/v1/analytics/promises', q)).body
  t.same(after.data, expectedPromiseAnalytics(model, { ...q, today: later }).data, 'a later day: what fell due since is overdue')
  t.notSame(after.data, expectedPromiseAnalytics(model, { ...q, today }).data, 'and that differs from the earlier day')
})

t.test('minGroupSize below 3, an empty period or an unknown groupBy is a 400 problem', async (t) => {
  const h = await buildTestApp(t)
  for (const path of ['/v1/analytics/promises', '/v1/analytics/retention']) {
    const small = await h.request({ method: 'GET', url: `${path}?groupBy=department&minGroupSize=2` })
    t.equal(small.statusCode, 400)
    t.equal(small.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(small.json(), { status: 400, code: 'validation', errors: [{ path: '/minGroupSize', location: 'query', message: /at least 3/ }] })
    const empty = await h.request({ method: 'GET', url: `${path}?groupBy=department&from=2026-02-01&to=2026-01-31` })
    t.match(empty.json(), { status: 400, code: 'validation', errors: [{ path: '/from', location: 'query' }] })
    const unknown = await h.request({ method: 'GET', url: `${path}?groupBy=shoeSize` })
    t.match(unknown.json(), { status: 400, code: 'validation', errors: [{ path: '/groupBy', location: 'query' }] })
  }
  const fine = await h.request({ method: 'GET', url: '/v1/analytics/promises?groupBy=madeBy' })
  t.same(fine.json(), { groupBy: 'madeBy', from: null, to: null, minGroupSize: 5, data: [] }, 'defaults: all time, groups of 5, nothing yet')
})

t.test('analytics need the analytics:read scope', async (t) => {
  const h = await buildTestApp(t)
  const created = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'writer', scopes: ['events:write', 'events:read'] } })
  const writer = created.json<{ key: string }>().key
  const res = await h.request({ method: 'GET', url: '/v1/analytics/retention?groupBy=vacancy', key: writer })
  t.equal(res.statusCode, 403)
  const reader = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'analyst', scopes: ['analytics:read'] } })).json<{ key: string }>().key
  t.equal((await h.request({ method: 'GET', url: '/v1/analytics/retention?groupBy=vacancy', key: reader })).statusCode, 200)
})
