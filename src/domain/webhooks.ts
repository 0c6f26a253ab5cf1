// Webhook rules, pure: which notifications a subscription's filters match, the signing secret's
// form, and what follows an attempt (success, a retry after a back-off, exhaustion, a gone receiver).
import { randomBytes } from 'node:crypto'
import { eventTypes, type FieldError } from './catalogue.js'

/** Notifications with no stored event of their own. */
export const derivedTypes = ['promise.due', 'promise.overdue', 'webhook.test'] as const
/** Every type a subscription can receive. */
export const notificationTypes: readonly string[] = [...eventTypes, ...derivedTypes]
const families = new Set(notificationTypes.map((t) => familyOf(t)))

function familyOf(type: string): string {
  return `${type.slice(0, type.indexOf('.'))}.*`
}

/** Problems with a subscription's filters: each is `*`, a type of the catalogue (or derived), or a family such as `promise.*`. */
export function filterProblems(filters: readonly string[], path = '/events'): FieldError[] {
  return filters.flatMap((f, i) => (f === '*' || notificationTypes.includes(f) || families.has(f)
    ? []
    : [{ path: `${path}/${i}`, message: `is not an event type, a family such as promise.*, or *` }]))
}

/** The filters that match a type: a subscription receives it when it holds any of them (the outbox's SQL uses the same list). */
export function filtersMatching(type: string): string[] {
  return ['*', type, familyOf(type)]
}

export function matches(filters: readonly string[], type: string): boolean {
  return filtersMatching(type).some((f) => filters.includes(f))
}

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** Seconds before the 2nd, 3rd, ... 8th attempt; after the 8th fails, the delivery is exhausted. */
export const backoffSeconds = [5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const
/** A subscription failing for this long, without a success, is disabled. */
export const failingLimitMs = 5 * 86_400_000
/** A receiver's Retry-After is honoured up to this. */
const maxRetryAfterSeconds = 86_400

export type AttemptVerdict =
  | { kind: 'succeeded' }
  | { kind: 'retry'; afterSeconds: number }
  | { kind: 'exhausted' }
  /** 410 Gone: the receiver says it will never take another; the subscription is disabled. */
  | { kind: 'gone' }

/**
 * What follows attempt number `attempt` (1-based) with this answer. `jitter` in [0, 1) spreads
 * retries of many deliveries that failed together (±10 %).
 */
export function judgeAttempt(attempt: number, answer: { statusCode: number | null; retryAfterSeconds: number | null }, jitter: number): AttemptVerdict {
  const status = answer.statusCode
  if (status !== null && status >= 200 && status < 300) return { kind: 'succeeded' }
  if (status === 410) return { kind: 'gone' }
  const base = backoffSeconds[attempt - 1]
  if (base === undefined) return { kind: 'exhausted' }
  if ((status === 429 || status === 503) && answer.retryAfterSeconds !== null) {
    return { kind: 'retry', afterSeconds: Math.min(Math.max(answer.retryAfterSeconds, 1), maxRetryAfterSeconds) }
  }
  return { kind: 'retry', afterSeconds: Math.round(base * (0.9 + 0.2 * jitter) * 1000) / 1000 }
}

/** Why a subscription was disabled, as `disabledReason` says it. */
export const disabledReasons = {
  gone: 'The receiver answered 410 Gone.',
  failing: 'Every delivery failed for 5 days.',
} as const
