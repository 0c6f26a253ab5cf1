// The ledger's write side as routes see it: every write of events (POST /v1/events, the promise
// actions) takes this one road, group-committed per tenant (store/append-groups.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { IncomingEvent } from '../domain/cloudevent.js'
import { appendGroups } from '../store/append-groups.js'
import type { AppendResult } from '../store/record-events.js'

export interface Ledger {
  /** Records the events (atomically) and answers once they are committed; `batch`: problems point at an index. */
  append(tenantId: string, events: readonly IncomingEvent[], options: { batch: boolean }): Promise<AppendResult[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    ledger: Ledger
  }
}

async function ledgerPlugin(app: FastifyInstance) {
  // Concurrent appends share transactions (group commit); its knobs are configuration.
  const groups = appendGroups(app.db, app.keyring, app.config.appendGroups)
  app.decorate('ledger', { append: (tenantId, events, { batch }) => groups.submit(tenantId, { events, batch }) } satisfies Ledger)
}

export default fp(ledgerPlugin, { name: 'ledger', dependencies: ['db', 'keyring'] })
