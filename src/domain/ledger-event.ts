// The shape of an event once it is in the ledger. The domain sees a union keyed by `type`, each
// member with the data its catalogue schema allows, so folds and rules switch on `type` and read
// typed fields; a misspelt field does not compile.
import type { EventData as DataOf, EventType, PersonalField } from './catalogue.js'

/** One type's data as the ledger holds it: personal fields stand as null (sealed, see store/keyring.ts). */
export type StoredData<K extends EventType> = { [P in keyof DataOf<K>]: P extends PersonalField<K> ? DataOf<K>[P] | null : DataOf<K>[P] }

/** What happened, typed from the catalogue. */
export type DomainEvent = { [K in EventType]: { type: K; data: StoredData<K> } }[EventType]
export type EventOf<K extends EventType> = Extract<DomainEvent, { type: K }>

export interface Envelope {
  id: string
  source: string
  subject: string
  /** When it happened in the world (RFC 3339); timelines sort by it. */
  time: string
  version: number
  position: number
  recordedAt: string
  /** The person the event is about, by the ledger's own reference (never the client's id); their data key seals its personal fields. */
  personRef: string | null
  /** The personal fields, sealed (see store/keyring.ts); in `data` they stand as null. */
  sealed: string | null
  /** Set on read when the person was erased: the personal fields stay null for good. */
  erased?: boolean
  /** The id of the API key that wrote it; null for the service's own tools. */
  writtenBy?: string | null
}

export type LedgerEvent = Envelope & DomainEvent

/** An event as reads hand it out, personal fields opened: the data is the client's, untyped past the envelope. */
export type RecordedEvent = Envelope & { type: EventType; data: Record<string, unknown> }

/** A plain object's fields (anything else: none), for JSON whose shape is not the catalogue's. */
export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {}
}

/** Timeline order: world time first, then arrival order, so backfilled events land in their place. */
export function byTime(a: { time: string; position: number }, b: { time: string; position: number }): number {
  const ta = Date.parse(a.time)
  const tb = Date.parse(b.time)
  return ta !== tb ? ta - tb : a.position - b.position
}
