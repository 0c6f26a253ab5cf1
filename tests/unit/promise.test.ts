// The promise rules and fold that journey.test.ts does not reach: renegotiation needs new terms,
// promises derived from a vacancy and an offer, the perception gap, and due dates that follow a
// corrected start date. Pure: no database, the day passed in.
import t from 'tap'
import { hasValidData, validateEventData, type EventData, type JourneyEventType } from '../../src/domain/catalogue.js'
import {
  addDays, checkPromiseEvent, evolveOutcomes, foldPromises, hasPerceptionGap, promisesFromOffer, promisesFromVacancy, promiseStatus, type PromiseOutcomes,
} from '../../src/domain/promise.js'

const day = (date: string, hour = 9) => `${date}T${String(hour).padStart(2, '0')}:00:00.000Z`

/** An event's type and data, the data checked against the catalogue: a story never rests on an event the ledger would refuse. */
function checked<K extends JourneyEventType>(type: K, data: EventData<K>): { type: K; data: EventData<K> } {
  if (!hasValidData({ type, data })) throw new Error(`test data is not valid for ${type}: ${JSON.stringify(validateEventData(type, data))}`)
  return { type, data }
}

let arrival = 0
function ev<K extends JourneyEventType>(type: K, time: string, data: EventData<K>) {
  arrival += 1
  return { id: `e-${arrival}`, source: 'test:hris', subject: 'j-1', time, ...checked(type, data), version: arrival, position: arrival, recordedAt: time, personRef: null, sealed: null }
}

t.test('a renegotiation must bring new terms: words or a date', async (t) => {
  const open: PromiseOutcomes = { 'pr-1': 'open' }
  /** The outcomes after the renegotiation, when the rules accept it (they throw otherwise). */
  const renegotiate = (terms: Omit<EventData<'promise.renegotiated'>, 'promiseId'>) => {
    const e = { ...checked('promise.renegotiated', { promiseId: 'pr-1', ...terms }), subject: 'j-1', time: day('2026-06-01') }
    checkPromiseEvent(open, e)
    return evolveOutcomes(open, e)
  }
  t.throws(() => renegotiate({ agreedByEmployee: true }), { name: 'ProblemError', status: 400, code: 'validation', extensions: { errors: [{ path: /^\/data$/ }] } }, 'neither')
  t.throws(() => renegotiate({ text: '   ', agreedByEmployee: true }), { name: 'ProblemError', status: 400 }, 'blank words are no new words')
  t.same(renegotiate({ text: 'Next year instead', agreedByEmployee: false }), { 'pr-1': 'open' }, 'new words')
  t.same(renegotiate({ dueBy: '2026-06-01', agreedByEmployee: true }), { 'pr-1': 'open' }, 'a new date (today is allowed)')
})

t.test('promises derived from an offer and from a vacancy', async (t) => {
  const offer = { id: 'offer-1', source: 'ats:greenhouse', time: day('2026-05-20'), data: checked('offer.made', {
    madeBy: 'mgr-max', terms: [{ category: 'development', text: 'training budget 2000 EUR', dueAfterStartDays: 90 }, { category: 'compensation', text: 'Bonus', dueBy: '2026-12-31' }],
  }).data }
  const fromOffer = promisesFromOffer('j-1', offer)
  t.same(fromOffer.map((p) => p.data), [
    { promiseId: fromOffer[0]?.promiseId, category: 'development', text: 'training budget 2000 EUR', madeBy: 'mgr-max', madeAt: 'offer', kind: 'transactional', dueAfterStartDays: 90, inheritedFrom: { kind: 'offer', id: 'offer-1', index: 0 } },
    { promiseId: fromOffer[1]?.promiseId, category: 'compensation', text: 'Bonus', madeBy: 'mgr-max', madeAt: 'offer', kind: 'transactional', dueBy: '2026-12-31', inheritedFrom: { kind: 'offer', id: 'offer-1', index: 1 } },
  ])
  t.not(fromOffer[0]?.promiseId, fromOffer[1]?.promiseId, 'one id per term')
  t.same(promisesFromOffer('j-1', offer).map((p) => p.promiseId), fromOffer.map((p) => p.promiseId), 'the same offer derives the same ids (a replay names the same promises)')
  t.not(promisesFromOffer('j-2', offer)[0]?.promiseId, fromOffer[0]?.promiseId, 'another journey, other ids')
  t.equal(promisesFromOffer('j-1', { ...offer, source: 'ats:greenhouse/eu 1', data: checked('offer.made', { terms: [{ category: 'other', text: 'x' }] }).data })[0]?.data.madeBy, 'ats:greenhouse-eu-1',
    'without madeBy: the source, made into a key')
  t.throws(() => promisesFromOffer('j-1', { ...offer, data: checked('offer.made', { terms: [{ category: 'other', text: 'x', dueBy: '2026-05-19' }] }).data }),
    { name: 'ProblemError', status: 400, extensions: { errors: [{ path: '/data/terms/0/dueBy' }] } }, 'a term due before the offer')

  const fromVacancy = promisesFromVacancy('j-1', { id: 'vac-eng', publishedBy: 'rec-anna', promises: [{ category: 'flexibility', text: 'remote two days a week', dueAfterStartDays: 30 }] })
  t.same(fromVacancy.map((p) => p.data), [{
    promiseId: fromVacancy[0]?.promiseId, category: 'flexibility', text: 'remote two days a week', madeBy: 'rec-anna', madeAt: 'vacancy', dueAfterStartDays: 30,
    inheritedFrom: { kind: 'vacancy', id: 'vac-eng', index: 0 },
  }])
  t.match(fromVacancy[0]?.promiseId, /^prm_[A-Za-z0-9_-]{22}$/)
})

t.test('the perception gap: kept by the employer, 2 or lower by the employee', async (t) => {
  for (const [outcome, fulfilled, gap] of [
    ['kept', 1, true], ['kept', 2, true], ['kept', 3, false], ['kept', null, false], ['broken', 1, false], ['open', 1, false], ['withdrawn', 2, false],
  ] as const) {
    t.equal(hasPerceptionGap({ outcome, assessedFulfilled: fulfilled }), gap, `${outcome}, assessed ${String(fulfilled)}`)
  }
})

t.test('due dates from dueAfterStartDays follow a corrected start date; dueBy does not', async (t) => {
  const made = (promiseId: string, due: Pick<EventData<'promise.made'>, 'dueBy' | 'dueAfterStartDays'>) => ev('promise.made', day('2026-05-26'), { promiseId, category: 'other', text: promiseId, madeBy: 'm-1', ...due })
  const history = [
    ev('employee.hired', day('2026-05-25'), { personId: 'p-1', startDate: '2026-07-01' }),
    made('pr-days', { dueAfterStartDays: 7 }),
    made('pr-date', { dueBy: '2026-07-10' }),
  ]
  const dueDates = (startDate: string | null) => foldPromises('j-1', history, startDate).map((p) => [p.id, p.dueDate])
  t.same(dueDates('2026-07-01'), [['pr-date', '2026-07-10'], ['pr-days', '2026-07-08']])
  t.same(dueDates('2026-07-15'), [['pr-date', '2026-07-10'], ['pr-days', '2026-07-22']])
  t.same(dueDates(null), [['pr-date', '2026-07-10'], ['pr-days', null]])

  // and the status, day by day, of the promise due 2026-07-22
  const [days] = foldPromises('j-1', history, '2026-07-15').filter((p) => p.id === 'pr-days')
  if (!days) throw new Error('pr-days missing')
  const seen = new Map<string, string>()
  for (let today = '2026-07-01'; today <= '2026-07-31'; today = addDays(today, 1)) {
    const status = promiseStatus(days, today)
    if (!seen.has(status)) seen.set(status, today)
  }
  t.same([...seen], [['open', '2026-07-01'], ['due', '2026-07-08'], ['overdue', '2026-07-23']], 'open, due 14 days ahead, overdue the day after')
})
