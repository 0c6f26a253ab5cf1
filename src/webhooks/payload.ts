// What a delivery sends: the CloudEvent as the feed shows it. Personal fields only to subscriptions
// that asked for them (and whose key could read them); otherwise null, with the CloudEvents
// `dataref` extension saying where a reader with the right scope fetches the event.
import { Webhook } from 'standardwebhooks'
import { personalFields } from '../domain/catalogue.js'
import { splitPersonal } from '../domain/crypto.js'
import type { RecordedEvent } from '../domain/ledger-event.js'
import { toCloudEvent } from '../../routes/events.js'
import { encodeNumberCursor } from '../../routes/schemas.js'

export function eventPayload(event: RecordedEvent, includePersonal: boolean): object {
  const cloudEvent = toCloudEvent(event, false)
  const personal: readonly string[] = personalFields[event.type]
  if (includePersonal || personal.length === 0) return cloudEvent
  // The journey's stream from just before this event, one event long: exactly this one.
  const dataref = `/v1/journeys/${encodeURIComponent(event.subject)}/events?cursor=${encodeNumberCursor(event.version - 1)}&limit=1`
  return { ...cloudEvent, data: splitPersonal(cloudEvent.data, personal).clear, dataref }
}

/** A notification with no stored event of its own (webhook.test, promise.due, promise.overdue), as a CloudEvent. */
export function derivedPayload(n: { id: string; type: string; subject: string; time: Date; data: Record<string, unknown> }): object {
  return {
    specversion: '1.0', id: n.id, source: 'journey-ledger', type: n.type, subject: n.subject, time: n.time.toISOString(),
    datacontenttype: 'application/json', data: n.data,
  }
}

/**
 * Standard Webhooks headers. `webhook-signature` holds one `v1,<base64>` per secret (two during a
 * rotation's overlap), space-separated: a receiver holding either verifies.
 */
export function signedHeaders(id: string, at: Date, body: string, secrets: readonly string[]): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'journey-ledger-webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  }
}
