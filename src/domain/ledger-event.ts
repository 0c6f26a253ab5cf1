// The shape of an event once it is in the ledger, as the pure domain folds see it.
import type { EventType } from './catalogue.js'

export type EventData = Record<string, unknown>

export interface LedgerEvent {
  id: string
  source: string
  type: EventType
  subject: string
  /** When it happened in the world (RFC 3339); timelines sort by it. */
  time: string
  data: EventData
  version: number
  position: number
  recordedAt: string
  /** The person whose data key seals this event's personal fields. */
  personId: string | null
  /** The personal fields, sealed (see store/keyring.ts); in `data` they stand as null. */
  sealed: string | null
  /** Set on read when the person was erased: the personal fields stay null for good. */
  erased?: boolean
}

export function text(data: EventData, key: string): string | undefined {
  const value = data[key]
  return typeof value === 'string' ? value : undefined
}

export function int(data: EventData, key: string): number | undefined {
  const value = data[key]
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function bool(data: EventData, key: string): boolean | undefined {
  const value = data[key]
  return typeof value === 'boolean' ? value : undefined
}

export function list(data: EventData, key: string): unknown[] {
  const value = data[key]
  return Array.isArray(value) ? value : []
}

export function record(value: unknown): EventData {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {}
}

/** Timeline order: world time first, then arrival order, so backfilled events land in their place. */
export function byTime(a: { time: string; position: number }, b: { time: string; position: number }): number {
  const ta = Date.parse(a.time)
  const tb = Date.parse(b.time)
  return ta !== tb ? ta - tb : a.position - b.position
}
