// The OpenAPI 3.1 document, generated from the route schemas, served at /openapi.json, with an
// interactive reference at /docs. Shared schemas keep their own names as components.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { dataSchemas } from '../domain/catalogue.js'

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
  { name: 'people', description: 'Data-subject access and erasure (crypto-shredding).' },
  { name: 'audit', description: 'The append-only audit trail.' },
  { name: 'tenants', description: 'Tenants, for operators running many.' },
  { name: 'api-keys', description: 'API keys of the caller\'s tenant.' },
  { name: 'health', description: 'Liveness and readiness.' },
]

async function docsPlugin(app: FastifyInstance) {
  // Each event type's data schema is a named component, so a typed client gets a type per event.
  for (const [type, schema] of Object.entries(dataSchemas)) {
    const title: unknown = Reflect.get(schema, 'title')
    app.addSchema({ ...schema, $id: typeof title === 'string' ? title : `EventData.${type}` })
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: openApiInfo,
      servers: [{ url: '/', description: 'This server' }],
      tags,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer jl_...`.' },
        },
      },
      security: [{ apiKey: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(docsPlugin, { name: 'docs' })
