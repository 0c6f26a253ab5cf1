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
/** The label of a group whose key is absent (no department, no vacancy, no madeAt). */
export const unknownGroup = 'unknown'
/** The hireCohort of a journey without employee.hired. */
export const notHiredGroup = 'not-hired'
/** The month of a hire without a start date: inside no period, counted only when none is asked. */
export const undatedMonth = '-infinity'
/** Every cell is kept twice: in its month and in this one, which sums all time (a request without a period reads only these). */
export const allTime = 'infinity'
/** Days per bin of the days-to-keep histogram: a median reads the bins, then the days of the one or two bins that hold it. */
export const keptBinDays = 128

/**
 * Measures of a count cell. Promises: made, kept, broken, withdrawn, renegotiated, open, gap (kept and
 * assessed <= 2); keptBin (bucket: days from made to kept / keptBinDays); openDueMonth (bucket: the due
 * date's month as year * 12 + month - 1). Their day-grained twins go to analyses of their own, so a
 * request reads only the few it needs: keptDay (`promises.kept`; bucket: days to keep) where a median
 * is, openDueDay (`promises.due`; bucket: the due date as days since 1970-01-01) in today's month. Retention: hires, exits, early, each also over the
 * hires with a broken promise (bHires, bExits, bEarly). `people` (bucket: the split's index) is kept
 * by the store from the membership cells: the distinct people of a cell.
 */
export type Measure =
  | 'made' | 'kept' | 'broken' | 'withdrawn' | 'renegotiated' | 'open' | 'gap' | 'keptBin' | 'openDueMonth' | 'keptDay' | 'openDueDay'
  | 'hires' | 'exits' | 'early' | 'bHires' | 'bExits' | 'bEarly'
export type Analysis = 'promises' | 'promises.kept' | 'promises.due' | 'retention'
/** Splits of a group's people: '' the whole group; 'b' / 'n' its hires with and without a broken promise. */
export const splits = ['', 'b', 'n'] as const

export interface CountCell { analysis: Analysis; grouping: string; group: string; month: string; measure: Measure; bucket: number; value: number }
/** A person in a group's month (split: see splits); value: how many of their items. */
export interface PersonCell { analysis: Analysis; grouping: string; group: string; month: string; split: string; personRef: string; value: number }
export interface Cells { counts: CountCell[]; people: PersonCell[] }

/** What a journey's cells depend on: a few fields of the journey and its promises (all of them). */
export interface ProjectedJourney {
  journey: Pick<Journey, 'id' | 'personRef' | 'department' | 'vacancyId' | 'hiredAt' | 'startDate' | 'exitedAt' | 'lastDay'>
  promises: readonly PromiseRecord[]
}

/**
 * Events that change nothing a journey's cells depend on (its department, vacancy, person, hire,
 * start, exit and promises): an append of only these leaves the aggregates alone and does not load
 * the journey's promises. Listed by exclusion, so a new event type is counted until it is shown harmless.
 */
const outsideAnalytics: ReadonlySet<string> = new Set([
  'interview.held', 'offer.accepted', 'offer.declined', 'candidate.withdrew', 'candidate.rejected', 'onboarding.completed',
  'checkin.held', 'pulse.answered', 'recognition.given', 'development.started', 'development.completed', 'exit.interviewed', 'alumni.referred',
])
export const movesAnalytics = (type: string): boolean => !outsideAnalytics.has(type)

const dayMs = 86_400_000
/** Days since 1970-01-01 of an ISO date or timestamp, by its UTC day. */
export const epochDay = (iso: string): number => Math.floor(Date.parse(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso) / dayMs)
/** The month of an ISO date as year * 12 + month - 1. */
export const monthIndex = (date: string): number => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1
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

/** The measures one promise adds to its cell: [analysis, measure, bucket]. */
function promiseMeasures(p: PromiseRecord): [Analysis, Measure, number][] {
  const measures: [Analysis, Measure, number][] = [['promises', 'made', 0]]
  if (p.renegotiations > 0) measures.push(['promises', 'renegotiated', 0])
  if (p.outcome === 'open') {
    measures.push(['promises', 'open', 0])
    if (p.dueDate !== null) measures.push(['promises', 'openDueMonth', monthIndex(p.dueDate)], ['promises.due', 'openDueDay', epochDay(p.dueDate)])
  } else measures.push(['promises', p.outcome, 0])
  if (p.outcome === 'kept' && p.closedAt !== null) {
    const days = epochDay(p.closedAt) - epochDay(p.madeTime)
    measures.push(['promises', 'keptBin', Math.floor(days / keptBinDays)], ['promises.kept', 'keptDay', days])
    if (p.assessedFulfilled !== null && p.assessedFulfilled <= 2) measures.push(['promises', 'gap', 0])
  }
  return measures
}

/** The cells a journey (as projected, with all its promises) adds to the aggregates, each in its month and in allTime. */
export function journeyCells(projected: ProjectedJourney | null): Cells {
  const cells: Cells = { counts: [], people: [] }
  if (!projected) return cells
  const { journey: j, promises } = projected
  const count = (analysis: Analysis, grouping: string, group: string, month: string, measure: Measure, bucket: number) => {
    for (const m of [month, allTime]) cells.counts.push({ analysis, grouping, group, month: m, measure, bucket, value: 1 })
  }
  const member = (analysis: Analysis, grouping: string, group: string, month: string, split: string) => {
    for (const m of [month, allTime]) cells.people.push({ analysis, grouping, group, month: m, split, personRef: j.personRef, value: 1 })
  }
  for (const p of promises) {
    const month = monthOf(p.madeTime)
    const measures = promiseMeasures(p)
    for (const grouping of promiseGroupings) {
      const group = promiseKey(grouping, j, p)
      for (const [analysis, measure, bucket] of measures) count(analysis, grouping, group, month, measure, bucket)
      member('promises', grouping, group, month, '')
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
      for (const measure of [...measures, ...split]) count('retention', grouping, group, month, measure, 0)
      member('retention', grouping, group, month, '')
      member('retention', grouping, group, month, broken ? 'b' : 'n')
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

/**
 * The median (the mean of the middle two when `total` is even) of `total` whole numbers, given the
 * values of a part of them in order ([value, count] pairs) and how many lie before that part; the part
 * must hold the middle one or two. Null when total is 0.
 */
export function medianOf(total: number, before: number, part: readonly (readonly [number, number])[]): number | null {
  if (total === 0) return null
  const sorted = [...part].filter(([, n]) => n > 0).sort(([a], [b]) => a - b)
  const at = (rank: number): number => {
    let seen = before
    if (rank < before) throw new Error(`rank ${rank} is not in the part of the histogram read`)
    for (const [value, n] of sorted) {
      seen += n
      if (seen > rank) return value
    }
    throw new Error(`rank ${rank} is not in the part of the histogram read`)
  }
  return (at(Math.floor((total - 1) / 2)) + at(Math.floor(total / 2))) / 2
}
