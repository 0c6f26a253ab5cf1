// Which groups and splits an aggregate withholds: under the minimum of distinct people, the next
// smallest when exactly one is under it, and splits by the same rule inside a shown group; and the
// whole months a period is widened to. Pure: sizes in, verdicts out.
import t from 'tap'
import { endOfMonth, publishGroups, publishSplit, suppressGroups, wholeMonths, withheldCells } from '../../src/domain/suppression.js'

t.test('cells under the minimum are withheld; exactly one withheld takes the next smallest with it', async (t) => {
  t.same(withheldCells([5, 9, 7], 5), [false, false, false], 'all at or above the minimum: all shown')
  t.same(withheldCells([4, 9, 7], 5), [true, false, true], 'one small cell: the next smallest (7) goes too')
  t.same(withheldCells([9, 4, 7, 7], 5), [false, true, true, false], 'a tie for next smallest: the first in order')
  t.same(withheldCells([2, 9, 3, 7], 5), [true, false, true, false], 'two small cells: they hide each other, nothing more')
  t.same(withheldCells([1, 2, 3], 5), [true, true, true], 'all small: all withheld')
  t.same(withheldCells([4], 5), [true], 'a lone small cell')
  t.same(withheldCells([40], 5), [false], 'a lone large cell')
  t.same(withheldCells([4, 100], 5), [true, true], 'two cells, one small: both, however large the other')
  t.same(withheldCells([0, 12], 5), [true, true], 'an empty cell counts as small: the other would reveal it is empty')
  t.same(withheldCells([], 5), [], 'nothing to publish')
})

t.test('groups withhold as one partition; splits of a shown group withhold among themselves', async (t) => {
  const verdicts = suppressGroups([
    { group: 'Finance', people: 3, splits: [1, 2] },
    { group: 'People', people: 5, splits: [1, 4] },
    { group: 'Sales', people: 20, splits: [12, 8] },
    { group: 'Engineering', people: 30, splits: [4, 26] },
    { group: 'Marketing', people: 6, splits: [6, 0] },
  ], 5)
  t.same(verdicts, [
    { group: 'Finance', suppressed: true, splitsSuppressed: [true, true] },
    { group: 'People', suppressed: true, splitsSuppressed: [true, true] },
    { group: 'Sales', suppressed: false, splitsSuppressed: [false, false] },
    { group: 'Engineering', suppressed: false, splitsSuppressed: [true, true] },
    { group: 'Marketing', suppressed: false, splitsSuppressed: [true, true] },
  ], 'Finance is small, People the next smallest; a small split takes its sibling with it')
  t.same(suppressGroups([{ group: 'a', people: 8, splits: [] }], 5), [{ group: 'a', suppressed: false, splitsSuppressed: [] }], 'a group without splits')
})

t.test('a department of five people with one early leaver: only the group total is shown', async (t) => {
  // The leaver alone has a broken promise: the split with it is one person, the split without four.
  const [verdict] = suppressGroups([{ group: 'Finance', people: 5, splits: [1, 4] }], 5)
  t.same(verdict, { group: 'Finance', suppressed: false, splitsSuppressed: [true, true] })
})

t.test('rows are published as shown figures or as withheld groups and splits', async (t) => {
  const rows = [
    { group: 'Finance', people: 5, withBroken: 1, withoutBroken: 4, hires: 5 },
    { group: 'Legal', people: 4, withBroken: 0, withoutBroken: 4, hires: 5 },
    { group: 'Sales', people: 9, withBroken: 5, withoutBroken: 5, hires: 9 },
  ]
  const published = publishGroups(rows, 5, (r) => ({ group: r.group, people: r.people, splits: [r.withBroken, r.withoutBroken] }),
    (r, [b, n]) => ({ group: r.group, hires: r.hires, withBroken: publishSplit(b, { hires: r.withBroken }), withoutBroken: publishSplit(n, { hires: r.withoutBroken }) }))
  t.same(published, [
    { group: 'Finance', suppressed: true },
    { group: 'Legal', suppressed: true },
    { group: 'Sales', hires: 9, withBroken: { hires: 5 }, withoutBroken: { hires: 5 } },
  ], 'Legal (4 people in 5 journeys) is small; Finance the next smallest; Sales shows both splits')
  t.same(publishSplit(undefined, { hires: 3 }), { suppressed: true }, 'a split without a verdict is withheld')
})

t.test('periods widen to whole calendar months', async (t) => {
  t.same(wholeMonths({ from: '2026-03-17', to: '2026-05-02' }), { from: '2026-03-01', to: '2026-05-31' })
  t.same(wholeMonths({ from: '2026-03-18', to: '2026-05-01' }), wholeMonths({ from: '2026-03-17', to: '2026-05-02' }), 'a day apart within the months: the same period')
  t.same(wholeMonths({ from: null, to: '2024-02-10' }), { from: null, to: '2024-02-29' }, 'leap February; an open bound stays open')
  t.same(wholeMonths({ from: '2025-12-31', to: null }), { from: '2025-12-01', to: null })
  t.equal(endOfMonth('2025-02-01'), '2025-02-28')
  t.equal(endOfMonth('2026-12-05'), '2026-12-31', 'December: the year does not roll over')
  t.equal(endOfMonth('0050-04-09'), '0050-04-30', 'a year below 100 stays that year')
})
