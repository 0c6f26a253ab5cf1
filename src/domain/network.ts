// Which webhook targets the ledger may reach (issue 13, SSRF guard). Pure: the URL and the
// addresses it resolved to are given; resolving and connecting live in src/webhooks/send.ts.
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string }

/** ipaddr.js range names in words a subscriber understands. */
const rangeWords: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (includes the cloud metadata address)',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (shared address space)',
  private: 'private network',
  uniqueLocal: 'private network (unique local)',
  deprecatedSiteLocal: 'site-local',
}

const wellKnownNat64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96')
// Global unicast IPv6 is 2000::/3 only; everything outside it is special or unassigned
// (::/8 also holds the deprecated IPv4-compatible ::a.b.c.d, which ipaddr.js calls unicast).
const globalUnicast = ipaddr.IPv6.parseCIDR('2000::/3')

function refused(range: string): AddressVerdict {
  return { allowed: false, reason: rangeWords[range] ?? `reserved (${range})` }
}

function judgeIPv4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range()
  return range === 'unicast' ? { allowed: true } : refused(range)
}

/** The last 32 bits of an IPv6 address as IPv4 (NAT64 embeds the IPv4 target there). */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray().slice(12)
  return new ipaddr.IPv4(bytes)
}

function judgeIPv6(address: ipaddr.IPv6): AddressVerdict {
  if (address.isIPv4MappedAddress()) return withinForm(judgeIPv4(address.toIPv4Address()), 'IPv4-mapped')
  // DNS64 networks answer every IPv4-only host with the well-known NAT64 prefix: judge the host behind it.
  if (address.match(wellKnownNat64)) return withinForm(judgeIPv4(embeddedIPv4(address)), 'NAT64')
  const range = address.range()
  if (range !== 'unicast') return refused(range)
  return address.match(globalUnicast) ? { allowed: true } : refused('reserved')
}

function withinForm(verdict: AddressVerdict, form: string): AddressVerdict {
  return verdict.allowed ? verdict : { allowed: false, reason: `${verdict.reason}, ${form}` }
}

const dottedTail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/

/**
 * IPv6 with its dotted IPv4 tail as two hex groups. ipaddr.js reads '::a.b.c.d' as IPv4-mapped,
 * but the socket connects to IPv4-compatible ::a.b.c.d, and DNS answers print that form.
 */
function hexTail(address: string): string {
  return address.replace(dottedTail, (_match, ...octets: string[]) => {
    const [a = 0, b = 0, c = 0, d = 0] = octets.slice(0, 4).map(Number)
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  })
}

/** Whether an IP address (as written by DNS or a URL, without brackets) is a public unicast one. */
export function judgeAddress(address: string): AddressVerdict {
  const family = isIP(address)
  if (family === 0) return { allowed: false, reason: 'not an IP address' }
  const parsed = ipaddr.parse(family === 6 ? hexTail(address) : address)
  return parsed instanceof ipaddr.IPv4 ? judgeIPv4(parsed) : judgeIPv6(parsed)
}

export interface TargetRules {
  allowPrivateNetworks: boolean
}

export type ParsedTarget =
  | { ok: true; url: URL; hostname: string; literal: boolean }
  | { ok: false; reason: string }

/**
 * The URL's own rules, before any lookup: https (http too when private networks are allowed), no
 * credentials. `hostname` is as a socket wants it: IPv6 without brackets, IPv4 in the dotted form
 * the WHATWG parser normalises decimal, octal and hex spellings to.
 */
export function parseTarget(text: string, rules: TargetRules): ParsedTarget {
  if (!URL.canParse(text)) return { ok: false, reason: 'is not a valid absolute URL' }
  const url = new URL(text)
  const schemes = rules.allowPrivateNetworks ? ['https:', 'http:'] : ['https:']
  if (!schemes.includes(url.protocol)) {
    return { ok: false, reason: `must use ${schemes.map((s) => s.slice(0, -1)).join(' or ')}, not ${url.protocol.slice(0, -1)}` }
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not carry credentials' }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  if (hostname === '') return { ok: false, reason: 'has no host' }
  return { ok: true, url, hostname, literal: isIP(hostname) !== 0 }
}

/** The first address the ledger may not reach, with why; null when all are allowed (or allowed anyway). */
export function firstForbidden(addresses: readonly string[], rules: TargetRules): { address: string; reason: string } | null {
  if (rules.allowPrivateNetworks) return null
  for (const address of addresses) {
    const verdict = judgeAddress(address)
    if (!verdict.allowed) return { address, reason: verdict.reason }
  }
  return null
}
