// GET /v1/analytics/experience and /v1/analytics/exits (issue 15): the same query, suppression and
// response shape as the promise and retention analytics (routes/analytics.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { isoDate } from '../src/domain/journey.js'
import { notHiredGroup, unknownGroup } from '../src/store/analytics.js'
import { experienceAnalytics, experienceGroupings, exitAnalytics, exitGroupings, topReasonsShown } from '../src/store/experience-analytics.js'
import { analyticsCache, checkQuery, common, count, groupByDescription, nullable, periodQuery, rate, report } from './analytics.js'
import { principalOf } from '../src/plugins/auth.js'
import { problemResponses } from './schemas.js'

const enps = (description: string) => nullable(Type.Number({ minimum: -100, maximum: 100, description: `${description} % of answers 9-10 minus % of answers 0-6, 1 decimal; null without answers.` }))
const mean = (description: string) => nullable(Type.Number({ minimum: 1, maximum: 5, description: `${description}, 2 decimals; null without answers.` }))
const split = (ref: string, over: string) => Type.Union([Type.Ref(ref), Type.Ref('SuppressedSplit')], { description: `The same over ${over}, or \`{ suppressed: true }\`.` })

const EnpsSplitSchema = Type.Object({
  respondents: count('Distinct people who answered a pulse in the period.'),
  enps: enps('eNPS of their pulses:'),
}, { $id: 'EnpsSplit', title: 'EnpsSplit' })

const ExperienceGroupSchema = Type.Object({
  group: Type.String({ description: 'The value grouped on (see the operation\'s description).' }),
  respondents: count('Distinct people with a pulse.answered in the period (the group\'s size for suppression).'),
  responses: count('pulse.answered events in the period.'),
  enps: enps('eNPS over every pulse answer with `enps` in the period:'),
  promoters: count('Answers 9-10.'), passives: count('Answers 7-8.'), detractors: count('Answers 0-6.'),
  valued: mean('Mean of `valued`'), safe: mean('Mean of `safe`'), autonomy: mean('Mean of `autonomy`'),
  expectationsMet: mean('Mean of the pulses\' `expectationsMet`'),
  withBrokenPromise: split('EnpsSplit', 'the pulses of journeys with at least one broken promise'),
  withoutBrokenPromise: split('EnpsSplit', 'the pulses of journeys without a broken promise'),
}, { $id: 'ExperienceAnalyticsGroup', title: 'ExperienceAnalyticsGroup' })

const ExitSplitSchema = Type.Object({
  exits: count('Exits in the period.'), interviewed: count('Of those, with an exit interview.'),
  exitEnps: enps('Exit eNPS from `wouldRecommend`:'),
}, { $id: 'ExitSplit', title: 'ExitSplit' })

const ExitGroupSchema = Type.Object({
  group: Type.String({ description: 'The value grouped on (see the operation\'s description).' }),
  exits: count('Journeys whose employee.exited `lastDay` is in the period.'),
  interviewed: count('Of those, with an exit.interviewed (the latest counts).'),
  exitEnps: enps('The ambassador score: exit eNPS from `wouldRecommend`:'),
  wouldReturnRate: rate('Interviews with wouldReturn true / interviews that answered wouldReturn, 4 decimals.'),
  meanPromisesKept: mean('Mean of `promisesKept` over the interviews that answered it'),
  regrettableShare: rate('Exits marked regrettable / exits, 4 decimals.'),
  topReasons: Type.Array(Type.Object({ reason: Type.String(), people: count('Distinct people who named it.') }), {
    maxItems: topReasonsShown,
    description: `Up to ${topReasonsShown} reasons (the interviews' \`reasons\`, trimmed, lower case, spaces collapsed) by people naming them, most first; a reason named by fewer than \`minGroupSize\` people is not shown. Reasons are sealed per person and opened for the request only: an erased person's reasons no longer count.`,
  }),
  ambassadors: count('Of the people who left, those with at least one alumni.referred on the journey: ambassadors who brought someone.'),
  referrals: count('alumni.referred events on those journeys (whenever sent).'),
  withBrokenPromise: split('ExitSplit', 'the exits of journeys with at least one broken promise'),
  withoutBrokenPromise: split('ExitSplit', 'the exits of journeys without a broken promise'),
}, { $id: 'ExitAnalyticsGroup', title: 'ExitAnalyticsGroup' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const experienceAnalyticsSchemas = [
  EnpsSplitSchema, ExperienceGroupSchema, ExitSplitSchema, ExitGroupSchema,
  report('ExperienceAnalytics', experienceGroupings, 'ExperienceAnalyticsGroup'), report('ExitAnalytics', exitGroupings, 'ExitAnalyticsGroup'),
]

const groups = `the journey's current department, manager or role ('${unknownGroup}' when absent)`

const experienceDescription = `Pulses (\`pulse.answered\`) whose time is in the period (UTC days, widened to whole months: see Suppression), grouped by ${groups}.

- \`enps\` = % of \`enps\` answers 9-10 minus % of answers 0-6 (every answer counts: a person who answered three pulses counts three times; \`respondents\` counts them once). \`valued\`, \`safe\`, \`autonomy\`, \`expectationsMet\`: means of the answers given.
- \`withBrokenPromise\` / \`withoutBrokenPromise\`: eNPS over the pulses of journeys with at least one promise broken (as of now) and of the others: the link between kept promises and how people feel.

${common}`

const exitDescription = `Exits (journeys with an \`employee.exited\`) whose \`lastDay\` is in the period (widened to whole months: see Suppression), grouped by \`department\` (${groups.replace(', manager or role', '')}) or \`hireCohort\` (the month YYYY-MM of the journey's startDate; '${notHiredGroup}' without employee.hired).

- Each exit's latest \`exit.interviewed\` gives \`exitEnps\` (from \`wouldRecommend\`: % 9-10 minus % 0-6), \`wouldReturnRate\`, \`meanPromisesKept\` and \`topReasons\`.
- \`ambassadors\`/\`referrals\`: \`alumni.referred\` on the exited journeys.
- \`withBrokenPromise\` / \`withoutBrokenPromise\`: exits and exit eNPS of journeys with at least one broken promise and of the others.

${common}`

const experienceAnalyticsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const cached = analyticsCache(app)

  app.get('/v1/analytics/experience', {
    config: { scope: 'analytics:read' },
    schema: {
      tags: ['analytics'],
      summary: 'eNPS and the experience scales, with and without a broken promise, by group',
      description: experienceDescription,
      querystring: Type.Object({ groupBy: Type.Enum([...experienceGroupings], { type: 'string', description: groupByDescription }), ...periodQuery('pulses answered on these days') }),
      response: { 200: Type.Ref('ExperienceAnalytics'), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const period = checkQuery(request.query)
    const { groupBy } = request.query
    const today = isoDate(app.config.now())
    const data = await cached(tenantId, ['experience', groupBy, period, today], (tx) => experienceAnalytics(tx, tenantId, { groupBy, ...period, today }))
    return { groupBy, ...period, data }
  })

  app.get('/v1/analytics/exits', {
    config: { scope: 'analytics:read' },
    schema: {
      tags: ['analytics'],
      summary: 'Exit eNPS (the ambassador score), would-return rate, top reasons, promises kept, regrettable share, by group',
      description: exitDescription,
      querystring: Type.Object({ groupBy: Type.Enum([...exitGroupings], { type: 'string', description: groupByDescription }), ...periodQuery('exits whose lastDay is on these days') }),
      response: { 200: Type.Ref('ExitAnalytics'), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const period = checkQuery(request.query)
    const { groupBy } = request.query
    const today = isoDate(app.config.now())
    const data = await cached(tenantId, ['exits', groupBy, period, today], (tx) => exitAnalytics(tx, app.keyring, tenantId, { groupBy, ...period, today }))
    return { groupBy, ...period, data }
  })
}

export default experienceAnalyticsRoutes
