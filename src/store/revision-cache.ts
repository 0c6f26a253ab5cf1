// Results of whole-tenant aggregations (analytics), kept per process and reused while the tenant's
// ledger has not moved. The ledger's revision is its highest event position: an append moves it,
// and nothing else changes what the aggregations read (erasure keeps counts and scores; a rebuild
// yields the same rows). Statuses move with the clock, not the ledger, so an entry older than
// `refreshAfterMs` is also recomputed, in the background while the current one is served.
import { sql } from 'drizzle-orm'
import { queryOne, type Queryable } from './database.js'

/** The tenant's ledger revision: its highest event position (0 before the first event). */
export async function ledgerRevision(tx: Queryable, tenantId: string): Promise<number> {
  const row = await queryOne<{ revision: number }>(tx, sql`
    select coalesce(max(position), 0) as revision from events where tenant_id = ${tenantId}`)
  return row?.revision ?? 0
}

interface Entry<V> { revision: number; computedAt: number; value: Promise<V>; refreshing: boolean }

export interface RevisionCacheOptions {
  maxEntries: number
  refreshAfterMs: number
  /** Milliseconds, injected so tests control age. */
  now: () => number
}

export class RevisionCache<V> {
  private readonly entries = new Map<string, Entry<V>>()

  constructor(private readonly options: RevisionCacheOptions) {}

  /**
   * The value for `key` at `revision`: cached when computed at this revision (requests that arrive
   * while it is computed share that computation), else computed now. A failed computation is
   * not kept.
   */
  get(key: string, revision: number, compute: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key)
    if (entry && entry.revision === revision) {
      // Most recently used last, so the first key is the one to evict.
      this.entries.delete(key)
      this.entries.set(key, entry)
      if (!entry.refreshing && this.options.now() - entry.computedAt > this.options.refreshAfterMs) this.refresh(key, entry, compute)
      return entry.value
    }
    return this.store(key, revision, compute).value
  }

  private store(key: string, revision: number, compute: () => Promise<V>): Entry<V> {
    const entry: Entry<V> = { revision, computedAt: this.options.now(), value: compute(), refreshing: false }
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    this.entries.delete(key)
    this.entries.set(key, entry)
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break
      this.entries.delete(oldest)
    }
    return entry
  }

  private refresh(key: string, entry: Entry<V>, compute: () => Promise<V>): void {
    entry.refreshing = true
    const next = compute()
    next.then((value) => {
      if (this.entries.get(key) !== entry) return
      this.entries.set(key, { revision: entry.revision, computedAt: this.options.now(), value: Promise.resolve(value), refreshing: false })
    }, () => {
      entry.refreshing = false
    })
  }
}
