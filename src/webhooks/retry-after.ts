// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Every HTTP-date form begins with
// a day name, which keeps Date.parse's leniency ("1.5" is a date to it) out.
const delaySeconds = /^\d+$/
const httpDate = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /

/** Seconds from `now` the receiver asks us to wait; null when absent or not understood. */
export function retryAfterSeconds(value: string | undefined, now: Date): number | null {
  const text = value?.trim()
  if (!text) return null
  if (delaySeconds.test(text)) {
    const seconds = Number(text)
    return Number.isSafeInteger(seconds) ? seconds : null
  }
  if (!httpDate.test(text)) return null
  const at = Date.parse(text)
  if (Number.isNaN(at)) return null
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000))
}
