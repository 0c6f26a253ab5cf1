// Builders of typed events for the pure domain's tests.
import { hasValidData, validateEventData, type EventData, type JourneyEventType } from '../../src/domain/catalogue.js'
import type { JourneyEvent } from '../../src/domain/journey-rules.js'
import type { Envelope } from '../../src/domain/ledger-event.js'

/** A stored event of a journey. */
export type Stored = Envelope & JourneyEvent
/** An event as the rules see it (before it is stored). */
export type Judged = Pick<Envelope, 'subject' | 'time'> & JourneyEvent

/** An event's type and data, the data checked against the catalogue: a story never rests on an event the ledger would refuse. */
export function checked<K extends JourneyEventType>(type: K, data: EventData<K>): { type: K; data: EventData<K> } {
  if (!hasValidData({ type, data })) throw new Error(`test data is not valid for ${type}: ${JSON.stringify(validateEventData(type, data))}`)
  return { type, data }
}
