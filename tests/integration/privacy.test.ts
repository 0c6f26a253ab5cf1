// Privacy by construction: personal fields are sealed per person, erasure shreds the key, export
// shows everything about one person and nothing about anyone else, and every step is audited.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sweepRetention } from '../../src/store/retention.js'
import { withoutPersonIds } from '../../src/app.js'
import { buildTestApp, ce, onPostgres } from '../helpers/app.js'
import { everyRead, personWithNotes, rawFiles } from '../helpers/people.js'

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
  t.same(figuresAfter, { ...figuresBefore, personId: null }, 'the journey (counts, stages, scores) is unchanged; it names no one')
  // (The people routes echo the id the client asked with; nothing else may name them.)
  t.notMatch(after.split('\n').filter((body: string) => !body.startsWith('{"personId"')).join('\n'), 'p-erase', 'no read names the person')
  const applied = feed.find((e: { type: string; subject: string }) => e.type === 'candidate.applied' && e.subject === 'j-erase')
  t.same(applied.data, { personId: null, channel: null }, 'the feed no longer names them')
  const person = (await app.request({ method: 'GET', url: '/v1/people/p-erase' })).json()
  t.same({ erased: person.erased, journeys: person.journeys }, { erased: true, journeys: [] }, 'the tombstone answers for the id')

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
  t.same(doc.promises.map((p: { id: string }) => p.id).filter((id: string) => id.startsWith('j-a')), ['j-a-p', 'j-a-q'])
  t.equal(doc.promises.length, 3, 'with the promise the offer made')
  t.equal(doc.events.length, 18, 'the 17 sent and the promise the offer made')
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
  t.match(actions, [`tenant.created ${app.tenantId}`, /^api-key.created/, `api-key.created ${key.id}`, `api-key.revoked ${key.id}`, /^person.exported p_[0-9a-f]{32}$/, /^person.erased p_[0-9a-f]{32}$/])
  t.equal(actions[4].split(' ')[1], actions[5].split(' ')[1], 'the export and the erasure name the same reference')
  for (const w of [...words, 'p-au']) t.notMatch(audit.body, w, 'the audit trail names no one')
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


t.test('logs name the route, not the person', async (t) => {
  t.equal(withoutPersonIds('/v1/people/ann%40example.com/export'), '/v1/people/{personId}/export')
  t.equal(withoutPersonIds('/v1/journeys?stage=active&personId=ann%40example.com&limit=5'), '/v1/journeys?stage=active&personId={personId}&limit=5')
  t.equal(withoutPersonIds('/v1/journeys/j-1'), '/v1/journeys/j-1')
})
