// The commit-safe feed (PostgreSQL only: it needs two transactions at once). A transaction that
// started writing first but commits last must not be skipped by a reader who already read past
// the events committed meanwhile.
import t from 'tap'
import { parseEvents } from '../../src/domain/cloudevent.js'
import { inTenant, openDatabase } from '../../src/store/database.js'
import { recordEvents } from '../../src/store/record-events.js'
import { buildTestApp, ce, onPostgres } from '../helpers/app.js'
import { feedCaughtUp, getOk, given, readWholeFeed, type Page, type StoredEvent } from '../helpers/spine.js'

const postgresOnly = onPostgres ? {} : { skip: 'PostgreSQL only: PGlite is one connection, so no two transactions overlap' }

/** A latch: `opened` resolves once `open()` is called. */
function latch() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}

t.test('an event whose transaction commits late is read after it commits, not skipped, not read twice', postgresOnly, async (t) => {
  const app = await buildTestApp(t)
  // a second connection of its own, as another instance of the service would hold
  const other = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://', poolSize: 1 })
  t.teardown(() => other.close())

  // given a reader who has read everything so far
  await given(app, ce('candidate.applied', 'j-0', { personId: 'p-0' }))
  await feedCaughtUp(app)
  const start = await readWholeFeed(app)
  t.equal(start.events.length, 1)

  // when transaction A appends an event and stays open
  const eventA = ce('candidate.applied', 'j-a', { personId: 'p-a' })
  const appended = latch()
  const commit = latch()
  const transactionA = inTenant(other.db, app.tenantId, async (tx) => {
    const results = await recordEvents(tx, app.tenantId, parseEvents(eventA, { now: app.clock.now() }), { batch: false, keyring: app.app.keyring })
    appended.open()
    await commit.opened
    return results
  })
  await appended.opened

  // and event B is appended through the API and commits first
  const [resultB] = await given(app, ce('candidate.applied', 'j-b', { personId: 'p-b' }))

  // then the reader does not get B while A is open: A's transaction is older, and may still commit
  const whileOpen = await getOk<Page<StoredEvent>>(app, `/v1/events?after=${start.cursor}`)
  t.same(whileOpen.data, [], 'B is held back behind the open transaction')
  t.equal(whileOpen.nextCursor, start.cursor, 'and the cursor does not move past A')
  t.equal((await getOk<Page<StoredEvent>>(app, '/v1/journeys/j-b/events')).data.length, 1, 'though B is committed and readable on its stream')

  // when A commits
  commit.open()
  const [resultA] = await transactionA
  await feedCaughtUp(app)

  // then reading on from the same cursor returns A and B, once each, A first (its transaction began first)
  const resumed = await readWholeFeed(app, { after: start.cursor, limit: 1 })
  t.same(resumed.events.map((e) => e.id), [resultA?.id, resultB?.id])
  t.ok((resultB?.position ?? 0) > (resultA?.position ?? 0), 'A holds the smaller position: a reader paging by position alone would have skipped it')
  const again = await readWholeFeed(app, { after: resumed.cursor })
  t.same(again.events, [], 'nothing is read twice')
  const whole = await readWholeFeed(app)
  t.same(whole.events.map((e) => e.subject), ['j-0', 'j-a', 'j-b'], 'a reader from the start sees all three')
})

t.test('a transaction that rolls back leaves no trace in the feed', postgresOnly, async (t) => {
  const app = await buildTestApp(t)
  const other = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://', poolSize: 1 })
  t.teardown(() => other.close())

  const appended = latch()
  const abort = latch()
  const transactionA = inTenant(other.db, app.tenantId, async (tx) => {
    await recordEvents(tx, app.tenantId, parseEvents(ce('candidate.applied', 'j-a', { personId: 'p-a' }), { now: app.clock.now() }), { batch: false, keyring: app.app.keyring })
    appended.open()
    await abort.opened
    throw new Error('rolled back on purpose')
  })
  await appended.opened
  await given(app, ce('candidate.applied', 'j-b', { personId: 'p-b' }))
  abort.open()
  await t.rejects(transactionA, /rolled back on purpose/)
  await feedCaughtUp(app)
  t.same((await readWholeFeed(app)).events.map((e) => e.subject), ['j-b'], 'only B, once A is gone')
})
