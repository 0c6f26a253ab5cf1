// Prometheus metrics at /metrics: the process's own, request latency by route and status, and
// events appended. One registry per app, so tests can build many apps side by side.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { unauthorized } from '../domain/errors.js'
import { sameSecret } from '../domain/keys.js'
import { problemResponse } from '../../routes/schemas.js'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { eventsAppended: Counter<'outcome'>; registry: Registry }
  }
}

async function metricsPlugin(app: FastifyInstance) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const eventsAppended = new Counter({
    name: 'journey_events_appended_total',
    help: 'Events stored (outcome=stored) or answered as duplicates (outcome=duplicate).',
    labelNames: ['outcome'],
    registers: [registry],
  })
  app.decorate('metrics', { eventsAppended, registry })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}

/** GET /metrics, registered after the docs plugin so the OpenAPI document lists it. */
export const metricsRoute = fp(async (app: FastifyInstance) => {
  const { enabled, token } = app.config.metrics
  if (!enabled) return
  app.get('/metrics', {
    schema: {
      tags: ['health'], summary: 'Prometheus metrics',
      description: 'Served unless METRICS=off; when METRICS_TOKEN is set, only to `Authorization: Bearer <METRICS_TOKEN>`.',
      security: [], produces: ['text/plain'], response: { 200: { type: 'string' }, 401: problemResponse('METRICS_TOKEN is set and the request did not send it.') },
    },
  }, async (request, reply) => {
    const sent = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1]
    if (token !== undefined && (sent === undefined || !sameSecret(sent, token))) throw unauthorized('/metrics needs `Authorization: Bearer <METRICS_TOKEN>`')
    return reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics())
  })
}, { name: 'metrics-route', dependencies: ['metrics', 'docs'] })

export default fp(metricsPlugin, { name: 'metrics' })
