import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { CloudEventSchema, parseEvents, maxBatch } from '../src/domain/cloudevent.js'
import { eventTypes, keyPattern } from '../src/domain/catalogue.js'
import { invalid, notFound } from '../src/domain/errors.js'
import type { RecordedEvent } from '../src/domain/ledger-event.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant } from '../src/store/database.js'
import { openEvents } from '../src/store/keyring.js'
import { decodeCursor, encodeCursor, legacyCursorPosition, readFeed, readStream } from '../src/store/events.js'
import { journeyExists } from '../src/store/journeys.js'
import { decodeNumberCursor, encodeNumberCursor, Key, ListQuery, problemResponses } from './schemas.js'

export const StoredEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String(),
  source: Type.String(),
  type: Type.String({ enum: [...eventTypes] }),
  subject: Type.String(),
  time: Type.String({ format: 'date-time' }),
  datacontenttype: Type.Literal('application/json'),
  data: Type.Object({}, { additionalProperties: true }),
  version: Type.Integer({ description: 'Position of the event in its stream (1, 2, ...).' }),
  position: Type.Integer({ description: 'Position in the tenant\'s feed: 1, 2, 3... in commit order, with no gap.' }),
  recordedtime: Type.String({ format: 'date-time', description: 'When the ledger stored it.' }),
  erased: Type.Optional(Type.Boolean({ description: 'true when the person was erased: the personal fields of `data` are null for good.' })),
  writtenBy: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The id of the API key that wrote it (null: written by the service\'s own tools). Shown to keys with `admin` scope only.' })),
}, { $id: 'StoredEvent', title: 'StoredEvent', description: 'A CloudEvent as stored in the ledger, with its stream version and ledger position.' })

const AppendResultSchema = Type.Object({
  id: Type.String(), source: Type.String(), subject: Type.String(),
  version: Type.Integer(), position: Type.Integer(),
  duplicate: Type.Boolean({ description: 'true when this source + id was stored before: nothing was stored twice.' }),
  streamVersion: Type.Optional(Type.Integer({ description: 'The stream\'s version after this append, including promises the ledger derived (an offer\'s terms, a vacancy\'s promises): pass it as the next `expectedversion`. Absent on duplicates.' })),
}, { $id: 'AppendResult', title: 'AppendResult' })

/** A stored event as reads show it; who wrote it only to keys with `admin` scope (`showWriter`). */
export function toCloudEvent(e: RecordedEvent, showWriter: boolean) {
  return {
    specversion: '1.0' as const, id: e.id, source: e.source, type: e.type, subject: e.subject, time: e.time,
    datacontenttype: 'application/json' as const, data: e.data, version: e.version, position: e.position, recordedtime: e.recordedAt,
    ...(e.erased ? { erased: true } : {}), ...(showWriter ? { writtenBy: e.writtenBy ?? null } : {}),
  }
}

/** Whether a reader sees who wrote each event: the tenant's admins do. */
export const seesWriters = (request: FastifyRequest): boolean => principalOf(request).scopes.includes('admin')

const FeedPage = Type.Object({
  data: Type.Array(Type.Ref('StoredEvent')),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Where to resume: pass as `after` (or `cursor`). On the feed it stays set at the end, so a poller never loses its place; null only when nothing was read yet.',
  }),
}, { title: 'FeedPage' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const eventSchemas = [CloudEventSchema, StoredEventSchema, AppendResultSchema]

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/events', {
    config: { scope: 'events:write' },
    // The body is judged by parseEvents, which names the failing event and field; the schema documents it.
    attachValidation: true,
    schema: {
      tags: ['events'],
      summary: 'Append one CloudEvent or a batch',
      description: `One CloudEvent, or an array of up to ${maxBatch}. A batch is atomic: every event is stored or none, and the problem document points at the failing index (\`/3/data/promiseId\`). An event whose \`source\` + \`id\` was stored before comes back with \`duplicate: true\` and its first result. \`expectedversion\` that does not match the stream's version: 409. A domain rule broken (a second exit, a hire after exit, keeping a promise never made): 409 naming the rule. Content types: \`application/json\`, \`application/cloudevents+json\`, \`application/cloudevents-batch+json\`.`,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      body: Type.Union([Type.Ref('CloudEvent'), Type.Array(Type.Ref('CloudEvent'), { minItems: 1, maxItems: maxBatch })], {
        description: 'Each event\'s `data` follows the schema of its type (components `*Data`).',
      }),
      response: {
        201: Type.Object({ data: Type.Array(Type.Ref('AppendResult')) }, { title: 'AppendResponse' }),
        ...problemResponses(409, 413, 415, 422),
      },
    },
  }, async (request, reply) => {
    if (request.validationError && request.validationError.validationContext !== 'body') throw request.validationError
    const { tenantId, keyId } = principalOf(request)
    const events = parseEvents(request.body, { now: app.config.now() })
    const results = await app.ledger.append(tenantId, events, { batch: Array.isArray(request.body), writtenBy: keyId })
    const duplicates = results.filter((r) => r.duplicate).length
    app.metrics.eventsAppended.inc({ outcome: 'stored' }, results.length - duplicates)
    if (duplicates > 0) app.metrics.eventsAppended.inc({ outcome: 'duplicate' }, duplicates)
    return reply.code(201).send({ data: results })
  })

  app.get('/v1/events', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['events'],
      summary: 'Read the tenant\'s feed in commit order',
      description: 'Events in the order their transactions committed: positions 1, 2, 3... per tenant, with no gap. A reader that pages with `nextCursor` never misses or repeats an event, including events whose transactions commit late: an append takes its positions only as it commits. Cursors handed out before positions were per tenant still resume at the same event.',
      querystring: Type.Object({
        after: Type.Optional(Type.String({ maxLength: 512, description: 'A `nextCursor` from a previous page.' })),
        cursor: ListQuery.cursor,
        type: Type.Optional(Type.String({ enum: [...eventTypes] })),
        subject: Type.Optional(Type.String({ pattern: keyPattern })),
        limit: ListQuery.limit,
      }),
      response: { 200: FeedPage, ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { after, cursor, type, subject, limit = 50 } = request.query
    const token = after ?? cursor
    const decoded = token === undefined ? undefined : decodeCursor(token)
    const notACursor = () => invalid('the cursor is not valid', [{ path: after !== undefined ? '/after' : '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    if (token !== undefined && !decoded) throw notACursor()
    const page = await inTenant(app.db, tenantId, async (tx) => {
      // A cursor from before positions were per tenant resumes at the same event, renumbered.
      const position = decoded && 'oldPosition' in decoded ? await legacyCursorPosition(tx, tenantId, decoded.oldPosition) : decoded
      if (decoded && !position) throw notACursor()
      const read = await readFeed(tx, tenantId, { after: position, type, subject, limit })
      return { ...read, events: await openEvents(tx, app.keyring, tenantId, read.events) }
    })
    const showWriter = seesWriters(request)
    return { data: page.events.map((e) => toCloudEvent(e, showWriter)), nextCursor: page.next ? encodeCursor(page.next) : null }
  })

  app.get('/v1/journeys/:journeyId/events', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['events', 'journeys'],
      summary: 'Read one journey\'s stream in stream order',
      params: Type.Object({ journeyId: Key('The journey.') }),
      querystring: Type.Object(ListQuery),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('StoredEvent')), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { title: 'StreamPage' }), ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { journeyId } = request.params
    const { cursor, limit = 50 } = request.query
    const afterVersion = cursor === undefined ? 0 : decodeNumberCursor(cursor)
    if (afterVersion === undefined) throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    const events = await inTenant(app.db, tenantId, async (tx) => {
      if (!(await journeyExists(tx, tenantId, journeyId))) throw notFound(`no journey ${journeyId}`)
      return openEvents(tx, app.keyring, tenantId, await readStream(tx, tenantId, 'journey', journeyId, afterVersion, limit))
    })
    const last = events[events.length - 1]
    const showWriter = seesWriters(request)
    return {
      data: events.map((e) => toCloudEvent(e, showWriter)),
      nextCursor: last && events.length === limit ? encodeNumberCursor(last.version) : null,
    }
  })
}

export default eventRoutes
