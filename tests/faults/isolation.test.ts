// Given two tenants, when tenant B's key is used on every route of the OpenAPI document that takes
// an id, with tenant A's ids, then the answer is a 404 problem document (as for an id that exists
// nowhere: no existence leak) and nothing of tenant A changed. And given a key for every scope but
// one, every operation that needs the missing scope answers 403, and no other operation does.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { scopes } from '../../src/domain/keys.js'
import type { Db } from '../../src/store/database.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { look, problemDefects } from '../helpers/faults.js'
import { webhookSettings } from '../helpers/webhooks.js'
import { OpenApi, validInstance, type Operation } from '../helpers/openapi-fuzz.js'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
const methodOf = (name: string) => httpMethods.find((m) => m === name) ?? 'GET'

/** Every row of every table that has a tenant_id, for one tenant: "nothing changed" means this is equal. */
async function tenantState(db: Db, tenantId: string): Promise<Record<string, string[]>> {
  const tables = await look<{ table: string }>(db, sql`
    select table_name as table from information_schema.columns
    where table_schema = 'public' and column_name = 'tenant_id' order by table_name`)
  const out: Record<string, string[]> = {}
  for (const { table } of tables) {
    const rows = await look<{ row: string }>(db, sql`select to_jsonb(t)::text as row from ${sql.identifier(table)} t where tenant_id = ${tenantId}`)
    out[table] = rows.map((r) => r.row).sort()
  }
  return out
}

async function openApi(ctx: TestApp): Promise<OpenApi> {
  const doc: unknown = (await ctx.request({ method: 'GET', url: '/openapi.json', key: null })).json()
  if (!isRecord(doc)) throw new Error('no OpenAPI document')
  return new OpenApi(doc)
}

const operatorRoute = (op: Operation) => op.path.startsWith('/v1/tenants')

/** The scope the contract gives each family of routes. */
function contractScope(op: Operation): string | undefined {
  const { method, path } = op
  if (path.startsWith('/v1/api-keys') || path.startsWith('/v1/audit')) return 'admin'
  if (path.startsWith('/v1/analytics')) return 'analytics:read'
  if (path.startsWith('/v1/webhooks')) return 'webhooks:manage'
  if (path.startsWith('/v1/people')) return 'people:manage'
  if (method === 'POST' && path === '/v1/events') return 'events:write'
  if (method === 'POST' && (path.startsWith('/v1/promises/') || path.endsWith('/promises'))) return 'promises:write'
  if (method === 'GET' && (path.startsWith('/v1/events') || path.startsWith('/v1/journeys') || path.startsWith('/v1/promises'))) return 'events:read'
  return undefined
}

t.test('tenant B on tenant A\'s objects', async (t) => {
  const ctx = await buildTestApp(t, { webhooks: webhookSettings })
  const b = await ctx.otherTenant()
  const api = await openApi(ctx)
  const tag = `iso-${Date.now().toString(36)}`
  const journeyId = `j-${tag}`
  const personId = `p-${tag}`
  const promiseId = `pr-${tag}`
  const stored = await ctx.request({
    method: 'POST', url: '/v1/events', payload: [
      { specversion: '1.0', id: `${tag}-1`, source: 'test:iso', type: 'employee.hired', subject: journeyId, data: { personId, startDate: '2026-05-01', department: 'Ops' } },
      { specversion: '1.0', id: `${tag}-2`, source: 'test:iso', type: 'promise.made', subject: journeyId, data: { promiseId, category: 'development', text: 'A course.', madeBy: 'm-1', dueBy: '2026-12-31' } },
    ],
  })
  t.equal(stored.statusCode, 201, 'tenant A has a journey, a person and a promise')
  const key = await ctx.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'isolation', scopes: ['events:read'] } })
  const keyBody: unknown = key.json()
  const keyId = isRecord(keyBody) && typeof keyBody.id === 'string' ? keyBody.id : 'none'
  t.equal(key.statusCode, 201, 'and an API key')
  // Nothing listens on port 9: the subscription's ping waits in the outbox (no worker runs in tests).
  const hook = await ctx.request({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['*'] } })
  t.equal(hook.statusCode, 201, 'and a webhook subscription')
  const webhookId = String(hook.json<{ webhook: { id: string } }>().webhook.id)
  const deliveries = await ctx.request({ method: 'GET', url: `/v1/webhooks/${webhookId}/deliveries` })
  const deliveryId = String(deliveries.json<{ data?: { id: string }[] }>().data?.[0]?.id)
  t.equal(deliveries.statusCode, 200, 'with a delivery (its ping)')

  // Tenant A's object for each kind of id a path can take.
  const ids: Record<string, string> = { journeyId, personId, promiseId, deliveryId }
  const idFor = (op: Operation, name: string): string | undefined => {
    if (name === 'id' && op.path.startsWith('/v1/api-keys/')) return keyId
    if (name === 'id' && op.path.startsWith('/v1/webhooks/')) return webhookId
    return ids[name]
  }

  const withIds = api.operations().filter((op) => op.secured && !operatorRoute(op) && op.parameters.some((p) => p.in === 'path'))
  t.ok(withIds.length >= 8, `${withIds.length} operations take an id`)
  for (const op of withIds) {
    const pathParams = op.parameters.filter((p) => p.in === 'path')
    const missing = pathParams.filter((p) => idFor(op, p.name) === undefined)
    if (missing.length > 0) {
      t.fail(`${op.name}: no fixture of tenant A for ${missing.map((p) => p.name).join(', ')}; add one to this sweep`)
      continue
    }
    const url = (pick: (name: string) => string) => op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pick(name)))
    const payload = op.body ? JSON.stringify(validInstance(api, op.body)) : undefined
    const headers = op.body ? { 'content-type': 'application/json' } : undefined
    const send = (target: string, keyToUse: string) => ctx.request({ method: methodOf(op.method), url: target, payload, headers, key: keyToUse })

    if (op.method === 'GET') {
      const own = await send(url((name) => idFor(op, name) ?? ''), ctx.adminKey)
      t.equal(own.statusCode, 200, `${op.name}: tenant A sees its own object`)
    }
    const before = await tenantState(ctx.app.db, ctx.tenantId)
    const answer = await send(url((name) => idFor(op, name) ?? ''), b.adminKey)
    const after = await tenantState(ctx.app.db, ctx.tenantId)
    const nowhere = await send(url((name) => `${name}-that-exists-nowhere`), b.adminKey)
    t.same(after, before, `${op.name}: nothing of tenant A changed`)
    t.equal(answer.statusCode, nowhere.statusCode, `${op.name}: tenant B gets what an id that exists nowhere gets (${nowhere.statusCode})`)
    t.equal(answer.statusCode, 404, `${op.name}: tenant B gets a 404`)
    t.same(problemDefects({ status: answer.statusCode, headers: answer.headers, body: answer.json() }), [], `${op.name}: as a problem document`)
  }
})

t.test('a key without a scope gets 403 on exactly the operations that need it', async (t) => {
  const ctx = await buildTestApp(t)
  const api = await openApi(ctx)
  const nonAdmin = scopes.filter((s) => s !== 'admin')
  const createKey = async (keyScopes: string[]) => {
    const created = await ctx.request({ method: 'POST', url: '/v1/api-keys', payload: { name: `without-${keyScopes.join('+')}`, scopes: keyScopes } })
    const body: unknown = created.json()
    if (created.statusCode !== 201 || !isRecord(body) || typeof body.key !== 'string') throw new Error(`creating a key failed: ${created.body}`)
    return body.key
  }
  // admin grants every scope, so a key "without S" holds every other scope but admin; "without admin" holds all the rest.
  const without = new Map<string, string>()
  for (const scope of scopes) without.set(scope, await createKey(nonAdmin.filter((s) => s !== scope)))
  const only = new Map<string, string>()
  for (const scope of nonAdmin) only.set(scope, await createKey([scope]))

  const ops = api.operations().filter((op) => op.secured && !operatorRoute(op))
  for (const op of ops) {
    // A request the operation rejects after the scope check (a bad id, body or query), so nothing happens when it is allowed.
    const pathParams = op.parameters.filter((p) => p.in === 'path')
    const limit = op.parameters.find((p) => p.in === 'query' && p.name === 'limit')
    const url = op.path.replace(/\{([^}]+)\}/g, () => encodeURIComponent('not an id!')) + (pathParams.length === 0 && limit ? '?limit=0' : '')
    const payload = op.body && pathParams.length === 0 ? '[]' : op.body ? '{}' : undefined
    const send = (key: string) => ctx.request({ method: methodOf(op.method), url, payload, key, headers: payload ? { 'content-type': 'application/json' } : undefined })

    const allowedAlone = []
    for (const [scope, key] of only) if ((await send(key)).statusCode !== 403) allowedAlone.push(scope)
    const needed = allowedAlone.length === 0 ? 'admin' : allowedAlone.length === 1 ? allowedAlone[0] : `any of ${allowedAlone.join(', ')}`
    const expected = contractScope(op)
    if (expected) t.equal(needed, expected, `${op.name} needs ${expected}`)
    else t.comment(`${op.name} needs ${needed} (no contract entry)`)

    for (const [scope, key] of without) {
      const answer = await send(key)
      // Every key here lacks admin (admin would grant everything), so an admin operation refuses them all.
      if (scope === needed || needed === 'admin') {
        t.equal(answer.statusCode, 403, `${op.name}: a key without ${scope}${scope === needed ? '' : ' (nor admin)'} gets 403`)
        t.same(problemDefects({ status: answer.statusCode, headers: answer.headers, body: answer.json() }), [], `${op.name}: as a problem document`)
      } else if (answer.statusCode === 403 || answer.statusCode === 401) {
        t.fail(`${op.name}: a key without ${scope} (it does not need it) got ${answer.statusCode}`)
      }
    }
  }
})
