// The one error handler: every failure leaves as an RFC 9457 problem document. Client mistakes
// keep their status and say what was wrong; anything unexpected is a 500 that names nothing
// internal (the log has the details).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ProblemError, type FieldProblem } from '../domain/errors.js'
import { isDatabaseUnavailable } from '../store/failures.js'
import { maxFieldProblems } from '../../routes/schemas.js'

export const problemContentType = 'application/problem+json'

export function problemType(code: string): string {
  return `urn:journey-ledger:problem:${code}`
}

interface ValidationIssue { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> }

function fieldProblems(issues: ValidationIssue[], context: string | undefined): FieldProblem[] {
  const location = context === 'querystring' ? 'query' : context === 'params' ? 'path' : context === 'headers' ? 'header' : 'body'
  return issues.map((issue) => {
    let path = issue.instancePath ?? ''
    const missing = issue.params?.missingProperty
    if (issue.keyword === 'required' && typeof missing === 'string') path = `${path}/${missing}`
    const extra = issue.params?.additionalProperty
    if (issue.keyword === 'additionalProperties' && typeof extra === 'string') path = `${path}/${extra}`
    return { path, message: issue.message ?? 'is not valid', location }
  })
}

const httpProblems: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type', 'Unsupported media type'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body-too-large', 'Body too large'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed-json', 'Body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty-body', 'Body is empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad-content-length', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'unsupported-media-type', 'Content type is empty'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported-media-type', 'Content type is not valid'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri-too-long', 'A path parameter is too long'],
  FST_ERR_BAD_URL: [400, 'bad-url', 'The URL is not valid'],
  // Text the database cannot store (a NUL, a lone surrogate) that slipped past validation is still the caller's.
  '22021': [400, 'invalid-text', 'Text is not valid'],
  '22P05': [400, 'invalid-text', 'Text is not valid'],
}

export function toProblem(error: FastifyError | Error): ProblemError {
  if (error instanceof ProblemError) return error
  if ('validation' in error && Array.isArray(error.validation)) {
    const context = 'validationContext' in error && typeof error.validationContext === 'string' ? error.validationContext : undefined
    const errors = fieldProblems(error.validation, context)
    return new ProblemError(400, 'validation', 'Request is not valid', `the ${context ?? 'request'} does not match the schema`, { errors })
  }
  if (isDatabaseUnavailable(error)) {
    return new ProblemError(503, 'unavailable', 'Service unavailable', 'the database is unreachable; retry shortly', { retryAfterSeconds: 5 })
  }
  const code = 'code' in error && typeof error.code === 'string' ? error.code : ''
  if (code === '57014') {
    return new ProblemError(503, 'database-timeout', 'The database did not answer in time', 'the work took longer than its limit; retry shortly', { retryAfterSeconds: 5 })
  }
  const known = httpProblems[code]
  if (known) return new ProblemError(known[0], known[1], known[2], error.message)
  if (error instanceof SyntaxError) return new ProblemError(400, 'malformed-json', 'Body is not valid JSON', error.message)
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500
  if (status >= 400 && status < 500) return new ProblemError(status, `http-${status}`, error.name, error.message)
  return new ProblemError(500, 'internal', 'Internal error', 'an unexpected error occurred; it has been logged')
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError) {
  const { errors, rule, retryAfterSeconds } = problem.extensions
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(problem.status).type(problemContentType).send({
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    instance: request.url.split('?')[0] ?? request.url,
    code: problem.code,
    ...(rule ? { rule } : {}),
    ...(errors ? { errors: errors.slice(0, maxFieldProblems) } : {}),
  })
}

async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    if (problem.status >= 500 && problem.status !== 503) request.log.error({ err: error }, 'request failed')
    else if (problem.status === 503) request.log.warn({ err: error }, 'database unavailable')
    return sendProblem(request, reply, problem)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new ProblemError(404, 'not-found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`)))
}

export default fp(errorsPlugin, { name: 'errors' })
