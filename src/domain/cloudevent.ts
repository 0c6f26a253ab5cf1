// The CloudEvents 1.0 envelope (structured JSON mode) as Journey Ledger accepts it, and the
// parse from an untrusted body into events the store can append. Pure: the clock is passed in.
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { eventTypes, hasValidData, isEventType, keyPattern, streamKindOf, validateEventData, type TypedData } from './catalogue.js'
import { invalid, type FieldProblem } from './errors.js'

export const maxBatch = 1000

export const CloudEventSchema = Type.Object({
  specversion: Type.Literal('1.0', { description: 'CloudEvents version; always "1.0".' }),
  id: Type.String({ minLength: 1, maxLength: 255, description: 'Unique per `source`; a retry with the same source and id is stored once.' }),
  source: Type.String({ minLength: 1, maxLength: 255, description: 'The system that saw it happen, e.g. `hris:personio`, `ats:greenhouse`.' }),
  type: Type.String({ enum: [...eventTypes], description: 'One of the catalogue\'s event types.' }),
  subject: Type.String({ pattern: keyPattern, minLength: 1, maxLength: 128, description: 'The stream: a journeyId, or a vacancyId for `vacancy.*` types.' }),
  time: Type.Optional(Type.String({ format: 'date-time', description: 'When it happened in the world (RFC 3339); default: now. May be in the past (backfill).' })),
  datacontenttype: Type.Optional(Type.Literal('application/json')),
  dataschema: Type.Optional(Type.String({ maxLength: 2048 })),
  expectedversion: Type.Optional(Type.Integer({ minimum: 0, description: 'Optimistic concurrency: the stream version the writer last saw (0 for a new stream); 409 when it has moved on.' })),
  data: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The type\'s fields: see the EventData.* schemas.' })),
}, {
  $id: 'CloudEvent',
  title: 'CloudEvent',
  additionalProperties: false,
  description: 'A CloudEvents 1.0 event in structured JSON mode.',
  examples: [{
    specversion: '1.0', id: 'evt-1001', source: 'hris:personio', type: 'employee.hired', subject: 'j-42',
    time: '2026-03-01T09:00:00Z', data: { personId: 'p-7', role: 'Engineer', department: 'Platform', manager: 'm-3', startDate: '2026-04-01' },
  }],
})

const checkEnvelope = Compile(CloudEventSchema)

export interface IncomingEnvelope {
  id: string
  source: string
  subject: string
  streamKind: 'journey' | 'vacancy'
  time: string
  expectedVersion?: number
  /** Index in the request's batch, for problem paths. */
  index: number
  /** The id of the API key that sent it, stamped by the ledger (never by the client). */
  writtenBy?: string | null
}

/** A valid CloudEvent, its data typed by its type. */
export type IncomingEvent = IncomingEnvelope & TypedData

// Allow some clock skew between systems; an event from the future beyond that cannot have happened yet.
const maxFutureSkewMs = 24 * 60 * 60 * 1000

/** Sources the service writes under itself (derived promises, the promise actions): a client that claimed one would misattribute its events. */
export function isServiceSource(source: string): boolean {
  return source === 'journey-ledger' || source.startsWith('idem:') || source.startsWith('api:')
}

export interface ParseOptions {
  now: Date
  /** The events are the service's own (the promise actions): its own sources are allowed. */
  ownSources?: boolean
}

function parseOne(raw: unknown, index: number, prefix: string, { now, ownSources = false }: ParseOptions): { event?: IncomingEvent; errors: FieldProblem[] } {
  const errors: FieldProblem[] = []
  if (!checkEnvelope.Check(raw)) {
    for (const e of checkEnvelope.Errors(raw)) {
      const params = e.params
      let path = e.instancePath
      if (e.keyword === 'required' && 'requiredProperties' in params && Array.isArray(params.requiredProperties)) {
        for (const p of params.requiredProperties) errors.push({ path: `${prefix}${path}/${String(p)}`, message: 'is required' })
        continue
      }
      if (e.keyword === 'additionalProperties' && 'additionalProperties' in params && Array.isArray(params.additionalProperties)) {
        for (const p of params.additionalProperties) errors.push({ path: `${prefix}${path}/${String(p)}`, message: 'is not a CloudEvents attribute Journey Ledger accepts' })
        continue
      }
      if (e.keyword === 'boolean') continue // reported once by its additionalProperties error
      path = `${prefix}${path}`
      errors.push({ path, message: e.message })
    }
    return { errors }
  }
  if (!ownSources && isServiceSource(raw.source)) errors.push({ path: `${prefix}/source`, message: 'is reserved for the service itself (journey-ledger, api:..., idem:...)' })
  const type = raw.type
  if (!isEventType(type)) return { errors: [...errors, { path: `${prefix}/type`, message: 'is not a catalogue event type' }] }
  const typed = { type, data: raw.data ?? {} }
  const valid = hasValidData(typed)
  if (!valid) for (const e of validateEventData(type, typed.data)) errors.push({ path: `${prefix}/data${e.path}`, message: e.message })
  // RFC 3339 allows a leap second (23:59:60), which JavaScript's Date cannot represent.
  const when = raw.time === undefined ? now : new Date(raw.time)
  if (Number.isNaN(when.getTime())) errors.push({ path: `${prefix}/time`, message: 'is not a time this ledger can store (leap seconds are not)' })
  const time = Number.isNaN(when.getTime()) ? now.toISOString() : when.toISOString()
  if (Date.parse(time) > now.getTime() + maxFutureSkewMs) errors.push({ path: `${prefix}/time`, message: 'is in the future' })
  // Only once the schemas have passed: they bound the depth this walks.
  if (errors.length === 0) for (const path of unstorableStrings(raw, '')) errors.push({ path: `${prefix}${path}`, message: 'contains NUL or an unpaired surrogate, which cannot be stored' })
  if (errors.length > 0 || !valid) return { errors }
  return {
    errors,
    event: { id: raw.id, source: raw.source, subject: raw.subject, streamKind: streamKindOf(type), time, expectedVersion: raw.expectedversion, index, ...typed },
  }
}

const unpairedSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** JSON Pointers of strings PostgreSQL cannot store (NUL, a UTF-16 surrogate without its pair); the schemas bound the depth. */
function unstorableStrings(value: unknown, path: string, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000') || unpairedSurrogate.test(value)) out.push(path)
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorableStrings(item, `${path}/${i}`, out))
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) unstorableStrings(item, `${path}/${key}`, out)
  }
  return out
}

/**
 * Parses one CloudEvent or a batch. Every problem of every event is reported at once, with paths
 * into the body (`/3/data/promiseId` in a batch, `/data/promiseId` for a single event).
 */
export function parseEvents(body: unknown, options: ParseOptions): IncomingEvent[] {
  const batch = Array.isArray(body)
  const items: unknown[] = batch ? body : [body]
  if (items.length === 0) throw invalid('a batch needs at least one event', [{ path: '', message: 'must not be empty' }])
  if (items.length > maxBatch) throw invalid(`a batch holds at most ${maxBatch} events`, [{ path: '', message: `must have at most ${maxBatch} items` }])
  const events: IncomingEvent[] = []
  const errors: FieldProblem[] = []
  items.forEach((item, index) => {
    const parsed = parseOne(item, index, batch ? `/${index}` : '', options)
    errors.push(...parsed.errors)
    if (parsed.event) events.push(parsed.event)
  })
  if (errors.length > 0) {
    throw invalid(batch ? 'one or more events in the batch are not valid; none was stored' : 'the event is not valid', errors.slice(0, 100))
  }
  return events
}
