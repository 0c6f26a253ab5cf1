import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { createTenant, listTenants } from '../src/store/tenants.js'
import { problemResponses } from './schemas.js'

const TenantSchema = Type.Object({
  id: Type.String({ description: 'The tenant id, derived from the name (`Acme Corp` -> `acme-corp`).' }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
}, { $id: 'Tenant', title: 'Tenant' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const tenantSchemas = [TenantSchema]

const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {

  app.post('/v1/tenants', {
    config: { scope: 'operator', carriesSecret: true },
    schema: {
      tags: ['tenants'],
      summary: 'Create a tenant (operator key)',
      description: 'Needs `JOURNEY_OPERATOR_KEY` as the bearer key. Returns the tenant\'s admin key once; it is stored only as a hash. A retry with the same `Idempotency-Key` after a success gets 409 `secret-not-replayable`: the key is never stored for replay.',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false, examples: [{ name: 'Acme' }] }),
      response: {
        201: Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }), adminKey: Type.String({ description: 'Shown once.' }) }, { title: 'CreatedTenant' }),
        ...problemResponses(409),
      },
    },
  }, async (request, reply) => {
    const tenant = await createTenant(app.db, request.body.name, { actor: 'operator' })
    request.log.info({ tenantId: tenant.id }, 'tenant created')
    return reply.code(201).send(tenant)
  })

  app.get('/v1/tenants', {
    config: { scope: 'operator' },
    schema: {
      tags: ['tenants'],
      summary: 'List tenants (operator key)',
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('Tenant')), nextCursor: Type.Null() }, { title: 'TenantList' }), ...problemResponses() },
    },
  }, async () => ({ data: await listTenants(app.db), nextCursor: null }))
}

export default tenantRoutes
