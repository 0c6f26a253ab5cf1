import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import Type, { type TSchema } from 'typebox'
import { invalid } from '../src/domain/errors.js'
import { isoDate } from '../src/domain/journey.js'
import { wholeMonths } from '../src/domain/suppression.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant, type Tx } from '../src/store/database.js'
import { ledgerRevision, RevisionCache } from '../src/store/revision-cache.js'
import { notHiredGroup, promiseAnalytics, promiseGroupings, retentionAnalytics, retentionGroupings, unknownGroup } from '../src/store/analytics.js'
import { problemResponses } from './schemas.js'

/** Groups of fewer distinct people than this would come close to naming a person. */
const smallestGroupSize = 3
const defaultGroupSize = 5

export const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()])
export const count = (description: string) => Type.Integer({ minimum: 0, description })
export const rate = (description: string) => nullable(Type.Number({ minimum: 0, maximum: 1, description }))

const SuppressedGroupSchema = Type.Object({
  group: Type.String(),
  suppressed: Type.Literal(true, { description: 'The group has fewer distinct people than `minGroupSize`, or it is the next smallest to the one such group: its figures are withheld.' }),
}, { $id: 'SuppressedGroup', title: 'SuppressedGroup', additionalProperties: false })

const SuppressedSplitSchema = Type.Object({
  suppressed: Type.Literal(true, { description: 'The split has fewer distinct people than `minGroupSize`, or the group\'s other split has: its figures are withheld.' }),
}, { $id: 'SuppressedSplit', title: 'SuppressedSplit', additionalProperties: false })

const PromiseGroupSchema = Type.Object({
  group: Type.String({ description: 'The value grouped on (see the operation\'s description).' }),
  made: count('Promises made in the period.'),
  kept: count('Of those, kept.'),
  broken: count('Of those, broken.'),
  renegotiated: count('Of those, renegotiated at least once, whatever their outcome.'),
  withdrawn: count('Of those, withdrawn.'),
  open: count('Of those, still open (whether open, due, overdue or renegotiated).'),
  overdue: count('Of those, open with a due date before today.'),
  keepRate: rate('kept / (kept + broken + overdue), 4 decimals; null when that is 0.'),
  medianDaysToKeep: nullable(Type.Number({ description: 'Median calendar days (UTC) from the day made to the day kept over the kept promises (a whole or half number); null when none.' })),
  perceptionGap: count('Kept promises the employee assessed at 2 or lower.'),
}, { $id: 'PromiseAnalyticsGroup', title: 'PromiseAnalyticsGroup' })

const RetentionSplitSchema = Type.Object({
  hires: count('Hires whose start date is in the period.'),
  exits: count('Of those, journeys that have exited (employee.exited).'),
  earlyExits: count('Of those exits, the ones whose lastDay is less than 365 days after startDate.'),
  earlyExitRate: rate('earlyExits / hires, 4 decimals; null when there are no hires.'),
}, { $id: 'RetentionSplit', title: 'RetentionSplit' })

const RetentionGroupSchema = Type.Object({
  group: Type.String({ description: 'The value grouped on (see the operation\'s description).' }),
  ...RetentionSplitSchema.properties,
  withBrokenPromise: Type.Union([Type.Ref('RetentionSplit'), Type.Ref('SuppressedSplit')], { description: 'The same figures over the hires with at least one broken promise, or `{ suppressed: true }`.' }),
  withoutBrokenPromise: Type.Union([Type.Ref('RetentionSplit'), Type.Ref('SuppressedSplit')], { description: 'The same figures over the hires without a broken promise, or `{ suppressed: true }`.' }),
}, { $id: 'RetentionAnalyticsGroup', title: 'RetentionAnalyticsGroup' })

export const report = (id: string, groupings: readonly string[], group: string) => Type.Object({
  groupBy: Type.String({ enum: [...groupings] }),
  from: nullable(Type.String({ format: 'date', description: 'The first day of the period answered: the first of the month of the `from` asked for; null when not given.' })),
  to: nullable(Type.String({ format: 'date', description: 'The last day of the period answered: the last of the month of the `to` asked for; null when not given.' })),
  minGroupSize: Type.Integer(),
  data: Type.Array(Type.Union([Type.Ref(group), Type.Ref('SuppressedGroup')]), { description: 'One entry per group, ordered by `group` (byte order).' }),
}, { $id: id, title: id })

/** Named components this module's routes refer to; the app registers them at the root. */
export const analyticsSchemas = [
  SuppressedGroupSchema, SuppressedSplitSchema, PromiseGroupSchema, RetentionSplitSchema, RetentionGroupSchema,
  report('PromiseAnalytics', promiseGroupings, 'PromiseAnalyticsGroup'), report('RetentionAnalytics', retentionGroupings, 'RetentionAnalyticsGroup'),
]

export const groupByDescription = 'What to group on (see the operation\'s description).'
export const periodQuery = (periodOf: string) => ({
  from: Type.Optional(Type.String({ format: 'date', maxLength: 10, description: `First day (UTC, inclusive) of the period: ${periodOf}, rounded down to the first of its month. Default: all time.` })),
  to: Type.Optional(Type.String({ format: 'date', maxLength: 10, description: `Last day (UTC, inclusive) of the period: ${periodOf}, rounded up to the last of its month. Default: all time.` })),
  minGroupSize: Type.Optional(Type.Integer({
    default: defaultGroupSize,
    maximum: 1_000_000,
    description: `Groups and splits of fewer distinct people than this come back as \`{ group, suppressed: true }\` / \`{ suppressed: true }\`. At least ${smallestGroupSize} (smaller is a 400); default ${defaultGroupSize}.`,
  })),
})

export const common = `Ratios are rounded half away from zero. Every figure can be recomputed from the ledger's events alone.

**Suppression**, so that no figure and no difference of figures rests on fewer than \`minGroupSize\` people:
- A group's size is the number of distinct people (not journeys: a rehired person counts once) behind its figures. A group of fewer than \`minGroupSize\` people appears as \`{ group, suppressed: true }\` without figures.
- When exactly one group is suppressed that way, the next smallest group (fewest people; on a tie, the first by \`group\`) is suppressed too, so a total known from elsewhere minus the shown groups cannot reveal it.
- Every split inside a group obeys the same minimum, counted in the distinct people of the split, and the same rule: a group with two splits shows both or neither, since the group's figures minus one split would reveal the other.
- **Whole months**: the period is always answered over whole calendar months (\`from\` rounded down to the first of its month, \`to\` up to the last of its month, UTC), and the response echoes the period answered (null when not given). Groups near the threshold (fewer than 2 x \`minGroupSize\` people) are the ones a one-day shift of a bound could otherwise split; answering every group over whole months covers them without letting a group's window depend on its size. Two requests whose bounds fall in the same months give identical figures.`

const promiseDescription = `Promises made in the period, grouped. A promise is made at the time of its \`promise.made\` (for a promise inherited from an offer, the time of the \`offer.made\`; from a vacancy, of the journey's first \`employee.hired\`); the period keeps those made from the start of \`from\` to the end of \`to\` (UTC days, widened to whole months: see Suppression). Statuses are as of today by the server's clock, exactly as \`GET /v1/promises\` reports them.

- \`made\`: every such promise. \`kept\`, \`broken\`, \`withdrawn\`: its outcome (the first promise.kept, promise.broken or promise.withdrawn). \`open\`: no outcome yet (open, due, overdue and renegotiated alike). \`overdue\`: open with a due date (\`dueBy\`, or the journey's \`startDate\` + \`dueAfterStartDays\`) before today. \`renegotiated\`: renegotiated at least once, whatever the outcome.
- \`keepRate\` = kept / (kept + broken + overdue), 4 decimals, null when the denominator is 0.
- \`medianDaysToKeep\`: the median (the mean of the middle two when even) of (time of the promise.kept - made time) over the kept promises, in days of 86 400 s, 1 decimal; null when none.
- \`perceptionGap\`: kept promises whose latest \`promise.assessed\` has \`fulfilled\` <= 2.

Groups (\`groupBy\`): \`madeBy\`; \`category\`; \`madeAt\` ('${unknownGroup}' when absent); \`department\` and \`vacancy\`: the journey's current department (the latest of offer.made before the hire, employee.hired, role.changed) and its vacancyId (from candidate.applied), '${unknownGroup}' when absent; \`hireCohort\`: the month (YYYY-MM) of the journey's startDate when it has an employee.hired, else '${notHiredGroup}'. ${common}`

const retentionDescription = `Hires (journeys with an \`employee.hired\`) whose \`startDate\` is within [from, to] (widened to whole months: see Suppression), grouped, and what became of them: the link between broken promises and leaving.

- \`hires\`: those journeys. \`exits\`: those of them with an \`employee.exited\` (whenever it happened; an announced exit alone does not count). \`earlyExits\`: exits whose \`lastDay\` is before \`startDate\` + 365 days. \`earlyExitRate\` = earlyExits / hires, 4 decimals, null when there are no hires.
- \`withBrokenPromise\` / \`withoutBrokenPromise\`: the same four figures over the hires with at least one promise whose outcome is broken (as of now) and over the others; the two add up to the group's totals. Both are counted in distinct people for suppression: both are shown or neither.

Groups (\`groupBy\`): \`department\`: the journey's current department ('${unknownGroup}' when absent); \`vacancy\`: its vacancyId ('${unknownGroup}' when absent); \`hireCohort\`: the month (YYYY-MM) of its startDate. ${common}`

export function checkQuery(q: { from?: string; to?: string; minGroupSize?: number }) {
  const minGroupSize = q.minGroupSize ?? defaultGroupSize
  if (minGroupSize < smallestGroupSize) {
    throw invalid(`minGroupSize must be at least ${smallestGroupSize}`, [{ path: '/minGroupSize', message: `must be at least ${smallestGroupSize}: smaller groups could identify a person`, location: 'query' }])
  }
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw invalid('the period is empty: from is after to', [{ path: '/from', message: 'must not be after to', location: 'query' }])
  }
  return { ...wholeMonths({ from: q.from ?? null, to: q.to ?? null }), minGroupSize }
}

/**
 * Whole-tenant aggregations computed from the projections (the experience and exit analytics),
 * recomputed only when the tenant's ledger has moved (see revision-cache). The promise and
 * retention analytics need none: they sum maintained aggregates.
 */
export function analyticsCache(app: FastifyInstance) {
  const cache = new RevisionCache<unknown[]>({ maxEntries: 1000, refreshAfterMs: 60_000, now: () => app.config.now().getTime() })
  return async <T>(tenantId: string, key: unknown[], compute: (tx: Tx) => Promise<T[]>): Promise<T[]> => {
    const revision = await inTenant(app.db, tenantId, (tx) => ledgerRevision(tx, tenantId), { oneRoundTrip: true })
    // The compute function runs in a transaction of its own: a background refresh outlives this request.
    const rows = await cache.get(JSON.stringify([tenantId, ...key]), revision, () => inTenant(app.db, tenantId, compute, { long: true }))
    return rows as T[]
  }
}

const analyticsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/analytics/promises', {
    config: { scope: 'analytics:read' },
    schema: {
      tags: ['analytics'],
      summary: 'Promises kept, broken and open, by group',
      description: promiseDescription,
      querystring: Type.Object({ groupBy: Type.Enum([...promiseGroupings], { type: 'string', description: groupByDescription }), ...periodQuery('promises made on these days') }),
      response: { 200: Type.Ref('PromiseAnalytics'), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const period = checkQuery(request.query)
    const { groupBy } = request.query
    const today = isoDate(app.config.now())
    const data = await inTenant(app.db, tenantId, (tx) => promiseAnalytics(tx, tenantId, { groupBy, ...period, today }), { oneRoundTrip: true })
    return { groupBy, ...period, data }
  })

  app.get('/v1/analytics/retention', {
    config: { scope: 'analytics:read' },
    schema: {
      tags: ['analytics'],
      summary: 'Hires, exits and early exits, with and without a broken promise, by group',
      description: retentionDescription,
      querystring: Type.Object({ groupBy: Type.Enum([...retentionGroupings], { type: 'string', description: groupByDescription }), ...periodQuery('hires whose startDate is on these days') }),
      response: { 200: Type.Ref('RetentionAnalytics'), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const period = checkQuery(request.query)
    const { groupBy } = request.query
    const today = isoDate(app.config.now())
    const data = await inTenant(app.db, tenantId, (tx) => retentionAnalytics(tx, tenantId, { groupBy, ...period, today }), { oneRoundTrip: true })
    return { groupBy, ...period, data }
  })
}

export default analyticsRoutes
