import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { invalid, notFound } from '../src/domain/errors.js'
import { experienceSeries, experienceTypes } from '../src/domain/experience.js'
import { effectiveStages, expectationsTrend, isoDate, stages } from '../src/domain/journey.js'
import { activeSignals, journeySignals, signalNames, type SignalThresholds } from '../src/domain/signals.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant } from '../src/store/database.js'
import { readJourneyTimeline } from '../src/store/events.js'
import { openEvents } from '../src/store/keyring.js'
import { listJourneys, readJourney, readJourneyTag, readTaggedJourney, type CountedJourneyRow, type JourneyTagParts } from '../src/store/journeys.js'
import { ifNoneMatch, notModified, versionTag } from './etags.js'
import { Key, ListQuery, NotModified, historyItems, problemResponses } from './schemas.js'

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])
const StageSchema = Type.Enum([...stages], { type: 'string', description: 'applied, offered, hired (signed, not started), onboarding, active, leaving, exited, closed (not hired).' })
const SignalSchema = Type.Object({
  name: Type.Enum([...signalNames], { type: 'string' }),
  since: Type.String({ format: 'date-time' }),
  why: Type.String(),
}, { $id: 'Signal', title: 'Signal' })

const PulseSchema = Type.Object({
  time: Type.String({ format: 'date-time' }),
  enps: Type.Optional(Type.Integer()), valued: Type.Optional(Type.Integer()), safe: Type.Optional(Type.Integer()),
  autonomy: Type.Optional(Type.Integer()), expectationsMet: Type.Optional(Type.Integer()),
})

export const JourneySchema = Type.Object({
  id: Type.String(),
  personId: nullable(Type.String({ description: 'The client\'s id of the person; null once the person was erased (the journey stays, unlinked).' })),
  vacancyId: nullable(Type.String()),
  stage: StageSchema,
  stageSince: Type.String({ format: 'date-time' }),
  role: nullable(Type.String()),
  department: nullable(Type.String()),
  manager: nullable(Type.String()),
  startDate: nullable(Type.String({ format: 'date' })),
  exitedAt: nullable(Type.String({ format: 'date-time' })),
  lastDay: nullable(Type.String({ format: 'date' })),
  version: Type.Integer({ description: 'The stream version: pass as `expectedversion` for optimistic concurrency.' }),
  rehire: Type.Boolean({ description: 'A boomerang: hired (employee.hired) when another journey of the same person had already exited (employee.exited at or before this hire).' }),
  stages: Type.Array(Type.Object({ stage: StageSchema, enteredAt: Type.String({ format: 'date-time' }), leftAt: nullable(Type.String({ format: 'date-time' })) })),
  promises: Type.Object({
    open: Type.Integer(), due: Type.Integer(), overdue: Type.Integer(), kept: Type.Integer(),
    broken: Type.Integer(), renegotiated: Type.Integer(), withdrawn: Type.Integer(),
  }, { description: 'Counts by status, as `GET /v1/promises` reports it: each promise counts once (an overdue promise is not also open).' }),
  experience: Type.Object({
    latestPulse: nullable(PulseSchema),
    expectationsMet: Type.Object({
      trend: nullable(Type.String({ enum: ['rising', 'falling', 'steady'] })),
      recent: Type.Array(Type.Object({ time: Type.String({ format: 'date-time' }), value: Type.Integer(), source: Type.String({ enum: ['pulse', 'checkin'] }) })),
    }),
  }),
  signals: Type.Array(Type.Ref('Signal')),
  createdAt: Type.String({ format: 'date-time', description: 'Time of the journey\'s earliest event.' }),
  updatedAt: Type.String({ format: 'date-time', description: 'When the ledger last stored an event of this journey.' }),
}, { $id: 'Journey', title: 'Journey' })

export function journeyView(row: CountedJourneyRow, now: Date, thresholds: SignalThresholds) {
  const { stage, stageSince, stages: stagesList } = effectiveStages(row, isoDate(now))
  return {
    id: row.id, personId: row.personId, vacancyId: row.vacancyId, stage, stageSince,
    role: row.role, department: row.department, manager: row.manager, startDate: row.startDate, exitedAt: row.exitedAt,
    lastDay: row.lastDay, version: row.version, rehire: row.rehire, stages: stagesList, promises: row.promiseCounts,
    experience: {
      latestPulse: row.experience.latestPulse,
      expectationsMet: { trend: expectationsTrend(row.experience.expectationsMet), recent: row.experience.expectationsMet },
    },
    signals: activeSignals(journeySignals(row, thresholds), now),
    createdAt: row.createdAt, updatedAt: row.updatedAt,
  }
}


const Time = Type.String({ format: 'date-time' })
const NullableInt = nullable(Type.Integer())
const NullableText = nullable(Type.String())
const Labels = nullable(Type.Array(Type.String()))
const Erased = Type.Boolean({ description: 'The person was erased: their personal fields read null.' })
const NumericTrendSchema = Type.Object({
  readings: Type.Integer({ description: 'Readings up to now.' }),
  last: NullableInt, lastAt: nullable(Time),
  change: Type.Union([Type.Integer(), Type.Null()], { description: 'The last reading minus the value as it stood when the window opened (the latest reading at or before then; the first reading if the series began inside it); null under two readings.' }),
}, { $id: 'NumericTrend', title: 'NumericTrend' })
const CountTrendSchema = Type.Object({ last: nullable(Time), inWindow: Type.Integer() }, { $id: 'CountTrend', title: 'CountTrend' })

const ExperienceSchema = Type.Object({
  journeyId: Type.String(),
  personId: nullable(Type.String()),
  pulses: Type.Array(Type.Object({ time: Time, eventId: Type.String(), enps: NullableInt, valued: NullableInt, safe: NullableInt, autonomy: NullableInt, expectationsMet: NullableInt })),
  checkins: Type.Array(Type.Object({
    time: Time, eventId: Type.String(), with: NullableText, expectationsMet: NullableInt,
    motivations: Labels, interests: Labels, developmentWishes: Labels, notes: NullableText, erased: Erased,
  })),
  recognition: Type.Array(Type.Object({ time: Time, eventId: Type.String(), by: NullableText, kind: NullableText, note: NullableText, erased: Erased })),
  development: Type.Array(Type.Object({ time: Time, eventId: Type.String(), status: Type.String({ enum: ['started', 'completed'] }), kind: NullableText, title: NullableText, erased: Erased })),
  roleChanges: Type.Array(Type.Object({ time: Time, eventId: Type.String(), kind: NullableText, role: NullableText, department: NullableText, manager: NullableText })),
  trends: Type.Object({
    windowDays: Type.Integer({ description: 'The window `change` and `inWindow` look back over (90 days up to now).' }),
    enps: Type.Ref('NumericTrend'), valued: Type.Ref('NumericTrend'), safe: Type.Ref('NumericTrend'), autonomy: Type.Ref('NumericTrend'),
    expectationsMet: Type.Ref('NumericTrend'),
    recognition: Type.Ref('CountTrend'),
    development: Type.Ref('CountTrend', { description: 'Developments started.' }),
  }, { description: 'Per series, as of now: readings dated ahead of now are listed but not yet counted. expectationsMet reads pulses and check-ins together.' }),
  data: Type.Array(Type.Object({
    time: Time,
    type: Type.Enum([...experienceTypes], { type: 'string' }),
    eventId: Type.String(),
    data: Type.Object({}, { additionalProperties: true, description: 'The event\'s data: scores, labels and (while the person is not erased) notes.' }),
    erased: Type.Optional(Type.Boolean()),
  }), { description: 'Every experience event, as stored (the series are built from it).', maxItems: historyItems }),
}, { $id: 'Experience', title: 'Experience', description: 'The individual\'s own time series: pulses, check-ins, recognition, development and role changes, oldest first, each with its trend. Never aggregated, never suppressed.' })

/** The ETag of a journey's answer on `today`: the day is part of it only while the day can change the answer. */
export function journeyTag(parts: JourneyTagParts, today: string): string {
  return versionTag('j', [parts.version, parts.dayDependent ? today : '', parts.signalsOn, parts.personMapped, parts.thresholds])
}

/** Named components this module's routes refer to; the app registers them at the root. */
export const journeySchemas = [SignalSchema, JourneySchema, NumericTrendSchema, CountTrendSchema, ExperienceSchema]

const journeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/journeys/:journeyId/experience', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['journeys'],
      summary: 'The individual\'s experience over time',
      params: Type.Object({ journeyId: Key('The journey.') }),
      response: { 200: Type.Ref('Experience'), ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { journeyId } = request.params
    return inTenant(app.db, tenantId, async (tx) => {
      const row = await readJourney(tx, tenantId, journeyId)
      if (!row) throw notFound(`no journey ${journeyId}`)
      const events = await openEvents(tx, app.keyring, tenantId, await readJourneyTimeline(tx, tenantId, journeyId, { types: experienceTypes }))
      return {
        journeyId, personId: row.personId,
        ...experienceSeries(events, app.config.now()),
        data: events.map((e) => ({ time: e.time, type: e.type, eventId: e.id, data: e.data, ...(e.erased ? { erased: true } : {}) })),
      }
    })
  })


  app.get('/v1/journeys/:journeyId', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['journeys'],
      summary: 'One journey',
      description: 'Carries a weak `ETag` (the stream version, the day while the day can change the answer, the signals on, erasure); a request with it in `If-None-Match` (one tag, a list, or `*`) gets 304 while nothing the answer shows has changed (an event, the day moving a promise to due or overdue or the stage to onboarding, a signal switching on, the person erased).',
      params: Type.Object({ journeyId: Key('The journey.') }),
      response: { 200: Type.Ref('Journey'), 304: NotModified, ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const { tenantId } = principalOf(request)
    const now = app.config.now()
    const today = isoDate(now)
    const { journeyId } = request.params
    const { signals: thresholds } = app.config
    // A client that holds a tag is answered from the tag's parts alone; the answer is built only when it changed.
    if (ifNoneMatch(request) !== undefined) {
      const parts = await readJourneyTag(app.db, tenantId, journeyId, now, today, thresholds)
      if (!parts) throw notFound(`no journey ${journeyId}`)
      if (notModified(request, reply, journeyTag(parts, today))) return reply.send()
    }
    const row = await readTaggedJourney(app.db, tenantId, journeyId, now, today, thresholds)
    if (!row) throw notFound(`no journey ${journeyId}`)
    void reply.header('etag', journeyTag(row.tag, today))
    return journeyView(row, now, thresholds)
  })

  app.get('/v1/journeys', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['journeys'],
      summary: 'List journeys',
      description: 'Filters combine with AND. Ordered by journey id. `signal` keeps journeys on which that signal is on now.',
      querystring: Type.Object({
        stage: Type.Optional(StageSchema),
        department: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        vacancyId: Type.Optional(Key('Hired or applied through this vacancy.')),
        personId: Type.Optional(Key('All journeys of one person (a rehire is a new journey).')),
        manager: Type.Optional(Key('Current manager.')),
        signal: Type.Optional(Type.Enum([...signalNames], { type: 'string' })),
        ...ListQuery,
      }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('Journey')), nextCursor: nullable(Type.String()) }, { title: 'JourneyList' }), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { cursor, limit = 50, ...filters } = request.query
    const afterId = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString()
    if (afterId !== undefined && !/^[A-Za-z0-9._:@-]{1,128}$/.test(afterId)) {
      throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    }
    const now = app.config.now()
    return inTenant(app.db, tenantId, async (tx) => {
      const rows = await listJourneys(tx, tenantId, { ...filters, afterId, limit, today: isoDate(now), now, thresholds: app.config.signals })
      const last = rows[rows.length - 1]
      return {
        data: rows.map((row) => journeyView(row, now, app.config.signals)),
        nextCursor: last && rows.length === limit ? Buffer.from(last.id).toString('base64url') : null,
      }
    })
  })
}

export default journeyRoutes
