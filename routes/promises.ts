import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { randomUUID } from 'node:crypto'
import Type, { type TSchema } from 'typebox'
import { dataSchemas, promiseCategories, type EventType } from '../src/domain/catalogue.js'
import { parseEvents } from '../src/domain/cloudevent.js'
import { invalid, notFound, ProblemError } from '../src/domain/errors.js'
import { isoDate } from '../src/domain/journey.js'
import { derivedPromiseId, hasPerceptionGap, promiseEventTypes, promiseStatuses } from '../src/domain/promise.js'
import { record } from '../src/domain/ledger-event.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant, type Tx } from '../src/store/database.js'
import { readJourneyTimeline } from '../src/store/events.js'
import { openEvents, type Keyring } from '../src/store/keyring.js'
import { readJourney } from '../src/store/journeys.js'
import { journeysOfPromises, readPromise, readPromisePage, readPromiseTag, readPromiseTagIn, type PromiseRow, type PromiseTagParts } from '../src/store/promises.js'
import { ifNoneMatch, notModified, versionTag } from './etags.js'
import { seesWriters, toCloudEvent } from './events.js'
import { Key, ListQuery, NotModified, historyItems, problemResponses } from './schemas.js'

const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()])
const StatusSchema = Type.Enum([...promiseStatuses], {
  type: 'string',
  description: 'open; due (open, due within 14 days); overdue (open, past due); kept; broken; renegotiated (open again with new terms, not yet due); withdrawn. Each promise has exactly one.',
})

const PromiseSummary = {
  id: Type.String(),
  journeyId: Type.String(),
  category: Type.Enum([...promiseCategories], { type: 'string' }),
  text: nullable(Type.String({ description: 'The promise in words (personal data): null once the person is erased.' })),
  erased: Type.Optional(Type.Boolean({ description: 'true when the person was erased.' })),
  madeBy: Type.String(),
  madeAt: nullable(Type.String({ description: 'Journey moment: vacancy, interview, offer, onboarding, employment.' })),
  kind: nullable(Type.String()),
  madeTime: Type.String({ format: 'date-time', description: 'When the promise was made.' }),
  dueBy: nullable(Type.String({ format: 'date' })),
  dueAfterStartDays: nullable(Type.Integer()),
  dueDate: nullable(Type.String({ format: 'date', maxLength: 10, description: '`dueBy`, or the journey\'s startDate + `dueAfterStartDays`.' })),
  status: StatusSchema,
  closedAt: nullable(Type.String({ format: 'date-time' })),
  cause: nullable(Type.String({ description: 'For broken promises: reneged, misunderstood or circumstances.' })),
  renegotiations: Type.Integer(),
  inheritedFrom: nullable(Type.Object({ kind: Type.String(), id: Type.String(), index: Type.Integer() })),
  employeeView: nullable(Type.Object({ fulfilled: Type.Integer({ minimum: 1, maximum: 5 }), assessedAt: Type.String({ format: 'date-time' }) })),
  gap: Type.Boolean({ description: 'true when the employer says kept and the employee\'s latest assessment is 2 or lower.' }),
}

const PromiseSchema = Type.Object(PromiseSummary, { $id: 'Promise', title: 'Promise' })
const PromiseDetailSchema = Type.Object({
  ...PromiseSummary,
  employerView: Type.Object({ outcome: StatusSchema, closedAt: nullable(Type.String({ format: 'date-time' })) }),
  employeeComment: nullable(Type.String({ description: 'The latest assessment\'s comment.' })),
  history: Type.Array(Type.Ref('StoredEvent'), { maxItems: historyItems }),
}, { $id: 'PromiseDetail', title: 'PromiseDetail' })

export function promiseView(p: PromiseRow) {
  return {
    id: p.id, journeyId: p.journeyId, category: p.category, text: p.text, ...(p.erased ? { erased: true } : {}), madeBy: p.madeBy, madeAt: p.madeAt, kind: p.kind,
    madeTime: p.madeTime, dueBy: p.dueBy, dueAfterStartDays: p.dueAfterStartDays, dueDate: p.dueDate, status: p.status,
    closedAt: p.closedAt, cause: p.brokenCause, renegotiations: p.renegotiations, inheritedFrom: p.inheritedFrom,
    employeeView: p.assessedFulfilled !== null && p.assessedAt !== null ? { fulfilled: p.assessedFulfilled, assessedAt: p.assessedAt } : null,
    gap: hasPerceptionGap({ outcome: p.status === 'kept' ? 'kept' : 'open', assessedFulfilled: p.assessedFulfilled }),
  }
}

/** The ETag of a promise's answer on `today`, for a caller who sees (or not) who wrote each event. */
export function promiseTag(parts: PromiseTagParts, today: string, showWriter: boolean): string {
  return versionTag('p', [parts.version, parts.dayDependent ? today : '', parts.personMapped, showWriter])
}

async function promiseDetail(tx: Tx, keyring: Keyring, tenantId: string, id: string, now: Date, showWriter: boolean) {
  const row = await readPromise(tx, keyring, tenantId, id, isoDate(now))
  if (!row) throw notFound(`no promise ${id}`)
  return promiseDetailOf(tx, keyring, tenantId, row, showWriter)
}

async function promiseDetailOf(tx: Tx, keyring: Keyring, tenantId: string, row: PromiseRow, showWriter: boolean) {
  const id = row.id
  const history = await openEvents(tx, keyring, tenantId, await readJourneyTimeline(tx, tenantId, row.journeyId, { types: promiseEventTypes, promiseId: id }))
  const lastAssessment = history.filter((e) => e.type === 'promise.assessed').at(-1)
  const comment = lastAssessment?.data.comment
  return {
    ...promiseView(row),
    employerView: { outcome: row.status, closedAt: row.closedAt },
    employeeComment: typeof comment === 'string' ? comment : null,
    history: history.map((e) => toCloudEvent(e, showWriter)),
  }
}

/**
 * The ledger's rules point into the CloudEvent (`/data/dueBy`), but these routes' callers sent only the data:
 * without this, a problem's `errors[].path` was not a JSON Pointer into the body they sent.
 */
async function pointIntoBody<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    const errors = error instanceof ProblemError ? error.extensions.errors : undefined
    if (!(error instanceof ProblemError) || !errors) throw error
    const intoBody = errors.map((e) => (e.path === '/data' || e.path.startsWith('/data/') ? { ...e, path: e.path.slice('/data'.length) } : e))
    throw new ProblemError(error.status, error.code, error.title, error.message, { ...error.extensions, errors: intoBody })
  }
}

/** The event source for what a person records through the API: the key that recorded it. */
function apiSource(request: FastifyRequest): string {
  return `api:${principalOf(request).keyId}`
}

/** An event id that a retry with the same Idempotency-Key reproduces, so the ledger dedupes it too. */
function eventId(request: FastifyRequest): string {
  const key = request.headers['idempotency-key']
  return typeof key === 'string' && key.length > 0 ? `idem:${key}` : randomUUID()
}

const outcomeActions: { path: string; type: EventType; summary: string }[] = [
  { path: 'keep', type: 'promise.kept', summary: 'Record that the promise was kept' },
  { path: 'break', type: 'promise.broken', summary: 'Record that the promise was broken' },
  { path: 'renegotiate', type: 'promise.renegotiated', summary: 'Reopen the promise with new terms' },
  { path: 'withdraw', type: 'promise.withdrawn', summary: 'Withdraw the promise' },
  { path: 'assess', type: 'promise.assessed', summary: 'Record the employee\'s own view of the promise' },
]

/** The body of an action: the event's data schema without the fields the server fills in. */
function bodyOf(type: EventType, omit: string[]): TSchema {
  const schema = dataSchemas[type]
  const properties = Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !omit.includes(k)))
  const required = Array.isArray(schema.required) ? schema.required.filter((k: unknown) => typeof k === 'string' && !omit.includes(k)) : []
  const description: unknown = Reflect.get(schema, 'description')
  return Type.Object({}, { additionalProperties: false, description: typeof description === 'string' ? description : undefined, properties, required })
}

/** Named components this module's routes refer to; the app registers them at the root. */
export const promiseSchemas = [PromiseSchema, PromiseDetailSchema]

const promiseRoutes: FastifyPluginAsyncTypebox = async (app) => {

  /** Records one promise event through the same road as POST /v1/events (app.ledger), and answers with the promise. */
  async function recordPromiseEvent(request: FastifyRequest, type: EventType, journeyId: string | null, promiseId: string, body: unknown) {
    const { tenantId } = principalOf(request)
    const now = app.config.now()
    const journey = await inTenant(app.db, tenantId, async (tx) => {
      const subject = journeyId ?? (await journeysOfPromises(tx, tenantId, [promiseId])).get(promiseId)
      if (!subject) throw notFound(`no promise ${promiseId}`)
      const row = await readJourney(tx, tenantId, subject)
      if (!row) throw notFound(`no journey ${subject}`)
      return row
    })
    request.responsePersonRef = journey.personRef
    const data = { ...record(body), promiseId }
    const events = parseEvents({ specversion: '1.0', id: eventId(request), source: apiSource(request), type, subject: journey.id, time: now.toISOString(), data }, { now, ownSources: true })
    await pointIntoBody(() => app.ledger.append(tenantId, events, { batch: false, writtenBy: principalOf(request).keyId }))
    return inTenant(app.db, tenantId, (tx) => promiseDetail(tx, app.keyring, tenantId, promiseId, now, seesWriters(request)))
  }

  app.post('/v1/journeys/:journeyId/promises', {
    config: { scope: 'promises:write' },
    schema: {
      tags: ['promises'],
      summary: 'Record a promise made to the person on this journey',
      description: 'Records `promise.made` on the journey\'s stream. `promiseId` is yours to choose (a client key); without it the server makes one. `dueBy` must not be before today.',
      params: Type.Object({ journeyId: Key('The journey.') }),
      body: bodyOf('promise.made', ['inheritedFrom']),
      response: { 201: Type.Ref('PromiseDetail'), ...problemResponses(404, 409, 422) },
    },
  }, async (request, reply) => {
    const body = record(request.body)
    const given = typeof body.promiseId === 'string' ? body.promiseId : undefined
    const promiseId = given ?? derivedPromiseId(apiSource(request), eventId(request))
    const detail = await recordPromiseEvent(request, 'promise.made', request.params.journeyId, promiseId, body)
    return reply.code(201).send(detail)
  })

  for (const action of outcomeActions) {
    app.post(`/v1/promises/:promiseId/${action.path}`, {
      config: { scope: 'promises:write' },
      schema: {
        tags: ['promises'],
        summary: action.summary,
        description: `Records \`${action.type}\` on the promise's journey, through the same rules as \`POST /v1/events\`.${action.type === 'promise.assessed' ? ' Allowed at any time: the employee\'s view is theirs.' : ' A promise already kept, broken or withdrawn: 409.'}`,
        params: Type.Object({ promiseId: Key('The promise.') }),
        body: bodyOf(action.type, ['promiseId']),
        response: { 200: Type.Ref('PromiseDetail'), ...problemResponses(404, 409, 422) },
      },
    }, async (request) => recordPromiseEvent(request, action.type, null, request.params.promiseId, request.body))
  }

  app.get('/v1/promises/:promiseId', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['promises'],
      summary: 'One promise: its history, the employer\'s outcome and the employee\'s view',
      description: 'Carries a weak `ETag` (the journey\'s stream version, the day while the day can change the status, erasure); a request with it in `If-None-Match` (one tag, a list, or `*`) gets 304 while nothing the answer shows has changed.',
      params: Type.Object({ promiseId: Key('The promise.') }),
      response: { 200: Type.Ref('PromiseDetail'), 304: NotModified, ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const { tenantId } = principalOf(request)
    const { promiseId } = request.params
    const today = isoDate(app.config.now())
    const showWriter = seesWriters(request)
    if (ifNoneMatch(request) !== undefined) {
      const parts = await readPromiseTag(app.db, tenantId, promiseId, today)
      if (!parts) throw notFound(`no promise ${promiseId}`)
      if (notModified(request, reply, promiseTag(parts, today, showWriter))) return reply.send()
    }
    const { parts, detail } = await inTenant(app.db, tenantId, async (tx) => {
      const [row, tagParts] = await Promise.all([readPromise(tx, app.keyring, tenantId, promiseId, today), readPromiseTagIn(tx, tenantId, promiseId, today)])
      if (!row || !tagParts) throw notFound(`no promise ${promiseId}`)
      return { parts: tagParts, detail: await promiseDetailOf(tx, app.keyring, tenantId, row, showWriter) }
    })
    void reply.header('etag', promiseTag(parts, today, showWriter))
    return detail
  })

  app.get('/v1/promises', {
    config: { scope: 'events:read' },
    schema: {
      tags: ['promises'],
      summary: 'List promises',
      description: 'Ordered by due date (promises without one last), then id. Filters combine with AND. Status is computed against today.',
      querystring: Type.Object({
        status: Type.Optional(StatusSchema),
        journeyId: Type.Optional(Key('Promises of one journey.')),
        madeBy: Type.Optional(Key('Promises made by this recruiter or manager.')),
        category: Type.Optional(Type.Enum([...promiseCategories], { type: 'string' })),
        dueBefore: Type.Optional(Type.String({ format: 'date', maxLength: 10, description: 'Due strictly before this date.' })),
        ...ListQuery,
      }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('Promise')), nextCursor: nullable(Type.String()) }, { title: 'PromiseList' }), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { cursor, limit = 50, ...filters } = request.query
    const after = cursor === undefined ? undefined : decodePromiseCursor(cursor)
    if (cursor !== undefined && !after) throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    const today = isoDate(app.config.now())
    const rows = await readPromisePage(app.db, app.keyring, tenantId, { ...filters, after, limit, today })
    const last = rows[rows.length - 1]
    return {
      data: rows.map(promiseView),
      nextCursor: last && rows.length === limit ? Buffer.from(`${last.dueKey}|${last.id}`).toString('base64url') : null,
    }
  })
}

function decodePromiseCursor(raw: string): { dueKey: string; id: string } | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}|infinity)\|([A-Za-z0-9._:@-]{1,128})$/.exec(Buffer.from(raw, 'base64url').toString())
  if (!match?.[1] || !match[2]) return undefined
  // A date the pattern admits but the calendar does not (2026-13-45) made PostgreSQL's ::date cast fail: a 500, not a 400.
  if (match[1] !== 'infinity' && !isRealDate(match[1])) return undefined
  return { dueKey: match[1], id: match[2] }
}

function isRealDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00.000Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date
}

export default promiseRoutes
