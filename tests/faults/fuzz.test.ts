// Given the app's own OpenAPI document, when every operation gets thousands of requests that its
// schemas make invalid (wrong types, huge strings, deep nesting, unicode, missing and extra
// fields, bad cursors, bad content types, bad path parameters, bad credentials), then none is a
// 5xx, each is a problem document with the status its fault calls for, and nothing is stored.
// In-process (app.inject) so 10 000+ requests stay fast; seeded (FAULT_SEED) so a failure
// reproduces; FUZZ_RUNS raises the total.
import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import type { HTTPMethods, LightMyRequestResponse } from 'fastify'
import { sql } from 'drizzle-orm'
import { eventTypes } from '../../src/domain/catalogue.js'
import { buildTestApp } from '../helpers/app.js'
import { look, problemDefects, suiteSeed } from '../helpers/faults.js'
import {
  OpenApi, applyBreakage, brokenQueryValues, brokenStrings, documentBreakages, pointsOf, validInstance, type Json, type Operation, type Schema,
} from '../helpers/openapi-fuzz.js'

const totalRuns = Math.max(Number(process.env.FUZZ_RUNS) || 0, 10_500)
const operatorKey = `op_${randomBytes(16).toString('hex')}`
const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
type Method = (typeof methods)[number] & HTTPMethods
const methodOf = (name: string): Method => methods.find((m) => m === name) ?? 'GET'

interface FuzzCase {
  method: Method
  url: string
  headers: Record<string, string>
  payload?: string
  /** The statuses this fault may get; empty: any status below 500. */
  expect: number[]
  /** An Idempotency-Key added as noise; made unique when sent, since a reused key is a 422 of its own. */
  noiseKey?: string
  why: string
}

function asciiHeader(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value)
}

/** Everything the fuzz can break about one operation, as fast-check arbitraries of requests. */
function casesOf(api: OpenApi, op: Operation, allPaths: Map<string, Set<string>>, keys: { admin: string; operator: string }): fc.Arbitrary<FuzzCase> {
  const method = methodOf(op.method)
  const operatorRoute = op.path.startsWith('/v1/tenants')
  const auth = `Bearer ${operatorRoute ? keys.operator : keys.admin}`
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  const queryParams = op.parameters.filter((p) => p.in === 'query')
  const headerParams = op.parameters.filter((p) => p.in === 'header')
  const validPath = Object.fromEntries(pathParams.map((p) => [p.name, String(validInstance(api, p.schema))]))
  const urlOf = (params: Record<string, string>, query = '') =>
    op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'fz-1')) + (query ? `?${query}` : '')

  // A valid body and the places it can certainly be broken. POST /v1/events: one event, or a batch.
  const bodies: fc.Arbitrary<{ doc: Json; schema: Schema; dataOf?: (parent: Json) => Schema | undefined }> = (() => {
    if (!op.body) return fc.constant({ doc: null, schema: {} })
    const cloudEvent = api.component('CloudEvent')
    if (op.path === '/v1/events' && op.method === 'POST' && cloudEvent) {
      const dataOf = (parent: Json) => (isRecord(parent) && typeof parent.type === 'string' ? api.dataSchemaOf(parent.type) : undefined)
      const event = fc.tuple(fc.constantFrom(...eventTypes), fc.nat()).map(([type, n]): Json => {
        const data = api.dataSchemaOf(type)
        return { specversion: '1.0', id: `fz-${n}`, source: 'fuzz:openapi', type, subject: 'fz-1', data: data ? validInstance(api, data) : {} }
      })
      return fc.oneof(
        event.map((doc) => ({ doc, schema: cloudEvent, dataOf })),
        fc.array(event, { minLength: 1, maxLength: 5 }).map((doc): { doc: Json; schema: Schema; dataOf: typeof dataOf } =>
          ({ doc, schema: { type: 'array', items: cloudEvent, minItems: 1, maxItems: 1000 }, dataOf })),
      )
    }
    const schema = op.body
    return fc.constant({ doc: validInstance(api, schema), schema })
  })()
  const bodyHeaders = (extra: Record<string, string> = {}) => (op.body ? { 'content-type': 'application/json', ...extra } : extra)

  // Noise that never makes a broken request valid: unknown query parameters, odd headers, an
  // Idempotency-Key (made unique when sent: a reused key is a 422 of its own).
  const noise: fc.Arbitrary<{ query: string; headers: Record<string, string>; noiseKey?: string }> = fc.record({
    query: fc.array(fc.tuple(fc.constantFrom('fuzz', 'x', 'expand', 'sort', '$where'), fc.string({ unit: 'grapheme', maxLength: 12 })), { maxLength: 2 }),
    accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*', 'application/problem+json', 'image/png'),
    idempotencyKey: fc.option(fc.string({ minLength: 1, maxLength: 40 }).filter(asciiHeader), { nil: undefined }),
  }).map((n) => {
    const headers: Record<string, string> = {}
    if (n.accept) headers.accept = n.accept
    const noiseKey = op.method === 'POST' ? n.idempotencyKey : undefined
    return { query: n.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'), headers, noiseKey }
  })

  const categories: fc.Arbitrary<FuzzCase>[] = []

  if (op.secured) {
    const badAuth = fc.oneof(
      fc.constantFrom<string | undefined>(undefined, 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Token ${keys.admin}`, `Bearer ${keys.admin}x`,
        `Bearer ${keys.admin.slice(0, -1)}`, `Bearer ${keys.admin} ${keys.admin}`, `Bearer jl_default_${'A'.repeat(43)}`, 'Bearer null',
        ...(operatorRoute ? [`Bearer ${keys.admin}`] : [`Bearer ${keys.operator}`])),
      fc.string({ minLength: 1, maxLength: 300 }).filter((s) => asciiHeader(s) && !/\s/.test(s) && s !== keys.admin && s !== keys.operator).map((s) => `Bearer ${s}`),
    )
    categories.push(fc.tuple(badAuth, bodies, noise).map(([authorization, body, n]) => ({
      method, url: urlOf(validPath, n.query),
      headers: { ...bodyHeaders(n.headers), ...(authorization === undefined ? {} : { authorization }) },
      payload: op.body ? JSON.stringify(body.doc) : undefined, noiseKey: n.noiseKey, expect: [401], why: `credentials ${JSON.stringify(authorization)}`,
    })))
  }

  for (const param of pathParams) {
    const broken = fc.oneof(...brokenStrings(param.schema), fc.constant({ value: '', why: 'empty' }))
    categories.push(fc.tuple(broken, bodies, noise).map(([bad, body, n]) => ({
      method, url: urlOf({ ...validPath, [param.name]: bad.value }, n.query), headers: { authorization: auth, ...bodyHeaders(n.headers) },
      payload: op.body ? JSON.stringify(body.doc) : undefined, noiseKey: n.noiseKey, expect: [400, 404, 414], why: `path ${param.name}: ${bad.why}`,
    })))
  }

  for (const param of queryParams) {
    const options = brokenQueryValues(param.name, param.schema)
    if (options.length === 0) continue
    categories.push(fc.tuple(fc.oneof(...options), noise).map(([bad, n]) => ({
      method, url: urlOf(validPath, [`${param.name}=${encodeURIComponent(bad.value)}`, n.query].filter(Boolean).join('&')),
      headers: { authorization: auth, ...n.headers }, noiseKey: n.noiseKey, expect: [400], why: `query ${param.name}: ${bad.why}`,
    })))
  }

  for (const param of headerParams) {
    const max = typeof param.schema.maxLength === 'number' ? param.schema.maxLength : undefined
    const values = [...(max !== undefined ? ['k'.repeat(max + 1), 'k'.repeat(max * 4)] : []), ...(param.schema.minLength === 1 ? [''] : [])]
    if (values.length === 0) continue
    categories.push(fc.tuple(fc.constantFrom(...values), bodies).map(([value, body]) => ({
      method, url: urlOf(validPath), headers: { authorization: auth, ...bodyHeaders(), [param.name]: value },
      payload: op.body ? JSON.stringify(body.doc) : undefined, expect: [400], why: `header ${param.name} of ${value.length} characters`,
    })))
  }

  if (op.body) {
    const brokenBody = bodies.chain((body) => {
      const options = documentBreakages(api, pointsOf(api, body.schema, body.doc, body.dataOf))
      return fc.oneof(...options).map((b) => ({ text: applyBreakage(body.doc, b.path, b.breakage), why: `body /${b.path.join('/')}: ${b.breakage.why}` }))
    })
    categories.push(fc.tuple(brokenBody, noise).map(([b, n]) => ({
      method, url: urlOf(validPath, n.query), headers: { authorization: auth, ...bodyHeaders(n.headers) },
      payload: b.text, noiseKey: n.noiseKey, expect: b.text === '' ? [400] : [400, 413], why: b.why,
    })))

    const unsupported = fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=fuzz',
      'application/octet-stream', 'text/html; charset=utf-8', 'application/jsonx', 'json', 'application/json-patch+json', 'image/png')
    const malformed = fc.oneof(
      fc.constantFrom('{', '{"a":', '[1,]', 'nul', '{"a":1}}', "{'a':1}", '\u0000', 'NaN', '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"admin":true}}}', '{"a":"\\ud800"', '[' + '{"a":'.repeat(10) + ']'),
      // Not JSON even without a byte-order mark, which the parser skips.
      fc.string({ maxLength: 50 }).filter((s) => { try { JSON.parse(s.replace(/^\ufeff/, '')); return false } catch { return true } }),
    )
    categories.push(fc.oneof(
      fc.tuple(unsupported, bodies).map(([type, body]): FuzzCase => ({
        method, url: urlOf(validPath), headers: { authorization: auth, 'content-type': type },
        payload: JSON.stringify(body.doc), expect: [415], why: `content type ${type}`,
      })),
      malformed.map((text): FuzzCase => ({
        method, url: urlOf(validPath), headers: { authorization: auth, 'content-type': 'application/json' },
        payload: text, expect: [400], why: `malformed JSON ${JSON.stringify(text)}`,
      })),
      fc.constant<FuzzCase>({ method, url: urlOf(validPath), headers: { authorization: auth, 'content-type': 'application/json' }, payload: '', expect: [400], why: 'empty body' }),
      bodies.map((body): FuzzCase => ({
        method, url: urlOf(validPath), headers: { authorization: auth },
        payload: JSON.stringify(body.doc), expect: [400, 415], why: 'no content type',
      })),
    ))
  }

  const otherMethods = methods.filter((m) => !(allPaths.get(op.path)?.has(m)))
  if (otherMethods.length > 0) {
    categories.push(fc.tuple(fc.constantFrom(...otherMethods), noise).map(([other, n]) => ({
      method: other, url: urlOf(validPath, n.query), headers: { authorization: auth, ...n.headers }, expect: [404, 405], why: `method ${method}`,
    })))
  }

  if (!op.secured) {
    categories.push(noise.map((n) => ({ method, url: urlOf(validPath, n.query), headers: n.headers, expect: [], why: 'public route with noise' })))
  }
  return fc.oneof(...categories)
}

t.test('fuzzing every operation of the OpenAPI document', async (t) => {
  const seed = suiteSeed()
  t.comment(`seed ${seed} (FAULT_SEED=${seed} reproduces every request)`)
  const ctx = await buildTestApp(t, { operatorKey })
  const doc = await ctx.request({ method: 'GET', url: '/openapi.json', key: null })
  const parsed: unknown = doc.json()
  if (!isRecord(parsed)) throw new Error('the OpenAPI document is not an object')
  const api = new OpenApi(parsed)
  const operations = api.operations()
  t.ok(operations.length >= 10, `the document lists ${operations.length} operations`)
  const allPaths = new Map<string, Set<string>>()
  for (const op of operations) allPaths.set(op.path, (allPaths.get(op.path) ?? new Set()).add(op.method))

  const counts = async () => {
    const rows = await look<{ events: number; keys: number; tenants: number }>(ctx.app.db, sql`
      select (select count(*)::int from events where tenant_id = ${ctx.tenantId}) as events,
             (select count(*)::int from api_keys where tenant_id = ${ctx.tenantId} and revoked_at is null) as keys,
             (select count(*)::int from tenants) as tenants`)
    return rows[0] ?? { events: -1, keys: -1, tenants: -1 }
  }
  const before = await counts()
  const perOperation = Math.ceil(totalRuns / operations.length)
  let sent = 0
  const runId = randomBytes(4).toString('hex')
  const started = Date.now()
  const statuses = new Map<number, number>()

  for (const [index, op] of operations.entries()) {
    if (process.env.FUZZ_ONLY && op.name !== process.env.FUZZ_ONLY) continue
    const arbitrary = casesOf(api, op, allPaths, { admin: ctx.adminKey, operator: operatorKey })
    const property = fc.asyncProperty(arbitrary, async (c) => {
      sent += 1
      const headers = c.noiseKey === undefined ? c.headers : { ...c.headers, 'idempotency-key': `${c.noiseKey}-${runId}-${sent}` }
      const write = writeMethods.has(c.method)
      const countsBefore = write ? await counts() : undefined
      const response: LightMyRequestResponse = await ctx.app.inject({ method: c.method, url: c.url, headers, payload: c.payload })
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      let body: unknown = response.body
      try { body = JSON.parse(response.body) } catch { /* judged below */ }
      const problems: string[] = []
      if (response.statusCode >= 500) problems.push(`a ${response.statusCode}`)
      if (c.expect.length > 0 && !c.expect.includes(response.statusCode)) problems.push(`status ${response.statusCode}, expected ${c.expect.join(' or ')}`)
      if (response.statusCode >= 400) problems.push(...problemDefects({ status: response.statusCode, headers: response.headers, body }))
      if (countsBefore) {
        const countsAfter = await counts()
        if (JSON.stringify(countsAfter) !== JSON.stringify(countsBefore)) {
          problems.push(`something was stored: ${JSON.stringify(countsBefore)} -> ${JSON.stringify(countsAfter)}`)
        }
      }
      if (problems.length > 0) {
        if (process.env.FUZZ_FAILURES) appendFileSync(process.env.FUZZ_FAILURES, `${JSON.stringify({ ...c, headers, status: response.statusCode, problems })}\n`)
        const shown = (c.payload ?? '').length > 300 ? `${(c.payload ?? '').slice(0, 300)}… (${(c.payload ?? '').length} chars)` : c.payload
        throw new Error(`${problems.join('; ')} for ${c.why}: ${c.method} ${c.url.slice(0, 300)} ${JSON.stringify(c.headers).slice(0, 300)} ${shown ?? ''} -> ${response.body.slice(0, 500)}`)
      }
    })
    const result = await fc.check(property, { seed: seed + index, numRuns: perOperation, endOnFailure: false })
    if (result.failed) {
      const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)
      t.fail(`${op.name}: ${error.slice(0, 2_000)} (reproduce: seed ${result.seed}, path "${result.counterexamplePath ?? ''}")`)
    }
    else t.pass(`${op.name}: ${result.numRuns} invalid requests, all rejected with a problem document`)
  }
  const after = await counts()
  t.same(after, before, 'nothing was stored: events, API keys and tenants are as before')
  if (!process.env.FUZZ_ONLY) t.ok(sent >= 10_000, `${sent} generated requests (at least 10 000)`)
  t.comment(`${sent} requests in ${Date.now() - started} ms; statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ')}`)
})

// Given events the schemas allow, with values at the edges (any unicode, NUL and lone surrogates
// included, the longest strings, odd but valid times), when they are appended, then the answer is a
// 201 with both events stored, or a problem document with nothing stored; never a 5xx.
t.test('events at the edges of what the schemas allow', async (t) => {
  const seed = suiteSeed()
  const ctx = await buildTestApp(t)
  const key = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/)
  const text = (max: number) => fc.oneof(
    fc.string({ unit: 'binary', maxLength: Math.min(max, 300) }),
    fc.string({ unit: 'grapheme', maxLength: Math.min(max, 300) }),
    fc.constantFrom('a\u0000b', '\ud800', '\udfff\ud800', '\u202eevil', '\ufeff', 'x'.repeat(max), '😀'.repeat(Math.floor(max / 2))),
  )
  const time = fc.oneof(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('2026-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2016-12-31T23:59:60Z', '2025-06-01T09:00:00+14:00', '2025-06-01T09:00:00-12:00', '2025-06-01T09:00:00.123456789Z',
      '1970-01-01T00:00:00Z', '2025-06-01t09:00:00z', '2024-02-29T00:00:00Z'),
  )
  const events = fc.record({ personId: key, channel: text(200).filter((s) => s.length >= 1), notes: text(10_000), time, n: fc.nat() })
  let sent = 0
  const counts = async () => (await look<{ n: number }>(ctx.app.db, sql`select count(*)::int as n from events where tenant_id = ${ctx.tenantId}`))[0]?.n ?? -1
  const property = fc.asyncProperty(events, async (e) => {
    sent += 1
    const subject = `edge-${seed}-${sent}`
    const body = [
      { specversion: '1.0', id: `${subject}-a`, source: 'fuzz:edges', type: 'candidate.applied', subject, time: e.time, data: { personId: e.personId, channel: e.channel } },
      { specversion: '1.0', id: `${subject}-b`, source: 'fuzz:edges', type: 'interview.held', subject, time: e.time, data: { notes: e.notes } },
    ]
    const before = await counts()
    const response = await ctx.request({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    const after = await counts()
    let parsed: unknown = response.body
    try { parsed = JSON.parse(response.body) } catch { /* judged below */ }
    const problems: string[] = []
    if (response.statusCode >= 500) problems.push(`a ${response.statusCode}`)
    if (response.statusCode === 201 && after !== before + 2) problems.push(`201 but ${after - before} events stored`)
    if (response.statusCode >= 400) {
      problems.push(...problemDefects({ status: response.statusCode, headers: response.headers, body: parsed }))
      if (after !== before) problems.push(`${response.statusCode} but ${after - before} events stored`)
    }
    if (problems.length > 0) throw new Error(`${problems.join('; ')}: ${JSON.stringify(body).slice(0, 600)} -> ${response.body.slice(0, 400)}`)
  })
  const result = await fc.check(property, { seed, numRuns: Number(process.env.FUZZ_EDGE_RUNS) || 400 })
  if (result.failed) {
    const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)
    t.fail(`${error.slice(0, 2_000)} (reproduce: seed ${result.seed}, path "${result.counterexamplePath ?? ''}")`)
  } else {
    t.pass(`${result.numRuns} batches of edge values: each stored whole or refused with a problem document`)
  }
})
