import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { notFound } from '../src/domain/errors.js'
import { isoDate } from '../src/domain/journey.js'
import { principalOf } from '../src/plugins/auth.js'
import { inTenant, type Tx } from '../src/store/database.js'
import { writeAudit } from '../src/store/audit.js'
import { openEvents } from '../src/store/keyring.js'
import { readCountedJourneys } from '../src/store/journeys.js'
import { erasedAt, erasePerson, eventsOfPerson, journeyIdsOfPerson, personById } from '../src/store/people.js'
import { purgeErased } from '../src/store/purge.js'
import { listPromises } from '../src/store/promises.js'
import { seesWriters, toCloudEvent } from './events.js'
import { journeyView } from './journeys.js'
import { promiseView } from './promises.js'
import { Key, historyItems, problemResponses } from './schemas.js'

const PersonSchema = Type.Object({
  personId: Type.String(),
  erased: Type.Boolean({ description: 'true once the person was erased (or their free text expired).' }),
  erasedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  journeys: Type.Array(Type.Ref('Journey'), { description: 'Every journey of the person, oldest first: a rehire is a journey of its own (`rehire: true`).', maxItems: historyItems }),
  rehires: Type.Integer({ minimum: 0, description: 'Journeys that are rehires (boomerangs): hired after an earlier journey of the person had exited.' }),
}, { $id: 'Person', title: 'Person' })

const PersonExportSchema = Type.Object({
  personId: Type.String(),
  exportedAt: Type.String({ format: 'date-time' }),
  erased: Type.Boolean(),
  erasedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  journeys: Type.Array(Type.Ref('Journey'), { maxItems: historyItems }),
  promises: Type.Array(Type.Ref('Promise'), { maxItems: historyItems }),
  events: Type.Array(Type.Ref('StoredEvent'), { maxItems: historyItems }),
}, { $id: 'PersonExport', title: 'PersonExport', description: 'Everything stored about the person (data-subject access).' })

/** Named components this module's routes refer to; the app registers them at the root. */
export const peopleSchemas = [PersonSchema, PersonExportSchema]

const params = Type.Object({ personId: Key('The person.') })

const peopleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /**
   * The person's reference and journeys as views; for an erased person, when (their journeys no
   * longer name them); a 404 when nothing at all is known about them.
   */
  async function person(tenantId: string, personId: string, tx: Tx) {
    const now = app.config.now()
    const row = await personById(tx, tenantId, personId)
    if (!row) {
      const at = await erasedAt(tx, tenantId, app.keyring.tombstoneOf(tenantId, personId))
      if (at === undefined) throw notFound('no such person')
      return { ref: null, ids: [], now, erasedAt: at, journeys: [] }
    }
    const ids = await journeyIdsOfPerson(tx, tenantId, row.personRef)
    const rows = await readCountedJourneys(tx, tenantId, ids, isoDate(now))
    return { ref: row.personRef, ids, now, erasedAt: null, journeys: rows.map((r) => journeyView(r, now, app.config.signals)) }
  }

  app.get('/v1/people/:personId', {
    config: { scope: 'people:manage' },
    schema: { tags: ['people'], summary: 'The person\'s journeys', params, response: { 200: Type.Ref('Person'), ...problemResponses(404) } },
  }, async (request) => {
    const { tenantId } = principalOf(request)
    const { personId } = request.params
    return inTenant(app.db, tenantId, async (tx) => {
      const p = await person(tenantId, personId, tx)
      return { personId, erased: p.erasedAt !== null, erasedAt: p.erasedAt, journeys: p.journeys, rehires: p.journeys.filter((j) => j.rehire).length }
    })
  })

  app.get('/v1/people/:personId/export', {
    config: { scope: 'people:manage', budget: 'export' },
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
      const events = p.ref === null ? [] : await openEvents(tx, app.keyring, tenantId, await eventsOfPerson(tx, tenantId, p.ref))
      const showWriter = seesWriters(request)
      // The audit trail names the person by reference only: it outlives them.
      await writeAudit(tx, tenantId, { actor: principal.keyId, action: 'person.exported', targetType: 'person', targetId: p.ref ?? 'erased', details: { journeys: p.ids.length, events: events.length } })
      return {
        personId, exportedAt: p.now.toISOString(), erased: p.erasedAt !== null, erasedAt: p.erasedAt,
        journeys: p.journeys, promises: promises.map(promiseView), events: events.map((e) => toCloudEvent(e, showWriter)),
      }
    }, { long: true })
  })

  app.delete('/v1/people/:personId', {
    config: { scope: 'people:manage' },
    schema: {
      tags: ['people'], summary: 'Erase the person (crypto-shredding)',
      description: 'Deletes the one row that maps the person\'s id to the ledger\'s reference, and with it their data key, in one transaction: their id and every field that describes them (free text, labels, promise words) become unreadable everywhere, also in the feed, in replays and in copies of the database files taken afterwards (the row is vacuumed at once). A keyed-hash tombstone remembers the erasure, so nothing new is stored about them. Counts, scores, dates and the tenant\'s own vocabulary stay, so analytics do not change. Repeating it is a 204 too. Audited.',
      params, response: { 204: Type.Null({ description: 'Erased.' }), ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const { tenantId } = principal
    const { personId } = request.params
    const tombstone = app.keyring.tombstoneOf(tenantId, personId)
    const erased = await inTenant(app.db, tenantId, async (tx) => {
      const row = await personById(tx, tenantId, personId)
      if (!row) {
        if (await erasedAt(tx, tenantId, tombstone) === undefined) throw notFound('no such person')
        return false
      }
      const ids = await journeyIdsOfPerson(tx, tenantId, row.personRef)
      await erasePerson(tx, tenantId, row.personRef, tombstone, 'erasure')
      await writeAudit(tx, tenantId, { actor: principal.keyId, action: 'person.erased', targetType: 'person', targetId: row.personRef, details: { journeys: ids.length } })
      return true
    })
    if (erased) await purgeErased(app.db, app.log)
    return reply.code(204).send(null)
  })
}

export default peopleRoutes
