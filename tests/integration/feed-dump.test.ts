// The feed survives pg_dump and restore into a fresh database: positions are plain numbers of the
// tenant's own (no transaction id of the old cluster), so a reader's cursor resumes on the copy and
// the copy's next append follows on. PostgreSQL only: creates two scratch databases beside the suite's.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { buildTestApp, ce, onPostgres } from '../helpers/app.js'
import { given, readWholeFeed } from '../helpers/spine.js'

const run = promisify(execFile)
const applied = (journeyId: string) => ce('candidate.applied', journeyId, { personId: `p-${journeyId}` })

t.test('a dump restored into a fresh database serves the same feed, resumes old cursors and numbers on', { skip: onPostgres ? false : 'PostgreSQL only (pg_dump)' }, async (t) => {
  const base = new URL(process.env.DATABASE_URL ?? '')
  const urlOf = (name: string) => Object.assign(new URL(base.href), { pathname: `/${name}` }).href
  const [source, copy] = ['src', 'copy'].map((side) => `${base.pathname.slice(1)}_dump_${process.pid}_${side}`)
  if (!source || !copy) throw new Error('no database names')
  const admin = postgres(base.href, { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    for (const name of [source, copy]) await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  })
  for (const name of [source, copy]) await admin.unsafe(`create database "${name}"`)

  // given a tenant's feed on the source, and a reader who has read the first two events
  const original = await buildTestApp(t, { databaseUrl: urlOf(source), migrationDatabaseUrl: urlOf(source) })
  await given(original, applied('j-1'), applied('j-2'))
  await given(original, applied('j-3'))
  const firstPage = await readWholeFeed(original, { limit: 2 })
  const whole = firstPage.events.map((e) => [e.position, e.id])
  t.same(whole.map(([position]) => position), [1, 2, 3], 'the source numbers 1, 2, 3')
  const midway = (await original.request({ method: 'GET', url: '/v1/events?limit=2' })).json<{ nextCursor: string }>().nextCursor

  // when the database is dumped and restored into a fresh one
  await run('bash', ['-c', 'set -o pipefail; pg_dump "$0" | psql -q -v ON_ERROR_STOP=1 "$1" >/dev/null', urlOf(source), urlOf(copy)])
  const restored = await buildTestApp(t, { databaseUrl: urlOf(copy), migrationDatabaseUrl: urlOf(copy) })
  const asBefore = { ...restored, request: (options: Parameters<typeof restored.request>[0]) => restored.request({ ...options, key: options.key ?? original.adminKey }) }

  // then the copy serves the same feed, the reader's cursor resumes there, and appends follow on
  t.same((await readWholeFeed(asBefore)).events.map((e) => [e.position, e.id]), whole, 'the same events at the same positions')
  t.same((await readWholeFeed(asBefore, { after: midway })).events.map((e) => e.position), [3], 'the old cursor resumes after position 2')
  const [next] = await given(asBefore, applied('j-4'))
  t.equal(next?.position, 4, 'the next append on the copy takes position 4')
  t.same((await readWholeFeed(asBefore, { after: firstPage.cursor })).events.map((e) => e.subject), ['j-4'])
})
