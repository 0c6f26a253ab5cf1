// The app as a Fastify instance built from a config: infrastructure plugins first, then the
// routes. Tests build it with their own config; server.ts only listens and shuts down.
import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import authPlugin from './plugins/auth.js'
import corsPlugin from './plugins/cors.js'
import dbPlugin from './plugins/db.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin, { sendProblem, toProblem } from './plugins/errors.js'
import idempotencyPlugin from './plugins/idempotency.js'
import keyringPlugin from './plugins/keyring.js'
import ledgerPlugin from './plugins/ledger.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import loadSheddingPlugin from './plugins/load-shedding.js'
import metricsPlugin, { metricsRoute } from './plugins/metrics.js'
import rateLimitsPlugin from './plugins/rate-limits.js'
import retentionPlugin from './plugins/retention.js'
import { sharedSchemas, withBounds, withRouteBounds } from '../routes/schemas.js'
import analyticsRoutes, { analyticsSchemas } from '../routes/analytics.js'
import experienceAnalyticsRoutes, { experienceAnalyticsSchemas } from '../routes/experience-analytics.js'
import apiKeyRoutes, { apiKeySchemas } from '../routes/api-keys.js'
import eventRoutes, { eventSchemas } from '../routes/events.js'
import auditRoutes, { auditSchemas } from '../routes/audit.js'
import healthRoutes from '../routes/health.js'
import journeyRoutes, { journeySchemas } from '../routes/journeys.js'
import peopleRoutes, { peopleSchemas } from '../routes/people.js'
import promiseRoutes, { promiseSchemas } from '../routes/promises.js'
import tenantRoutes, { tenantSchemas } from '../routes/tenants.js'
import webhookDeliveryRoutes, { webhookDeliverySchemas } from '../routes/webhook-deliveries.js'
import webhookRoutes, { webhookSchemas } from '../routes/webhooks.js'
import webhooksPlugin from './plugins/webhooks.js'

export type App = FastifyInstance

/**
 * Query strings, path parameters and headers arrive as text and are coerced to their schema's
 * types; a JSON body says what it means, so "3" is not the number 3 there (as POST /v1/events
 * already held through its own validation). @fastify/ajv-compiler's types describe the compile
 * function as Ajv's (schema) => validate; Fastify passes it the route definition ({ schema,
 * httpPart, ... }), hence the casts.
 */
const validators = AjvCompiler()
type ValidatorOptions = Parameters<BuildCompilerFromPool>[1]
type CompileRoute = (route: { httpPart?: string }) => unknown
const buildValidator = ((externalSchemas: Parameters<BuildCompilerFromPool>[0], options?: ValidatorOptions) => {
  const strictOptions = { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } } as ValidatorOptions
  const coercing = validators(externalSchemas, options) as unknown as CompileRoute
  const strict = validators(externalSchemas, strictOptions) as unknown as CompileRoute
  return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : coercing)(route)
}) as unknown as BuildCompilerFromPool

/** The URL as logs show it: person ids in paths and queries replaced. */
export function withoutPersonIds(url: string): string {
  return url.replace(/(\/v1\/people\/)[^/?#]+/, '$1{personId}').replace(/([?&]personId=)[^&#]*/g, '$1{personId}')
}

export const cloudEventContentTypes = ['application/cloudevents+json', 'application/cloudevents-batch+json']

export async function buildApp(config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
      // A person's id is personal data: logs name the route, not whom it was about.
      serializers: { req: (request: FastifyRequest) => ({ method: request.method, url: withoutPersonIds(request.url), host: request.host, remoteAddress: request.ip }) },
    },
    bodyLimit: config.bodyLimit,
    ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy }),
    // strictNumbers off: with it on, Ajv coerces `?limit=1e400` to Infinity and then skips the
    // minimum/maximum checks (they only look at finite numbers), so Infinity reached the SQL.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true, strictNumbers: false } },
    schemaController: {
      compilersFactory: {
        buildValidator,
      },
    },
    return503OnClosing: false,
    // Migrations and PGlite's start can pass Fastify's default 10 s on a busy 2-core machine; a slow start is not a failed one.
    pluginTimeout: 120_000,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    // Keys are up to 128 characters, and a client may percent-encode every one of them (`:` and `@`
    // as %3A, %40): the router measures the raw segment, the schemas the decoded key.
    maxParamLength: 3 * 128,
    // The router's own rejections (a path parameter too long even encoded, a malformed URL) are
    // problem documents too.
    frameworkErrors: (error, request, reply) => sendProblem(request, reply, toProblem(error)),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  for (const schema of [...sharedSchemas, ...eventSchemas, ...journeySchemas, ...promiseSchemas, ...tenantSchemas, ...apiKeySchemas, ...peopleSchemas, ...auditSchemas, ...analyticsSchemas, ...experienceAnalyticsSchemas, ...webhookSchemas, ...webhookDeliverySchemas]) {
    app.addSchema(withBounds(schema))
  }
  // Every string, integer and array of every route gets a bound, stated in the document and enforced on requests (routes/schemas.ts).
  app.addHook('onRoute', (route) => {
    if (route.schema) withRouteBounds(route.schema)
  })
  // JSON bodies only: anything else is a 415, not a string handed to a handler.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser(cloudEventContentTypes, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  try {
    await app.register(errorsPlugin)
    await app.register(corsPlugin)
    await app.register(loadSheddingPlugin)
    await app.register(lifecyclePlugin)
    await app.register(metricsPlugin)
    await app.register(dbPlugin, { config })
    // Before auth: its hooks must see a request before the key lookup (see plugins/rate-limits.ts).
    await app.register(rateLimitsPlugin)
    await app.register(keyringPlugin)
    await app.register(ledgerPlugin)
    await app.register(authPlugin)
    await app.register(idempotencyPlugin)
    await app.register(retentionPlugin)
    await app.register(webhooksPlugin)
    await app.register(docsPlugin)
    await app.register(metricsRoute)

    await app.register(healthRoutes)
    await app.register(eventRoutes)
    await app.register(journeyRoutes)
    await app.register(promiseRoutes)
    await app.register(analyticsRoutes)
    await app.register(experienceAnalyticsRoutes)
    await app.register(tenantRoutes)
    await app.register(apiKeyRoutes)
    await app.register(peopleRoutes)
    await app.register(auditRoutes)
    await app.register(webhookRoutes)
    await app.register(webhookDeliveryRoutes)
    await app.ready()
  } catch (error) {
    // A plugin that failed (a wrong master key, an unreachable database) must not leave the database open.
    await app.close().catch(() => {})
    throw error
  }
  return app
}
