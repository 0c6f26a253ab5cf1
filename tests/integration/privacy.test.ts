// Privacy by construction: personal fields are sealed per person, erasure shreds the key, export
// shows everything about one person and nothing about anyone else, and every step is audited.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { execute, inTenant, query } from '../../src/store/database.js'
import { sweepRetention } from '../../src/store/retention.js'
import { rewrapAll } from '../../src/store/keyring.js'
import { parseMasterKey } from '../../src/domain/crypto.js'
import { buildTestApp, ce, onPostgres, testConfig, type TestApp } from '../helpers/app.js'

const word = () => `zebra${Math.random().toString(36).slice(2, 10)}`

/**
 * A person with a canary in every field that describes them: free text, labels, titles, reasons,
 * promise words and renegotiated terms, the channel, whom they referred.
 */
async function personWithNotes(app: TestApp, journeyId: string, personId: string) {
  const w = Object.fromEntries(['channel', 'interview', 'term', 'checkin', 'motivation', 'interest', 'wish', 'recognition', 'title', 'promise',
    'evidence', 'comment', 'renegotiated', 'broken', 'reason', 'exitReason', 'exit', 'referred'].map((k) => [k, word()]))
  const at = (day: string) => ({ time: `${day}T00:00:00Z` })
  const res = await app.request({
    method: 'POST', url: '/v1/events', payload: [
      ce('candidate.applied', journeyId, { personId, channel: `via ${w.channel}` }, at('2024-01-01')),
      ce('interview.held', journeyId, { interviewer: 'mgr-1', notes: `asked ${w.interview}` }, at('2024-01-03')),
      ce('offer.made', journeyId, { startDate: '2024-02-01', terms: [{ category: 'flexibility', text: `home ${w.term}`, dueAfterStartDays: 30 }] }, at('2024-01-05')),
      ce('employee.hired', journeyId, { startDate: '2024-02-01', department: 'Ops' }, at('2024-01-10')),
      ce('checkin.held', journeyId, { notes: `feels ${w.checkin}`, expectationsMet: 2, motivations: [w.motivation], interests: [w.interest], developmentWishes: [w.wish] }, at('2024-03-01')),
      ce('recognition.given', journeyId, { by: 'mgr-1', kind: 'award', note: `for ${w.recognition}` }, at('2024-03-05')),
      ce('development.started', journeyId, { kind: 'course', title: `course ${w.title}` }, at('2024-03-10')),
      ce('promise.made', journeyId, { promiseId: `${journeyId}-p`, category: 'career', text: `lead ${w.promise}`, madeBy: 'mgr-1' }, at('2024-02-01')),
      ce('promise.kept', journeyId, { promiseId: `${journeyId}-p`, evidence: `did ${w.evidence}` }, at('2024-06-01')),
      ce('promise.assessed', journeyId, { promiseId: `${journeyId}-p`, fulfilled: 2, comment: `meh ${w.comment}` }, at('2024-06-02')),
      ce('promise.made', journeyId, { promiseId: `${journeyId}-q`, category: 'compensation', text: 'a raise', madeBy: 'mgr-1' }, at('2024-02-02')),
      ce('promise.renegotiated', journeyId, { promiseId: `${journeyId}-q`, text: `later ${w.renegotiated}`, agreedByEmployee: true }, at('2024-04-01')),
      ce('promise.broken', journeyId, { promiseId: `${journeyId}-q`, reason: `budget ${w.broken}` }, at('2024-05-01')),
      ce('exit.announced', journeyId, { kind: 'voluntary', reason: `left ${w.reason}` }, at('2024-07-01')),
      ce('exit.interviewed', journeyId, { wouldRecommend: 3, promisesKept: 2, reasons: [w.exitReason], notes: `said ${w.exit}` }, at('2024-07-20')),
      ce('employee.exited', journeyId, { lastDay: '2024-07-31' }, at('2024-07-31')),
      ce('alumni.referred', journeyId, { referredPersonId: w.referred }, at('2024-09-01')),
    ],
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return Object.values(w)
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
  t.same(figuresAfter, { ...figuresBefore, personId: null }, 'the journey (counts, stages, scores) is unchanged; it names no one')
  // (The people routes echo the id the client asked with; nothing else may name them.)
  t.notMatch(after.split('\n').filter((body) => !body.startsWith('{"personId"')).join('\n'), 'p-erase', 'no read names the person')
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

/** The files of a PostgreSQL table and its indexes, read raw from the server's data directory. */
async function tableFiles(app: TestApp, table: string): Promise<string> {
  await execute(app.app.db, sql`checkpoint`)
  const rows = await query<{ path: string }>(app.app.db, sql`
    select current_setting('data_directory') || '/' || pg_relation_filepath(c.oid) as path from pg_class c
    where c.oid = ${table}::regclass or c.oid in (select indexrelid from pg_index where indrelid = ${table}::regclass)`)
  return rows.map((r) => readFileSync(r.path).toString('latin1')).join('')
}

t.test('after an erasure no database file holds the person\'s id, their data key or a word of theirs', async (t) => {
  const dir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'jl-erased-'))
  if (dir) t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildTestApp(t, dir ? { dataDir: dir } : {})
  const personId = `canary.${word()}@example.com`
  const words = await personWithNotes(app, 'j-gone', personId)
  const [row] = await inTenant(app.app.db, app.tenantId, (tx) => query<{ wrappedKey: string }>(tx, sql`
    select wrapped_key as "wrappedKey" from person_keys where tenant_id = ${app.tenantId} and person_id = ${personId}`))
  const wrappedKey = row?.wrappedKey ?? ''
  t.ok(wrappedKey.length > 40, 'the person had a data key')
  const before = dir ? rawFiles(dir) : await tableFiles(app, 'person_keys')
  t.ok(before.includes(personId), 'before: the mapping row holds the id')
  t.equal((await app.request({ method: 'DELETE', url: `/v1/people/${encodeURIComponent(personId)}` })).statusCode, 204)
  if (dir) await app.app.close()
  const after = dir ? rawFiles(dir) : await tableFiles(app, 'person_keys')
  for (const [what, value] of [['the id', personId], ['the wrapped data key', wrappedKey], ...words.map((w) => [`the word ${w}`, w])]) {
    t.notOk(after.includes(value ?? ''), `${dir ? 'the data directory' : 'person_keys\' files'} hold no trace of ${what}`)
  }
  if (onPostgres) {
    const dump = execFileSync('pg_dump', ['--no-owner', process.env.DATABASE_URL ?? ''], { maxBuffer: 1 << 30 }).toString()
    t.notOk(dump.includes(personId), 'no table names them')
  }
})

t.test('a replay of a response about a person is sealed under their key and forgotten with them', async (t) => {
  const app = await buildTestApp(t)
  await personWithNotes(app, 'j-replay', 'p-replay')
  const promise = { method: 'POST' as const, url: '/v1/journeys/j-replay/promises', headers: { 'idempotency-key': 'promise-1' }, payload: { category: 'career', text: 'a team of your own', madeBy: 'mgr-1' } }
  const first = await app.request(promise)
  t.equal(first.statusCode, 201)
  const replay = await app.request(promise)
  t.same({ status: replay.statusCode, replayed: replay.headers['idempotent-replayed'], text: replay.json().text }, { status: 201, replayed: 'true', text: 'a team of your own' })
  const [stored] = await inTenant(app.app.db, app.tenantId, (tx) => query<{ response: string; personRef: string | null }>(tx, sql`
    select response, person_ref as "personRef" from idempotency_keys where tenant_id = ${app.tenantId} and key = 'promise-1'`))
  t.match(stored?.personRef, /^p_[0-9a-f]{32}$/, 'the record names the person by reference')
  t.throws(() => app.app.keyring.openRecord(stored?.response ?? '', `idempotency/${app.tenantId}/promise-1`), 'the master key alone does not open it')

  t.equal((await app.request({ method: 'DELETE', url: '/v1/people/p-replay' })).statusCode, 204)
  const forgotten = await app.request(promise)
  t.equal(forgotten.statusCode, 410, 'a replay after the erasure is refused, not run again')
  t.match(forgotten.json(), { type: /replay-forgotten$/ })
  t.notMatch(forgotten.body, 'a team of your own')
})
