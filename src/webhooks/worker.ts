// The delivery worker: finds tenants with due deliveries, claims a round of them per tenant (a
// short transaction that marks them in flight under a lease), sends outside any transaction, and
// records each attempt in a transaction of its own. Several workers on one database never send
// the same attempt twice; one that dies mid-round leaves its claims to expire and be sent again.
import type { WebhooksConfig } from '../config.js'
import type { RecordedEvent } from '../domain/ledger-event.js'
import { disabledReasons, judgeAttempt, type AttemptVerdict } from '../domain/webhooks.js'
import { inTenant, type Db } from '../store/database.js'
import { eventKey, readEventsByKeys } from '../store/event-store.js'
import { openEvents, webhookSecretAad, type Keyring } from '../store/keyring.js'
import { sweepPromiseNotices } from '../store/notices.js'
import { claimDeliveries, recordAttempt, tenantsWithDueDeliveries, type ClaimedDelivery } from '../store/outbox.js'
import { eventPayload, signedHeaders } from './payload.js'
import { sendWebhook, type SendOutcome } from './send.js'

export interface WorkerDeps {
  db: Db
  keyring: Keyring
  config: { webhooks: WebhooksConfig; now: () => Date }
  log: { warn(details: object, message: string): void }
  /** Called once per recorded attempt (metrics). */
  observe?: (outcome: AttemptVerdict['kind'], seconds: number) => void
  send?: typeof sendWebhook
  /** Jitter source in [0, 1); tests may fix it. */
  random?: () => number
}

export interface DeliveryWorker {
  /** One round: claims and sends what is due now (of one tenant, when named); returns how many attempts it made. */
  runOnce(tenantId?: string): Promise<number>
  /** Rounds until nothing is due (by the injected clock); returns the attempts made. */
  drain(tenantId?: string): Promise<number>
  /** Queues promise.due and promise.overdue notifications not yet announced; returns how many. */
  sweep(tenantId?: string): Promise<number>
}

/** Twice the send timeout and 5 s to record: a claim older than that was lost with its worker. */
const leaseOf = (timeoutMs: number) => 2 * timeoutMs + 5_000
const tenantsPerRound = 100
const maxDrainRounds = 1000

export function deliveryWorker(deps: WorkerDeps): DeliveryWorker {
  const { db, keyring, config, log } = deps
  const send = deps.send ?? sendWebhook
  const random = deps.random ?? Math.random

  async function deliverTenant(tenantId: string, now: Date): Promise<number> {
    const leaseUntil = new Date(now.getTime() + leaseOf(config.webhooks.timeoutMs))
    const { claimed, events } = await inTenant(db, tenantId, async (tx) => {
      const claimed = await claimDeliveries(tx, tenantId, now, leaseUntil, config.webhooks.concurrency)
      const keys = claimed.flatMap((d) => (d.eventSource !== null && d.eventId !== null ? [{ source: d.eventSource, id: d.eventId }] : []))
      const events = await openEvents(tx, keyring, tenantId, await readEventsByKeys(tx, tenantId, keys))
      return { claimed, events: new Map(events.map((e) => [eventKey(e), e])) }
    })
    await Promise.all(claimed.map((d) => attempt(tenantId, d, events)))
    return claimed.length
  }

  function secretsOf(tenantId: string, d: ClaimedDelivery, at: Date): string[] {
    const aad = webhookSecretAad(tenantId, d.webhookId)
    const current = keyring.openSecret(d.secret, aad)
    const overlap = d.previousSecret !== null && d.previousSecretUntil !== null && Date.parse(d.previousSecretUntil) > at.getTime()
    return overlap && d.previousSecret !== null ? [current, keyring.openSecret(d.previousSecret, aad)] : [current]
  }

  async function attempt(tenantId: string, d: ClaimedDelivery, events: Map<string, RecordedEvent>): Promise<void> {
    const event = d.eventSource !== null && d.eventId !== null ? events.get(eventKey({ source: d.eventSource, id: d.eventId })) : undefined
    const payload = d.payload ?? (event ? eventPayload(event, d.includePersonal) : null)
    const at = config.now()
    let outcome: SendOutcome
    if (payload === null) {
      outcome = { statusCode: null, durationMs: 0, body: '', error: 'the event is no longer stored', retryAfterSeconds: null }
    } else {
      const body = JSON.stringify(payload)
      try {
        outcome = await send({ url: d.url, headers: signedHeaders(d.id, at, body, secretsOf(tenantId, d, at)), body },
          { timeoutMs: config.webhooks.timeoutMs, allowPrivateNetworks: config.webhooks.allowPrivateNetworks, now: config.now })
      } catch (error) {
        // A sender that throws instead of reporting is a failed attempt, retried like any other.
        outcome = { statusCode: null, durationMs: 0, body: '', error: error instanceof Error ? error.message : String(error), retryAfterSeconds: null }
      }
    }
    const verdict: AttemptVerdict = payload === null ? { kind: 'exhausted' } : judgeAttempt(d.attempt, outcome, random())
    const recordedAt = config.now()
    try {
      await inTenant(db, tenantId, (tx) => recordAttempt(tx, tenantId, {
        deliveryId: d.id, webhookId: d.webhookId, attempt: d.attempt, lease: d.lease, at, durationMs: outcome.durationMs,
        statusCode: outcome.statusCode, responseBody: outcome.body.slice(0, 4096), error: outcome.error, outcome: verdict.kind,
        nextAttemptAt: verdict.kind === 'retry' ? new Date(recordedAt.getTime() + verdict.afterSeconds * 1000) : null, disabledReasons,
      }))
      deps.observe?.(verdict.kind, outcome.durationMs / 1000)
    } catch (err) {
      // The claim's lease runs out and the delivery is sent again: at least once, never lost.
      log.warn({ err, deliveryId: d.id }, 'recording a webhook attempt failed; the delivery will be retried')
    }
  }

  async function runOnce(only?: string): Promise<number> {
    const now = config.now()
    let attempts = 0
    for (const tenantId of only !== undefined ? [only] : await tenantsWithDueDeliveries(db, now, tenantsPerRound)) attempts += await deliverTenant(tenantId, now)
    return attempts
  }

  return {
    runOnce,
    sweep: (tenantId) => sweepPromiseNotices(db, config.now(), tenantId),
    async drain(tenantId) {
      let total = 0
      for (let round = 0; round < maxDrainRounds; round++) {
        const made = await runOnce(tenantId)
        if (made === 0) break
        total += made
      }
      return total
    },
  }
}
