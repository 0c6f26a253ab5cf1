// The webhook sender against real loopback HTTP servers: what reaches a receiver, what the SSRF
// guard refuses before any connection (at subscription and at send, on the address actually
// connected to), and how every failure becomes an outcome. Timeouts are short real ones.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createSecureContext } from 'node:tls'
import t from 'tap'
import { ProblemError } from '../../src/domain/errors.js'
import { checkWebhookTarget, responseBodyLimit, sendWebhook, type SendOptions } from '../../src/webhooks/send.js'
import { selfSignedCert, selfSignedKey } from '../helpers/tls-fixture.js'

interface Tap { teardown(fn: () => unknown): void }

interface Received { method: string; url: string; headers: IncomingMessage['headers']; body: string }

interface Receiver {
  port: number
  requests: Received[]
  /** TCP connections accepted: a refused address must leave this at 0. */
  connections: () => number
}

/** An HTTP server on 127.0.0.1 that records each request, then answers with `answer`. */
async function startReceiver(t: Tap, answer: (request: Received, response: ServerResponse) => void = (_r, response) => response.end('ok')): Promise<Receiver> {
  const requests: Received[] = []
  let connections = 0
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const received = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(received)
      answer(received, response)
    })
  })
  server.on('connection', () => { connections += 1 })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { port: portOf(server), requests, connections: () => connections }
}

function portOf(server: Pick<Server, 'address'>): number {
  const address: AddressInfo | string | null = server.address()
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP')
  return address.port
}

const strict: SendOptions = { timeoutMs: 5000, allowPrivateNetworks: false }
const lax: SendOptions = { timeoutMs: 5000, allowPrivateNetworks: true }
const event = { url: '', headers: { 'content-type': 'application/json' }, body: '{"type":"webhook.test"}' }

/** A resolver that answers from a table and counts its questions. */
function fakeDns(answers: Record<string, string[] | (() => string[])>) {
  const asked: string[] = []
  const resolve = async (hostname: string) => {
    asked.push(hostname)
    const answer = answers[hostname]
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return typeof answer === 'function' ? answer() : answer
  }
  return { resolve, asked }
}

t.test('with private networks allowed, a loopback receiver gets the body and headers intact', async (t) => {
  const receiver = await startReceiver(t, (_r, response) => response.writeHead(202, { 'content-type': 'text/plain' }).end('accepted'))
  const body = JSON.stringify({ id: 'e-1', type: 'promise.kept', data: { text: 'Grüße, 日本' } })
  const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1764669600', 'webhook-signature': 'v1,abc= v1,def=' }
  const outcome = await sendWebhook({ url: `http://127.0.0.1:${receiver.port}/hooks/in?x=1`, headers, body }, lax)
  t.match(outcome, { statusCode: 202, body: 'accepted', error: null, retryAfterSeconds: null })
  t.ok(outcome.durationMs >= 0 && outcome.durationMs < 5000, 'a duration is measured')
  t.equal(receiver.requests.length, 1)
  const [received] = receiver.requests
  t.match(received, { method: 'POST', url: '/hooks/in?x=1', body, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'journey-ledger-webhooks' } })
})

t.test('a name goes through the injected resolver and the connection reaches the address it gave', async (t) => {
  const receiver = await startReceiver(t)
  const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] })
  const outcome = await sendWebhook({ ...event, url: `http://receiver.test:${receiver.port}/` }, { ...lax, resolve: dns.resolve })
  t.match(outcome, { statusCode: 200, body: 'ok', error: null })
  t.same(dns.asked, ['receiver.test'])
  t.equal(receiver.requests[0]?.headers.host, `receiver.test:${receiver.port}`, 'the Host header keeps the name')
})

t.test('at subscription, forbidden URLs are refused with a problem document that says why', async (t) => {
  const dns = fakeDns({
    'internal.example.com': ['10.0.3.7'],
    'mixed.example.com': ['93.184.215.14', '192.168.0.10'],
    'v6.example.com': ['2606:4700::1', 'fd00::5'],
    'compat.example.com': ['::127.0.0.1'],
    'empty.example.com': [],
  })
  const options = { allowPrivateNetworks: false, resolve: dns.resolve }
  const refusals: Array<[string, RegExp]> = [
    ['http://127.0.0.1/', /must use https, not http/],
    ['https://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['https://127.0.0.1:8443/', /loopback/],
    ['http://169.254.169.254/latest/meta-data/', /must use https/],
    ['https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local .*metadata/],
    ['https://[::1]/', /::1 is a loopback address/],
    ['https://[::ffff:127.0.0.1]/', /::ffff:7f00:1 is a loopback, IPv4-mapped address/],
    ['https://[::ffff:a9fe:a9fe]/', /link-local.*IPv4-mapped/],
    ['https://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['https://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['https://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
    ['https://10.1.2.3/', /private network/],
    ['https://100.64.0.1/', /carrier-grade NAT/],
    ['https://224.0.0.251/', /multicast/],
    ['https://0.0.0.0/', /unspecified/],
    ['https://internal.example.com/hook', /internal\.example\.com resolves to 10\.0\.3\.7, a private network address/],
    ['https://mixed.example.com/hook', /resolves to 192\.168\.0\.10/],
    ['https://v6.example.com/hook', /resolves to fd00::5, a private network \(unique local\) address/],
    ['https://compat.example.com/hook', /resolves to ::127\.0\.0\.1, a reserved/],
    ['https://empty.example.com/hook', /resolves to no address/],
    ['https://nowhere.example.com/hook', /could not be resolved \(host not found\)/],
    ['https://user:pw@hooks.example.com/', /must not carry credentials/],
    ['not a url', /is not a valid absolute URL/],
  ]
  for (const [url, detail] of refusals) {
    await t.rejects(checkWebhookTarget(url, options), { name: 'ProblemError', status: 400, code: 'webhook-url-not-allowed', message: detail, extensions: { errors: [{ path: '/url' }] } }, url)
  }
  const rejection = await checkWebhookTarget('https://127.0.0.1/', options).catch((error: unknown) => error)
  t.ok(rejection instanceof ProblemError, 'a ProblemError, which the errors plugin renders as a problem document')
  t.notOk(dns.asked.includes('127.0.0.1'), 'literal addresses are judged without asking DNS')
})

t.test('at subscription, public targets pass; with private networks allowed, loopback and http pass', async (t) => {
  const dns = fakeDns({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] })
  await t.resolves(checkWebhookTarget('https://hooks.example.com/in', { allowPrivateNetworks: false, resolve: dns.resolve }))
  await t.resolves(checkWebhookTarget('https://8.8.8.8:8443/in', { allowPrivateNetworks: false }))
  await t.resolves(checkWebhookTarget('http://127.0.0.1:3000/in', { allowPrivateNetworks: true }))
  await t.resolves(checkWebhookTarget('http://[::1]/in', { allowPrivateNetworks: true }))
  await t.resolves(checkWebhookTarget('https://169.254.169.254/', { allowPrivateNetworks: true }))
  await t.rejects(checkWebhookTarget('ftp://127.0.0.1/', { allowPrivateNetworks: true }), { code: 'webhook-url-not-allowed' })
})

t.test('at send, forbidden addresses are refused before any connection', async (t) => {
  const receiver = await startReceiver(t)
  const dns = fakeDns({ 'internal.example.com': ['10.20.30.40'], 'sneaky.example.com': ['127.0.0.1'] })
  const options = { ...strict, resolve: dns.resolve }
  const refusals: Array<[string, RegExp]> = [
    [`https://127.0.0.1:${receiver.port}/`, /^address not allowed: 127\.0\.0\.1 is a loopback address$/],
    [`https://2130706433:${receiver.port}/`, /^address not allowed: 127\.0\.0\.1 is a loopback/],
    [`https://0177.0.0.1:${receiver.port}/`, /^address not allowed: 127\.0\.0\.1 is a loopback/],
    [`https://[::ffff:127.0.0.1]:${receiver.port}/`, /^address not allowed: ::ffff:7f00:1 is a loopback, IPv4-mapped/],
    [`https://[::1]:${receiver.port}/`, /^address not allowed: ::1 is a loopback/],
    ['https://169.254.169.254/latest/meta-data/', /^address not allowed: 169\.254\.169\.254 is a link-local/],
    ['https://internal.example.com/hook', /^address not allowed: internal\.example\.com resolves to 10\.20\.30\.40, a private network address$/],
    [`https://sneaky.example.com:${receiver.port}/hook`, /^address not allowed: sneaky\.example\.com resolves to 127\.0\.0\.1/],
    [`http://127.0.0.1:${receiver.port}/`, /^url not allowed: the URL must use https, not http$/],
    ['https://user:pw@hooks.example.com/', /^url not allowed: the URL must not carry credentials$/],
    ['::not a url::', /^url not allowed: the URL is not a valid absolute URL$/],
  ]
  for (const [url, error] of refusals) {
    const outcome = await sendWebhook({ ...event, url }, options)
    t.match(outcome, { statusCode: null, body: '', error, retryAfterSeconds: null }, url)
  }
  t.equal(receiver.connections(), 0, 'the receiver on loopback saw no connection')
  t.same(dns.asked, ['internal.example.com', 'sneaky.example.com'])
})

t.test('a DNS answer that changes between the check and the send (public, then loopback) is refused at send', async (t) => {
  const receiver = await startReceiver(t)
  let lookups = 0
  const dns = fakeDns({ 'rebind.example.com': () => (lookups++ === 0 ? ['93.184.215.14'] : ['127.0.0.1']) })
  const url = `https://rebind.example.com:${receiver.port}/hook`
  await t.resolves(checkWebhookTarget(url, { allowPrivateNetworks: false, resolve: dns.resolve }), 'the subscription saw a public address')
  const outcome = await sendWebhook({ ...event, url }, { ...strict, resolve: dns.resolve })
  t.match(outcome, { statusCode: null, error: 'address not allowed: rebind.example.com resolves to 127.0.0.1, a loopback address' })
  t.equal(lookups, 2, 'the send resolved again instead of trusting the check')
  t.equal(receiver.connections(), 0, 'nothing reached the loopback receiver')
})

t.test('a redirect is an outcome, never followed (to loopback, to the metadata address)', async (t) => {
  const inner = await startReceiver(t)
  for (const location of [`http://127.0.0.1:${inner.port}/admin`, 'http://169.254.169.254/latest/meta-data/']) {
    const outer = await startReceiver(t, (_r, response) => response.writeHead(302, { location }).end('moved'))
    const outcome = await sendWebhook({ ...event, url: `http://127.0.0.1:${outer.port}/` }, lax)
    t.match(outcome, { statusCode: 302, body: 'moved', error: null }, location)
    t.equal(outer.requests.length, 1)
  }
  t.equal(inner.connections(), 0, 'the redirect target was never called')
})

t.test('a receiver that never answers times out; so does one that dribbles its body', async (t) => {
  const silent = await startReceiver(t, () => undefined)
  const quiet = await sendWebhook({ ...event, url: `http://127.0.0.1:${silent.port}/` }, { ...lax, timeoutMs: 300 })
  t.match(quiet, { statusCode: null, body: '', error: /^timeout after \d+ ms$/ })
  t.ok(quiet.durationMs >= 295 && quiet.durationMs < 3000, `the timeout holds (${quiet.durationMs} ms)`)

  const slow = await startReceiver(t, (_r, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.write('first bytes')
  })
  const dribbled = await sendWebhook({ ...event, url: `http://127.0.0.1:${slow.port}/` }, { ...lax, timeoutMs: 300 })
  t.match(dribbled, { statusCode: 200, body: 'first bytes', error: /^timeout/ }, 'the timeout covers the whole response, and what came is kept')
  t.ok(dribbled.durationMs < 3000)
})

t.test('only the first 4 KiB of the body are read, even from a receiver that never ends', async (t) => {
  const large = await startReceiver(t, (_r, response) => response.end('a'.repeat(100 * 1024)))
  const whole = await sendWebhook({ ...event, url: `http://127.0.0.1:${large.port}/` }, lax)
  t.match(whole, { statusCode: 200, error: null })
  t.equal(whole.body, 'a'.repeat(responseBodyLimit))

  const endless = await startReceiver(t, (_r, response) => {
    response.writeHead(500)
    response.write('b'.repeat(8 * 1024))
  })
  const cut = await sendWebhook({ ...event, url: `http://127.0.0.1:${endless.port}/` }, { ...lax, timeoutMs: 10_000 })
  t.match(cut, { statusCode: 500, error: null, body: 'b'.repeat(responseBodyLimit) }, 'no waiting for the rest')
  t.ok(cut.durationMs < 5000, `did not wait for the timeout (${cut.durationMs} ms)`)

  const nul = await startReceiver(t, (_r, response) => response.end('a\u0000b'))
  t.equal((await sendWebhook({ ...event, url: `http://127.0.0.1:${nul.port}/` }, lax)).body, 'a\uFFFDb', 'a NUL, which PostgreSQL text refuses, is replaced')
})

t.test('Retry-After on 429 and 503, as seconds or as an HTTP date read against the injected clock', async (t) => {
  const now = new Date('2026-12-02T10:00:00.000Z')
  const answers: Array<[number, string, number | null]> = [
    [429, '7', 7],
    [503, 'Wed, 02 Dec 2026 10:02:00 GMT', 120],
    [503, 'Wed, 02 Dec 2026 09:00:00 GMT', 0],
    [429, 'whenever', null],
    [500, '30', null],
    [200, '30', null],
  ]
  for (const [status, retryAfter, seconds] of answers) {
    const receiver = await startReceiver(t, (_r, response) => response.writeHead(status, { 'retry-after': retryAfter }).end())
    const outcome = await sendWebhook({ ...event, url: `http://127.0.0.1:${receiver.port}/` }, { ...lax, now: () => now })
    t.match(outcome, { statusCode: status, retryAfterSeconds: seconds, error: null }, `${status} Retry-After: ${retryAfter}`)
  }
  const bare = await startReceiver(t, (_r, response) => response.writeHead(429).end())
  t.match(await sendWebhook({ ...event, url: `http://127.0.0.1:${bare.port}/` }, lax), { statusCode: 429, retryAfterSeconds: null })
})

t.test('network failures are outcomes, never exceptions', async (t) => {
  const closed = createServer()
  closed.listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const port = portOf(closed)
  closed.close()
  await once(closed, 'close')
  t.match(await sendWebhook({ ...event, url: `http://127.0.0.1:${port}/` }, lax), { statusCode: null, error: 'connection refused' })

  const hangUp = await startReceiver(t, (_r, response) => response.socket?.destroy())
  t.match(await sendWebhook({ ...event, url: `http://127.0.0.1:${hangUp.port}/` }, lax), { statusCode: null, error: 'connection reset' })

  const cutShort = await startReceiver(t, (_r, response) => {
    response.writeHead(200, { 'content-length': '100' })
    response.write('partial', () => response.socket?.destroy())
  })
  t.match(await sendWebhook({ ...event, url: `http://127.0.0.1:${cutShort.port}/` }, lax), { statusCode: 200, error: /^(connection reset|connection closed before the response ended)$/ })

  const dns = fakeDns({})
  t.match(await sendWebhook({ ...event, url: 'http://nowhere.test/' }, { ...lax, resolve: dns.resolve }), { statusCode: null, error: 'host not found' })

  const receiver = await startReceiver(t)
  const badHeader = await sendWebhook({ url: `http://127.0.0.1:${receiver.port}/`, headers: { 'x-evil': 'a\r\nx-injected: 1' }, body: '{}' }, lax)
  t.match(badHeader, { statusCode: null, error: /ERR_INVALID_CHAR/ }, 'a header that would split the request is refused, not thrown')
  t.equal(receiver.requests.length, 0)
})

t.test('TLS: certificates are verified, and connecting by the checked address keeps the name for SNI', async (t) => {
  const serverNames: string[] = []
  const context = createSecureContext({ key: selfSignedKey, cert: selfSignedCert })
  const server = createTlsServer({
    key: selfSignedKey,
    cert: selfSignedCert,
    SNICallback: (servername, done) => {
      serverNames.push(servername)
      done(null, context)
    },
  }, (_request, response) => response.end('not reached'))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())

  const dns = fakeDns({ 'hooks.example.test': ['127.0.0.1'] })
  const outcome = await sendWebhook({ ...event, url: `https://hooks.example.test:${portOf(server)}/` }, { ...lax, resolve: dns.resolve })
  t.match(outcome, { statusCode: null, error: /^tls: self[- ]signed certificate/ }, 'an untrusted certificate is refused')
  t.same(dns.asked, ['hooks.example.test'])
  t.same(serverNames, ['hooks.example.test'], 'the name, not the address, went out as SNI')
})
