// Schemas shared by every route. Each carries an $id so the OpenAPI document names it as a
// reusable component (Problem, ...) and typed clients get the same names.
import Type, { type TSchema } from 'typebox'
import { keyPattern } from '../src/domain/catalogue.js'

/** A problem lists at most this many field problems (a batch of 1000 events can have more). */
export const maxFieldProblems = 1000

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'A URI naming the kind of problem; stable for clients to branch on.' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  instance: Type.String({ description: 'The request path that produced the problem.' }),
  code: Type.String({ description: 'Short machine-readable code, e.g. `validation`, `rule-violated`.' }),
  rule: Type.Optional(Type.String({ description: 'The domain rule a 409 names, e.g. `second-exit`.' })),
  errors: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'JSON Pointer into the body (or the query when `location` is `query`).' }),
    message: Type.String(),
    location: Type.Optional(Type.String({ enum: ['body', 'query', 'path', 'header'] })),
  }), { maxItems: maxFieldProblems, description: 'The first problems found, at most 1000.' })),
}, {
  $id: 'Problem',
  title: 'Problem',
  description: 'An RFC 9457 problem document (`application/problem+json`).',
  examples: [{
    type: 'urn:journey-ledger:problem:rule-violated', title: 'The ledger does not allow this', status: 409,
    detail: 'journey j-42 has already exited', instance: '/v1/events', code: 'rule-violated', rule: 'second-exit',
  }],
})

export const ProblemRef = Type.Ref('Problem')

/** The answer to If-None-Match with the current ETag (reads of one journey or promise). */
export const NotModified = Type.Null({ description: 'Not modified: the `ETag` sent in `If-None-Match` is still current. No body.' })

/**
 * Arrays a response returns whole, unpaged, that grow with a person's history (an export, a journey's
 * experience, a promise's history): the bound stated for them. Not truncated by the service: a
 * person would need decades of weekly events to come near it.
 */
export const historyItems = 100_000

/** Responses every authenticated route can give, besides its own. */
export function problemResponses(...statuses: number[]): Record<number, ProblemResponse> {
  const descriptions: Record<number, string> = {
    400: 'The request is not valid (see `errors`).',
    401: 'No API key, or an unknown or revoked one.',
    403: 'The API key lacks the scope this operation needs.',
    404: 'No such object in this tenant.',
    409: 'A conflict: a domain rule, an expected version, or a request still in flight.',
    413: 'The body is larger than the limit.',
    415: 'The content type is not accepted.',
    422: 'The Idempotency-Key was used before with another body.',
    429: 'Too many requests: a budget is spent (see `RateLimit-Policy`); retry after `Retry-After` seconds.',
    500: 'An unexpected error; it has been logged (a problem document without details).',
    503: 'The database is unreachable; retry after `Retry-After` seconds.',
  }
  const out: Record<number, ProblemResponse> = {}
  for (const status of [400, 401, 403, 429, 500, 503, ...statuses]) out[status] = problemResponse(descriptions[status] ?? 'A problem document.')
  return out
}

export interface ProblemResponse { description: string; content: { 'application/problem+json': { schema: TSchema } } }

/** A response documented (and serialized) as `application/problem+json`. */
export function problemResponse(description: string): ProblemResponse {
  return { description, content: { 'application/problem+json': { schema: ProblemRef } } }
}

export const Key = (description: string) =>
  Type.String({ pattern: keyPattern, minLength: 1, maxLength: 128, description })

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (1-200).' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The `nextCursor` of the previous page.' })),
}

/** A page cursor that is a position in a sequence (a stream version, an audit id). */
export const encodeNumberCursor = (n: number) => Buffer.from(String(n)).toString('base64url')

/** The number in a cursor this API returned; undefined for anything else. */
export function decodeNumberCursor(raw: string): number | undefined {
  const text = Buffer.from(raw, 'base64url').toString()
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined
}

export const Page = (item: TSchema, title: string) => Type.Object({
  data: Type.Array(item),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
}, { title })

export const sharedSchemas: TSchema[] = [ProblemSchema]

/**
 * The bounds every schema of the API states (OWASP API4: resource consumption). Set explicitly where
 * a field has its own limit; `withBounds` gives every other string, integer and array these, so the
 * request side enforces them (Ajv) and the response side states what the request side let in.
 */
export const defaultBounds = {
  /** Free text anywhere (the catalogue's longest field is 10 000 characters). */
  stringLength: 10_000,
  /** Timestamps as PostgreSQL prints them, with offset and microseconds. */
  dateTimeLength: 40,
  dateLength: 10,
  uriLength: 2048,
  /** A batch of events is at most 1000 (the largest array a request can send). */
  items: 1000,
  /** Integers are JSON numbers a JavaScript client reads exactly. */
  integer: Number.MAX_SAFE_INTEGER,
}

/** Keys under which a schema holds schemas, and those under which it holds maps of them. */
const subschemaKeys = ['items', 'prefixItems', 'additionalProperties', 'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', 'contains']
const subschemaMapKeys = ['properties', 'patternProperties', '$defs', 'definitions']

function stringLimit(format: unknown): number {
  if (format === 'date-time') return defaultBounds.dateTimeLength
  if (format === 'date') return defaultBounds.dateLength
  if (format === 'uri' || format === 'url') return defaultBounds.uriLength
  return defaultBounds.stringLength
}

function boundNode(node: object): void {
  const type: unknown = Reflect.get(node, 'type')
  const types: unknown[] = Array.isArray(type) ? type : [type]
  const has = (key: string) => Reflect.get(node, key) !== undefined
  if (types.includes('string') && !has('maxLength') && !has('enum') && !has('const')) Reflect.set(node, 'maxLength', stringLimit(Reflect.get(node, 'format')))
  if (types.includes('integer')) {
    if (!has('minimum') && !has('exclusiveMinimum')) Reflect.set(node, 'minimum', -defaultBounds.integer)
    if (!has('maximum') && !has('exclusiveMaximum')) Reflect.set(node, 'maximum', defaultBounds.integer)
  }
  if (types.includes('array') && !has('maxItems')) Reflect.set(node, 'maxItems', defaultBounds.items)
}

/** Gives every string, integer and array in the schema the default bounds it lacks (in place; returns the schema). */
export function withBounds<T>(schema: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item)
      return
    }
    if (typeof node !== 'object' || node === null) return
    boundNode(node)
    for (const key of subschemaKeys) visit(Reflect.get(node, key))
    for (const key of subschemaMapKeys) {
      const map: unknown = Reflect.get(node, key)
      if (typeof map === 'object' && map !== null) for (const child of Object.values(map)) visit(child)
    }
  }
  visit(schema)
  return schema
}

/** withBounds over a route's schemas: params, query, headers, body, and every response (plain or by media type). */
export function withRouteBounds<T>(routeSchema: T): T {
  if (typeof routeSchema !== 'object' || routeSchema === null) return routeSchema
  for (const part of ['params', 'querystring', 'headers', 'body']) withBounds(Reflect.get(routeSchema, part))
  const responses: unknown = Reflect.get(routeSchema, 'response')
  if (typeof responses !== 'object' || responses === null) return routeSchema
  for (const response of Object.values(responses)) {
    const content: unknown = typeof response === 'object' && response !== null ? Reflect.get(response, 'content') : undefined
    if (typeof content !== 'object' || content === null) {
      withBounds(response)
      continue
    }
    for (const media of Object.values(content)) withBounds(typeof media === 'object' && media !== null ? Reflect.get(media, 'schema') : undefined)
  }
  return routeSchema
}
