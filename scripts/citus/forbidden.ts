// What Citus cannot route or evaluate the same way on every node, by name, and a walk over
// libpg-query's parse tree that finds function calls and subqueries in it.

/** Functions whose value is one node's own state: a worker's differs from the coordinator's. */
export const nodeLocalFunctions = new Set([
  'pg_current_xact_id', 'pg_current_xact_id_if_assigned', 'pg_xact_status', 'pg_current_snapshot', 'pg_snapshot_xmin', 'pg_snapshot_xmax',
  'pg_snapshot_xip', 'pg_visible_in_snapshot', 'pg_xact_commit_timestamp', 'pg_last_committed_xact', 'pg_export_snapshot',
  'pg_backend_pid', 'pg_postmaster_start_time', 'pg_conf_load_time', 'inet_server_addr', 'inet_server_port', 'pg_current_wal_lsn',
  'pg_current_wal_insert_lsn', 'pg_is_in_recovery',
])
const nodeLocalPrefixes = ['txid_']

export function isNodeLocal(name: string): boolean {
  return nodeLocalFunctions.has(name) || nodeLocalPrefixes.some((p) => name.startsWith(p))
}

/** Calls a request path must not make: the setting function (Citus never propagates it) and advisory locks (one node's). */
export function isForbiddenCall(name: string): string | undefined {
  if (name === 'set_config') return 'set_config() (Citus does not propagate it: use SET LOCAL)'
  if (isNodeLocal(name)) return `${name}() (a transaction id, snapshot or other node-local value)`
  if (/^pg_(try_)?advisory_/.test(name)) return `${name}() (an advisory lock is one node's)`
  return undefined
}

type Node = unknown

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Every node of a parse tree with its kind (the key libpg-query wraps it in), depth first. */
export function* nodes(tree: Node, kind = ''): Generator<{ kind: string; node: Record<string, unknown> }> {
  if (Array.isArray(tree)) {
    for (const item of tree) yield* nodes(item)
    return
  }
  if (!isRecord(tree)) return
  if (kind) yield { kind, node: tree }
  for (const [key, value] of Object.entries(tree)) {
    // A node is `{ Kind: {...} }`; its fields are lower-case.
    yield* nodes(value, /^[A-Z]/.test(key) ? key : '')
  }
}

/** The name of a FuncCall node (its last part: `pg_catalog.now` is `now`). */
export function callName(node: Record<string, unknown>): string {
  const parts = Array.isArray(node.funcname) ? node.funcname : []
  const last: unknown = parts[parts.length - 1]
  const name = isRecord(last) && isRecord(last.String) ? last.String.sval : undefined
  return typeof name === 'string' ? name.toLowerCase() : ''
}

/** The functions a tree calls. */
export function callsIn(tree: Node): string[] {
  return [...nodes(tree)].filter((n) => n.kind === 'FuncCall').map((n) => callName(n.node))
}

export function hasSubquery(tree: Node): boolean {
  return [...nodes(tree)].some((n) => n.kind === 'SubLink')
}
