// Group commit for appends (see batcher.ts): concurrent requests of one tenant become one batch
// of everyone's events, in arrival order, and each request gets back the results of its own.
import type { AppendGroupsConfig } from '../config.js'
import type { IncomingEvent } from '../domain/cloudevent.js'
import { ProblemError } from '../domain/errors.js'
import { Batcher } from './batcher.js'
import { inTenant, type Db } from './database.js'
import { violatedConstraint } from './failures.js'
import { recordEvents, type AppendResult } from './record-events.js'
import type { Keyring } from './keyring.js'
import { retryOnDuplicate } from './retry.js'

export interface AppendRequest {
  /** Stamped with the id of the key that sent them (writtenBy). */
  events: readonly IncomingEvent[]
  /** The request sent an array: its problems point at an index. */
  batch: boolean
}

/**
 * Whether one request of a failed group may be the cause: an event broke a domain rule (a client's
 * problem, not a 5xx) or a constraint. An outage, or anything else, would fail every half as well.
 */
export function oneRequestMayCause(error: unknown): boolean {
  return (error instanceof ProblemError && error.status < 500) || violatedConstraint(error) !== undefined
}

export function appendGroups(db: Db, keyring: Keyring, options: AppendGroupsConfig): Batcher<AppendRequest, AppendResult[]> {
  const append = (tenantId: string, events: readonly IncomingEvent[], batch: boolean) =>
    retryOnDuplicate(() => inTenant(db, tenantId, (tx) => recordEvents(tx, tenantId, events, { batch, keyring, last: true })))
  return new Batcher<AppendRequest, AppendResult[]>({
    concurrency: options.concurrency,
    maxWeight: options.maxEvents,
    // Grouping batches only made transactions longer and held more in memory.
    ownWeight: options.ownBatch,
    weight: (request) => request.events.length,
    maxWaitingWeight: options.maxQueuedEvents,
    full: () => new ProblemError(503, 'queue-full', 'Too many appends of this tenant waiting', 'this tenant already has as many events waiting to be written as it may; retry shortly', { retryAfterSeconds: 1 }),
    async together(tenantId, requests) {
      // Indexes are the joint batch's; the results are sliced back per request.
      const results = await append(tenantId, requests.flatMap((r) => r.events).map((event, index) => ({ ...event, index })), true)
      let offset = 0
      return requests.map((r) => results.slice(offset, (offset += r.events.length)))
    },
    alone: (tenantId, request) => append(tenantId, request.events, request.batch),
    splittable: oneRequestMayCause,
  })
}
