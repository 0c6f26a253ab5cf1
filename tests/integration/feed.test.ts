// The per-tenant feed: positions 1, 2, 3... with no gap, in commit order, taken from the tenant's
// head row in the append's last statement. A transaction that appends first holds the next one back
// until it commits or rolls back, so a reader paging by position never skips or repeats an event.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { parseEvents } from '../../src/domain/cloudevent.js'
import { inTenant, openDatabase, queryOne } from '../../src/store/database.js'
import { recordEvents } from '../../src/store/record-events.js'
import { seededRandom } from '../helpers/faults.js'
import { asOwner } from '../helpers/owner.js'
import { buildTestApp, ce, onPostgres, type TestApp } from '../helpers/app.js'
import { expectProblem, getOk, given, postEvents, readWholeFeed, type AppendResult, type Page, type StoredEvent } from '../helpers/spine.js'

const postgresOnly = onPostgres ? {} : { skip: 'PostgreSQL only: PGlite is one connection, so no two transactions overlap' }
const applied = (journeyId: string) => ce('candidate.applied', journeyId, { personId: `p-${journeyId}` })

/** A latch: `opened` resolves once `open()` is called. */
function latch() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}

/** Resolves once some session waits for a lock on the tenant's head row (an append held back); bounded by round trips, not time. */
async function someAppendWaits(app: TestApp): Promise<void> {
  for (let attempt = 0; attempt < 5000; attempt++) {
    const row = await asOwner(app.app.db, (tx) => queryOne<{ waiting: boolean }>(tx, sql`
      select exists (select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%tenant_heads%') as waiting`))
    if (row?.waiting) return
  }
  throw new Error('no append came to wait on the head row')
}

/** An open transaction of another connection that has appended one event and waits for `finish` to commit or fail. */
async function openAppend(t: Tap, app: TestApp, journeyId: string) {
  const other = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://', poolSize: 1 })
  t.teardown(() => other.close())
  const appended = latch()
  const finish = latch()
  let fail = false
  const done = inTenant(other.db, app.tenantId, async (tx) => {
    const results = await recordEvents(tx, app.tenantId, parseEvents(applied(journeyId), { now: app.clock.now() }), { batch: false, keyring: app.app.keyring })
    appended.open()
    await finish.opened
    if (fail) throw new Error('rolled back on purpose')
    return results
  })
  await appended.opened
  return { done, commit: finish.open, rollBack: () => { fail = true; finish.open() } }
}
type Tap = Parameters<typeof buildTestApp>[0]

t.test('an append that commits late is numbered before the one it held back: nothing is skipped or read twice', postgresOnly, async (t) => {
  const app = await buildTestApp(t)
  await given(app, applied('j-0'))
  const start = await readWholeFeed(app)
  t.same(start.events.map((e) => e.position), [1], 'the first event of a tenant is position 1')

  // when transaction A appends and stays open, and B is appended through the API meanwhile
  const a = await openAppend(t, app, 'j-a')
  const b = given(app, applied('j-b'))
  await someAppendWaits(app)

  // then neither is in the feed while A is open: B waits for A's head
  const whileOpen = await getOk<Page<StoredEvent>>(app, `/v1/events?after=${start.cursor}`)
  t.same(whileOpen, { data: [], nextCursor: start.cursor }, 'nothing new, and the cursor stays')

  // when A commits, B follows it
  a.commit()
  const [[resultA], [resultB]] = await Promise.all([a.done, b])
  t.same([resultA?.position, resultB?.position], [2, 3], 'A then B, with no gap')
  const resumed = await readWholeFeed(app, { after: start.cursor, limit: 1 })
  t.same(resumed.events.map((e) => e.subject), ['j-a', 'j-b'], 'read on from the same cursor: A, then B')
  t.same((await readWholeFeed(app, { after: resumed.cursor })).events, [], 'nothing is read twice')
})

t.test('an append that rolls back leaves no gap and no trace', postgresOnly, async (t) => {
  const app = await buildTestApp(t)
  const a = await openAppend(t, app, 'j-a')
  const b = given(app, applied('j-b'))
  await someAppendWaits(app)
  a.rollBack()
  await t.rejects(a.done, /rolled back on purpose/)
  const [resultB] = await b
  t.equal(resultB?.position, 1, 'B takes the position A gave back')
  t.same((await readWholeFeed(app)).events.map((e) => [e.subject, e.position]), [['j-b', 1]])
})

t.test('writers append while readers page the whole time: every reader sees 1, 2, 3... each event once', async (t) => {
  const app = await buildTestApp(t, { dbPoolSize: 8 })
  const random = seededRandom(17)
  const writers = onPostgres ? 6 : 3
  const requestsEach = onPostgres ? 25 : 10
  let writing = true
  // PGlite serves one statement at a time, and free-running readers starve the writers there: each
  // reader reads one page per write instead (on PostgreSQL they page as fast as they can).
  let wrote = latch()
  const written: AppendResult[] = []
  const write = async (writer: number) => {
    for (let i = 0; i < requestsEach; i++) {
      const size = random() < 0.3 ? 2 + Math.floor(random() * 6) : 1
      const events = Array.from({ length: size }, (_, k) => applied(`j-${writer}-${i}-${k}`))
      const res = await postEvents(app, size === 1 ? events[0] : events)
      if (res.statusCode !== 201) throw new Error(`append: ${res.statusCode} ${res.body}`)
      written.push(...res.json<{ data: AppendResult[] }>().data)
      wrote.open()
      wrote = latch()
    }
  }
  const read = async () => {
    const seen: StoredEvent[] = []
    let cursor: string | null = null
    // Pages until the writers are done and a page after that comes back empty.
    for (let last = false; ;) {
      const done: boolean = !writing
      if (!onPostgres && !done) await wrote.opened
      const params = new URLSearchParams({ limit: String(1 + Math.floor(random() * 7)) })
      if (cursor) params.set('after', cursor)
      const page: Page<StoredEvent> = await getOk<Page<StoredEvent>>(app, `/v1/events?${params}`)
      seen.push(...page.data)
      cursor = page.nextCursor
      if (page.data.length === 0 && last) return seen
      last = done
    }
  }
  const readers = Promise.all([read(), read(), read()])
  await Promise.all(Array.from({ length: writers }, (_, w) => write(w)))
  writing = false
  wrote.open()
  const seenByReader = await readers

  const positions = written.map((r) => r.position).sort((x, y) => x - y)
  t.same(positions, positions.map((_, i) => i + 1), `${written.length} events hold positions 1..${written.length}, no gap, none twice`)
  const order = new Map(written.map((r) => [r.position, r.id]))
  seenByReader.forEach((seen, r) => {
    t.same(seen.map((e) => e.position), positions, `reader ${r} saw every position once, in order`)
    t.ok(seen.every((e) => order.get(e.position) === e.id), `reader ${r} saw each event at the position its append answered`)
  })
})

t.test('a cursor handed out before positions were per tenant resumes at its event; an unknown one is a 400', async (t) => {
  const app = await buildTestApp(t)
  await given(app, applied('j-1'), applied('j-2'), applied('j-3'))
  // as the migration mapped it: the event once at global position 90017 is now the tenant's position 2
  await asOwner(app.app.db, (tx) => queryOne(tx, sql`
    insert into feed_legacy_positions (tenant_id, old_position, position) values (${app.tenantId}, 90017, 2)`))
  const legacy = Buffer.from('48211:90017').toString('base64url')
  t.same((await readWholeFeed(app, { after: legacy })).events.map((e) => e.subject), ['j-3'], 'resumes after position 2')
  const unknown = Buffer.from('48211:90018').toString('base64url')
  expectProblem(t, await app.request({ method: 'GET', url: `/v1/events?after=${unknown}` }), 400, { errors: [{ path: '/after' }] })
  const other = await app.otherTenant()
  expectProblem(t, await app.request({ method: 'GET', url: `/v1/events?after=${legacy}`, key: other.adminKey }), 400, { errors: [{ path: '/after' }] })
})
