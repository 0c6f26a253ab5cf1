// The OpenAPI 3.1 document, generated from the route schemas, served at /openapi.json, with an
// interactive reference at /docs. Shared schemas keep their own names as components.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { dataSchemas } from '../domain/catalogue.js'
import { allowedOrigin } from './cors.js'
import { webhooksSection } from './webhook-docs.js'
import { withBounds } from '../../routes/schemas.js'

export const openApiInfo = {
  title: 'Journey Ledger API',
  version: '1.0.0',
  description: [
    'Journey Ledger records the employee journey, from vacancy to alumni, as an append-only ledger of CloudEvents,',
    'and keeps a ledger of every promise made along it. Authenticate with `Authorization: Bearer <api key>`.',
    'Errors are RFC 9457 problem documents (`application/problem+json`). Lists page with `limit` and an opaque `cursor`.',
    'Every POST accepts an `Idempotency-Key` header: a retry with the same key and body replays the first response',
    '(header `Idempotent-Replayed: true`); the same key with another body is a 422; a retry while the first is running is a 409.',
  ].join(' '),
}

export const tags = [
  { name: 'events', description: 'The ledger: append CloudEvents and read the feed.' },
  { name: 'journeys', description: 'One person\'s journey from application to exit, projected from the ledger.' },
  { name: 'promises', description: 'The promise ledger: every promise made to a person, its due date, outcome and how the person saw it.' },
  { name: 'analytics', description: 'Promise and retention figures per group, computed from the projections; small groups withheld.' },
  { name: 'people', description: 'Data-subject access and erasure (crypto-shredding).' },
  { name: 'webhooks', description: 'Subscriptions to notifications (Standard Webhooks), their delivery log and replay.' },
  { name: 'audit', description: 'The append-only audit trail.' },
  { name: 'tenants', description: 'Tenants, for operators running many.' },
  { name: 'api-keys', description: 'API keys of the caller\'s tenant.' },
  { name: 'health', description: 'Liveness and readiness.' },
]

/** Every operation's id, the name a generated client gives its method. */
export const operationIds: Record<string, string> = {
  'GET /metrics': 'getMetrics',
  'GET /healthz': 'getLiveness',
  'GET /readyz': 'getReadiness',
  'POST /v1/events': 'appendEvents',
  'GET /v1/events': 'readFeed',
  'GET /v1/journeys/:journeyId/events': 'listJourneyEvents',
  'GET /v1/journeys/:journeyId/experience': 'getJourneyExperience',
  'GET /v1/journeys/:journeyId': 'getJourney',
  'GET /v1/journeys': 'listJourneys',
  'POST /v1/journeys/:journeyId/promises': 'makePromise',
  'POST /v1/promises/:promiseId/keep': 'keepPromise',
  'POST /v1/promises/:promiseId/break': 'breakPromise',
  'POST /v1/promises/:promiseId/renegotiate': 'renegotiatePromise',
  'POST /v1/promises/:promiseId/withdraw': 'withdrawPromise',
  'POST /v1/promises/:promiseId/assess': 'assessPromise',
  'GET /v1/promises/:promiseId': 'getPromise',
  'GET /v1/promises': 'listPromises',
  'GET /v1/analytics/promises': 'getPromiseAnalytics',
  'GET /v1/analytics/retention': 'getRetentionAnalytics',
  'GET /v1/analytics/experience': 'getExperienceAnalytics',
  'GET /v1/analytics/exits': 'getExitAnalytics',
  'POST /v1/tenants': 'createTenant',
  'GET /v1/tenants': 'listTenants',
  'POST /v1/api-keys': 'createApiKey',
  'GET /v1/api-keys': 'listApiKeys',
  'DELETE /v1/api-keys/:id': 'revokeApiKey',
  'GET /v1/people/:personId': 'getPerson',
  'DELETE /v1/people/:personId': 'erasePerson',
  'GET /v1/people/:personId/export': 'exportPerson',
  'GET /v1/audit': 'listAudit',
  'POST /v1/webhooks': 'createWebhook',
  'GET /v1/webhooks': 'listWebhooks',
  'GET /v1/webhooks/:id': 'getWebhook',
  'PATCH /v1/webhooks/:id': 'updateWebhook',
  'DELETE /v1/webhooks/:id': 'deleteWebhook',
  'POST /v1/webhooks/:id/rotate-secret': 'rotateWebhookSecret',
  'POST /v1/webhooks/:id/test': 'testWebhook',
  'GET /v1/webhooks/:id/deliveries': 'listWebhookDeliveries',
  'GET /v1/webhooks/:id/deliveries/:deliveryId': 'getWebhookDelivery',
  'POST /v1/webhooks/:id/deliveries/:deliveryId/retry': 'retryWebhookDelivery',
  'POST /v1/webhooks/:id/recover': 'recoverWebhookDeliveries',
}

/** Integers in this API are JSON numbers within JavaScript's safe range: int64 says so to generators. */
function withIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) withIntegerFormats(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  if (Reflect.get(node, 'type') === 'integer' && Reflect.get(node, 'format') === undefined) Reflect.set(node, 'format', 'int64')
  for (const value of Object.values(node)) withIntegerFormats(value)
}

const rateLimitHeaders = {
  RateLimit: {
    description: 'Where each budget this request spent stands (IETF httpapi ratelimit-headers draft): `"key-read";r=5999;t=42, "tenant-read";r=11999;t=42` (`r` requests left, `t` seconds until the window ends).',
    schema: { type: 'string', maxLength: 1024 },
  },
  'RateLimit-Policy': {
    description: 'The budgets this request spent: `"key-read";q=6000;w=60, "tenant-read";q=12000;w=60` (`q` requests per window of `w` seconds). Budgets are per API key and per tenant for writes, reads, analytics and export, and per client address without a key.',
    schema: { type: 'string', maxLength: 1024 },
  },
}
const allowOrigin = { description: 'Any origin may read the answer (no cookies are ever used; keys travel in `Authorization`, which no cross-origin preflight allows).', schema: { type: 'string', const: allowedOrigin } }
const retryAfter = { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0, maximum: 86_400 } }
const tooManyRequests = {
  description: 'Too many requests: a budget is spent (see `RateLimit-Policy`); retry after `Retry-After` seconds.',
  headers: { 'Retry-After': retryAfter },
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
}

/** Every operation can answer 429, and every answer carries the rate limit headers (plugins/rate-limits.ts) and the CORS one (plugins/cors.ts). */
function withRateLimitDocs(paths: unknown): void {
  if (typeof paths !== 'object' || paths === null) return
  for (const item of Object.values(paths)) {
    if (typeof item !== 'object' || item === null) continue
    for (const operation of Object.values(item)) {
      const responses: unknown = typeof operation === 'object' && operation !== null ? Reflect.get(operation, 'responses') : undefined
      if (typeof responses !== 'object' || responses === null) continue
      if (!('429' in responses)) Reflect.set(responses, '429', structuredClone(tooManyRequests))
      for (const [status, response] of Object.entries(responses)) {
        if (typeof response !== 'object' || response === null) continue
        const existing: unknown = Reflect.get(response, 'headers')
        const own = typeof existing === 'object' && existing !== null ? existing : {}
        Reflect.set(response, 'headers', { ...own, ...structuredClone(rateLimitHeaders), 'Access-Control-Allow-Origin': structuredClone(allowOrigin), ...(status === '429' || status === '503' ? { 'Retry-After': retryAfter } : {}) })
      }
    }
  }
}

/** The component name of an event type's data schema. */
function dataComponent(type: keyof typeof dataSchemas): string {
  const title: unknown = Reflect.get(dataSchemas[type], 'title')
  return typeof title === 'string' ? title : `EventData.${type}`
}

async function docsPlugin(app: FastifyInstance) {
  // Each event type's data schema is a named component, so a typed client gets a type per event.
  for (const type of Object.keys(dataSchemas).filter((t): t is keyof typeof dataSchemas => t in dataSchemas)) {
    app.addSchema(withBounds({ ...dataSchemas[type], $id: dataComponent(type) }))
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: openApiInfo,
      servers: [{ url: '/', description: 'This server (local, staging or production: wherever it runs)' }],
      tags,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer jl_...`.' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? route.method[0] : route.method
      const operationId = operationIds[`${String(method)} ${url}`]
      return { schema: operationId && schema ? { ...schema, operationId } : schema, url }
    },
    transformObject: (documentObject) => {
      // A copy: the route schemas in it are the objects Fastify validates with.
      const document = structuredClone('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject)
      Reflect.set(document, 'webhooks', webhooksSection(dataComponent))
      withRateLimitDocs(document.paths)
      withIntegerFormats(document.paths)
      withIntegerFormats(Reflect.get(document, 'webhooks'))
      withIntegerFormats(Reflect.get(document, 'components'))
      // Public, not internal: the API is meant for the HR systems and integrations of each tenant.
      for (const server of Reflect.get(document, 'servers') ?? []) Reflect.set(server, 'x-internal', false)
      return document
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(docsPlugin, { name: 'docs' })
