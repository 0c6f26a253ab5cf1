// Load shedding (@fastify/under-pressure): while the event loop lags or memory runs past its
// configured limit, requests answer 503 with Retry-After at once instead of queueing behind the
// backlog. The liveness probe still answers: the process is alive, only busy.
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ProblemError } from '../domain/errors.js'

export const overloaded = (what: string) =>
  new ProblemError(503, 'overloaded', 'Service overloaded', `the service is shedding load (${what}); retry shortly`, { retryAfterSeconds: 2 })

/** What under-pressure calls while over a limit: a problem (through the one error handler), or nothing for the liveness probe. */
export async function shedLoad(route: string | undefined, type: string): Promise<void> {
  if (route === '/healthz') return
  throw overloaded(type)
}

async function loadSheddingPlugin(app: FastifyInstance) {
  const { eventLoopDelayMs, heapUsedBytes, rssBytes } = app.config.loadShedding
  if (eventLoopDelayMs === 0 && heapUsedBytes === 0 && rssBytes === 0) return
  await app.register(underPressure, {
    maxEventLoopDelay: eventLoopDelayMs,
    maxHeapUsedBytes: heapUsedBytes,
    maxRssBytes: rssBytes,
    pressureHandler: (request, _reply, type) => shedLoad(request.routeOptions.url, type),
  })
}

export default fp(loadSheddingPlugin, { name: 'load-shedding', dependencies: ['errors'] })
