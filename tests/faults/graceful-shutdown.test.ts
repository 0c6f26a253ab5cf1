// Given the real service under a load of batch ingests, when it gets SIGTERM, then no accepted
// request fails. Precisely:
// - accepted = the service read the request's head before the shutdown began; such a request
//   completes (here: a 201 whose events are in the ledger), even when its body arrives later;
// - every answer sent during the drain says `Connection: close`, and idle connections are closed,
//   so the process exits as soon as the accepted requests are done;
// - a request whose head arrives after the shutdown began gets a 503 problem document with
//   Retry-After and `Connection: close` when it reaches an open connection, or no answer when its
//   connection is closed; either way nothing is stored;
// - a new connection is refused once the listener is closed (no answer, nothing stored);
// - under load, every answer is a 201 or such a 503; a request with no answer stored nothing, a
//   201's events are all in the ledger, a 503's are not; some in-flight requests finish after the
//   signal; and the process exits by itself with status 0 within its grace period.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import {
  call, createTenantVia, ledgerOf, openTestDatabase, postgresUrl, problemDefects, startService, waitFor, within, type Answer,
} from '../helpers/faults.js'

const databaseUrl = postgresUrl()
const graceMs = 15_000

interface RawResponse { status: number; headers: Record<string, string>; body: unknown }

/** Splits what came back on a raw HTTP/1.1 connection into responses (Content-Length framing only). */
function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = []
  let rest = raw
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n')
    if (headEnd < 0) break
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    if (statusLine.split(' ')[1] === '100') { // an interim 100 Continue: no body
      rest = rest.slice(headEnd + 4)
      continue
    }
    const length = Number(headers['content-length'] ?? 0)
    const text = rest.slice(headEnd + 4, headEnd + 4 + length)
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body })
    rest = rest.slice(headEnd + 4 + length)
  }
  return out
}

function eventBody(source: string, id: string) {
  return JSON.stringify({ specversion: '1.0', id, source, type: 'candidate.applied', subject: `j-${id}`, data: { personId: `p-${id}` } })
}

if (!databaseUrl) {
  t.plan(0, 'skipped: DATABASE_URL is not set (CI runs this against PostgreSQL)')
} else {
  t.test('SIGTERM under load', async (t) => {
    const service = await startService(t, { databaseUrl, env: { SHUTDOWN_GRACE_MS: String(graceMs) } })
    const { db } = await openTestDatabase(t, databaseUrl)
    const tenant = await createTenantVia(service, 'Fault sigterm')
    const runId = randomBytes(4).toString('hex')
    const source = `fault:${runId}`

    // The load: 8 clients posting batches of 20 new journeys until their connection is refused.
    interface Sent { ids: string[]; started: number; answer: Answer }
    const sent: Sent[] = []
    let batchNo = 0
    let stopLoad = false
    const loadDeadline = Date.now() + 60_000
    const client = async () => {
      while (!stopLoad && Date.now() < loadDeadline) {
        const n = batchNo++
        const ids = Array.from({ length: 20 }, (_, i) => `b${n}-${i}`)
        const started = Date.now()
        const answer = await call(service.baseUrl, 'POST', '/v1/events', {
          key: tenant.adminKey, body: ids.map((id) => JSON.parse(eventBody(source, id)) as unknown),
          headers: { 'content-type': 'application/cloudevents-batch+json' }, timeoutMs: graceMs + 5_000,
        })
        sent.push({ ids, started, answer })
        if (answer.status === 0 && answer.error === 'ECONNREFUSED') return
      }
    }
    const clients = Array.from({ length: 8 }, () => client())
    t.teardown(async () => {
      stopLoad = true
      await Promise.all(clients)
    })
    await waitFor('20 batches stored before the signal', () => (sent.filter((s) => s.answer.status === 201).length >= 20 ? true : undefined), 30_000)

    // An accepted request: its head is read now, its body comes after the signal.
    const raw: Socket = connect(service.port, '127.0.0.1')
    let received = ''
    raw.on('data', (chunk: Buffer) => { received += chunk.toString() })
    const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()))
    raw.on('error', () => {})
    await new Promise<void>((resolve, reject) => { raw.once('connect', resolve); raw.once('error', reject) })
    const head = (body: string, extra = '') => `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tenant.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`
    const acceptedBody = eventBody(source, 'accepted')
    const lateBody = eventBody(source, 'late')
    // `Expect: 100-continue`: the interim answer proves the service has read the head and taken the request.
    raw.write(head(acceptedBody, 'Expect: 100-continue\r\n') + acceptedBody.slice(0, 20))
    await waitFor('100 Continue on the accepted request', () => (received.includes(' 100 Continue') ? true : undefined), 5_000, 10)

    const signalledAt = Date.now()
    service.signal('SIGTERM')
    // The shutdown has begun once new connections are refused.
    await waitFor('the listener to close', async () => {
      const probe = await call(service.baseUrl, 'GET', '/healthz', { timeoutMs: 2_000 })
      return probe.status === 0 && probe.error === 'ECONNREFUSED' ? true : undefined
    }, graceMs, 20)
    const refusedAt = Date.now()

    // Finish the accepted request and, on the same connection, send a new one (pipelined).
    raw.write(acceptedBody.slice(20) + head(lateBody) + lateBody)
    await within(rawClosed, graceMs)
    raw.destroy()
    const exit = await within(service.exited, graceMs + 5_000)
    const exitedAt = Date.now()
    stopLoad = true
    await Promise.all(clients)

    const [acceptedAnswer, lateAnswer, ...more] = parseResponses(received)
    t.equal(acceptedAnswer?.status, 201, 'the request accepted before the signal completed with 201')
    // The answer to the accepted request closes its connection (Connection: close during the drain), so
    // the request pipelined behind it is either refused with a 503 or dropped with the connection.
    t.equal(acceptedAnswer?.headers.connection, 'close', 'the drained answer closes its connection')
    if (lateAnswer) {
      t.equal(lateAnswer.status, 503, 'the request sent after the signal was refused with 503')
      t.same(problemDefects(lateAnswer), [], 'as a problem document')
      t.match(lateAnswer.headers['retry-after'] ?? '', /^[1-9]\d*$/, 'with Retry-After in seconds')
      t.equal(lateAnswer.headers.connection, 'close', 'and Connection: close')
    } else {
      t.pass('the request sent after the signal got no answer: its connection closed after the drained answer')
    }
    t.same(more, [], 'nothing else came back on that connection')
    t.same(exit, { code: 0, signal: null }, `the process exited by itself with status 0 (within ${graceMs} ms)`)
    t.comment(`listener closed ${refusedAt - signalledAt} ms after SIGTERM; process exited after ${exitedAt - signalledAt} ms`)
    const afterExit = await call(service.baseUrl, 'GET', '/healthz', { timeoutMs: 2_000 })
    t.equal(afterExit.error, 'ECONNREFUSED', 'after the exit, connections are refused')

    // Under load.
    const stored = new Set((await ledgerOf(db, tenant.tenantId)).filter((r) => r.source === source).map((r) => r.id))
    t.ok(stored.has('accepted'), 'the accepted request\'s event is in the ledger')
    t.notOk(stored.has('late'), 'the refused request stored nothing')
    const odd = sent.filter((s) => s.answer.status !== 201 && s.answer.status !== 503 && s.answer.status !== 0)
    t.same(odd.map((s) => ({ status: s.answer.status, body: s.answer.body })), [], 'every answer under load was a 201 or a 503')
    const bad503 = sent.filter((s) => s.answer.status === 503 && (problemDefects(s.answer).length > 0 || !/^[1-9]\d*$/.test(s.answer.headers.get('retry-after') ?? '')))
    t.same(bad503.map((s) => s.answer.body), [], 'every 503 is a problem document with Retry-After')
    const lost = sent.filter((s) => s.answer.status === 201 && s.ids.some((id) => !stored.has(id)))
    t.same(lost.map((s) => s.ids[0]), [], 'every event of every 201 is in the ledger')
    const refusedButStored = sent.filter((s) => s.answer.status !== 201 && s.ids.some((id) => stored.has(id)))
    t.same(refusedButStored.map((s) => ({ status: s.answer.status, error: s.answer.error, first: s.ids[0] })), [],
      'no request without a 201 stored anything: none was accepted and then failed')
    const finishedAfterSignal = sent.filter((s) => s.answer.status === 201 && s.started < signalledAt && s.started + s.answer.ms > signalledAt)
    t.ok(finishedAfterSignal.length > 0, `requests in flight at the signal finished with 201 (${finishedAfterSignal.length})`)
    const tally = new Map<string, number>()
    for (const s of sent) tally.set(s.answer.status === 0 ? `no answer (${s.answer.error})` : String(s.answer.status), (tally.get(s.answer.status === 0 ? `no answer (${s.answer.error})` : String(s.answer.status)) ?? 0) + 1)
    t.comment(`load: ${sent.length} batches: ${[...tally].map(([k, v]) => `${k}: ${v}`).join(', ')}`)
  })
}
