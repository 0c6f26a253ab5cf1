// The webhook delivery worker in the service's process (off with WEBHOOK_WORKER=off, e.g. when
// `journey worker` runs apart), and its metrics: outbox depth and oldest age, attempts by outcome
// and their latency. Tests switch the loop off and call app.webhooks.drain() with their own clock.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram } from 'prom-client'
import { outboxBacklog } from '../store/outbox.js'
import { startDeliveryLoop, type DeliveryLoop } from '../webhooks/loop.js'
import { deliveryWorker, type DeliveryWorker } from '../webhooks/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: DeliveryWorker & {
      /** Something became due (a subscription's test ping): the running loop looks now instead of at its next poll. */
      wake(): void
    }
  }
}

async function webhooksPlugin(app: FastifyInstance) {
  const registers = [app.metrics.registry]
  const attempts = new Counter({ name: 'journey_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (succeeded, retry, exhausted, gone).', labelNames: ['outcome'], registers })
  const latency = new Histogram({ name: 'journey_webhook_attempt_duration_seconds', help: 'Time from sending a webhook to its answer (or failure).', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15], registers })
  // Both read on scrape; a database away leaves the last values rather than failing /metrics.
  const backlog = () => outboxBacklog(app.db, app.config.now())
  new Gauge({
    name: 'journey_webhook_outbox_pending', help: 'Webhook deliveries not yet succeeded nor exhausted.', registers,
    async collect() { this.set((await backlog().catch(() => null))?.pending ?? 0) },
  })
  new Gauge({
    name: 'journey_webhook_outbox_oldest_pending_seconds', help: 'Age of the oldest pending webhook delivery.', registers,
    async collect() { this.set((await backlog().catch(() => null))?.oldestSeconds ?? 0) },
  })

  const worker = deliveryWorker({
    db: app.db, keyring: app.keyring, config: app.config, log: app.log,
    observe: (outcome, seconds) => {
      attempts.inc({ outcome })
      latency.observe(seconds)
    },
  })

  let loop: DeliveryLoop | undefined
  app.decorate('webhooks', { ...worker, wake: () => loop?.wake() })
  if (app.config.webhooks.worker) {
    app.addHook('onReady', async () => { loop = startDeliveryLoop(worker, { pollIntervalMs: app.config.webhooks.pollIntervalMs, log: app.log }) })
  }
  app.addHook('preClose', async () => {
    await loop?.stop()
    loop = undefined
  })
}

export default fp(webhooksPlugin, { name: 'webhooks', dependencies: ['db', 'keyring', 'metrics'] })
