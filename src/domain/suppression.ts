// Statistical disclosure control for every aggregate the service publishes: which groups and
// which splits inside them must be withheld so that no figure, and no difference between
// figures, rests on fewer than `minGroupSize` people. Pure: sizes in, verdicts out.

/** A group as counted: distinct people in it, and in each of its splits (which together make up the group). */
export interface GroupCount {
  group: string
  people: number
  /** Distinct people of each split, in a fixed order; empty when the group has no splits. */
  splits: readonly number[]
}

export interface Verdict {
  group: string
  suppressed: boolean
  /** Per split, in the order given; meaningless (all true) when the group itself is suppressed. */
  splitsSuppressed: boolean[]
}

/**
 * The cells of one partition to withhold: every cell under `min` people and, when that is exactly
 * one cell, the next smallest too (ties: the first in the order given), so that a total known from
 * elsewhere minus the shown cells cannot reveal the small one.
 */
export function withheldCells(people: readonly number[], min: number): boolean[] {
  const withheld = people.map((n) => n < min)
  if (withheld.filter(Boolean).length !== 1) return withheld
  const next = people
    .map((n, index) => ({ n, index }))
    .filter(({ index }) => !withheld[index])
    .sort((a, b) => a.n - b.n || a.index - b.index)[0]
  if (next !== undefined) withheld[next.index] = true
  return withheld
}

/**
 * Verdicts for a set of groups published together: groups are withheld as cells of one partition;
 * inside a shown group, its splits are withheld the same way, so a group total minus a shown split
 * never reveals a withheld one.
 */
export function suppressGroups(groups: readonly GroupCount[], min: number): Verdict[] {
  const withheld = withheldCells(groups.map((g) => g.people), min)
  return groups.map((g, index) => {
    const suppressed = withheld[index] ?? true
    return { group: g.group, suppressed, splitsSuppressed: suppressed ? g.splits.map(() => true) : withheldCells(g.splits, min) }
  })
}

export interface SuppressedGroup { group: string; suppressed: true }
export interface SuppressedSplit { suppressed: true }

/**
 * Rows of an aggregate as published: each as `show` builds it (told which of its splits are
 * withheld), or `{ group, suppressed: true }`, as suppressGroups decides from `count` of each row.
 */
export function publishGroups<R extends { group: string }, T>(
  rows: readonly R[], min: number, count: (row: R) => GroupCount, show: (row: R, splitsSuppressed: boolean[]) => T,
): (T | SuppressedGroup)[] {
  const verdicts = suppressGroups(rows.map(count), min)
  return rows.map((row, index) => {
    const verdict = verdicts[index]
    return verdict === undefined || verdict.suppressed ? { group: row.group, suppressed: true as const } : show(row, verdict.splitsSuppressed)
  })
}

/** A split's figures, or `{ suppressed: true }` unless it is known to be shown. */
export function publishSplit<F>(withheld: boolean | undefined, figures: F): F | SuppressedSplit {
  return withheld === false ? figures : { suppressed: true }
}

/** The first day of `date`'s month (ISO dates, UTC). */
export function startOfMonth(date: string): string {
  return `${date.slice(0, 7)}-01`
}

/** The last day of `date`'s month (ISO dates, UTC). */
export function endOfMonth(date: string): string {
  const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))]
  // Day 0 of the next month is the last day of this one; setUTCFullYear keeps years below 100 as they are.
  const last = new Date(0)
  last.setUTCFullYear(year, month, 0)
  return last.toISOString().slice(0, 10)
}

/**
 * The period an analysis answers over: whole calendar months around the one asked for, so two
 * requests whose bounds differ by a day within a month see the same people.
 */
export function wholeMonths(period: { from: string | null; to: string | null }): { from: string | null; to: string | null } {
  return { from: period.from === null ? null : startOfMonth(period.from), to: period.to === null ? null : endOfMonth(period.to) }
}
