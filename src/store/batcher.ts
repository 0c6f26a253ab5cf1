// Group commit for work that costs a transaction per request. While `concurrency` groups of one
// key (a tenant) run, the requests that arrive wait and then go together as the next group: one
// transaction and one round of statements for all of them. A request that arrives when fewer run
// starts a group one turn of the event loop later, so nobody waits on a timer. A group that fails in
// a way one input can cause (`splittable`) runs again in halves, down to one request at a time, so
// every request still succeeds or fails on its own, as if it had been alone; any other failure (the
// database is down) fails every request of the group at once.

interface Waiting<I, R> { input: I; resolve(result: R): void; reject(error: unknown): void }

export interface BatcherOptions<I, R> {
  /** Groups of one key running at once, each a transaction on a connection of its own. */
  concurrency: number
  /** A group takes no further input once its inputs weigh this much (an input's weight: `weight`, default 1). */
  maxWeight: number
  weight?: (input: I) => number
  /** Inputs this heavy are batches already: each makes a group of its own and runs at once, uncounted. */
  ownWeight?: number
  /** The weight one key may have waiting; an input past it is refused with `full()` at once (the queue is bounded). */
  maxWaitingWeight?: number
  full?: () => Error
  /** The results of a group's inputs, in their order, from one unit of work. */
  together(key: string, inputs: I[]): Promise<R[]>
  /** The result of one input on its own. */
  alone(key: string, input: I): Promise<R>
  /** Whether one input alone may have caused this failure of a group, so that running it in halves can help. */
  splittable(error: unknown): boolean
}

export class Batcher<I, R> {
  private readonly queues = new Map<string, { waiting: Waiting<I, R>[]; running: number; waitingWeight: number }>()

  constructor(private readonly options: BatcherOptions<I, R>) {}

  submit(key: string, input: I): Promise<R> {
    if (this.weigh(input) >= (this.options.ownWeight ?? Infinity)) return this.options.alone(key, input)
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(key)
      if (!queue) {
        queue = { waiting: [], running: 0, waitingWeight: 0 }
        this.queues.set(key, queue)
      }
      const weight = this.weigh(input)
      if (queue.waitingWeight + weight > (this.options.maxWaitingWeight ?? Infinity)) {
        reject(this.options.full?.() ?? new Error('the queue is full'))
        return
      }
      queue.waitingWeight += weight
      queue.waiting.push({ input, resolve, reject })
      if (queue.running < this.options.concurrency) void this.drain(key, queue)
    })
  }

  private weigh(input: I): number {
    return this.options.weight?.(input) ?? 1
  }

  /**
   * Runs groups until nobody waits. The first group is taken one turn of the event loop later
   * (setImmediate, not a timer): requests already read from their sockets join it. On PGlite a
   * transaction runs to its end without giving the loop a turn, so without this the next request
   * was read only after it, and no group ever formed there.
   */
  private async drain(key: string, queue: { waiting: Waiting<I, R>[]; running: number; waitingWeight: number }): Promise<void> {
    queue.running++
    try {
      await new Promise((resolve) => setImmediate(resolve))
      while (queue.waiting.length > 0) {
        let count = 0
        let weight = 0
        for (const next of queue.waiting) {
          if (count > 0 && weight + this.weigh(next.input) > this.options.maxWeight) break
          count++
          weight += this.weigh(next.input)
        }
        queue.waitingWeight -= weight
        await this.run(key, queue.waiting.splice(0, count))
      }
    } finally {
      queue.running--
      if (queue.running === 0 && queue.waiting.length === 0) this.queues.delete(key)
    }
  }

  private async run(key: string, group: Waiting<I, R>[]): Promise<void> {
    const [only] = group
    if (only && group.length === 1) return this.runAlone(key, only)
    let results: R[]
    try {
      results = await this.options.together(key, group.map((w) => w.input))
    } catch (error) {
      // Every half would fail the same way (2n - 1 transactions for n inputs during an outage).
      if (!this.options.splittable(error)) {
        for (const waiting of group) waiting.reject(error)
        return
      }
      // The group runs again as two halves, in order, down to inputs alone, so the input that failed
      // it gets its own answer and one bad input costs the others a few transactions, not one each.
      const half = Math.ceil(group.length / 2)
      await this.run(key, group.slice(0, half))
      await this.run(key, group.slice(half))
      return
    }
    group.forEach((waiting, i) => {
      const result = results[i]
      if (result === undefined) waiting.reject(new Error('a group returned fewer results than it had inputs'))
      else waiting.resolve(result)
    })
  }

  private async runAlone(key: string, waiting: Waiting<I, R>): Promise<void> {
    try {
      waiting.resolve(await this.options.alone(key, waiting.input))
    } catch (error) {
      waiting.reject(error)
    }
  }
}
