import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { invalid, notFound } from '../src/domain/errors.js'
import { effectiveStages, expectationsTrend, isoDate, stages } from '../src/domain/journey.js'
import { activeSignals, signalNames } from '../src/domain/signals.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant } from '../src/store/database.js'
import { readJourneyTimeline } from '../src/store/events.js'
import { openEvents } from '../src/store/keyring.js'
import { listJourneys, readCountedJourney, readJourney, type CountedJourneyRow } from '../src/store/journeys.js'
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

export function journeyView(row: CountedJourneyRow, now: Date) {
  const { stage, stageSince, stages: stagesList } = effectiveStages(row, isoDate(now))
  return {
    id: row.id, personId: row.personId, vacancyId: row.vacancyId, stage, stageSince,
    role: row.role, department: row.department, manager: row.manager, startDate: row.startDate, exitedAt: row.exitedAt,
    lastDay: row.lastDay, version: row.version, stages: stagesList, promises: row.promiseCounts,
    experience: {
      latestPulse: row.experience.latestPulse,
      expectationsMet: { trend: expectationsTrend(row.experience.expectationsMet), recent: row.experience.expectationsMet },
    },
    signals: activeSignals(row.signals, now),
    createdAt: row.createdAt, updatedAt: row.updatedAt,
  }
}


const experienceTypes = ['pulse.answered', 'checkin.held', 'recognition.given', 'development.started', 'development.completed'] as const

const ExperienceSchema = Type.Object({
  journeyId: Type.String(),
  personId: nullable(Type.String()),
  data: Type.Array(Type.Object({
    time: Type.String({ format: 'date-time' }),
    type: Type.Enum([...experienceTypes], { type: 'string' }),
    eventId: Type.String(),
    data: Type.Object({}, { additionalProperties: true, description: 'The event\'s data: scores, labels and (while the person is not erased) notes.' }),
    erased: Type.Optional(Type.Boolean()),
  }), { maxItems: historyItems }),
}, { $id: 'Experience', title: 'Experience', description: 'The individual\'s own time series: pulses, check-ins, recognition and development, oldest first. Never aggregated, never suppressed.' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const journeySchemas = [SignalSchema, JourneySchema, ExperienceSchema]

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
        data: events.map((e) => ({ time: e.time, type: e.type, eventId: e.id, data: e.data, ...(e.erased ? { erased: true } : {}) })),
      }
    })
  })


  app.get('/v1/journeys/:journeyId', {
    config: { scope: 'events:read', etag: true },
    schema: {
      tags: ['journeys'],
      summary: 'One journey',
      description: 'Carries an `ETag`; a request with it in `If-None-Match` gets 304 while nothing the answer shows has changed (an event, or the day moving a promise to due or overdue or switching a signal on).',
      params: Type.Object({ journeyId: Key('The journey.') }),
      response: { 200: Type.Ref('Journey'), 304: NotModified, ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const now = app.config.now()
    const { journeyId } = request.params
    return inTenant(app.db, tenantId, async (tx) => {
      const row = await readCountedJourney(tx, tenantId, journeyId, isoDate(now))
      if (!row) throw notFound(`no journey ${journeyId}`)
      return journeyView(row, now)
    }, { oneRoundTrip: true })
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
      const rows = await listJourneys(tx, tenantId, { ...filters, afterId, limit, today: isoDate(now), now })
      const last = rows[rows.length - 1]
      return {
        data: rows.map((row) => journeyView(row, now)),
        nextCursor: last && rows.length === limit ? Buffer.from(last.id).toString('base64url') : null,
      }
    })
  })
}

export default journeyRoutes
