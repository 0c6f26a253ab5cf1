// The statements that cross tenants on purpose: system work (as journey_system) that finds tenants
// first, each found tenant's work then running in statements of its own that name it. Citus runs
// each of these as one read over every shard. Matched by a piece of the statement's text: keep each
// piece distinctive, and add nothing here that a tenant's request runs.
import type { CrossTenant } from './shard-emulation.js'

export const crossTenant: readonly CrossTenant[] = [
  { match: 'select tenant_id as id from tenants order by tenant_id', why: 'the tenant list of sweeps, rebuilds, idempotency expiry and key rotation' },
  { match: 'select tenant_id as id, name, jl_iso(created_at) as "createdAt" from tenants order by tenant_id', why: 'GET /v1/tenants, the operator\'s list' },
  { match: 'select count(*)::int as n from tenants', why: 'start-up: is this a new database (bootstrap the default tenant)?' },
  { match: 'select distinct d.tenant_id as "tenantId" from webhook_deliveries d', why: 'the delivery worker finds tenants with due deliveries, then claims per tenant' },
  { match: 'select distinct tenant_id as "tenantId" from webhooks where', why: 'the promise-notice sweep finds tenants with listening subscriptions, then sweeps per tenant' },
  { match: 'select tenant_id as "tenantId" from analytics_pending order by tenant_id', why: 'start-up: the tenants whose analytics aggregates predate them, each then filled in its own transaction' },
  { match: 'select count(*)::int as pending, jl_iso(min(created_at)) as oldest from webhook_deliveries', why: '/metrics: the outbox backlog of the whole installation' },
]
