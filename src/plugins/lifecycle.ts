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
    // The server stops only when every connection has closed, and a keep-alive connection whose
    // request finished during the drain would stay open (idle) until the grace period kills the
    // process: close such connections as they go idle.
    const reapIdle = setInterval(() => app.server.closeIdleConnections(), 100)
    reapIdle.unref()
    app.server.once('close', () => clearInterval(reapIdle))
  })
  // Answers sent during the drain tell the client this connection is finished.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    return payload
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    throw unavailable('the service is shutting down; retry on another instance or in a moment', 2)
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle', dependencies: ['errors'] })
