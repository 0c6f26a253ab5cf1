// Runs the free-text retention sweep hourly when JOURNEY_RETENTION_FREE_TEXT_MONTHS is set.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { purgeErased } from '../store/purge.js'
import { sweepRetention } from '../store/retention.js'

async function retentionPlugin(app: FastifyInstance) {
  const months = app.config.retentionFreeTextMonths
  if (!months) return
  const run = () => sweepRetention(app.db, months, app.config.now())
    .then(async ({ persons }) => {
      if (persons === 0) return
      app.log.info({ persons, months }, 'retention: sealed fields erased')
      await purgeErased(app.db, app.log)
    })
    .catch((err: unknown) => app.log.warn({ err }, 'retention sweep failed'))
  const timer = setInterval(run, 60 * 60 * 1000)
  timer.unref()
  app.addHook('onReady', async () => { void run() })
  app.addHook('onClose', async () => clearInterval(timer))
}

export default fp(retentionPlugin, { name: 'retention', dependencies: ['db', 'keyring'] })
