// TEMPORARY plain sender, to be replaced at merge by the SSRF-guarded one (same interface).
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { invalid } from '../domain/errors.js'

export interface SendOptions { timeoutMs: number; allowPrivateNetworks: boolean; resolve?: (hostname: string) => Promise<string[]> }
export interface SendOutcome { statusCode: number | null; durationMs: number; body: string; error: string | null; retryAfterSeconds: number | null }

export function sendWebhook(target: { url: string; headers: Record<string, string>; body: string }, options: SendOptions): Promise<SendOutcome> {
  const started = performance.now()
  const done = (o: Omit<SendOutcome, 'durationMs'>): SendOutcome => ({ ...o, durationMs: Math.round(performance.now() - started) })
  return new Promise((resolve) => {
    const url = new URL(target.url)
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(url, { method: 'POST', headers: { ...target.headers, 'content-length': String(Buffer.byteLength(target.body)) }, timeout: options.timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { if (body.length < 4096) body += chunk })
      res.on('end', () => {
        const retryAfter = Number(res.headers['retry-after'])
        resolve(done({ statusCode: res.statusCode ?? null, body: body.slice(0, 4096), error: null, retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null }))
      })
      res.on('error', (error) => resolve(done({ statusCode: res.statusCode ?? null, body: body.slice(0, 4096), error: error.message, retryAfterSeconds: null })))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', (error) => resolve(done({ statusCode: null, body: '', error: error.message, retryAfterSeconds: null })))
    req.end(target.body)
  })
}

/** At subscription: throws a domain error (problem document, 400/422) when the URL is not allowed. */
export async function checkWebhookTarget(url: string, options: Omit<SendOptions, 'timeoutMs'>): Promise<void> {
  const parsed = URL.canParse(url) ? new URL(url) : null
  if (!parsed || !(parsed.protocol === 'https:' || (options.allowPrivateNetworks && parsed.protocol === 'http:'))) {
    throw invalid('the webhook URL is not allowed', [{ path: '/url', message: 'must be an https URL' }])
  }
}
