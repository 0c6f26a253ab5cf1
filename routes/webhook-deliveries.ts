import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { invalid, notFound } from '../src/domain/errors.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant } from '../src/store/database.js'
import { listDeliveries, readDelivery, resendDeliveries, type Delivery } from '../src/store/outbox.js'
import { readWebhook } from '../src/store/webhooks.js'
import { notificationTypes } from '../src/domain/webhooks.js'
import { decodeNumberCursor, encodeNumberCursor, Key, ListQuery, problemResponses } from './schemas.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])
const deliveryFields = {
  id: Type.String({ description: 'Also the `webhook-id` header of every attempt: receivers dedupe on it.' }),
  webhookId: Type.String(),
  type: Type.String(),
  eventSource: Nullable(Type.String({ description: 'The stored event announced (null for derived notifications and tests).' })),
  eventId: Nullable(Type.String()),
  status: Type.String({ enum: ['pending', 'succeeded', 'failed'], description: '`failed`: every retry is spent (a manual retry or a recovery sends it again).' }),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  succeededAt: Nullable(Type.String({ format: 'date-time' })),
}
const DeliverySchema = Type.Object(deliveryFields, { $id: 'WebhookDelivery', title: 'WebhookDelivery' })
const AttemptSchema = Type.Object({
  attempt: Type.Integer(), at: Type.String({ format: 'date-time' }), durationMs: Type.Integer(), statusCode: Nullable(Type.Integer()),
  responseBody: Type.String({ description: 'The first 4 KiB of the answer.' }), error: Nullable(Type.String()),
}, { $id: 'WebhookAttempt', title: 'WebhookAttempt' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const webhookDeliverySchemas = [DeliverySchema, AttemptSchema]

const Params = Type.Object({ id: Key('The subscription.') })
const DeliveryParams = Type.Object({ id: Key('The subscription.'), deliveryId: Key('The delivery (its `webhook-id`).') })

/** A time the database can compare with (RFC 3339, years 1-9999), as ISO; else a 400 naming where it came from. */
function sinceOf(raw: string, location: 'query' | 'body'): string {
  const at = Date.parse(raw)
  const year = new Date(at).getUTCFullYear()
  if (Number.isNaN(at) || year < 1 || year > 9999) throw invalid('since is not a time', [{ path: '/since', message: 'must be an RFC 3339 time', location }])
  return new Date(at).toISOString()
}

const shown = <D extends Delivery>({ seq: _seq, ...delivery }: D) => delivery

const webhookDeliveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/webhooks/:id/deliveries', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'The delivery log of a subscription, newest first',
      params: Params,
      querystring: Type.Object({
        status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
        type: Type.Optional(Type.String({ enum: [...notificationTypes] })),
        since: Type.Optional(Type.String({ format: 'date-time', description: 'Deliveries created at or after this time.' })),
        ...ListQuery,
      }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('WebhookDelivery')), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { title: 'WebhookDeliveryList' }), ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { status, type, since, cursor, limit = 50 } = request.query
    const beforeSeq = cursor === undefined ? undefined : decodeNumberCursor(cursor)
    if (cursor !== undefined && beforeSeq === undefined) throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    const from = since === undefined ? undefined : sinceOf(since, 'query')
    const rows = await inTenant(app.db, tenantId, async (tx) => {
      if (!(await readWebhook(tx, tenantId, request.params.id))) throw notFound(`no webhook ${request.params.id}`)
      return listDeliveries(tx, tenantId, request.params.id, { status, type, since: from, beforeSeq, limit })
    })
    const last = rows[rows.length - 1]
    return { data: rows.map(shown), nextCursor: last && rows.length === limit ? encodeNumberCursor(last.seq) : null }
  })

  app.get('/v1/webhooks/:id/deliveries/:deliveryId', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'A delivery with its attempts',
      params: DeliveryParams,
      response: { 200: Type.Object({ ...deliveryFields, attemptLog: Type.Array(Type.Ref('WebhookAttempt')) }, { title: 'WebhookDeliveryWithAttempts' }), ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const delivery = await inTenant(app.db, tenantId, (tx) => readDelivery(tx, tenantId, request.params.id, request.params.deliveryId))
    if (!delivery) throw notFound(`no delivery ${request.params.deliveryId} of webhook ${request.params.id}`)
    return shown(delivery)
  })

  app.post('/v1/webhooks/:id/deliveries/:deliveryId/retry', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'Send a delivery again now',
      description: 'Same `webhook-id` as before. A delivery in flight is left to finish.',
      params: DeliveryParams,
      response: { 202: Type.Ref('WebhookDelivery'), ...problemResponses(404, 409) },
    },
  }, async (request, reply) => {
    const { tenantId } = principalOf(request)
    const { id, deliveryId } = request.params
    const delivery = await inTenant(app.db, tenantId, async (tx) => {
      await resendDeliveries(tx, tenantId, id, { deliveryId }, app.config.now())
      return readDelivery(tx, tenantId, id, deliveryId)
    })
    if (!delivery) throw notFound(`no delivery ${deliveryId} of webhook ${id}`)
    app.webhooks.wake()
    const { attemptLog: _attempts, ...rest } = shown(delivery)
    return reply.code(202).send(rest)
  })

  app.post('/v1/webhooks/:id/recover', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'Resend every delivery since a time that has not succeeded',
      description: 'After an outage: every delivery created since `since` that has not succeeded, waiting for a retry or with its retries spent, is sent again at once, each with its own `webhook-id`.',
      params: Params,
      body: Type.Object({ since: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
      response: { 202: Type.Object({ resent: Type.Integer() }, { title: 'WebhookRecovery' }), ...problemResponses(404, 409, 422) },
    },
  }, async (request, reply) => {
    const { tenantId } = principalOf(request)
    const { id } = request.params
    const since = sinceOf(request.body.since, 'body')
    const resent = await inTenant(app.db, tenantId, async (tx) => {
      if (!(await readWebhook(tx, tenantId, id))) throw notFound(`no webhook ${id}`)
      return resendDeliveries(tx, tenantId, id, { since }, app.config.now())
    })
    app.webhooks.wake()
    return reply.code(202).send({ resent })
  })
}

export default webhookDeliveryRoutes
