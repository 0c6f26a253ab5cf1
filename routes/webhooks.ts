import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomBytes } from 'node:crypto'
import Type from 'typebox'
import { forbidden, invalid, notFound } from '../src/domain/errors.js'
import { hasScope } from '../src/domain/keys.js'
import { filterProblems, newWebhookSecret, notificationTypes } from '../src/domain/webhooks.js'
import { principalOf } from '../src/plugins/auth.js'
import { writeAudit } from '../src/store/audit.js'
import { inTenant, type Tx } from '../src/store/database.js'
import { webhookSecretAad } from '../src/store/keyring.js'
import { enqueueNotification } from '../src/store/outbox.js'
import { deleteWebhook, insertWebhook, listWebhooks, readWebhook, rotateWebhookSecret, updateWebhook, type Webhook } from '../src/store/webhooks.js'
import { checkWebhookTarget } from '../src/webhooks/send.js'
import { derivedPayload } from '../src/webhooks/payload.js'
import { Key, ListQuery, problemResponses } from './schemas.js'

const filterDescription = 'Event types to receive: exact names (`employee.exited`), a family (`promise.*`) or `*`. Besides the catalogue: `promise.due`, `promise.overdue` and `webhook.test`.'
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'Where deliveries are POSTed: `https`, not resolving to a private, loopback, link-local, metadata or multicast address (unless the server allows private networks).' })
const Events = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64, uniqueItems: true, description: filterDescription })
const Description = Type.String({ maxLength: 500 })

const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  includePersonal: Type.Boolean({ description: 'Deliveries carry personal fields (else null, with `dataref` saying where to read them).' }),
  paused: Type.Boolean({ description: 'Deliveries are held (not lost) while paused; resuming sends them.' }),
  disabledReason: Type.Union([Type.String(), Type.Null()], { description: 'Why the service stopped delivering (a 410 Gone, or 5 days of failures). `PATCH { paused: false }` resumes.' }),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  previousSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'After a rotation, the previous secret signs too until then.' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { $id: 'Webhook', title: 'Webhook' })

const WithSecret = Type.Object({ webhook: Type.Ref('Webhook'), secret: Type.String({ description: 'The signing secret (`whsec_...`), shown once.' }) }, { title: 'WebhookSecret' })
const Params = Type.Object({ id: Key('The subscription.') })

/** Named components this module's routes refer to; the app registers them at the root. */
export const webhookSchemas = [WebhookSchema]

const notFoundHook = (id: string) => notFound(`no webhook ${id}`)
const rotationOverlapMs = 86_400_000

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { webhooks: settings } = app.config
  const sealed = (tenantId: string, id: string, secret: string) => app.keyring.sealSecret(secret, webhookSecretAad(tenantId, id))
  const checkFilters = (events: readonly string[] | undefined) => {
    const problems = events ? filterProblems(events) : []
    if (problems.length > 0) throw invalid('unknown event type filter', problems)
  }
  /** A `webhook.test` ping to one subscription, in the caller's transaction. */
  const ping = (tx: Tx, tenantId: string, webhook: Webhook) => enqueueNotification(tx, tenantId, webhook.id, 'webhook.test', derivedPayload({
    id: `test_${randomBytes(12).toString('hex')}`, type: 'webhook.test', subject: webhook.id, time: app.config.now(), data: { webhookId: webhook.id, url: webhook.url },
  }))

  app.post('/v1/webhooks', {
    config: { scope: 'webhooks:manage', carriesSecret: true },
    schema: {
      tags: ['webhooks'],
      summary: 'Subscribe to notifications',
      description: `Returns the signing secret once, and sends a \`webhook.test\` ping. Deliveries follow Standard Webhooks (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`). \`includePersonal: true\` needs a key that also holds \`people:manage\`. Event types: ${notificationTypes.join(', ')}.`,
      body: Type.Object({ url: Url, events: Events, description: Type.Optional(Description), includePersonal: Type.Optional(Type.Boolean({ default: false })) },
        { additionalProperties: false, examples: [{ url: 'https://hris.example.com/hooks/journey', events: ['promise.*', 'employee.exited'], description: 'HRIS sync' }] }),
      response: { 201: WithSecret, ...problemResponses(409, 422) },
    },
  }, async (request, reply) => {
    const { tenantId, keyId, scopes } = principalOf(request)
    const { url, events, description = null, includePersonal = false } = request.body
    checkFilters(events)
    if (includePersonal && !hasScope(scopes, 'people:manage')) throw forbidden('includePersonal needs a key that also holds people:manage')
    await checkWebhookTarget(url, { allowPrivateNetworks: settings.allowPrivateNetworks })
    const id = `wh_${randomBytes(12).toString('hex')}`
    const secret = newWebhookSecret()
    const webhook = await inTenant(app.db, tenantId, async (tx) => {
      const created = await insertWebhook(tx, tenantId, { id, url, description, events, includePersonal, sealedSecret: sealed(tenantId, id, secret), createdBy: keyId })
      await ping(tx, tenantId, created)
      await writeAudit(tx, tenantId, { actor: keyId, action: 'webhook.created', targetType: 'webhook', targetId: id, details: { events: events.join(' '), includePersonal } })
      return created
    })
    app.webhooks.wake()
    return reply.code(201).send({ webhook, secret })
  })

  app.get('/v1/webhooks', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'List subscriptions',
      querystring: Type.Object(ListQuery),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('Webhook')), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { title: 'WebhookList' }), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { cursor, limit = 50 } = request.query
    const afterId = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString()
    if (afterId !== undefined && !/^wh_[0-9a-f]{24}$/.test(afterId)) throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    const rows = await inTenant(app.db, tenantId, (tx) => listWebhooks(tx, tenantId, { afterId, limit }))
    const last = rows[rows.length - 1]
    return { data: rows, nextCursor: last && rows.length === limit ? Buffer.from(last.id).toString('base64url') : null }
  })

  app.get('/v1/webhooks/:id', {
    config: { scope: 'webhooks:manage' },
    schema: { tags: ['webhooks'], summary: 'A subscription', params: Params, response: { 200: Type.Ref('Webhook'), ...problemResponses(404) } },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const webhook = await inTenant(app.db, tenantId, (tx) => readWebhook(tx, tenantId, request.params.id))
    if (!webhook) throw notFoundHook(request.params.id)
    return webhook
  })

  app.patch('/v1/webhooks/:id', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'Change, pause or resume a subscription',
      description: '`paused: true` holds deliveries; `paused: false` sends them again, and also resumes a subscription the service disabled (`disabledReason`).',
      params: Params,
      body: Type.Object({ url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Type.Union([Description, Type.Null()])), paused: Type.Optional(Type.Boolean()) },
        { additionalProperties: false, minProperties: 1 }),
      response: { 200: Type.Ref('Webhook'), ...problemResponses(404) },
    },
  }, async (request) => {
    const { tenantId, keyId } = principalOf(request)
    const change = request.body
    // Another tenant's subscription is a 404 before anything is said about the body (no existence leak);
    // the URL's check resolves a name, which no transaction may wait on.
    if (!await inTenant(app.db, tenantId, (tx) => readWebhook(tx, tenantId, request.params.id), { oneRoundTrip: true })) throw notFoundHook(request.params.id)
    checkFilters(change.events)
    if (change.url !== undefined) await checkWebhookTarget(change.url, { allowPrivateNetworks: settings.allowPrivateNetworks })
    const webhook = await inTenant(app.db, tenantId, async (tx) => {
      const updated = await updateWebhook(tx, tenantId, request.params.id, change, app.config.now())
      if (updated) await writeAudit(tx, tenantId, { actor: keyId, action: 'webhook.updated', targetType: 'webhook', targetId: updated.id, details: { fields: Object.keys(change).join(' ') } })
      return updated
    })
    if (!webhook) throw notFoundHook(request.params.id)
    if (change.paused === false) app.webhooks.wake()
    return webhook
  })

  app.delete('/v1/webhooks/:id', {
    config: { scope: 'webhooks:manage' },
    schema: { tags: ['webhooks'], summary: 'Delete a subscription and its delivery log', params: Params, response: { 204: Type.Null({ description: 'Deleted.' }), ...problemResponses(404) } },
  }, async (request, reply) => {
    const { tenantId, keyId } = principalOf(request)
    const deleted = await inTenant(app.db, tenantId, async (tx) => {
      const done = await deleteWebhook(tx, tenantId, request.params.id)
      if (done) await writeAudit(tx, tenantId, { actor: keyId, action: 'webhook.deleted', targetType: 'webhook', targetId: request.params.id })
      return done
    })
    if (!deleted) throw notFoundHook(request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/v1/webhooks/:id/rotate-secret', {
    config: { scope: 'webhooks:manage', carriesSecret: true },
    schema: {
      tags: ['webhooks'],
      summary: 'Rotate the signing secret',
      description: 'Returns the new secret once. For 24 hours both the new and the previous secret sign every delivery (`webhook-signature` carries both, space-separated), so a receiver can switch at its own pace.',
      params: Params,
      response: { 200: WithSecret, ...problemResponses(404, 409) },
    },
  }, async (request) => {
    const { tenantId, keyId } = principalOf(request)
    const { id } = request.params
    const secret = newWebhookSecret()
    const now = app.config.now()
    const webhook = await inTenant(app.db, tenantId, async (tx) => {
      const rotated = await rotateWebhookSecret(tx, tenantId, id, sealed(tenantId, id, secret), { now, until: new Date(now.getTime() + rotationOverlapMs) })
      if (rotated) await writeAudit(tx, tenantId, { actor: keyId, action: 'webhook.secret-rotated', targetType: 'webhook', targetId: id })
      return rotated
    })
    if (!webhook) throw notFoundHook(id)
    return { webhook, secret }
  })

  app.post('/v1/webhooks/:id/test', {
    config: { scope: 'webhooks:manage' },
    schema: {
      tags: ['webhooks'],
      summary: 'Send a webhook.test ping',
      description: 'Queues a `webhook.test` delivery at once; follow it in the delivery log.',
      params: Params,
      response: { 202: Type.Object({ deliveryId: Type.String() }, { title: 'WebhookTestQueued' }), ...problemResponses(404, 409) },
    },
  }, async (request, reply) => {
    const { tenantId } = principalOf(request)
    const deliveryId = await inTenant(app.db, tenantId, async (tx) => {
      const webhook = await readWebhook(tx, tenantId, request.params.id)
      return webhook ? ping(tx, tenantId, webhook) : undefined
    })
    if (!deliveryId) throw notFoundHook(request.params.id)
    app.webhooks.wake()
    return reply.code(202).send({ deliveryId })
  })
}

export default webhookRoutes
