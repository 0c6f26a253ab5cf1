// The static audit: the SQL the service sends, read with PostgreSQL's own parser (libpg-query), for
// what Citus cannot run as written: set_config, transaction-id and snapshot functions, advisory
// locks, a volatile function inside UPDATE, nextval in a SELECT list, a session-wide SET.
import { loadModule, parseSync } from 'libpg-query'
import { callName, callsIn, isForbiddenCall, nodes } from './forbidden.js'

export { loadModule as loadParser }

/** Volatile functions when no catalogue is at hand to ask (pg_proc.provolatile = 'v' is the full list). */
export const knownVolatile = new Set(['random', 'gen_random_uuid', 'clock_timestamp', 'timeofday', 'nextval', 'setval', 'currval', 'lastval', 'uuid_generate_v4', 'pg_sleep'])

/** The problems of one parsed statement (an empty list: none). */
export function problemsOf(tree: unknown, volatile: ReadonlySet<string>): string[] {
  const problems = new Set<string>()
  for (const { kind, node } of nodes(tree)) {
    if (kind === 'FuncCall') {
      const forbidden = isForbiddenCall(callName(node))
      if (forbidden) problems.add(forbidden)
    } else if (kind === 'UpdateStmt') {
      // Citus refuses volatile functions in an UPDATE of a distributed table (each shard would draw its own value).
      for (const name of callsIn(node)) if (volatile.has(name)) problems.add(`${name}() inside UPDATE (volatile)`)
    } else if (kind === 'SelectStmt') {
      if (callsIn(node.targetList).includes('nextval')) problems.add('nextval() in a SELECT list')
    } else if (kind === 'VariableSetStmt' && node.is_local !== true && node.kind === 'VAR_SET_VALUE') {
      problems.add(`SET ${String(node.name)} without LOCAL (Citus propagates SET LOCAL only)`)
    }
  }
  return [...problems]
}

/** Parses a complete statement; undefined when it does not parse. */
export function parseStatement(text: string): unknown {
  try {
    const tree: unknown = parseSync(text)
    return tree
  } catch {
    return undefined
  }
}

// A fragment of a sql`` template (`tenant_id = $1`, `id, source`, a whole statement...) parses in one of these.
const wrappers = [(f: string) => f, (f: string) => `select ${f}`, (f: string) => `select 1 where ${f}`, (f: string) => `select 1 from t ${f}`]

/** A source fragment: parsed in the first wrapper that fits; when none does, its calls are found by their shape `name(`. */
export function problemsOfFragment(fragment: string, volatile: ReadonlySet<string>): string[] {
  for (const wrap of wrappers) {
    const tree = parseStatement(wrap(fragment))
    if (tree !== undefined) return problemsOf(tree, volatile)
  }
  return problemsOfText(fragment)
}

/** Forbidden calls named in any text (a string the parser cannot read: `sql.raw`, a SET script). */
export function problemsOfText(text: string): string[] {
  const found = new Set<string>()
  for (const match of text.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)) {
    const forbidden = isForbiddenCall((match[1] ?? '').toLowerCase())
    if (forbidden) found.add(forbidden)
  }
  return [...found]
}
