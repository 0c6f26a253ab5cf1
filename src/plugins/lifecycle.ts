// Graceful shutdown: once closing starts, requests already running finish, new ones get a 503
// problem document, and the database closes last (its onClose hook runs after the server's).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { unavailable } from '../domain/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    isClosing(): boolean
  }
}

async function lifecyclePlugin(app: FastifyInstance) {
  let closing = false
  app.decorate('isClosing', () => closing)
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    throw unavailable('the service is shutting down; retry on another instance or in a moment', 2)
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle', dependencies: ['errors'] })
