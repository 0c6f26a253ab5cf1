// One error policy: everything a client did wrong is a ProblemError with a status and a stable
// code; the errors plugin renders it as an RFC 9457 problem document.

export interface FieldProblem {
  /** JSON Pointer into the request body (or the query, with location 'query'). */
  path: string
  message: string
  location?: 'body' | 'query' | 'path' | 'header'
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extensions: { errors?: FieldProblem[]; rule?: string; retryAfterSeconds?: number } = {},
  ) {
    super(detail)
    this.name = 'ProblemError'
  }
}

export const invalid = (detail: string, errors: FieldProblem[]) =>
  new ProblemError(400, 'validation', 'Request is not valid', detail, { errors })

export const notFound = (detail: string) => new ProblemError(404, 'not-found', 'Not found', detail)

/** A domain rule says this cannot happen (409), e.g. a second exit. `rule` names the rule. */
export const impossible = (rule: string, detail: string) =>
  new ProblemError(409, 'rule-violated', 'The ledger does not allow this', detail, { rule })

export const conflict = (code: string, title: string, detail: string) => new ProblemError(409, code, title, detail)

export const unauthorized = (detail: string) => new ProblemError(401, 'unauthorized', 'Authentication required', detail)

export const forbidden = (detail: string) => new ProblemError(403, 'forbidden', 'Missing scope', detail)

export const unavailable = (detail: string, retryAfterSeconds = 5) =>
  new ProblemError(503, 'unavailable', 'Service unavailable', detail, { retryAfterSeconds })

/** A webhook URL the ledger will not call: wrong scheme, credentials, or an address it may not reach (SSRF). */
export const webhookUrlNotAllowed = (detail: string) =>
  new ProblemError(400, 'webhook-url-not-allowed', 'Webhook URL not allowed', detail, { errors: [{ path: '/url', message: detail, location: 'body' }] })

/** A budget of requests is spent (429); `retryAfterSeconds` says when the window that spent it ends. */
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new ProblemError(429, 'rate-limited', 'Too many requests', detail, { retryAfterSeconds })
