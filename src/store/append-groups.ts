// Group commit for appends. While a tenant's appends are running, the requests that arrive wait
// and then go together as the next append: one transaction, one round of statements and one
// commit for all of them. Fifty clients sending one event each then cost the database a handful of
// transactions instead of fifty, and a request that arrives when nothing is running goes at once,
// so nobody waits on a timer. A group that fails for any reason (a rule one request broke, a value
// the database refused, the database itself) runs again one request at a time, so every request
// still succeeds or fails on its own, exactly as if it had been appended alone.
import type { IncomingEvent } from '../domain/cloudevent.js'
import { inTenant, type Db } from './database.js'
import { appendEvents, type AppendResult } from './events.js'
import type { Keyring } from './keyring.js'
import { retryOnDuplicate } from './retry.js'

interface Waiting {
  events: readonly IncomingEvent[]
  /** The request sent an array: its problems point at an index. */
  batch: boolean
  resolve(results: AppendResult[]): void
  reject(error: unknown): void
}

interface TenantQueue { waiting: Waiting[]; running: number }

export interface AppendGroupOptions {
  /** Groups of one tenant running at once, each a transaction on a connection of its own. */
  concurrency: number
  /** A group takes no further request once it holds this many events. */
  maxEvents: number
  /**
   * A request of at least this many events is a batch already: it runs at once, on its own, and
   * does not count against the groups (grouping batches only made transactions longer).
   */
  ownBatch: number
}

export class AppendGroups {
  private readonly tenants = new Map<string, TenantQueue>()

  constructor(private readonly db: Db, private readonly keyring: Keyring, private readonly options: AppendGroupOptions) {}

  /** Appends one request's events; the results are those appendEvents would give it alone. */
  append(tenantId: string, events: readonly IncomingEvent[], batch: boolean): Promise<AppendResult[]> {
    if (events.length >= this.options.ownBatch) return this.appendNow(tenantId, events, batch)
    return new Promise((resolve, reject) => {
      let queue = this.tenants.get(tenantId)
      if (!queue) {
        queue = { waiting: [], running: 0 }
        this.tenants.set(tenantId, queue)
      }
      queue.waiting.push({ events, batch, resolve, reject })
      if (queue.running < this.options.concurrency) void this.drain(tenantId, queue)
    })
  }

  /** Runs groups until nobody waits; the first group is taken before anything is awaited. */
  private async drain(tenantId: string, queue: TenantQueue): Promise<void> {
    queue.running++
    try {
      while (queue.waiting.length > 0) await this.run(tenantId, this.take(queue))
    } finally {
      queue.running--
      if (queue.running === 0 && queue.waiting.length === 0) this.tenants.delete(tenantId)
    }
  }

  private take(queue: TenantQueue): Waiting[] {
    const group: Waiting[] = []
    let events = 0
    for (let next = queue.waiting[0]; next && (group.length === 0 || events + next.events.length <= this.options.maxEvents); next = queue.waiting[0]) {
      queue.waiting.shift()
      group.push(next)
      events += next.events.length
    }
    return group
  }

  private async run(tenantId: string, group: Waiting[]): Promise<void> {
    const [only] = group
    if (only && group.length === 1) return this.alone(tenantId, only)
    // One batch of everyone's events, in arrival order; indexes are the batch's, results are sliced back.
    const events = group.flatMap((w) => w.events).map((event, index) => ({ ...event, index }))
    let results: AppendResult[]
    try {
      results = await this.appendNow(tenantId, events, true)
    } catch {
      // Not swallowed: each request runs again alone and gets its own answer, this error included if it is its own.
      for (const waiting of group) await this.alone(tenantId, waiting)
      return
    }
    let offset = 0
    for (const waiting of group) {
      waiting.resolve(results.slice(offset, offset + waiting.events.length))
      offset += waiting.events.length
    }
  }

  private async alone(tenantId: string, waiting: Waiting): Promise<void> {
    try {
      waiting.resolve(await this.appendNow(tenantId, waiting.events, waiting.batch))
    } catch (error) {
      waiting.reject(error)
    }
  }

  private appendNow(tenantId: string, events: readonly IncomingEvent[], batch: boolean): Promise<AppendResult[]> {
    return retryOnDuplicate(() => inTenant(this.db, tenantId, (tx) => appendEvents(tx, tenantId, events, { batch, keyring: this.keyring, last: true })))
  }
}
