// Classifies database failures: which mean "the database is not reachable right now" (a 503 the
// client can retry) and which are constraint violations the store turns into domain answers.

const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'CONNECTION_CLOSED', 'CONNECTION_ENDED',
  'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', '57P01', '57P02', '57P03', '53300',
])

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code: unknown = Reflect.get(error, 'code')
  return typeof code === 'string' ? code : undefined
}

function causeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, 'cause') : undefined
}

/** True when the error (or its cause, as drizzle wraps driver errors) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; e = causeOf(e), depth++) {
    const code = codeOf(e)
    if (code && (unavailableCodes.has(code) || code.startsWith('08'))) return true
    if (e instanceof Error && /PGlite is closed/i.test(e.message)) return true
  }
  return false
}

/** The name of the unique constraint a failed statement violated, if that is what failed. */
export function violatedConstraint(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 4; e = causeOf(e), depth++) {
    if (codeOf(e) === '23505') {
      const name: unknown = Reflect.get(Object(e), 'constraint_name') ?? Reflect.get(Object(e), 'constraint')
      return typeof name === 'string' ? name : 'unknown'
    }
  }
  return undefined
}
