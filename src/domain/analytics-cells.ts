// What one journey adds to the tenant's analytics, as cells of maintained aggregates: counts per
// (grouping, group, month, measure, bucket) and memberships per (grouping, group, month, split,
// person). A request sums the cells of its months instead of scanning the tenant. The append adds
// the difference between a journey's cells after and before it (cellDelta), so the aggregates are
// always the sum of every journey's cells; a rebuild does the same per batch of streams.
// Pure: the figures that depend on today (overdue) are left as due-date buckets for the read.
import type { Journey } from './journey.js'
import type { PromiseRecord } from './promise.js'

export const promiseGroupings = ['madeBy', 'category', 'department', 'vacancy', 'madeAt', 'hireCohort'] as const
export const retentionGroupings = ['department', 'hireCohort', 'vacancy'] as const
export type PromiseGrouping = (typeof promiseGroupings)[number]
export type RetentionGrouping = (typeof retentionGroupings)[number]
export type Analysis = 'promises' | 'retention'

/** The label of a group whose key is absent (no department, no vacancy, no madeAt). */
export const unknownGroup = 'unknown'
/** The hireCohort of a journey without employee.hired. */
export const notHiredGroup = 'not-hired'
/** The month of a hire without a start date: inside no period, counted only when none is asked. */
export const undatedMonth = '-infinity'

/**
 * Measures of a count cell. Promises: made, kept, broken, withdrawn, renegotiated, open, gap (kept and
 * assessed <= 2); keptDays (bucket: whole days from made to kept); openDue (bucket: the due date as
 * days since 1970-01-01: overdue is the sum of the buckets before today). Retention: hires, exits,
 * early, each also for the hires with a broken promise (bHires, bExits, bEarly).
 */
export type Measure =
  | 'made' | 'kept' | 'broken' | 'withdrawn' | 'renegotiated' | 'open' | 'gap' | 'keptDays' | 'openDue'
  | 'hires' | 'exits' | 'early' | 'bHires' | 'bExits' | 'bEarly'

export interface CountCell { analysis: Analysis; grouping: string; group: string; month: string; measure: Measure; bucket: number; value: number }
/** A person in a group's month (split: 'b' / 'n' for hires with and without a broken promise; '' when the analysis has no splits); value: how many of their items. */
export interface PersonCell { analysis: Analysis; grouping: string; group: string; month: string; split: string; personRef: string; value: number }
export interface Cells { counts: CountCell[]; people: PersonCell[] }

/** What a journey's cells depend on: a few fields of the journey and its promises (all of them). */
export interface ProjectedJourney {
  journey: Pick<Journey, 'id' | 'personRef' | 'department' | 'vacancyId' | 'hiredAt' | 'startDate' | 'exitedAt' | 'lastDay'>
  promises: readonly PromiseRecord[]
}

const dayMs = 86_400_000
/** Days since 1970-01-01 of an ISO date or timestamp, by its UTC day. */
export const epochDay = (iso: string): number => Math.floor(Date.parse(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso) / dayMs)
/** The first day of the UTC month of an ISO date or timestamp. */
const monthOf = (iso: string): string => `${(iso.length === 10 ? iso : new Date(iso).toISOString()).slice(0, 7)}-01`

function journeyKey(grouping: 'department' | 'vacancy' | 'hireCohort', j: ProjectedJourney['journey']): string {
  if (grouping === 'department') return j.department ?? unknownGroup
  if (grouping === 'vacancy') return j.vacancyId ?? unknownGroup
  return j.hiredAt === null || j.startDate === null ? notHiredGroup : j.startDate.slice(0, 7)
}

function promiseKey(grouping: PromiseGrouping, j: ProjectedJourney['journey'], p: PromiseRecord): string {
  if (grouping === 'madeBy') return p.madeBy
  if (grouping === 'category') return p.category
  if (grouping === 'madeAt') return p.madeAt ?? unknownGroup
  return journeyKey(grouping, j)
}

/** The measures one promise adds to its cell. */
function promiseMeasures(p: PromiseRecord): [Measure, number][] {
  const measures: [Measure, number][] = [['made', 0]]
  if (p.renegotiations > 0) measures.push(['renegotiated', 0])
  if (p.outcome === 'open') {
    measures.push(['open', 0])
    if (p.dueDate !== null) measures.push(['openDue', epochDay(p.dueDate)])
  } else measures.push([p.outcome, 0])
  if (p.outcome === 'kept' && p.closedAt !== null) {
    measures.push(['keptDays', epochDay(p.closedAt) - epochDay(p.madeTime)])
    if (p.assessedFulfilled !== null && p.assessedFulfilled <= 2) measures.push(['gap', 0])
  }
  return measures
}

/** The cells a journey (as projected, with all its promises) adds to the aggregates. */
export function journeyCells(projected: ProjectedJourney | null): Cells {
  const cells: Cells = { counts: [], people: [] }
  if (!projected) return cells
  const { journey: j, promises } = projected
  for (const p of promises) {
    const month = monthOf(p.madeTime)
    const measures = promiseMeasures(p)
    for (const grouping of promiseGroupings) {
      const group = promiseKey(grouping, j, p)
      for (const [measure, bucket] of measures) cells.counts.push({ analysis: 'promises', grouping, group, month, measure, bucket, value: 1 })
      cells.people.push({ analysis: 'promises', grouping, group, month, split: '', personRef: j.personRef, value: 1 })
    }
  }
  if (j.hiredAt !== null) {
    const broken = promises.some((p) => p.outcome === 'broken')
    const exited = j.exitedAt !== null
    const early = exited && j.lastDay !== null && j.startDate !== null && epochDay(j.lastDay) < epochDay(j.startDate) + 365
    const month = j.startDate === null ? undatedMonth : monthOf(j.startDate)
    const measures: Measure[] = ['hires', ...(exited ? ['exits' as const] : []), ...(early ? ['early' as const] : [])]
    const split: Measure[] = broken ? measures.map((m) => (m === 'hires' ? 'bHires' : m === 'exits' ? 'bExits' : 'bEarly')) : []
    for (const grouping of retentionGroupings) {
      const group = journeyKey(grouping, j)
      for (const measure of [...measures, ...split]) cells.counts.push({ analysis: 'retention', grouping, group, month, measure, bucket: 0, value: 1 })
      cells.people.push({ analysis: 'retention', grouping, group, month, split: broken ? 'b' : 'n', personRef: j.personRef, value: 1 })
    }
  }
  return cells
}

const countKey = (c: CountCell) => [c.analysis, c.grouping, c.month, c.group, c.measure, String(c.bucket)].join('\u0000')
const personKey = (c: PersonCell) => [c.analysis, c.grouping, c.month, c.group, c.split, c.personRef].join('\u0000')

/** Adds cells (each multiplied by `sign`) into `into`, by key. */
function accumulate<C extends { value: number }>(into: Map<string, C>, cells: readonly C[], key: (c: C) => string, sign: number): void {
  for (const cell of cells) {
    const k = key(cell)
    const held = into.get(k)
    into.set(k, { ...cell, value: (held?.value ?? 0) + sign * cell.value })
  }
}

/** Non-zero cells in key order: concurrent appends then lock aggregate rows in one order (no deadlock). */
const nonZeroInOrder = <C extends { value: number }>(cells: Map<string, C>): C[] =>
  [...cells.entries()].filter(([, c]) => c.value !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c)

/** The cells that turn the aggregates of `before` into those of `after`. */
export function cellDelta(before: readonly Cells[], after: readonly Cells[]): Cells {
  const counts = new Map<string, CountCell>()
  const people = new Map<string, PersonCell>()
  for (const [sign, all] of [[-1, before], [1, after]] as const) {
    for (const cells of all) {
      accumulate(counts, cells.counts, countKey, sign)
      accumulate(people, cells.people, personKey, sign)
    }
  }
  return { counts: nonZeroInOrder(counts), people: nonZeroInOrder(people) }
}

/** The median of a histogram of whole numbers ([value, count] pairs): the mean of the middle two when the count is even; null when empty. */
export function histogramMedian(histogram: readonly (readonly [number, number])[]): number | null {
  const sorted = [...histogram].filter(([, n]) => n > 0).sort(([a], [b]) => a - b)
  const total = sorted.reduce((sum, [, n]) => sum + n, 0)
  if (total === 0) return null
  const at = (rank: number): number => {
    let seen = 0
    for (const [value, n] of sorted) {
      seen += n
      if (seen > rank) return value
    }
    throw new Error('rank beyond the histogram')
  }
  return (at(Math.floor((total - 1) / 2)) + at(Math.floor(total / 2))) / 2
}
