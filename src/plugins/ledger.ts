// The ledger's write side as routes see it: every write of events (POST /v1/events, the promise
// actions) takes this one road, group-committed per tenant (store/append-groups.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { IncomingEvent } from '../domain/cloudevent.js'
import { appendGroups } from '../store/append-groups.js'
import type { AppendResult } from '../store/record-events.js'

export interface Ledger {
  /**
   * Records the events (atomically) and answers once they are committed; `batch`: problems point at
   * an index; `writtenBy`: the id of the key that sent them, stored with each.
   */
  append(tenantId: string, events: readonly IncomingEvent[], options: { batch: boolean; writtenBy: string }): Promise<AppendResult[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    ledger: Ledger
  }
}

async function ledgerPlugin(app: FastifyInstance) {
  // Concurrent appends share transactions (group commit); its knobs are configuration.
  const groups = appendGroups(app.db, app.keyring, app.config.appendGroups)
  app.decorate('ledger', {
    append: (tenantId, events, { batch, writtenBy }) => groups.submit(tenantId, { events: events.map((e) => ({ ...e, writtenBy })), batch }),
  } satisfies Ledger)
}

export default fp(ledgerPlugin, { name: 'ledger', dependencies: ['db', 'keyring'] })
