// Every response may be read from any origin, as GitHub's API allows: the API's credentials are
// bearer keys a page would have to hold itself, never cookies, and no preflight is answered, so a
// browser on another origin cannot send a key (Authorization) at all.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const allowedOrigin = '*'

async function corsPlugin(app: FastifyInstance) {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('access-control-allow-origin', allowedOrigin)
    return payload
  })
}

export default fp(corsPlugin, { name: 'cors' })
