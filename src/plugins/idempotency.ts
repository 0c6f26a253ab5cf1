// The Idempotency-Key header on every POST: replay the first response, 422 for the same key with
// another body, 409 while the first request is still running.
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { conflict, invalid, ProblemError } from '../domain/errors.js'
import { inTenant } from '../store/database.js'
import { Batcher } from '../store/batcher.js'
import { isDatabaseUnavailable } from '../store/failures.js'
import { peopleByRef } from '../store/people.js'
import { claimKeys, completeKeys, expireKeys, readClaim, releaseKey, type ClaimRequest, type Outcome } from '../store/idempotency.js'
import { problemContentType } from './errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's success response carries a secret (a key shown once): it is never stored for replay. */
    carriesSecret?: boolean
  }
  interface FastifyRequest {
    idempotencyKey: string | null
    /** The person a response is about (the ledger's reference), set by routes whose responses carry personal fields. */
    responsePersonRef: string | null
  }
}

const retentionHours = 48

function requestHash(request: FastifyRequest): string {
  let body: string
  try {
    body = JSON.stringify(request.body ?? null)
  } catch (error) {
    // Thousands of levels of nesting overflow the stack; no request this API accepts looks like that.
    if (error instanceof RangeError) throw invalid('the body is nested too deeply', [{ path: '', message: 'is nested too deeply' }])
    throw error
  }
  return createHash('sha256').update(`${request.method} ${request.url}\n${body}`).digest('hex')
}

async function idempotencyPlugin(app: FastifyInstance) {
  // The operator's own Idempotency-Key space: tenant ids start with [a-z0-9], so it is no tenant's;
  // it names the operator key (by a hash), so a rotated key or another deployment's never replays.
  const operatorKeySpace = `_operator_${createHash('sha256').update(app.config.operatorKey ?? '').digest('hex').slice(0, 16)}`
  /** Whose keys an Idempotency-Key is among: the calling tenant's, or the operator's on operator routes. */
  const keySpace = (request: FastifyRequest): string | null => {
    if (request.principal) return request.principal.tenantId
    return request.routeOptions.config.scope === 'operator' ? operatorKeySpace : null
  }
  // Claims and outcomes of concurrent requests are written together (group commit, see batcher.ts):
  // each is one statement, and a transaction of its own per request cost more than the statement.
  const batched = <I, R>(write: (tenantId: string, inputs: I[]) => Promise<R[]>) => new Batcher<I, R>({
    concurrency: 2, maxWeight: 200, together: write,
    // Claims come before the append: in an outage they meet it first, and halves would fail as well.
    splittable: (error) => !isDatabaseUnavailable(error),
    alone: async (tenantId, input) => {
      const [result] = await write(tenantId, [input])
      if (result === undefined) throw new Error('a write returned no result')
      return result
    },
  })
  const claims = batched<ClaimRequest, boolean>((tenantId, inputs) =>
    inTenant(app.db, tenantId, (tx) => claimKeys(tx, tenantId, inputs), { oneRoundTrip: true }))
  const outcomes = batched<Outcome, true>(async (tenantId, inputs) => {
    await inTenant(app.db, tenantId, (tx) => completeKeys(tx, tenantId, inputs), { oneRoundTrip: true })
    return inputs.map(() => true as const)
  })
  app.decorateRequest('idempotencyKey', null)
  app.decorateRequest('responsePersonRef', null)
  const aad = (tenantId: string, key: string) => `idempotency/${tenantId}/${key}`
  /** The data key of the person a response is about; undefined once they were erased (or their key expired). */
  const personKey = async (tenantId: string, personRef: string) => {
    const rows = await inTenant(app.db, tenantId, (tx) => peopleByRef(tx, tenantId, [personRef]), { oneRoundTrip: true })
    return app.keyring.openKeys(tenantId, rows).get(personRef)
  }

  app.addHook('preHandler', async (request, reply) => {
    const tenantId = keySpace(request)
    if (request.method !== 'POST' || !tenantId) return
    const header = request.headers['idempotency-key']
    if (header === undefined) return
    const key = Array.isArray(header) ? header[0] ?? '' : header
    if (key.length < 1 || key.length > 255) {
      throw invalid('Idempotency-Key must be 1-255 characters', [{ path: '/Idempotency-Key', message: 'must be 1-255 characters', location: 'header' }])
    }
    const hash = requestHash(request)
    const claimed = await claims.submit(tenantId, { key, requestHash: hash })
    const claim = claimed ? { state: 'claimed' as const } : await inTenant(app.db, tenantId, (tx) => readClaim(tx, tenantId, key, hash), { oneRoundTrip: true })
    if (claim.state === 'mismatch') {
      throw new ProblemError(422, 'idempotency-key-reused', 'Idempotency-Key reused', 'this Idempotency-Key was used with another request body')
    }
    if (claim.state === 'in-flight') throw conflict('idempotency-in-flight', 'Request in flight', 'a request with this Idempotency-Key is still running; retry later')
    if (claim.state === 'replay' && claim.secretWithheld) {
      throw conflict('secret-not-replayable', 'Secret not replayable',
        'the first request with this Idempotency-Key succeeded, and its response carried a secret, which is never stored: list what it created to find it, and revoke it if its secret was lost')
    }
    if (claim.state === 'replay') {
      const sealKey = claim.personRef === null ? undefined : await personKey(tenantId, claim.personRef)
      if (claim.personRef !== null && (!sealKey || claim.sealedResponse === null)) {
        throw new ProblemError(410, 'replay-forgotten', 'Response forgotten',
          'the first request with this Idempotency-Key succeeded; its response was about a person since erased, and is no longer kept: read the resource for its current state')
      }
      reply.header('idempotent-replayed', 'true')
      reply.code(claim.statusCode).type(claim.statusCode >= 400 ? problemContentType : 'application/json')
      const body = claim.sealedResponse === null ? null : app.keyring.openRecord(claim.sealedResponse, aad(tenantId, key), sealKey)
      return reply.send(JSON.stringify(body))
    }
    request.idempotencyKey = key
  })

  // An outcome the database could not take (it went away mid-request) is retried every second:
  // a thrown onSend would turn the answer into a bare 500, and an unrecorded claim would tell
  // every retry "in flight" until it is abandoned (60 s) instead of soon after the database is back.
  const unrecorded = new Map<string, { record: () => Promise<void>; tries: number; running: boolean }>()
  async function recordOutcome(id: string, record: () => Promise<void>): Promise<void> {
    try {
      await record()
    } catch (err) {
      app.log.warn({ err }, 'could not record an Idempotency-Key outcome; retrying in the background')
      unrecorded.set(id, { record, tries: 0, running: false })
    }
  }
  const retryOutcomes = setInterval(() => {
    for (const [id, pending] of unrecorded) {
      if (pending.running) continue
      pending.running = true
      pending.record().then(() => unrecorded.delete(id), (err: unknown) => {
        pending.running = false
        if (++pending.tries < 60) return
        unrecorded.delete(id)
        app.log.error({ err }, 'gave up recording an Idempotency-Key outcome; the claim expires as abandoned')
      })
    }
  }, 1_000)
  retryOutcomes.unref()

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey
    const tenantId = keySpace(request)
    if (!key || !tenantId) return payload
    request.idempotencyKey = null
    if (reply.statusCode >= 500) {
      await recordOutcome(`${tenantId}/${key}`, () => inTenant(app.db, tenantId, (tx) => releaseKey(tx, tenantId, key), { oneRoundTrip: true }))
      return payload
    }
    const { statusCode } = reply
    const secretWithheld = statusCode < 400 && request.routeOptions.config.carriesSecret === true
    const body: unknown = typeof payload === 'string' && payload.length > 0 && !secretWithheld ? JSON.parse(payload) : null
    const personRef = request.responsePersonRef
    await recordOutcome(`${tenantId}/${key}`, async () => {
      // Sealed under the person's key, read now: an erasure that committed meanwhile leaves nothing to store.
      const sealKey = personRef === null ? undefined : await personKey(tenantId, personRef)
      const sealed = body === null || (personRef !== null && !sealKey) ? null : app.keyring.sealRecord(body, aad(tenantId, key), sealKey)
      await outcomes.submit(tenantId, { key, statusCode, sealedResponse: sealed, secretWithheld, personRef })
    })
    return payload
  })

  const sweep = setInterval(() => {
    expireKeys(app.db, retentionHours).catch((err: unknown) => app.log.warn({ err }, 'idempotency sweep failed'))
  }, 10 * 60 * 1000)
  sweep.unref()
  app.addHook('onClose', async () => {
    clearInterval(sweep)
    clearInterval(retryOutcomes)
  })
}

export default fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['db', 'auth', 'keyring'] })
