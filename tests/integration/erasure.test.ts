// Erasure against a copy of the disk: keys held outside the data, rotated online; the erased
// person's id, data key and words gone from the database files; replays that forget.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { inTenant, query } from '../../src/store/database.js'
import { buildTestApp, onPostgres, testConfig, type TestApp } from '../helpers/app.js'
import { asOwner } from '../helpers/owner.js'
import { personWithNotes, rawFiles, word } from '../helpers/people.js'

t.test('a wrong master key stops the start-up; rotation runs online, old and new keys side by side', async (t) => {
  const dir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'jl-key-'))
  if (dir) t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildTestApp(t, dir ? { dataDir: dir } : {})
  const words = await personWithNotes(app, 'j-rot', 'p-rot')
  const wrong = 'ab'.repeat(32)
  await t.rejects(buildApp(testConfig({ ...(dir ? { dataDir: dir } : {}), masterKey: wrong })), /master key .* is not the one/)
  if (onPostgres) return // the shared database keeps the suite's key; rotation is exercised on PGlite
  const current = testConfig().masterKey ?? ''
  await app.app.close()
  // An instance restarted with the new key and the old one as previous reads all, and writes under the new one.
  const both = await buildApp(testConfig({ dataDir: dir, masterKey: wrong, previousMasterKeys: current }))
  const headers = { authorization: `Bearer ${app.adminKey}` }
  const during = await both.inject({ method: 'GET', url: '/v1/events?limit=200', headers })
  for (const w of words) t.match(during.body, w, 'readable during the rotation')
  const erasedBefore = await both.inject({ method: 'DELETE', url: '/v1/people/p-rot', headers })
  t.equal(erasedBefore.statusCode, 204)
  await personWithNotes({ ...app, request: (o) => both.inject({ ...o, headers: { ...headers, ...o.headers } }) }, 'j-new', 'p-new')
  t.equal(await both.keyring.rewrapAll(both.db), 0, 'nothing left under the old key but the erased, which is gone')
  await both.close()
  await t.rejects(buildApp(testConfig({ dataDir: dir, masterKey: current })), /not the one/, 'the old key alone no longer opens')
  const rotated = await buildApp(testConfig({ dataDir: dir, masterKey: wrong }))
  t.teardown(() => rotated.close())
  const feed = await rotated.inject({ method: 'GET', url: '/v1/events?limit=200', headers })
  t.match(feed.body, '"personId":"p-new"', 'readable under the new master key alone')
  const person = await rotated.inject({ method: 'GET', url: '/v1/people/p-rot', headers })
  t.equal(person.json().erased, true, 'the tombstone still recognises the erased id (its key was re-wrapped)')
})

t.test('rotation re-wraps the data keys written under the old master key', async (t) => {
  if (onPostgres) return t.pass('the shared database keeps the suite\'s key; rotation is exercised on PGlite')
  const dir = mkdtempSync(join(tmpdir(), 'jl-rewrap-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await buildTestApp(t, { dataDir: dir })
  const words = await personWithNotes(app, 'j-old', 'p-old')
  await app.app.close()
  const current = testConfig().masterKey ?? ''
  const next = 'cd'.repeat(32)
  const both = await buildApp(testConfig({ dataDir: dir, masterKey: next, previousMasterKeys: current }))
  t.equal(await both.keyring.rewrapAll(both.db), 1, 'one data key re-wrapped')
  await both.close()
  const rotated = await buildApp(testConfig({ dataDir: dir, masterKey: next }))
  t.teardown(() => rotated.close())
  const feed = await rotated.inject({ method: 'GET', url: '/v1/events?limit=200', headers: { authorization: `Bearer ${app.adminKey}` } })
  for (const w of words) t.match(feed.body, w, 'readable under the new master key alone')
})

/** The files of a PostgreSQL table and its indexes, read raw from the server's data directory. */
async function tableFiles(app: TestApp, table: string): Promise<string> {
  await app.app.db.maintain('checkpoint')
  const rows = await asOwner(app.app.db, (tx) => query<{ path: string }>(tx, sql`
    select current_setting('data_directory') || '/' || pg_relation_filepath(c.oid) as path from pg_class c
    where c.oid = ${table}::regclass or c.oid in (select indexrelid from pg_index where indrelid = ${table}::regclass)`))
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
