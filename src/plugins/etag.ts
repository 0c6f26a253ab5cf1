// Reads of one journey or one promise carry an ETag: a hash of the body as sent, so it changes
// whenever anything the reader sees does, the clock's effects included (a promise falling due, a
// signal switching on), and If-None-Match with it answers 304. @fastify/etag is not used: it
// applies to every route, method and status (it would answer 304 to a POST or a 404).
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** GET answers carry an ETag and honour If-None-Match. */
    etag?: boolean
  }
}

/** Whether an If-None-Match header names this tag (a list, weak or strong, or `*`). */
export function matchesTag(header: string | undefined, tag: string): boolean {
  if (!header) return false
  return header.split(',').some((candidate) => {
    const value = candidate.trim()
    return value === '*' || value.replace(/^W\//, '') === tag
  })
}

async function etagPlugin(app: FastifyInstance) {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.routeOptions.config.etag || (request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return payload
    if (typeof payload !== 'string') return payload
    const tag = `"${createHash('sha1').update(payload).digest('base64url')}"`
    reply.header('etag', tag)
    if (!matchesTag(request.headers['if-none-match'], tag)) return payload
    reply.code(304)
    return ''
  })
}

export default fp(etagPlugin, { name: 'etag' })
