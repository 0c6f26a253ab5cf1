// Liveness, readiness, the 404 of an unknown route, and the OpenAPI document: complete, and the
// same as the committed openapi/openapi.json (the drift test).
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { generateOpenApi, openApiPath } from '../../scripts/openapi.js'
import { buildTestApp, onPostgres } from '../helpers/app.js'
import { expectProblem, getOk } from '../helpers/spine.js'

interface OpenApi {
  openapi: string
  paths: Record<string, Record<string, { summary?: string; tags?: string[]; operationId?: string; responses?: Record<string, unknown> }>>
  components: { schemas: Record<string, unknown> }
}

/**
 * Every route of the app as `METHOD /path/{param}`, read from Fastify's route tree (each line is a
 * segment appended to its parent's path). HEAD twins of GET routes are left out.
 */
function routesOf(tree: string): string[] {
  const routes: string[] = []
  const parents: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line)
    if (!match) continue
    const depth = (match[1] ?? '').length / 4
    const path = (parents[depth - 1] ?? '') + (match[2] ?? '')
    parents[depth] = path
    parents.length = depth + 1
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m && m !== 'HEAD')) {
      routes.push(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
    }
  }
  return routes
}

const journal = async () => {
  const parsed: { entries: unknown[] } = JSON.parse(await readFile(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8'))
  return parsed.entries.length
}

t.test('liveness, readiness and an unknown route', async (t) => {
  const app = await buildTestApp(t)
  t.same(await getOk(app, '/healthz', undefined), { status: 'ok' })
  const health = await app.request({ method: 'GET', url: '/healthz', key: null })
  t.equal(health.statusCode, 200, 'no key needed')
  const ready = await app.request({ method: 'GET', url: '/readyz', key: null })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', database: onPostgres ? 'postgres' : 'pglite', migrations: await journal() }, 'every migration applied')

  const unknown = await app.request({ method: 'GET', url: '/v1/nothing-here?x=1' })
  expectProblem(t, unknown, 404, { code: 'not-found', instance: '/v1/nothing-here' })
  expectProblem(t, await app.request({ method: 'PUT', url: '/v1/events' }), 404)
})

t.test('GET /openapi.json documents every route, and the committed document is what the app serves', async (t) => {
  const app = await buildTestApp(t)
  const served = (await app.request({ method: 'GET', url: '/openapi.json', key: null })).json<OpenApi>()
  t.equal(served.openapi, '3.1.0')

  // every route, except the documentation's own, is documented, and nothing else is
  const routes = routesOf(app.app.printRoutes({ commonPrefix: false }))
    .filter((r) => !/ \/docs(\/|$)|^GET \/openapi\.json$/.test(r))
  t.ok(routes.includes('POST /v1/events') && routes.includes('GET /v1/journeys/{journeyId}'), 'the route tree was read')
  const documented = Object.entries(served.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
  t.same(documented.filter((r) => !routes.includes(r)), [], 'every documented operation is a route of the app')
  const undocumented = routes.filter((r) => !documented.includes(r))
  t.same(undocumented.filter((r) => r !== 'GET /metrics'), [], 'every route of the app is documented')
  t.notOk(undocumented.includes('GET /metrics'), 'GET /metrics is documented (its route declares tags and a summary)')
  for (const [path, operations] of Object.entries(served.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.summary && operation.tags?.length && Object.keys(operation.responses ?? {}).length > 0, `${method} ${path}: summary, tag, responses`)
    }
  }
  // a generated client names its methods after operationIds: one each, and no two alike
  const ids = Object.values(served.paths).flatMap((operations) => Object.values(operations).map((o) => o.operationId))
  t.same(ids.filter((id) => !id), [], 'every operation has an operationId')
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const name of ['Problem', 'CloudEvent', 'StoredEvent', 'Journey']) t.ok(served.components.schemas[name], `component ${name}`)
  t.same(Object.keys(served.components.schemas).filter((name) => name.startsWith('def-')), [], 'every component has a name of its own')

  // the drift test: the committed file is byte for byte what generation produces, and what the app serves
  const committed = await readFile(openApiPath, 'utf8')
  const generated = await generateOpenApi()
  t.ok(committed === generated, 'openapi/openapi.json is up to date (run `npm run openapi`)')
  t.same(JSON.parse(committed), served, 'and it is what GET /openapi.json serves')
})

t.test('/metrics: off serves nothing; with a token, only to that token', async (t) => {
  const off = await buildTestApp(t, { metrics: { enabled: false } })
  t.equal((await off.request({ method: 'GET', url: '/metrics', key: null })).statusCode, 404)
  const token = 'metrics-token-0123456789abcdef'
  const guarded = await buildTestApp(t, { metrics: { enabled: true, token } })
  const without = await guarded.request({ method: 'GET', url: '/metrics', key: null })
  t.equal(without.statusCode, 401)
  t.match(without.headers['content-type'], /problem\+json/)
  t.equal((await guarded.request({ method: 'GET', url: '/metrics', key: 'metrics-token-wrong-0123456789' })).statusCode, 401)
  const read = await guarded.request({ method: 'GET', url: '/metrics', key: token })
  t.equal(read.statusCode, 200)
  t.match(read.body, /journey_events_appended_total/)
})
