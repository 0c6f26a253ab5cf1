// Webhook test helpers. A real receiver: an HTTP server on a loopback port that records every request
// and answers as the test says (fail, time out, 410, 429 with Retry-After, slowly).
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { sql } from 'drizzle-orm'
import { inTenant, query } from '../../src/store/database.js'
import type { Tap, TestApp } from './app.js'

export interface Received { headers: IncomingHttpHeaders; body: string; json: Record<string, unknown> }
export interface Answer { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }

export interface Receiver {
  url: string
  received: Received[]
  /** How to answer the nth request (0-based); default 200. */
  answer: (request: Received, n: number) => Answer
}

export async function startReceiver(t: Tap, answer: Receiver['answer'] = () => ({ status: 200 })): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], answer }
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      const parsed: unknown = JSON.parse(body)
      const request: Received = { headers: req.headers, body, json: typeof parsed === 'object' && parsed !== null ? Object.fromEntries(Object.entries(parsed)) : {} }
      const a = receiver.answer(request, receiver.received.length)
      receiver.received.push(request)
      const reply = () => { if (!res.destroyed) res.writeHead(a.status, a.headers).end(a.body ?? 'ok') }
      if (a.delayMs) setTimeout(reply, a.delayMs).unref()
      else reply()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('the receiver is not listening on a port')
  receiver.url = `http://127.0.0.1:${address.port}/hooks`
  return receiver
}

const header = (r: Received, name: string) => String(r.headers[name] ?? '')

/**
 * Whether a request is signed with this secret, as a Standard Webhooks receiver checks it, at the
 * request's own timestamp: the service's clock is a test clock, so the wall-clock tolerance of
 * Webhook.verify would refuse it (one test verifies with Webhook.verify on a clock set to now).
 */
export function signedWith(secret: string, r: Received): boolean {
  const expected = new Webhook(secret).sign(header(r, 'webhook-id'), new Date(Number(header(r, 'webhook-timestamp')) * 1000), r.body)
  return header(r, 'webhook-signature').split(' ').includes(expected)
}

/** Webhook settings for tests: loopback receivers allowed, no worker loop (tests drain by hand), a short timeout. */
export const webhookSettings = { allowPrivateNetworks: true, worker: false, pollIntervalMs: 1000, timeoutMs: 500, concurrency: 16 }

export async function subscribe(ctx: TestApp, receiver: Receiver, body: Record<string, unknown> = {}, key?: string) {
  const res = await ctx.request({ method: 'POST', url: '/v1/webhooks', payload: { url: receiver.url, events: ['*'], ...body }, key })
  return { res, id: String(res.json().webhook?.id), secret: String(res.json().secret) }
}

export async function deliveryRows(ctx: TestApp): Promise<{ type: string; status: string }[]> {
  return inTenant(ctx.app.db, ctx.tenantId, (tx) => query<{ type: string; status: string }>(tx, sql`
    select event_type as type, status from webhook_deliveries where tenant_id = ${ctx.tenantId} order by seq`))
}


/** Moves a test clock on by some seconds. */
export const advance = (ctx: TestApp, seconds: number) => ctx.clock.set(new Date(ctx.clock.now().getTime() + seconds * 1000).toISOString())
