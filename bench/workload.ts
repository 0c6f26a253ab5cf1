// What the scenarios send. Every event has a source + id never used before (a run tag and a
// counter), so each one is stored. Like real traffic, most land on a journey with a history and
// one in ten opens a new journey.
import { randomBytes } from 'node:crypto'
import type { Scenario } from './load.js'

const source = 'bench:autocannon'

export interface Workload {
  tag: string
  journeyIds: readonly string[]
  apiKey: string
}

function picker<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error('no journeys to pick from: is the tenant seeded?')
  return () => items[Math.floor(Math.random() * items.length)] as T
}

/** Unique per run, so repeated runs on one database never collide on source + id. */
export function runTag(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

function eventFactory(w: Workload) {
  let n = 0
  let checkin = false
  const existing = picker(w.journeyIds)
  const next = () => `${w.tag}-${(n++).toString(36)}`
  const envelope = (id: string, type: string, subject: string, data: Record<string, unknown>) => ({ specversion: '1.0', id, source, type, subject, data })
  return {
    /** candidate.applied: a new journey. */
    opening(): { subject: string; events: object[] } {
      const id = next()
      const subject = `jb-${id}`
      return { subject, events: [envelope(`${id}.0`, 'candidate.applied', subject, { personId: `pb-${id}`, channel: 'career site' })] }
    },
    /** An interview with notes on a journey opened in the same request (sealed under the person's new key). */
    interview(subject: string) {
      return envelope(`${next()}.1`, 'interview.held', subject, { interviewer: 'mgr-engineering-1', notes: 'Strong on data modelling; asked about remote work.' })
    },
    /** A check-in (notes sealed) or a pulse on an existing journey. */
    onExisting() {
      const id = next()
      const subject = existing()
      checkin = !checkin
      return checkin
        ? envelope(id, 'checkin.held', subject, { with: 'mgr-engineering-1', expectationsMet: 4, interests: ['data'], notes: 'Talked about the next months.' })
        : envelope(id, 'pulse.answered', subject, { enps: 8, valued: 4, safe: 5, autonomy: 3, expectationsMet: 4 })
    },
  }
}

const jsonHeaders = (w: Workload) => ({ authorization: `Bearer ${w.apiKey}`, 'content-type': 'application/json' })
const readHeaders = (w: Workload) => ({ authorization: `Bearer ${w.apiKey}` })

export function singleIngest(w: Workload, options: { idempotencyKey: boolean }): Scenario {
  const events = eventFactory(w)
  let k = 0
  return {
    name: options.idempotencyKey ? 'ingest-single-idempotency-key' : 'ingest-single',
    label: options.idempotencyKey ? 'POST /v1/events, 1 event + Idempotency-Key' : 'POST /v1/events, 1 event',
    method: 'POST',
    path: '/v1/events',
    headers: jsonHeaders(w),
    eventsPerRequest: 1,
    vary: () => {
      const event = k++ % 10 === 0 ? events.opening().events[0] : events.onExisting()
      return { body: JSON.stringify(event), ...(options.idempotencyKey ? { headers: { ...jsonHeaders(w), 'idempotency-key': `${w.tag}-idem-${k}` } } : {}) }
    },
  }
}

/** 100 events: 10 new journeys (applied + interview) and 80 events on existing journeys picked at random. */
export function batchIngest(w: Workload): Scenario {
  const events = eventFactory(w)
  return {
    name: 'ingest-batch',
    label: 'POST /v1/events, 100-event batch',
    method: 'POST',
    path: '/v1/events',
    headers: jsonHeaders(w),
    eventsPerRequest: 100,
    vary: () => {
      const batch: object[] = []
      for (let i = 0; i < 10; i++) {
        const { subject, events: opening } = events.opening()
        batch.push(...opening, events.interview(subject))
      }
      for (let i = 0; i < 80; i++) batch.push(events.onExisting())
      return { body: JSON.stringify(batch) }
    },
  }
}

export function journeyReads(w: Workload): Scenario {
  const existing = picker(w.journeyIds)
  return {
    name: 'journey-read', label: 'GET /v1/journeys/{id}', method: 'GET', path: '/v1/journeys/x', headers: readHeaders(w), eventsPerRequest: 0,
    vary: () => ({ path: `/v1/journeys/${encodeURIComponent(existing())}` }),
  }
}

/** A tenant with no journeys listing them over and over: a flood its budget answers with 429. */
export function tenantListing(apiKey: string): Scenario {
  return { name: 'tenant-flood', label: 'GET /v1/journeys?limit=1 (flooding tenant)', method: 'GET', path: '/v1/journeys?limit=1', headers: { authorization: `Bearer ${apiKey}` }, eventsPerRequest: 0 }
}

export function overduePromises(w: Workload): Scenario {
  return { name: 'promises-overdue', label: 'GET /v1/promises?status=overdue', method: 'GET', path: '/v1/promises?status=overdue', headers: readHeaders(w), eventsPerRequest: 0 }
}

export function promiseAnalytics(w: Workload): Scenario {
  return {
    name: 'analytics-promises', label: 'GET /v1/analytics/promises?groupBy=department', method: 'GET',
    path: '/v1/analytics/promises?groupBy=department', headers: readHeaders(w), eventsPerRequest: 0,
  }
}

export function hello(): Scenario {
  return { name: 'hello', label: 'bare Fastify GET /hello', method: 'GET', path: '/hello', eventsPerRequest: 0 }
}

export function helloDatabase(): Scenario {
  return { name: 'hello-db', label: 'bare Fastify + one PostgreSQL round trip (select 1)', method: 'GET', path: '/hello/db', eventsPerRequest: 0 }
}
