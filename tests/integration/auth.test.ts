// Who may call what: API keys and their scopes, tenant isolation as the API shows it, and the
// operator's tenant endpoints.
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { hashKey } from '../../src/domain/keys.js'
import { execute, query } from '../../src/store/database.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, ce, type TestApp } from '../helpers/app.js'
import { expectProblem, getOk, given, postEvents, type Page } from '../helpers/spine.js'

interface CreatedKey { id: string; name: string; scopes: string[]; createdAt: string; key: string }
interface CreatedTenant { id: string; name: string; createdAt: string; adminKey: string }

async function createKey(app: TestApp, scopes: string[], name = `key ${scopes.join(' ')}`): Promise<CreatedKey> {
  const res = await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name, scopes } })
  if (res.statusCode !== 201) throw new Error(`could not create a key: ${res.statusCode} ${res.body}`)
  return res.json<CreatedKey>()
}

const get = (app: TestApp, url: string, key?: string | null) => app.request({ method: 'GET', url, key })

t.test('no key, a bad key or a revoked key is a 401; a key without the scope a 403', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }))

  // no key, or keys that are not keys of this service
  expectProblem(t, await get(app, '/v1/journeys', null), 401, { code: 'unauthorized' })
  expectProblem(t, await postEvents(app, ce('interview.held', 'j-1'), { key: null }), 401)
  t.equal((await app.request({ method: 'HEAD', url: '/v1/journeys', key: null })).statusCode, 401, 'HEAD is guarded like GET')
  expectProblem(t, await get(app, '/v1/journeys', 'garbage'), 401)
  expectProblem(t, await get(app, '/v1/journeys', `jl_${app.tenantId}_${randomBytes(32).toString('base64url')}`), 401)
  expectProblem(t, await get(app, '/v1/journeys', `jl_no-such-tenant_${randomBytes(32).toString('base64url')}`), 401)
  expectProblem(t, await app.request({ method: 'GET', url: '/v1/journeys', key: null, headers: { authorization: `Basic ${app.adminKey}` } }), 401)
  expectProblem(t, await app.request({ method: 'POST', url: '/v1/tenants', payload: { name: 'x' } }), 401)

  // a key with some scopes
  const reader = await createKey(app, ['events:read'])
  const writer = await createKey(app, ['events:write'])
  t.equal((await get(app, '/v1/journeys/j-1', reader.key)).statusCode, 200, 'the reader reads')
  expectProblem(t, await postEvents(app, ce('interview.held', 'j-1'), { key: reader.key }), 403, { code: 'forbidden' })
  expectProblem(t, await get(app, '/v1/events', writer.key), 403)
  t.equal((await postEvents(app, ce('interview.held', 'j-1'), { key: writer.key })).statusCode, 201, 'the writer writes')
  expectProblem(t, await app.request({ method: 'POST', url: '/v1/promises/pr-1/keep', payload: {}, key: reader.key }), 403)
  expectProblem(t, await get(app, '/v1/api-keys', writer.key), 403)

  // when the reader's key is revoked (after it was used, so any cache holds it)
  const revoked = await app.request({ method: 'DELETE', url: `/v1/api-keys/${reader.id}` })
  t.equal(revoked.statusCode, 204)
  expectProblem(t, await get(app, '/v1/journeys/j-1', reader.key), 401, { detail: /unknown or revoked/ })
  t.equal((await get(app, '/v1/journeys/j-1', writer.key)).statusCode, 403, 'other keys are untouched')
})

t.test('another tenant\'s journeys, promises and keys are 404, never 403', async (t) => {
  const app = await buildTestApp(t)
  await given(app, ce('employee.hired', 'j-1', { personId: 'p-1', startDate: '2026-07-01' }))
  const made = await app.request({ method: 'POST', url: '/v1/journeys/j-1/promises', payload: { promiseId: 'pr-1', category: 'career', text: 'A mentor', madeBy: 'm-1' } })
  t.equal(made.statusCode, 201)
  const ownKey = await createKey(app, ['events:read'])

  // when tenant B asks for tenant A's things by their ids
  const b = await app.otherTenant()
  for (const url of ['/v1/journeys/j-1', '/v1/journeys/j-1/events', '/v1/promises/pr-1']) {
    expectProblem(t, await get(app, url, b.adminKey), 404, { code: 'not-found' })
  }
  expectProblem(t, await app.request({ method: 'POST', url: '/v1/promises/pr-1/keep', payload: {}, key: b.adminKey }), 404)
  expectProblem(t, await app.request({ method: 'DELETE', url: `/v1/api-keys/${ownKey.id}`, key: b.adminKey }), 404)
  // B has no journey j-1: A's does not exist for it
  expectProblem(t, await postEvents(app, ce('promise.kept', 'j-1', { promiseId: 'pr-1' }), { key: b.adminKey }), 409, { rule: 'journey-unknown' })

  // and B's lists do not show A's
  t.same((await getOk<Page<unknown>>(app, '/v1/journeys', b.adminKey)).data, [])
  t.same((await getOk<Page<unknown>>(app, '/v1/promises', b.adminKey)).data, [])
  t.same((await getOk<Page<unknown>>(app, '/v1/events', b.adminKey)).data, [])
  t.same((await getOk<Page<{ id: string }>>(app, '/v1/api-keys', b.adminKey)).data.map((k) => k.id).includes(ownKey.id), false)

  // when B uses the same journey id, it is B's own journey and A's is untouched
  t.equal((await postEvents(app, ce('candidate.applied', 'j-1', { personId: 'p-other' }), { key: b.adminKey })).statusCode, 201)
  t.equal((await getOk<{ personId: string }>(app, '/v1/journeys/j-1', b.adminKey)).personId, 'p-other')
  t.match(await getOk(app, '/v1/journeys/j-1'), { personId: 'p-1', stage: 'hired' })
  t.equal((await get(app, '/v1/journeys/j-1', ownKey.key)).statusCode, 200, 'A\'s key still reads A\'s')
})

t.test('API keys: shown once, stored as a hash, listed without the secret, revoked by id', async (t) => {
  const app = await buildTestApp(t)

  const created = await createKey(app, ['events:write', 'events:read'], 'HRIS sync')
  t.match(created, { id: String, name: 'HRIS sync', scopes: ['events:write', 'events:read'], createdAt: String })
  t.match(created.key, new RegExp(`^jl_${app.tenantId}_[A-Za-z0-9_-]{40,}$`))

  const listed = await getOk<Page<Record<string, unknown>>>(app, '/v1/api-keys')
  t.same(listed.data.map((k) => k.name).sort(), ['HRIS sync', 'admin'])
  t.ok(listed.data.every((k) => !('key' in k) && !('keyHash' in k)), 'no secret, no hash in the list')
  t.notOk(JSON.stringify(listed).includes(created.key), 'the key appears nowhere in the list')

  // only the hash is stored
  const rows = await asOwner(app.app.db, (tx) => query<{ row: string }>(tx, sql`select row_to_json(k)::text as row from api_keys k where tenant_id = ${app.tenantId}`))
  t.notOk(rows.some((r) => r.row.includes(created.key)), 'the key is in no column')
  t.ok(rows.some((r) => r.row.includes(hashKey(created.key))), 'its SHA-256 is')

  // invalid requests
  expectProblem(t, await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', scopes: ['everything'] } }), 400)
  expectProblem(t, await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', scopes: [] } }), 400)

  // revoking
  expectProblem(t, await app.request({ method: 'DELETE', url: '/v1/api-keys/key_unknown' }), 404)
  t.equal((await app.request({ method: 'DELETE', url: `/v1/api-keys/${created.id}` })).statusCode, 204)
  expectProblem(t, await app.request({ method: 'DELETE', url: `/v1/api-keys/${created.id}` }), 404)
  t.same((await getOk<Page<{ name: string }>>(app, '/v1/api-keys')).data.map((k) => k.name), ['admin'], 'a revoked key is not listed')
})

t.test('tenants: the operator key creates and lists them; each new tenant gets a working admin key', async (t) => {
  const operatorKey = `op_${randomBytes(16).toString('hex')}`
  const app = await buildTestApp(t, { operatorKey })
  const name = `Acme ${randomBytes(4).toString('hex')}`
  const createTenant = (body: Record<string, unknown>, key: string | null, headers: Record<string, string> = {}) =>
    app.request({ method: 'POST', url: '/v1/tenants', payload: body, key, headers })

  expectProblem(t, await createTenant({ name }, null), 401)
  expectProblem(t, await createTenant({ name }, `op_${randomBytes(16).toString('hex')}`), 401)
  expectProblem(t, await createTenant({ name }, app.adminKey), 401) // a tenant's admin is not the operator
  expectProblem(t, await get(app, '/v1/tenants', app.adminKey), 401)

  // when the operator creates a tenant
  const res = await createTenant({ name }, operatorKey)
  t.equal(res.statusCode, 201)
  const tenant = res.json<CreatedTenant>()
  t.match(tenant, { id: name.toLowerCase().replace(' ', '-'), name, createdAt: String, adminKey: new RegExp(`^jl_${tenant.id}_`) })

  // then its admin key works on the new tenant, and only there
  const keys = await getOk<Page<{ name: string; scopes: string[] }>>(app, '/v1/api-keys', tenant.adminKey)
  t.same(keys.data.map((k) => [k.name, k.scopes]), [['admin', ['admin']]])
  t.equal((await postEvents(app, ce('candidate.applied', 'j-1', { personId: 'p-1' }), { key: tenant.adminKey })).statusCode, 201)
  t.same((await getOk<Page<{ id: string }>>(app, '/v1/journeys', tenant.adminKey)).data.map((j) => j.id), ['j-1'])
  t.same((await getOk<Page<unknown>>(app, '/v1/journeys')).data, [], 'the test tenant does not see it')

  const listed = await getOk<Page<{ id: string; name: string }>>(app, '/v1/tenants', operatorKey)
  t.ok(listed.data.some((x) => x.id === tenant.id && x.name === name), 'listed')
  t.ok(listed.data.some((x) => x.id === app.tenantId), 'with the others')
  t.notOk(JSON.stringify(listed).includes('jl_'), 'no keys in the list')

  // a second tenant of the same name
  expectProblem(t, await createTenant({ name }, operatorKey), 409, { code: 'tenant-exists' })
  expectProblem(t, await createTenant({ name: '' }, operatorKey), 400)

  // the contract: a response that carried a secret is never stored, and its replay answers 409 secret-not-replayable
  const retried = `Retry ${randomBytes(4).toString('hex')}`
  const once = await createTenant({ name: retried }, operatorKey, { 'idempotency-key': 'create-retry' })
  t.equal(once.statusCode, 201)
  const again = await createTenant({ name: retried }, operatorKey, { 'idempotency-key': 'create-retry' })
  expectProblem(t, again, 409, { code: 'secret-not-replayable' })
  t.notOk(again.body.includes(once.json<CreatedTenant>().adminKey), 'the admin key is not in the answer')
  t.same(await storedResponses(app, once.json<CreatedTenant>().adminKey), [], 'nor anywhere in the stored responses')
})

/** The sealed responses the service keeps for replay, opened: none may hold `secret` (those about a person are sealed under their key and hold no key). */
async function storedResponses(app: TestApp, secret: string): Promise<string[]> {
  const rows = await asOwner(app.app.db, (tx) => query<{ tenantId: string; key: string; response: string | null }>(tx, sql`
    select tenant_id as "tenantId", key, response from idempotency_keys where response is not null and person_ref is null`))
  return rows.map((r) => JSON.stringify(app.app.keyring.openRecord(r.response ?? '', `idempotency/${r.tenantId}/${r.key}`))).filter((body) => body.includes(secret))
}

t.test('a new API key is shown once: a retry with the same Idempotency-Key answers 409 secret-not-replayable, and nothing stored holds the key', async (t) => {
  const app = await buildTestApp(t)
  const create = () => app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'sync', scopes: ['events:write'] }, headers: { 'idempotency-key': 'key-once' } })
  const first = await create()
  t.equal(first.statusCode, 201)
  const { key, id } = first.json<CreatedKey>()
  const retry = await create()
  expectProblem(t, retry, 409, { code: 'secret-not-replayable' })
  t.notOk(retry.body.includes(key), 'the key is not in the answer')
  t.same(await storedResponses(app, key), [], 'nor in any stored response')
  t.same((await getOk<Page<{ id: string }>>(app, '/v1/api-keys')).data.filter((k) => k.id === id).length, 1, 'one key was created, not two')

})

t.test('a flood of unknown keys does not push a valid key out of the cache', async (t) => {
  // A cache of 100 keys of each kind, flooded with 12 times as many unknown keys.
  const app = await buildTestApp(t, { authCacheSize: 100 })
  const reader = (await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['events:read'] } })).json<{ id: string; key: string }>()
  t.equal((await app.request({ method: 'GET', url: '/v1/events', key: reader.key })).statusCode, 200, 'the key works, and is cached')
  // Revoked behind the cache's back (as on another instance): only a fresh lookup would see it.
  await asOwner(app.app.db, (tx) => execute(tx, sql`update api_keys set revoked_at = now() where tenant_id = ${app.tenantId} and id = ${reader.id}`))
  const flood = Array.from({ length: 1_200 }, () => `jl_${app.tenantId}_${randomBytes(24).toString('base64url')}`)
  for (let i = 0; i < flood.length; i += 200) {
    const answers = await Promise.all(flood.slice(i, i + 200).map((key) => app.request({ method: 'GET', url: '/v1/events', key })))
    t.ok(answers.every((r) => r.statusCode === 401), `unknown keys ${i}-${i + 199}: 401`)
  }
  t.equal((await app.request({ method: 'GET', url: '/v1/events', key: reader.key })).statusCode, 200, 'the valid key is still served from the cache (not evicted by the flood)')
  app.clock.advanceDays(1)
  t.equal((await app.request({ method: 'GET', url: '/v1/events', key: reader.key })).statusCode, 401, 'once the entry expires, the revocation shows')
})
