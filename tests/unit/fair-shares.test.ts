// Fair shares: a tenant's transactions run at most its share at once and wait in a bounded queue;
// its group-commit queue is bounded; load shedding answers a problem. All refusals are 503 problems
// with Retry-After, and another tenant is never made to wait. Plain functions: no database, no clock.
import t from 'tap'
import { ProblemError } from '../../src/domain/errors.js'
import { shedLoad } from '../../src/plugins/load-shedding.js'
import { Batcher } from '../../src/store/batcher.js'
import { TenantShares } from '../../src/store/tenant-shares.js'

/** A promise and the function that settles it: work that holds its slot until the test lets go. */
function gate() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { opened, open }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

t.test('a tenant runs at most its share at once, waits in a bounded queue, and never holds up another tenant', async (t) => {
  const shares = new TenantShares(2, 1)
  const held = [gate(), gate()]
  const started: string[] = []
  const work = (name: string, until: Promise<void>) => async () => {
    started.push(name)
    await until
    return name
  }
  const first = shares.run('a', work('a1', held[0]?.opened ?? Promise.resolve()))
  const second = shares.run('a', work('a2', held[1]?.opened ?? Promise.resolve()))
  const third = shares.run('a', work('a3', Promise.resolve()))
  const refused = await shares.run('a', work('a4', Promise.resolve())).then(() => null, (e: unknown) => e)
  t.match(refused, { status: 503, code: 'tenant-busy', extensions: { retryAfterSeconds: 1 } }, 'past the queue: refused at once')
  t.ok(refused instanceof ProblemError)
  t.equal(await shares.run('b', work('b1', Promise.resolve())), 'b1', 'another tenant runs at once')
  await turn()
  t.same(started, ['a1', 'a2', 'b1'], 'the third of a waits for a slot')
  t.equal(shares.runningOf('a'), 2)
  held[0]?.open()
  t.equal(await first, 'a1')
  t.equal(await third, 'a3', 'the slot is handed to the one waiting')
  held[1]?.open()
  t.equal(await second, 'a2')
  t.equal(shares.runningOf('a'), 0, 'and all slots are free again')
})

t.test('the group-commit queue of a tenant is bounded: past it, an append is refused at once with 503', async (t) => {
  const running = gate()
  const batcher = new Batcher<number, number>({
    concurrency: 1, maxWeight: 100, maxWaitingWeight: 3,
    full: () => new ProblemError(503, 'queue-full', 'Full', 'full', { retryAfterSeconds: 1 }),
    splittable: () => false,
    together: async (_key, inputs) => { await running.opened; return inputs },
    alone: async (_key, input) => { await running.opened; return input },
  })
  const busy = batcher.submit('a', 1)
  await turn()
  // The first group runs (and holds); these wait, weighing 1 each.
  const waiting = [batcher.submit('a', 2), batcher.submit('a', 3), batcher.submit('a', 4)]
  const refused = await batcher.submit('a', 5).then(() => null, (e: unknown) => e)
  t.match(refused, { status: 503, code: 'queue-full' })
  const other = batcher.submit('b', 6)
  running.open()
  t.same(await Promise.all([busy, ...waiting, other]), [1, 2, 3, 4, 6], 'what was queued is written, another tenant too')
  t.equal(await batcher.submit('a', 7), 7, 'and once the queue drains, appends are taken again')
})

t.test('load shedding answers 503 overloaded with Retry-After, but the liveness probe still answers', async (t) => {
  await t.resolves(shedLoad('/healthz', 'eventLoopDelay'))
  await t.rejects(shedLoad('/v1/journeys', 'eventLoopDelay'), { status: 503, code: 'overloaded', extensions: { retryAfterSeconds: 2 } })
})
