// Privacy by construction: personal fields are sealed per person, erasure shreds the key, export
// shows everything about one person and nothing about anyone else, and every step is audited.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { sweepRetention } from '../../src/store/retention.js'
import { rewrapAll } from '../../src/store/keyring.js'
import { parseMasterKey } from '../../src/domain/crypto.js'
import { buildTestApp, ce, onPostgres, testConfig, type TestApp } from '../helpers/app.js'

const word = () => `zebra${Math.random().toString(36).slice(2, 10)}`

/** A person with free text everywhere: check-in notes, a promise and its outcome, an exit interview. */
async function personWithNotes(app: TestApp, journeyId: string, personId: string) {
  const words = { checkin: word(), promise: word(), evidence: word(), comment: word(), exit: word(), reason: word() }
  const res = await app.request({
    method: 'POST', url: '/v1/events', payload: [
      ce('candidate.applied', journeyId, { personId }, { time: '2024-01-01T00:00:00Z' }),
      ce('employee.hired', journeyId, { startDate: '2024-02-01', department: 'Ops' }, { time: '2024-01-10T00:00:00Z' }),
      ce('checkin.held', journeyId, { notes: `feels ${words.checkin}`, expectationsMet: 2 }, { time: '2024-03-01T00:00:00Z' }),
      ce('promise.made', journeyId, { promiseId: `${journeyId}-p`, category: 'career', text: `lead ${words.promise}`, madeBy: 'mgr-1' }, { time: '2024-02-01T00:00:00Z' }),
      ce('promise.kept', journeyId, { promiseId: `${journeyId}-p`, evidence: `did ${words.evidence}` }, { time: '2024-06-01T00:00:00Z' }),
      ce('promise.assessed', journeyId, { promiseId: `${journeyId}-p`, fulfilled: 2, comment: `meh ${words.comment}` }, { time: '2024-06-02T00:00:00Z' }),
      ce('exit.announced', journeyId, { kind: 'voluntary', reason: `left ${words.reason}` }, { time: '2024-07-01T00:00:00Z' }),
      ce('exit.interviewed', journeyId, { wouldRecommend: 3, promisesKept: 2, notes: `said ${words.exit}` }, { time: '2024-07-20T00:00:00Z' }),
      ce('employee.exited', journeyId, { lastDay: '2024-07-31' }, { time: '2024-07-31T00:00:00Z' }),
    ],
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return Object.values(words)
}

/** Every read path a client has, concatenated. */
async function everyRead(app: TestApp, journeyId: string, personId: string): Promise<string> {
  const urls = ['/v1/events?limit=200', `/v1/journeys/${journeyId}/events`, `/v1/journeys/${journeyId}`, `/v1/promises/${journeyId}-p`,
    `/v1/promises?journeyId=${journeyId}`, `/v1/people/${personId}`, `/v1/people/${personId}/export`, '/v1/audit?limit=200']
  const bodies = await Promise.all(urls.map((url) => app.request({ method: 'GET', url })))
  return bodies.map((r) => r.body).join('\n')
}

t.test('erasure makes a person\'s words unreadable everywhere and changes no figure', async (t) => {
  const app = await buildTestApp(t)
  const erasedWords = await personWithNotes(app, 'j-erase', 'p-erase')
  const keptWords = await personWithNotes(app, 'j-keep', 'p-keep')
  const before = await everyRead(app, 'j-erase', 'p-erase')
  for (const w of erasedWords) t.match(before, w, 'readable while the key exists')
  const figuresBefore = (await app.request({ method: 'GET', url: '/v1/journeys/j-erase' })).json()

  const erased = await app.request({ method: 'DELETE', url: '/v1/people/p-erase' })
  t.equal(erased.statusCode, 204)
  t.equal((await app.request({ method: 'DELETE', url: '/v1/people/p-erase' })).statusCode, 204, 'repeating is a 204 too')
  t.equal((await app.request({ method: 'DELETE', url: '/v1/people/p-never' })).statusCode, 404, 'an unknown person is a 404')

  const after = await everyRead(app, 'j-erase', 'p-erase')
  for (const w of erasedWords) t.notMatch(after, w, `no read shows ${w}`)
  const feed = (await app.request({ method: 'GET', url: '/v1/events?limit=200' })).json().data
  const checkin = feed.find((e: { type: string; subject: string }) => e.type === 'checkin.held' && e.subject === 'j-erase')
  t.same({ notes: checkin.data.notes, erased: checkin.erased, score: checkin.data.expectationsMet }, { notes: null, erased: true, score: 2 })
  const promise = (await app.request({ method: 'GET', url: '/v1/promises/j-erase-p' })).json()
  t.same({ text: promise.text, erased: promise.erased, status: promise.status, gap: promise.gap }, { text: null, erased: true, status: 'kept', gap: true })

  const figuresAfter = (await app.request({ method: 'GET', url: '/v1/journeys/j-erase' })).json()
  t.same(figuresAfter, figuresBefore, 'the journey (counts, stages, scores) is unchanged')

  const other = await everyRead(app, 'j-keep', 'p-keep')
  for (const w of keptWords) t.match(other, w, 'another person is untouched')
})

t.test('export holds everything about the person and nothing about anyone else', async (t) => {
  const app = await buildTestApp(t)
  const mine = await personWithNotes(app, 'j-a', 'p-a')
  const theirs = await personWithNotes(app, 'j-b', 'p-b')
  const res = await app.request({ method: 'GET', url: '/v1/people/p-a/export' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.same(doc.journeys.map((j: { id: string }) => j.id), ['j-a'])
  t.same(doc.promises.map((p: { id: string }) => p.id), ['j-a-p'])
  t.equal(doc.events.length, 9)
  for (const w of mine) t.match(res.body, w)
  for (const w of theirs) t.notMatch(res.body, w)
  t.notMatch(res.body, 'j-b')
})

t.test('every audited action is recorded, without personal data', async (t) => {
  const app = await buildTestApp(t)
  const words = await personWithNotes(app, 'j-au', 'p-au')
  const key = (await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'hris', scopes: ['events:write'] } })).json()
  await app.request({ method: 'DELETE', url: `/v1/api-keys/${key.id}` })
  await app.request({ method: 'GET', url: '/v1/people/p-au/export' })
  await app.request({ method: 'DELETE', url: '/v1/people/p-au' })
  const audit = await app.request({ method: 'GET', url: '/v1/audit?limit=200' })
  const actions = audit.json().data.map((a: { action: string; targetId: string }) => `${a.action} ${a.targetId}`)
  t.match(actions, [`tenant.created ${app.tenantId}`, /^api-key.created/, `api-key.created ${key.id}`, `api-key.revoked ${key.id}`, 'person.exported p-au', 'person.erased p-au'])
  for (const w of words) t.notMatch(audit.body, w)
  const limited = (await app.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['events:read'] } })).json()
  t.equal((await app.request({ method: 'GET', url: '/v1/audit', key: limited.key })).statusCode, 403, 'the audit trail needs admin')
})

t.test('retention erases the free text of people whose journeys ended long ago', async (t) => {
  const app = await buildTestApp(t)
  const old = await personWithNotes(app, 'j-old', 'p-old')
  const res = await app.request({ method: 'POST', url: '/v1/events', payload: [
    ce('candidate.applied', 'j-now', { personId: 'p-now' }, { time: '2024-01-01T00:00:00Z' }),
    ce('employee.hired', 'j-now', { startDate: '2024-02-01' }, { time: '2024-01-10T00:00:00Z' }),
    ce('checkin.held', 'j-now', { notes: 'still here sealion' }, { time: '2024-03-01T00:00:00Z' }),
  ] })
  t.equal(res.statusCode, 201)
  // Exited 2024-07-31: 22 months later nothing goes; 25 months later the free text does.
  t.same(await sweepRetention(app.app.db, 24, new Date('2026-05-31T00:00:00Z'), { tenantId: app.tenantId }), { persons: 0 })
  t.same(await sweepRetention(app.app.db, 24, new Date('2026-08-31T00:00:00Z'), { tenantId: app.tenantId }), { persons: 1 })
  const reads = await everyRead(app, 'j-old', 'p-old')
  for (const w of old) t.notMatch(reads, w)
  t.match(reads, 'person.retention-erased')
  t.match(await everyRead(app, 'j-now', 'p-now'), 'still here sealion', 'a current employee keeps theirs')
})

/** Every file below a directory, as one string (the raw bytes a backup would copy). */
function rawFiles(dir: string): string {
  const chunks: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) chunks.push(rawFiles(path))
    else chunks.push(readFileSync(path).toString('latin1'))
  }
  return chunks.join('')
}

t.test('the raw database never holds a personal field in plaintext', async (t) => {
  if (onPostgres) {
    const app = await buildTestApp(t)
    const words = await personWithNotes(app, 'j-dump', 'p-dump')
    const dump = execFileSync('pg_dump', ['--no-owner', process.env.DATABASE_URL ?? ''], { maxBuffer: 1 << 30 }).toString()
    t.ok(dump.includes('j-dump'), 'the dump holds the journey')
    for (const w of words) t.notOk(dump.includes(w), `pg_dump does not contain ${w}`)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'jl-raw-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildTestApp(t, { dataDir: dir })
  const words = await personWithNotes(app, 'j-raw', 'p-raw')
  await app.app.close()
  const raw = rawFiles(dir)
  t.ok(raw.includes('j-raw'), 'the data directory holds the journey')
  for (const w of words) t.notOk(raw.includes(w), `the data directory does not contain ${w}`)
})

t.test('a wrong master key stops the start-up; a rotated one reads everything', async (t) => {
  const dir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'jl-key-'))
  if (dir) t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildTestApp(t, dir ? { dataDir: dir } : {})
  const words = await personWithNotes(app, 'j-rot', 'p-rot')
  const wrong = 'ab'.repeat(32)
  await t.rejects(buildApp(testConfig({ ...(dir ? { dataDir: dir } : {}), masterKey: wrong })), /master key .* is not the one/)
  if (onPostgres) return // the shared database keeps the suite's key; rotation is exercised on PGlite
  const current = testConfig().masterKey ?? ''
  await app.app.close()
  const probe = await buildApp(testConfig({ dataDir: dir, masterKey: current }))
  t.equal(await rewrapAll(probe.db, parseMasterKey(current), parseMasterKey(wrong)), 1, 'one data key re-wrapped')
  await probe.close()
  await t.rejects(buildApp(testConfig({ dataDir: dir, masterKey: current })), /not the one/, 'the old key no longer opens')
  const rotated = await buildApp(testConfig({ dataDir: dir, masterKey: wrong }))
  t.teardown(() => rotated.close())
  const tenantKey = app.adminKey
  const feed = await rotated.inject({ method: 'GET', url: '/v1/events?limit=200', headers: { authorization: `Bearer ${tenantKey}` } })
  for (const w of words) t.match(feed.body, w, 'readable under the new master key')
})
