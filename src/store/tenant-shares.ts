// Fair shares of the connection pool: one tenant's transactions run at most `perTenant` at once,
// so a tenant in a flood queues behind its own work and leaves the rest of the pool to the others.
// Its queue is bounded too: past `maxWaiting`, more work is refused at once (503) instead of
// waiting in memory for a turn it would not get in time.
import { ProblemError } from '../domain/errors.js'

interface Share { running: number; waiting: (() => void)[] }

export const tenantBusy = () =>
  new ProblemError(503, 'tenant-busy', 'Too much work of this tenant at once', 'this tenant already has as much work waiting as it may; retry shortly', { retryAfterSeconds: 1 })

export class TenantShares {
  private readonly shares = new Map<string, Share>()

  constructor(readonly perTenant: number, readonly maxWaiting: number) {}

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    let share = this.shares.get(tenantId)
    if (!share) {
      share = { running: 0, waiting: [] }
      this.shares.set(tenantId, share)
    }
    if (share.running < this.perTenant) {
      share.running++
    } else {
      if (share.waiting.length >= this.maxWaiting) throw tenantBusy()
      const queue = share.waiting
      // The slot is handed over by the work that ends (running stays as it is).
      await new Promise<void>((resolve) => queue.push(resolve))
    }
    try {
      return await work()
    } finally {
      this.release(tenantId, share)
    }
  }

  /** Transactions of the tenant running now (tests and metrics). */
  runningOf(tenantId: string): number {
    return this.shares.get(tenantId)?.running ?? 0
  }

  private release(tenantId: string, share: Share): void {
    const next = share.waiting.shift()
    if (next) return next()
    share.running--
    if (share.running === 0) this.shares.delete(tenantId)
  }
}
