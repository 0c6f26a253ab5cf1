import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { notFound } from '../src/domain/errors.js'
import { scopes } from '../src/domain/keys.js'
import { principalOf } from '../src/plugins/auth.js'
import { writeAudit } from '../src/store/audit.js'
import { inTenant } from '../src/store/database.js'
import { createApiKey, listApiKeys, revokeApiKey } from '../src/store/tenants.js'
import { problemResponses } from './schemas.js'

const ScopeSchema = Type.String({ enum: [...scopes], description: '`admin` grants every scope.' })
const ApiKeySchema = Type.Object({
  id: Type.String(), name: Type.String(), scopes: Type.Array(ScopeSchema), createdAt: Type.String({ format: 'date-time' }),
}, { $id: 'ApiKey', title: 'ApiKey' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const apiKeySchemas = [ApiKeySchema]

const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {

  app.post('/v1/api-keys', {
    config: { scope: 'admin', carriesSecret: true },
    schema: {
      tags: ['api-keys'],
      summary: 'Create an API key',
      description: 'Returns the key once; only its hash is stored. A retry with the same `Idempotency-Key` after a success gets 409 `secret-not-replayable`: the key is never stored for replay (list keys to find it, revoke it if it was lost).',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: scopes.length, uniqueItems: true }),
      }, { additionalProperties: false, examples: [{ name: 'HRIS sync', scopes: ['events:write', 'events:read'] }] }),
      response: {
        201: Type.Object({ id: Type.String(), name: Type.String(), scopes: Type.Array(ScopeSchema), createdAt: Type.String({ format: 'date-time' }), key: Type.String({ description: 'Shown once.' }) }, { title: 'CreatedApiKey' }),
        ...problemResponses(409),
      },
    },
  }, async (request, reply) => {
    const { tenantId, keyId } = principalOf(request)
    const granted = scopes.filter((s) => request.body.scopes.includes(s))
    const created = await inTenant(app.db, tenantId, async (tx) => {
      const key = await createApiKey(tx, tenantId, request.body.name, granted)
      await writeAudit(tx, tenantId, { actor: keyId, action: 'api-key.created', targetType: 'api-key', targetId: key.id, details: { scopes: granted.join(' ') } })
      return key
    })
    return reply.code(201).send(created)
  })

  app.get('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      tags: ['api-keys'],
      summary: 'List the tenant\'s live API keys',
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('ApiKey')), nextCursor: Type.Null() }, { title: 'ApiKeyList' }), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    return { data: await inTenant(app.db, tenantId, (tx) => listApiKeys(tx, tenantId)), nextCursor: null }
  })

  app.delete('/v1/api-keys/:id', {
    config: { scope: 'admin' },
    schema: {
      tags: ['api-keys'],
      summary: 'Revoke an API key',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 204: Type.Null({ description: 'Revoked.' }), ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const { tenantId, keyId } = principalOf(request)
    const revoked = await inTenant(app.db, tenantId, async (tx) => {
      const done = await revokeApiKey(tx, tenantId, request.params.id)
      if (done) await writeAudit(tx, tenantId, { actor: keyId, action: 'api-key.revoked', targetType: 'api-key', targetId: request.params.id })
      return done
    })
    if (!revoked) throw notFound(`no API key ${request.params.id}`)
    app.forgetKeys()
    return reply.code(204).send(null)
  })
}

export default apiKeyRoutes
