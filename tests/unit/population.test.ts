// The demo population: deterministic for a seed, valid CloudEvents only, nothing after `now`, and
// rates close to the ones it is meant to show.
import t from 'tap'
import { parseEvents } from '../../src/domain/cloudevent.js'
import { generatePopulation, populationBatches, type PopulationEvent } from '../../src/domain/population.js'
import { buildModel, dueDate } from '../helpers/analytics-model.js'

const now = new Date('2026-06-01T09:00:00.000Z')
const all = (options: { journeys: number; seed: number; vacancies?: number }) => {
  const population = generatePopulation({ ...options, now })
  return [...population.vacancies, ...[...population.journeys].flat()]
}
// Compared as JSON: tap's deep equality is slow on thousands of events.
const json = (events: PopulationEvent[]) => JSON.stringify(events)

t.test('the same seed gives the same events; another seed others', async (t) => {
  const first = all({ journeys: 300, seed: 1 })
  t.equal(json(all({ journeys: 300, seed: 1 })), json(first), 'deterministic')
  t.not(json(all({ journeys: 300, seed: 2 })), json(first), 'another seed, another population')
  const ids = (events: PopulationEvent[]) => new Set(events.map((e) => e.subject))
  t.notOk([...ids(all({ journeys: 20, seed: 2 }))].some((id) => ids(first).has(id)), 'and other journey and vacancy ids')
  // A journey depends on the seed and its index only, so a large population can be generated piece by piece.
  const prefix = all({ journeys: 50, seed: 1, vacancies: 8 }).filter((e) => e.type !== 'vacancy.published')
  t.equal(json(all({ journeys: 400, seed: 1, vacancies: 8 }).filter((e) => e.type !== 'vacancy.published').slice(0, prefix.length)), json(prefix),
    'journey i is the same in a population of 50 or of 400')
})

t.test('every event is a valid CloudEvent, in a valid order, and none is after now', async (t) => {
  const population = generatePopulation({ journeys: 1000, seed: 7, now })
  let count = 0
  const seen = new Set<string>()
  const lastTime = new Map<string, number>()
  let problems = 0
  let largest = 0
  for (const batch of populationBatches(population, 500)) {
    largest = Math.max(largest, batch.length)
    parseEvents(batch, { now: now })
    for (const e of batch) {
      count += 1
      const time = Date.parse(e.time)
      const previous = lastTime.get(e.subject)
      if (time > now.getTime()) problems += 1
      if (previous === undefined && !['vacancy.published', 'candidate.applied'].includes(e.type)) problems += 1
      if (previous !== undefined && time <= previous) problems += 1
      if (seen.has(`${e.source} ${e.id}`)) problems += 1
      seen.add(`${e.source} ${e.id}`)
      lastTime.set(e.subject, time)
    }
  }
  t.ok(largest <= 500, `batches stay within the size (largest ${largest})`)
  t.equal(problems, 0, 'no event after now, each stream opens properly and moves forward in time, ids are unique')
  t.ok(count > 10_000, `${count} events`)
  const vacancies = [...population.journeys].flat().filter((e) => e.type === 'candidate.applied' && e.data.vacancyId).length
  t.ok(vacancies > 600 && vacancies < 900, `most candidates apply to a vacancy (${vacancies} of 1000)`)
})

t.test('the rates are realistic, and broken promises go with leaving', async (t) => {
  const model = buildModel(all({ journeys: 4000, seed: 11 }))
  const between = (value: number, low: number, high: number, name: string) =>
    t.ok(value >= low && value <= high, `${name}: ${value.toFixed(3)} within [${low}, ${high}]`)
  // Promises made more than two years ago have mostly reached their outcome.
  const settled = [...model.promises.values()].filter((p) => Date.parse(p.madeTime) < now.getTime() - 730 * 86_400_000)
  const share = (f: (p: (typeof settled)[number]) => boolean) => settled.filter(f).length / settled.length
  between(share((p) => p.outcome === 'kept'), 0.57, 0.70, 'kept')
  between(share((p) => p.outcome === 'broken'), 0.11, 0.20, 'broken')
  between(share((p) => p.renegotiations > 0), 0.04, 0.10, 'renegotiated')
  between(share((p) => p.outcome === 'withdrawn'), 0.015, 0.06, 'withdrawn')
  between(share((p) => p.outcome === 'open'), 0.10, 0.25, 'open')
  between(share((p) => p.outcome === 'open' && (dueDate(p, model) ?? '9999') < '2026-06-01'), 0.05, 0.20, 'overdue')
  between(share((p) => p.outcome === 'kept' && p.assessed !== null && p.assessed <= 2), 0.02, 0.08, 'kept but assessed <= 2')

  const journeys = [...model.journeys.values()]
  const hires = journeys.filter((j) => j.hired)
  between(1 - hires.length / journeys.length, 0.08, 0.16, 'candidates not hired')
  const exitRate = (js: typeof hires) => js.filter((j) => j.exited).length / js.length
  between(exitRate(hires), 0.15, 0.25, 'exits')
  const broken = new Set([...model.promises.values()].filter((p) => p.outcome === 'broken').map((p) => p.journeyId))
  const withBroken = exitRate(hires.filter((j) => broken.has(j.id)))
  const without = exitRate(hires.filter((j) => !broken.has(j.id)))
  t.ok(withBroken > 2 * without, `exit rate with a broken promise (${withBroken.toFixed(3)}) is over twice the rate without (${without.toFixed(3)})`)
  const starts = hires.map((j) => j.startDate ?? '')
  t.ok(starts.every((d) => d >= '2023-06-01' && d <= '2026-06-01'), 'start dates over the last three years')
})
