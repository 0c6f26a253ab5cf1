// The worker's loop, in the service (plugins/webhooks.ts) or alone (`journey worker`): rounds back
// to back while there is work, then a poll; the promise sweep once a minute.
import type { DeliveryWorker } from './worker.js'

export interface DeliveryLoop {
  /** Something became due: look now instead of at the next poll (a round already running finishes first). */
  wake(): void
  /** Stops polling and waits for the round in progress. */
  stop(): Promise<void>
}

const sweepIntervalMs = 60_000

export function startDeliveryLoop(worker: DeliveryWorker, options: { pollIntervalMs: number; log: { warn(details: object, message: string): void } }): DeliveryLoop {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let lastSweep = 0

  async function round(): Promise<void> {
    try {
      if (Date.now() - lastSweep >= sweepIntervalMs) {
        lastSweep = Date.now()
        await worker.sweep()
      }
      while (!stopped && await worker.runOnce() > 0) { /* the next round at once */ }
    } catch (err) {
      options.log.warn({ err }, 'webhook delivery round failed; retrying at the next poll')
    }
  }
  function schedule(ms: number): void {
    if (stopped || running) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined
        schedule(options.pollIntervalMs)
      })
    }, ms)
  }

  schedule(0)
  return {
    wake: () => schedule(0),
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
