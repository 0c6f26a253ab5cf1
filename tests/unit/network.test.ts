// Which addresses and URLs a webhook may target (SSRF guard, issue 13 item 7). Pure: no lookup,
// no socket; the URL spellings go through the same WHATWG parser a subscription's URL does.
import t from 'tap'
import { firstForbidden, judgeAddress, parseTarget } from '../../src/domain/network.js'
import { retryAfterSeconds } from '../../src/webhooks/retry-after.js'

t.test('public unicast addresses are allowed', async (t) => {
  for (const address of ['93.184.215.14', '8.8.8.8', '::ffff:8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e', '64:ff9b::808:808']) {
    t.same(judgeAddress(address), { allowed: true }, address)
  }
})

t.test('private, loopback, link-local, metadata, multicast and reserved addresses are refused, with why', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /link-local.*metadata/],
    ['169.254.1.1', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['192.0.2.1', /reserved/],
    ['198.18.0.1', /reserved/],
    ['240.0.0.1', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback, IPv4-mapped/],
    ['::ffff:10.0.0.1', /private network, IPv4-mapped/],
    ['::ffff:169.254.169.254', /link-local.*IPv4-mapped/],
    ['::ffff:7f00:1', /loopback, IPv4-mapped/],
    ['::127.0.0.1', /reserved/], // deprecated IPv4-compatible form, as DNS answers print it
    ['::8.8.8.8', /reserved/], // compatible, not mapped: ipaddr.js alone would call it mapped and public
    ['::7f00:1', /reserved/],
    ['::ffff:0:7f00:1', /reserved \(rfc6145\)/],
    ['64:ff9b::7f00:1', /loopback, NAT64/],
    ['64:ff9b::a9fe:a9fe', /link-local.*NAT64/],
    ['64:ff9b:1::1', /reserved/],
    ['2002:7f00:1::1', /reserved \(6to4\)/],
    ['2001:db8::1', /reserved/],
    ['100::1', /reserved/],
  ]
  for (const [address, why] of cases) {
    const verdict = judgeAddress(address)
    t.equal(verdict.allowed, false, `${address} refused`)
    if (!verdict.allowed) t.match(verdict.reason, why, `${address}: ${verdict.reason}`)
  }
  t.same(judgeAddress('example.com'), { allowed: false, reason: 'not an IP address' }, 'a name is no address')
})

t.test('one forbidden address among several refuses the host; allowPrivateNetworks allows all', async (t) => {
  t.same(firstForbidden(['93.184.215.14', '10.0.0.7'], { allowPrivateNetworks: false }), { address: '10.0.0.7', reason: 'private network' })
  t.equal(firstForbidden(['93.184.215.14', '2606:4700::1'], { allowPrivateNetworks: false }), null)
  t.equal(firstForbidden(['127.0.0.1', '::1', '169.254.169.254'], { allowPrivateNetworks: true }), null)
})

t.test('the URL: https only (http too when private networks are allowed), no credentials', async (t) => {
  const strict = { allowPrivateNetworks: false }
  const lax = { allowPrivateNetworks: true }
  t.match(parseTarget('https://hooks.example.com/in', strict), { ok: true, hostname: 'hooks.example.com', literal: false })
  t.match(parseTarget('https://hooks.example.com:8443/in', strict), { ok: true }, 'any port')
  t.match(parseTarget('http://hooks.example.com/in', strict), { ok: false, reason: 'must use https, not http' })
  t.match(parseTarget('http://hooks.example.com/in', lax), { ok: true })
  t.match(parseTarget('ftp://hooks.example.com/', lax), { ok: false, reason: 'must use https or http, not ftp' })
  t.match(parseTarget('file:///etc/passwd', lax), { ok: false, reason: /must use/ })
  t.match(parseTarget('https://user:secret@hooks.example.com/', lax), { ok: false, reason: 'must not carry credentials' })
  t.match(parseTarget('https://user@hooks.example.com/', lax), { ok: false, reason: 'must not carry credentials' })
  t.match(parseTarget('hooks.example.com/in', lax), { ok: false, reason: 'is not a valid absolute URL' })
  t.match(parseTarget('', lax), { ok: false })
})

t.test('every spelling of an address reaches the socket in one normal form, and that form is judged', async (t) => {
  const lax = { allowPrivateNetworks: true }
  const spellings: Array<[string, string]> = [
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://[::1]/', '::1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'],
    ['http://0xa9fea9fe/', '169.254.169.254'],
  ]
  for (const [url, hostname] of spellings) {
    const target = parseTarget(url, lax)
    t.match(target, { ok: true, hostname, literal: true }, url)
    if (target.ok) t.equal(judgeAddress(target.hostname).allowed, false, `${url} is refused as ${hostname}`)
  }
  t.match(parseTarget('https://LOCALHOST./', lax), { ok: true, hostname: 'localhost.', literal: false }, 'a name goes to the lookup')
})

t.test('Retry-After: seconds or an HTTP date, against the injected clock', async (t) => {
  const now = new Date('2026-12-02T10:00:00.000Z')
  t.equal(retryAfterSeconds('120', now), 120)
  t.equal(retryAfterSeconds(' 0 ', now), 0)
  t.equal(retryAfterSeconds('Wed, 02 Dec 2026 10:01:30 GMT', now), 90, 'IMF-fixdate')
  t.equal(retryAfterSeconds('Wednesday, 02-Dec-26 10:00:05 GMT', now), 5, 'obsolete RFC 850 date')
  t.equal(retryAfterSeconds('Wed Dec  2 10:00:10 2026', now), 10, 'asctime date')
  t.equal(retryAfterSeconds('Wed, 02 Dec 2026 09:00:00 GMT', now), 0, 'a date passed is no wait')
  t.equal(retryAfterSeconds(undefined, now), null)
  t.equal(retryAfterSeconds('', now), null)
  t.equal(retryAfterSeconds('1.5', now), null, 'not a date, whatever Date.parse thinks')
  t.equal(retryAfterSeconds('-5', now), null)
  t.equal(retryAfterSeconds('soon', now), null)
  t.equal(retryAfterSeconds('99999999999999999999', now), null, 'beyond a safe integer')
})
