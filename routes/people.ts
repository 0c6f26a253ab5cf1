import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { notFound } from '../src/domain/errors.js'
import { isoDate } from '../src/domain/journey.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant } from '../src/store/database.js'
import { writeAudit } from '../src/store/audit.js'
import { forgetPersonResponses } from '../src/store/idempotency.js'
import { destroyPersonKey, openEvents } from '../src/store/keyring.js'
import { readCountedJourneys } from '../src/store/journeys.js'
import { eventsOfPerson, journeyIdsOfPerson, personKeyState } from '../src/store/people.js'
import { listPromises } from '../src/store/promises.js'
import { seesWriters, toCloudEvent } from './events.js'
import { journeyView } from './journeys.js'
import { promiseView } from './promises.js'
import { Key, problemResponses } from './schemas.js'

const PersonSchema = Type.Object({
  personId: Type.String(),
  erased: Type.Boolean({ description: 'true once the person was erased (or their free text expired).' }),
  erasedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  journeys: Type.Array(Type.Ref('Journey')),
}, { $id: 'Person', title: 'Person' })

const PersonExportSchema = Type.Object({
  personId: Type.String(),
  exportedAt: Type.String({ format: 'date-time' }),
  erased: Type.Boolean(),
  erasedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  journeys: Type.Array(Type.Ref('Journey')),
  promises: Type.Array(Type.Ref('Promise')),
  events: Type.Array(Type.Ref('StoredEvent')),
}, { $id: 'PersonExport', title: 'PersonExport', description: 'Everything stored about the person (data-subject access).' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const peopleSchemas = [PersonSchema, PersonExportSchema]

const params = Type.Object({ personId: Key('The person.') })

const peopleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The person's journeys as views, or a 404 when nothing at all is known about them. */
  async function person(tenantId: string, personId: string, tx: Parameters<Parameters<typeof inTenant>[2]>[0]) {
    const now = app.config.now()
    const ids = await journeyIdsOfPerson(tx, tenantId, personId)
    const key = await personKeyState(tx, tenantId, personId)
    if (ids.length === 0 && !key) throw notFound(`no person ${personId}`)
    const rows = await readCountedJourneys(tx, tenantId, ids, isoDate(now))
    return { ids, now, key, journeys: rows.map((row) => journeyView(row, now)) }
  }

  app.get('/v1/people/:personId', {
    config: { scope: 'people:manage' },
    schema: { tags: ['people'], summary: 'The person\'s journeys', params, response: { 200: Type.Ref('Person'), ...problemResponses(404) } },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { personId } = request.params
    return inTenant(app.db, tenantId, async (tx) => {
      const p = await person(tenantId, personId, tx)
      return { personId, erased: Boolean(p.key?.erasedAt), erasedAt: p.key?.erasedAt ?? null, journeys: p.journeys }
    })
  })

  app.get('/v1/people/:personId/export', {
    config: { scope: 'people:manage' },
    schema: {
      tags: ['people'], summary: 'Everything stored about the person, as one JSON document',
      description: 'The data-subject access export: every journey, promise and event of the person, personal fields opened while their key exists. Audited.',
      params, response: { 200: Type.Ref('PersonExport'), ...problemResponses(404) },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { tenantId } = principal
    const { personId } = request.params
    return inTenant(app.db, tenantId, async (tx) => {
      const p = await person(tenantId, personId, tx)
      const today = isoDate(p.now)
      const promises = (await Promise.all(p.ids.map((journeyId) => listPromises(tx, app.keyring, tenantId, { journeyId, limit: 10_000, today })))).flat()
      const events = await openEvents(tx, app.keyring, tenantId, await eventsOfPerson(tx, tenantId, personId))
      const showWriter = seesWriters(request)
      await writeAudit(tx, tenantId, { actor: principal.keyId, action: 'person.exported', targetType: 'person', targetId: personId, details: { journeys: p.ids.length, events: events.length } })
      return {
        personId, exportedAt: p.now.toISOString(), erased: Boolean(p.key?.erasedAt), erasedAt: p.key?.erasedAt ?? null,
        journeys: p.journeys, promises: promises.map(promiseView), events: events.map((e) => toCloudEvent(e, showWriter)),
      }
    }, { long: true })
  })

  app.delete('/v1/people/:personId', {
    config: { scope: 'people:manage' },
    schema: {
      tags: ['people'], summary: 'Erase the person (crypto-shredding)',
      description: 'Destroys the person\'s data key in one transaction: their personal fields (notes, comments, evidence, reasons, promise words) become unreadable everywhere, also in the feed and in backups of the event table. Counts and scores stay, so analytics do not change. Repeating it is a 204 too. Audited.',
      params, response: { 204: Type.Null({ description: 'Erased.' }), ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const { tenantId } = principal
    const { personId } = request.params
    await inTenant(app.db, tenantId, async (tx) => {
      const ids = await journeyIdsOfPerson(tx, tenantId, personId)
      const key = await personKeyState(tx, tenantId, personId)
      if (ids.length === 0 && !key) throw notFound(`no person ${personId}`)
      await destroyPersonKey(tx, tenantId, personId, 'erasure')
      await forgetPersonResponses(tx, tenantId, personId)
      await writeAudit(tx, tenantId, { actor: principal.keyId, action: 'person.erased', targetType: 'person', targetId: personId, details: { journeys: ids.length, repeated: Boolean(key?.erasedAt) } })
    })
    return reply.code(204).send(null)
  })
}

export default peopleRoutes
