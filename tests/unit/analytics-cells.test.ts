// The pure rules of the maintained aggregates: what a journey adds, the difference an append
// writes, and the median read from part of a histogram.
import t from 'tap'
import { allTime, cellDelta, journeyCells, medianOf, type ProjectedJourney } from '../../src/domain/analytics-cells.js'
import type { PromiseRecord } from '../../src/domain/promise.js'

const promise = (over: Partial<PromiseRecord>): PromiseRecord => ({
  id: 'p1', journeyId: 'j1', category: 'development', textRef: { source: 's', eventId: 'e' }, madeBy: 'rec-1', madeAt: 'offer', kind: null,
  madeTime: '2026-01-31T23:30:00.000Z', dueBy: null, dueAfterStartDays: null, dueDate: '2026-03-10', outcome: 'open', closedAt: null,
  brokenCause: null, renegotiations: 0, lastRenegotiationAgreed: null, assessedFulfilled: null, assessedAt: null, inheritedFrom: null, ...over,
})
const journey = (promises: PromiseRecord[], over: Partial<ProjectedJourney['journey']> = {}): ProjectedJourney => ({
  journey: { id: 'j1', personRef: 'p_1', department: 'Sales', vacancyId: null, hiredAt: '2026-01-02T00:00:00.000Z', startDate: '2026-02-01', exitedAt: null, lastDay: null, ...over },
  promises,
})
const find = (cells: ReturnType<typeof journeyCells>, where: Record<string, unknown>) =>
  cells.counts.filter((c) => Object.entries(where).every(([k, v]) => Reflect.get(c, k) === v))

t.test('a promise counts in the UTC month it was made and in all time, in every grouping', async (t) => {
  const cells = journeyCells(journey([promise({})]))
  const made = find(cells, { measure: 'made', grouping: 'department' })
  t.same(made.map((c) => [c.group, c.month]), [['Sales', '2026-01-01'], ['Sales', allTime]])
  t.equal(find(cells, { measure: 'made', month: allTime }).length, 6, 'one per promise grouping')
  t.same(find(cells, { measure: 'openDueMonth', grouping: 'madeBy', month: allTime }).map((c) => c.bucket), [2026 * 12 + 2], 'open: by due month')
  t.same(find(cells, { measure: 'openDueDay', grouping: 'madeBy', month: allTime }).map((c) => c.analysis), ['promises.due'], 'and by due day, apart')
  t.equal(cells.people.filter((p) => p.analysis === 'retention').length, 3 * 2 * 2, 'a hire: the group and its split, per retention grouping, month and all time')
})

t.test('a kept promise: calendar days from made to kept, binned and exact', async (t) => {
  const cells = journeyCells(journey([promise({ outcome: 'kept', closedAt: '2026-03-05T08:00:00+02:00', assessedFulfilled: 2 })]))
  t.same(find(cells, { measure: 'keptDay', grouping: 'category', month: allTime }).map((c) => c.bucket), [33], 'Jan 31 to Mar 5 (UTC days)')
  t.same(find(cells, { measure: 'keptBin', grouping: 'category', month: allTime }).map((c) => c.bucket), [0])
  t.equal(find(cells, { measure: 'gap', grouping: 'category' }).length, 2, 'assessed at 2: a perception gap')
  t.equal(find(cells, { measure: 'open' }).length, 0)
})

t.test('the delta of an unchanged journey is empty; a move takes from one group and gives to another, in key order', async (t) => {
  const before = journeyCells(journey([promise({})]))
  t.same(cellDelta([before], [journeyCells(journey([promise({})]))]), { counts: [], people: [] })
  const moved = cellDelta([before], [journeyCells(journey([promise({})], { department: 'Marketing' }))])
  const made = moved.counts.filter((c) => c.measure === 'made' && c.month === allTime && c.grouping === 'department')
  t.same(made.map((c) => [c.group, c.value]), [['Marketing', 1], ['Sales', -1]])
  const keys = moved.counts.map((c) => [c.analysis, c.grouping, c.month, c.group, c.measure, String(c.bucket)].join('\u0000'))
  t.same(keys, [...keys].sort(), 'sorted: concurrent appends lock shared rows in one order')
  t.ok(moved.people.some((p) => p.group === 'Sales' && p.value === -1) && moved.people.some((p) => p.group === 'Marketing' && p.value === 1))
})

t.test('the median from part of a histogram', async (t) => {
  t.equal(medianOf(0, 0, []), null)
  t.equal(medianOf(1, 0, [[7, 1]]), 7)
  t.equal(medianOf(4, 0, [[1, 1], [3, 2], [10, 1]]), 3)
  t.equal(medianOf(4, 0, [[1, 2], [4, 2]]), 2.5, 'even: the mean of the middle two')
  t.equal(medianOf(10, 4, [[40, 1], [41, 1]]), 40.5, 'ranks 4 and 5, with 4 values before the part read')
  t.throws(() => medianOf(10, 6, [[40, 1]]), /rank 4/, 'a part that misses the middle is a bug, not a wrong figure')
})
