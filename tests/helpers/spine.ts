// Small helpers for the spine's integration tests: post events, read the feed and a stream, and
// check problem documents, so each test reads as given / when / then.
import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import type { Extra } from 'tap'
import { queryOne } from '../../src/store/database.js'
import { asOwner } from './owner.js'
import type { TestApp } from './app.js'
import type { AppendResult } from '../../src/store/record-events.js'

type Message = [] | [string] | [string, Extra]

/** The assertions these helpers use (tap's Test has them all). */
export interface Checks {
  equal(found: unknown, wanted: unknown, ...message: Message): boolean
  match(found: unknown, pattern: unknown, ...message: Message): boolean
  ok(value: unknown, ...message: Message): boolean
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  instance: string
  code: string
  rule?: string
  errors?: { path: string; message: string; location?: string }[]
}

/** What POST /v1/events answers per event: the store's own result type. */
export type { AppendResult }

export interface StoredEvent {
  specversion: string
  id: string
  source: string
  type: string
  subject: string
  time: string
  data: Record<string, unknown>
  version: number
  position: number
  recordedtime: string
}

export interface StagePeriod { stage: string; enteredAt: string; leftAt: string | null }

export interface JourneyView {
  id: string
  personId: string
  vacancyId: string | null
  stage: string
  stageSince: string
  role: string | null
  department: string | null
  manager: string | null
  startDate: string | null
  exitedAt: string | null
  lastDay: string | null
  version: number
  stages: StagePeriod[]
  promises: Record<string, number>
  signals: { name: string; since: string; why: string }[]
}

export interface Page<T> { data: T[]; nextCursor: string | null }

/** `2026-05-04` -> `2026-05-04T09:00:00.000Z`: event times in the past of the test clock (2026-06-01). */
export const on = (date: string, hour = 9) => `${date}T${String(hour).padStart(2, '0')}:00:00.000Z`

export interface PostOptions { contentType?: string; headers?: Record<string, string>; key?: string | null }

/** POST /v1/events with one event or a batch, as JSON. */
export function postEvents(app: TestApp, events: unknown, options: PostOptions = {}): Promise<LightMyRequestResponse> {
  return app.request({
    method: 'POST', url: '/v1/events', payload: JSON.stringify(events), key: options.key,
    headers: { 'content-type': options.contentType ?? 'application/json', ...options.headers },
  })
}

/** Stores events as a precondition (one batch); throws, failing the test, when the ledger refuses them. */
export async function given(app: TestApp, ...events: Record<string, unknown>[]): Promise<AppendResult[]> {
  const res = await postEvents(app, events)
  if (res.statusCode !== 201) throw new Error(`could not store the given events: ${res.statusCode} ${res.body}`)
  return res.json<{ data: AppendResult[] }>().data
}

/** GET with the admin key (or `key`), expecting 200; returns the parsed body. */
export async function getOk<T>(app: TestApp, url: string, key?: string): Promise<T> {
  const res = await app.request({ method: 'GET', url, key })
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`)
  return res.json<T>()
}

/** Every event of one journey's stream, in stream order. */
export async function streamOf(app: TestApp, journeyId: string): Promise<StoredEvent[]> {
  return (await getOk<Page<StoredEvent>>(app, `/v1/journeys/${journeyId}/events?limit=200`)).data
}

export function journey(app: TestApp, journeyId: string): Promise<JourneyView> {
  return getOk<JourneyView>(app, `/v1/journeys/${journeyId}`)
}

/** Reads the feed page by page from `after` until a page comes back empty; returns the events and the last cursor. */
export async function readWholeFeed(app: TestApp, options: { after?: string | null; limit?: number; filter?: string } = {}) {
  const events: StoredEvent[] = []
  let cursor = options.after ?? null
  const pages: number[] = []
  for (let guard = 0; guard < 1000; guard++) {
    const params = new URLSearchParams({ limit: String(options.limit ?? 50) })
    if (cursor) params.set('after', cursor)
    const page = await getOk<Page<StoredEvent>>(app, `/v1/events?${params}${options.filter ? `&${options.filter}` : ''}`)
    pages.push(page.data.length)
    events.push(...page.data)
    if (page.data.length === 0) return { events, cursor, pages }
    cursor = page.nextCursor
  }
  throw new Error('the feed never ended')
}

/** How many events the tenant's ledger holds, counted in SQL (not through the feed). */
export async function countEvents(app: TestApp, tenantId = app.tenantId): Promise<number> {
  const row = await asOwner(app.app.db, (tx) => queryOne<{ n: number }>(tx, sql`select count(*)::int as n from events where tenant_id = ${tenantId}`))
  return row?.n ?? 0
}

/** Checks an RFC 9457 problem document: status, content type, the five members, and what else is given. */
export function expectProblem(t: Checks, res: LightMyRequestResponse, status: number, wanted: Record<string, unknown> = {}, extra: Extra = {}): Problem {
  t.equal(res.statusCode, status, res.statusCode === status ? `status ${status}` : `status ${status}, got: ${res.body.slice(0, 300)}`, extra)
  t.match(res.headers['content-type'], /^application\/problem\+json/, 'a problem document', extra)
  const problem = res.json<Problem>()
  t.match(problem, { type: /^urn:journey-ledger:problem:/, title: String, status, detail: String, instance: String, code: String, ...wanted }, 'the problem', extra)
  return problem
}
