// Reads of one journey or one promise carry an ETag made of what the answer depends on (the stream
// version, the day where the day can change it, the signals on, whether the person is erased), so
// If-None-Match is judged by one cheap statement, before any answer is built. Weak: equal tags mean
// equal content, not equal bytes (a release may serialise the same content differently; the
// revision below changes when the content of an answer does). @fastify/etag is not used: it hashes
// every route's body, which is what this avoids.
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Bump when a release changes what a journey or promise answer holds for the same stored rows. */
const answerRevision = 1

/** A weak tag from the parts an answer depends on. */
export function versionTag(kind: 'j' | 'p', parts: readonly (string | number | boolean)[]): string {
  return `W/"${kind}${answerRevision}.${parts.map((part) => (typeof part === 'boolean' ? Number(part) : part)).join('.')}"`
}

/** Whether an If-None-Match header names this tag: a list, weak or strong forms compared weakly (RFC 9110 13.1.2), or `*`. */
export function matchesTag(header: string | undefined, tag: string): boolean {
  if (!header) return false
  const opaque = tag.replace(/^W\//, '')
  return header.split(',').some((candidate) => {
    const value = candidate.trim()
    return value === '*' || value.replace(/^W\//, '') === opaque
  })
}

/** The If-None-Match header of a request, when it sent one. */
export function ifNoneMatch(request: FastifyRequest): string | undefined {
  const header = request.headers['if-none-match']
  return typeof header === 'string' && header.length > 0 ? header : undefined
}

/** Sets the tag; when the request already holds it, answers 304 (no body) and says so. */
export function notModified(request: FastifyRequest, reply: FastifyReply, tag: string): boolean {
  void reply.header('etag', tag)
  if (!matchesTag(ifNoneMatch(request), tag)) return false
  void reply.code(304)
  return true
}
