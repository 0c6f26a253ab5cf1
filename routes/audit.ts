import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { invalid } from '../src/domain/errors.js'
import { principalOf } from '../src/plugins/auth.js'
import { listAudit } from '../src/store/audit.js'
import { inTenant } from '../src/store/database.js'
import { decodeNumberCursor, encodeNumberCursor, ListQuery, problemResponses } from './schemas.js'

const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String({ description: 'The API key id that acted (or `operator`, `system`).' }),
  action: Type.String({ examples: ['person.erased'] }),
  targetType: Type.String(),
  targetId: Type.String(),
  details: Type.Object({}, { additionalProperties: true, description: 'Counts and flags; never personal data.' }),
}, { $id: 'AuditEntry', title: 'AuditEntry' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const auditSchemas = [AuditEntrySchema]

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/audit', {
    config: { scope: 'admin' },
    schema: {
      tags: ['audit'],
      summary: 'The append-only audit trail',
      description: 'Erasures, exports, key, tenant and webhook changes: who (key id), what, when, on whom. Oldest first.',
      querystring: Type.Object({ action: Type.Optional(Type.String({ maxLength: 64 })), ...ListQuery }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('AuditEntry')), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { title: 'AuditList' }), ...problemResponses() },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { cursor, limit = 50, action } = request.query
    const afterId = cursor === undefined ? undefined : decodeNumberCursor(cursor)
    if (cursor !== undefined && afterId === undefined) throw invalid('the cursor is not valid', [{ path: '/cursor', message: 'is not a cursor this API returned', location: 'query' }])
    const rows = await inTenant(app.db, tenantId, (tx) => listAudit(tx, tenantId, { afterId, action, limit }))
    const last = rows[rows.length - 1]
    return { data: rows, nextCursor: last && rows.length === limit ? encodeNumberCursor(last.id) : null }
  })
}

export default auditRoutes
