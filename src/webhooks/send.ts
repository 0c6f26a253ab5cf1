// One webhook HTTP request, guarded against SSRF: the URL is checked at subscription, and every
// delivery checks the address it actually connects to (a custom `lookup`), so a DNS answer that
// changes between the two cannot reach a private host. Redirects are outcomes, never followed.
import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { webhookUrlNotAllowed } from '../domain/errors.js'
import { firstForbidden, parseTarget } from '../domain/network.js'
import { retryAfterSeconds } from './retry-after.js'

export interface SendOptions {
  timeoutMs: number
  allowPrivateNetworks: boolean
  /** Every address a hostname resolves to; dns.lookup (all) by default, injected by tests. */
  resolve?: (hostname: string) => Promise<string[]>
  /** The clock a Retry-After date is read against; the system clock by default. */
  now?: () => Date
}

export interface SendOutcome {
  /** Null when no response arrived. A non-null `error` means the attempt failed, whatever the status. */
  statusCode: number | null
  durationMs: number
  /** The first 4 KiB of the response body, as UTF-8. */
  body: string
  error: string | null
  /** From Retry-After on a 429 or 503, as seconds from now (0 for a date passed). */
  retryAfterSeconds: number | null
}

export interface WebhookRequest {
  url: string
  headers: Record<string, string>
  body: string
}

export const responseBodyLimit = 4096

const resolveWithDns = async (hostname: string): Promise<string[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)

/** The lookup's refusal, told apart from network failures by its class. */
class AddressNotAllowed extends Error {}

function describeForbidden(hostname: string, literal: boolean, forbidden: { address: string; reason: string }): string {
  return literal
    ? `${hostname} is a ${forbidden.reason} address`
    : `${hostname} resolves to ${forbidden.address}, a ${forbidden.reason} address`
}

/** At subscription: throws a `webhook-url-not-allowed` problem when the URL is not allowed. */
export async function checkWebhookTarget(url: string, options: Omit<SendOptions, 'timeoutMs'>): Promise<void> {
  const target = parseTarget(url, options)
  if (!target.ok) throw webhookUrlNotAllowed(`the webhook URL ${target.reason}`)
  const resolve = options.resolve ?? resolveWithDns
  let addresses: string[]
  try {
    addresses = target.literal ? [target.hostname] : await resolve(target.hostname)
  } catch (error) {
    throw webhookUrlNotAllowed(`the webhook URL's host ${target.hostname} could not be resolved (${describeFailure(error)})`)
  }
  if (addresses.length === 0) throw webhookUrlNotAllowed(`the webhook URL's host ${target.hostname} resolves to no address`)
  const forbidden = firstForbidden(addresses, options)
  if (forbidden) {
    throw webhookUrlNotAllowed(`the webhook URL's host ${describeForbidden(target.hostname, target.literal, forbidden)}, which webhooks may not reach`)
  }
}

/** Resolves like dns.lookup, but refuses (before any connection) a name with any forbidden address. */
function guardedLookup(options: SendOptions): LookupFunction {
  const resolve = options.resolve ?? resolveWithDns
  return (hostname, lookupOptions, callback) => {
    const answer = (addresses: string[]) => {
      const forbidden = firstForbidden(addresses, options)
      if (forbidden) return callback(new AddressNotAllowed(describeForbidden(hostname, false, forbidden)), '', 0)
      const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : (lookupOptions.family ?? 0)
      const usable = addresses.filter((address) => family === 0 || isIP(address) === family)
      const first = usable[0]
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' }), '', 0)
      if (lookupOptions.all) return callback(null, usable.map((address) => ({ address, family: isIP(address) })))
      return callback(null, first, isIP(first))
    }
    resolve(hostname).then(answer, (error: Error) => callback(error, '', 0))
  }
}

const failureWords: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed, try again',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  HPE_HEADER_OVERFLOW: 'response headers too large',
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'unexpected failure'
  if (error instanceof AddressNotAllowed) return `address not allowed: ${error.message}`
  const code = 'code' in error && typeof error.code === 'string' ? error.code : ''
  const words = failureWords[code]
  if (words) return words
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return `tls: ${error.message}`
  return code ? `${code}: ${error.message}` : error.message
}

/** The caller's headers, with a Content-Length that matches the body and a User-Agent unless given. */
function requestHeaders(target: WebhookRequest): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(target.headers)) {
    if (name.toLowerCase() !== 'content-length') headers[name] = value
  }
  headers['content-length'] = String(Buffer.byteLength(target.body))
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) headers['user-agent'] = 'journey-ledger-webhooks'
  return headers
}

/** UTF-8 of the first bytes; NUL becomes U+FFFD because PostgreSQL text cannot hold it. */
function bodyText(chunks: Buffer[]): string {
  return Buffer.concat(chunks).subarray(0, responseBodyLimit).toString('utf8').replaceAll('\u0000', '\uFFFD')
}

type Exchanged = Omit<SendOutcome, 'durationMs'>

function exchange(url: URL, target: WebhookRequest, options: SendOptions): Promise<Exchanged> {
  return new Promise((resolve) => {
    let statusCode: number | null = null
    let retryAfter: number | null = null
    const chunks: Buffer[] = []
    let received = 0
    let settled = false
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    // agent: false: a fresh connection each time, so each attempt goes through the guarded lookup.
    const request = send(url, { method: 'POST', headers: requestHeaders(target), agent: false, lookup: guardedLookup(options) })
    const settle = (error: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ statusCode, body: bodyText(chunks), error, retryAfterSeconds: retryAfter })
      request.destroy()
    }
    // Covers connect, TLS and the whole response: a receiver that dribbles cannot hold the worker.
    const timer = setTimeout(() => settle(`timeout after ${options.timeoutMs} ms`), options.timeoutMs)
    request.on('error', (error) => settle(describeFailure(error)))
    request.on('response', (response: IncomingMessage) => {
      statusCode = response.statusCode ?? null
      if (statusCode === 429 || statusCode === 503) retryAfter = retryAfterSeconds(response.headers['retry-after'], (options.now ?? (() => new Date()))())
      response.on('data', (chunk: Buffer) => {
        if (settled) return
        chunks.push(chunk)
        received += chunk.length
        if (received >= responseBodyLimit) settle(null)
      })
      response.on('end', () => settle(null))
      response.on('error', (error) => settle(describeFailure(error)))
      response.on('close', () => settle('connection closed before the response ended'))
    })
    request.end(target.body)
  })
}

/** Sends one POST; never throws: every failure is an outcome with `error` set. */
export async function sendWebhook(target: WebhookRequest, options: SendOptions): Promise<SendOutcome> {
  const started = performance.now()
  const outcome = await attempt(target, options)
  return { ...outcome, durationMs: Math.round(performance.now() - started) }
}

async function attempt(target: WebhookRequest, options: SendOptions): Promise<Exchanged> {
  const failed = (error: string): Exchanged => ({ statusCode: null, body: '', error, retryAfterSeconds: null })
  const parsed = parseTarget(target.url, options)
  if (!parsed.ok) return failed(`url not allowed: the URL ${parsed.reason}`)
  // Node connects to an IP literal without calling lookup, so a literal is judged here.
  const forbidden = parsed.literal ? firstForbidden([parsed.hostname], options) : null
  if (forbidden) return failed(`address not allowed: ${describeForbidden(parsed.hostname, true, forbidden)}`)
  try {
    return await exchange(parsed.url, target, options)
  } catch (error) {
    return failed(describeFailure(error))
  }
}
