// The statements that cross tenants on purpose: system work that finds tenants first (each found
// tenant's work then runs in its own transaction, routed). Citus runs each as one query over every
// shard, on the coordinator. Matched by a piece of the statement's text; keep each piece distinctive.
import type { CrossTenant } from './shard-emulation.js'

export const crossTenant: readonly CrossTenant[] = []
