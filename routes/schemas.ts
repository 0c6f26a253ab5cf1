// Schemas shared by every route. Each carries an $id so the OpenAPI document names it as a
// reusable component (Problem, ...) and typed clients get the same names.
import Type, { type TSchema } from 'typebox'
import { keyPattern } from '../src/domain/catalogue.js'

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
  }))),
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
    429: 'Too many requests.',
    500: 'An unexpected error; it has been logged (a problem document without details).',
    503: 'The database is unreachable; retry after `Retry-After` seconds.',
  }
  const out: Record<number, ProblemResponse> = {}
  for (const status of [400, 401, 403, 500, 503, ...statuses]) out[status] = problemResponse(descriptions[status] ?? 'A problem document.')
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
