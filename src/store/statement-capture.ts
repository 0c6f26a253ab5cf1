// CI's record of the SQL the service runs: each distinct statement (a few samples of its
// parameters) with the role and tenant its transaction set, as JSON lines. The Citus checks
// (.ci/citus) re-plan them against tables partitioned by tenant and parse them for forbidden calls.
import { appendFileSync } from 'node:fs'
import type { Db, Tx } from './database.js'

export interface CapturedStatement {
  text: string
  params: unknown[]
  /** The role the statement ran as: the transaction's SET LOCAL ROLE, else the session's. */
  role: string
  /** The transaction's app.tenant_id (null: none set). */
  tenant: string | null
  /** Sent by the service's code, or by a test's own (which may cross tenants on purpose, to prove RLS holds). */
  by: 'service' | 'tests'
}

const samplesPerStatement = 3

interface Scope { role: string; tenant: string | null }

/** Reads the scope a transaction's script sets (see `inTenant`, `inSystem` in database.ts). */
function scopeOf(script: string, scope: Scope): Scope {
  const role = /set local role (\w+)/i.exec(script)?.[1]
  const tenant = /set local app\.tenant_id = E?'((?:[^']|'')*)'/i.exec(script)?.[1]
  return { role: role ?? scope.role, tenant: tenant === undefined ? scope.tenant : tenant.replaceAll("''", "'").replaceAll('\\\\', '\\') }
}

/** Whether the code that sent the statement (the first frame outside the database layer) is a test's. */
function sentByTests(): boolean {
  const frames = (new Error().stack ?? '').split('\n').slice(1)
  const caller = frames.find((f) => !/statement-capture|store[/\\]database|node_modules|\(node:/.test(f))
  return caller !== undefined && /[/\\]tests[/\\]/.test(caller)
}

const asJson = (_key: string, value: unknown) => (typeof value === 'bigint' ? String(value) : value)

/** The database, appending each statement it runs to `path` (the service's sessions start as journey_app). */
export function capturingStatements(db: Db, path: string): Db {
  const seen = new Map<string, number>()
  const record = (text: string, params: unknown[], scope: Scope) => {
    const key = `${scope.role}\u0000${text}`
    const count = seen.get(key) ?? 0
    if (count >= samplesPerStatement) return
    seen.set(key, count + 1)
    const entry: CapturedStatement = { text, params, role: scope.role, tenant: scope.tenant, by: sentByTests() ? 'tests' : 'service' }
    appendFileSync(path, `${JSON.stringify(entry, asJson)}\n`)
  }
  const session: Scope = { role: 'journey_app', tenant: null }
  return {
    kind: db.kind,
    limits: db.limits,
    maintain: (statement) => db.maintain(statement),
    run: (text, params) => {
      record(text, params, session)
      return db.run(text, params)
    },
    transaction: (work, options) => db.transaction((tx) => {
      let scope = session
      const captured: Tx = {
        inTransaction: true,
        sentAll: () => tx.sentAll(),
        script: (text) => {
          scope = scopeOf(text, scope)
          return tx.script(text)
        },
        run: (text, params) => {
          // Tests look past row-level security with `set local role none`: recorded as the owner's.
          scope = scopeOf(text, scope)
          record(text, params, scope)
          return tx.run(text, params)
        },
      }
      return work(captured)
    }, options),
  }
}
