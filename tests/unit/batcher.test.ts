// Group commit decides per failure whether running a group in halves can help: given a group of
// requests and a unit of work that fails, when the failure is one request's doing (a rule, a
// constraint) then the group splits down to that request; when it is an outage, every request of
// the group fails after one attempt. The work is plain functions: the Batcher knows no database.
import t from 'tap'
import { impossible, unavailable } from '../../src/domain/errors.js'
import { oneRequestMayCause } from '../../src/store/append-groups.js'
import { Batcher } from '../../src/store/batcher.js'

/** What postgres.js throws when the server is gone, wrapped as drizzle wraps a failed query. */
const outage = () => new Error('Failed query: insert into events ...', {
  cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
})
const ruleBroken = () => impossible('second-exit', 'the journey has exited already')

interface Calls { together: number[][]; alone: number[] }

/** A Batcher of numbers whose work fails as `fail` says for the inputs it is given, recording each call. */
function setup(fail: (inputs: number[], call: number) => Error | undefined) {
  const calls: Calls = { together: [], alone: [] }
  const batcher = new Batcher<number, string>({
    concurrency: 2,
    maxWeight: 200,
    splittable: oneRequestMayCause,
    async together(_key, inputs) {
      calls.together.push(inputs)
      const error = fail(inputs, calls.together.length + calls.alone.length)
      if (error) throw error
      return inputs.map((i) => `stored ${i}`)
    },
    async alone(_key, input) {
      calls.alone.push(input)
      const error = fail([input], calls.together.length + calls.alone.length)
      if (error) throw error
      return `stored ${input}`
    },
  })
  /** Submits the inputs in one turn of the event loop, so they form one group; settles every one. */
  const submitAll = (inputs: number[]) => Promise.allSettled(inputs.map((i) => batcher.submit('tenant', i)))
  return { calls, submitAll }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

t.test('an outage fails every request of a group after exactly one attempt', async (t) => {
  const error = outage()
  const { calls, submitAll } = setup(() => error)

  const settled = await submitAll(range(8))

  t.same(calls.together, [range(8)], 'one transaction for the group of eight')
  t.same(calls.alone, [], 'no request was tried alone')
  t.same(settled.map((s) => s.status), Array(8).fill('rejected'))
  t.ok(settled.every((s) => s.status === 'rejected' && s.reason === error), 'each request got the outage itself')
})

t.test('any error no single request can cause fails the group once', async (t) => {
  const { calls, submitAll } = setup(() => new Error('something unforeseen'))
  const settled = await submitAll(range(5))
  t.equal(calls.together.length + calls.alone.length, 1)
  t.same(settled.map((s) => s.status), Array(5).fill('rejected'))
})

t.test('a broken rule splits the group down to its culprit; the others are stored', async (t) => {
  const culprit = 5
  const { calls, submitAll } = setup((inputs) => (inputs.includes(culprit) ? ruleBroken() : undefined))

  const settled = await submitAll(range(8))

  t.same(calls.together, [range(8), [0, 1, 2, 3], [4, 5, 6, 7], [4, 5], [6, 7]], 'halves, in order')
  t.same(calls.alone, [4, 5], 'the last half ran one request at a time')
  t.same(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'refused')),
    ['stored 0', 'stored 1', 'stored 2', 'stored 3', 'stored 4', 'refused', 'stored 6', 'stored 7'])
  const refused = settled[culprit]
  t.match(refused?.status === 'rejected' ? refused.reason : undefined, { status: 409, code: 'rule-violated', extensions: { rule: 'second-exit' } })
  t.equal(calls.together.length + calls.alone.length, 7, '7 transactions for 8 requests and one culprit (2n - 1 = 15 without the split on halves)')
})

t.test('a constraint violation splits the group too', async (t) => {
  const duplicate = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', constraint_name: 'events_source_id' })
  const { calls, submitAll } = setup((inputs) => (inputs.includes(0) ? duplicate : undefined))
  const settled = await submitAll(range(4))
  t.same(calls.together, [range(4), [0, 1], [2, 3]])
  t.same(calls.alone, [0, 1])
  t.same(settled.map((s) => s.status), ['rejected', 'fulfilled', 'fulfilled', 'fulfilled'])
})

t.test('an outage that begins while a group is split fails each remaining half once', async (t) => {
  const down = outage()
  // The first attempt meets a broken rule; by the time the halves run, the database is gone.
  const { calls, submitAll } = setup((inputs, call) => (call === 1 ? ruleBroken() : down))

  const settled = await submitAll(range(8))

  t.same(calls.together, [range(8), [0, 1, 2, 3], [4, 5, 6, 7]], 'each half once, no further splits')
  t.same(calls.alone, [])
  t.ok(settled.every((s) => s.status === 'rejected' && s.reason === down), 'every request got the outage')
})

t.test('which failures one request may cause', async (t) => {
  t.ok(oneRequestMayCause(ruleBroken()), 'a domain rule')
  t.ok(oneRequestMayCause(Object.assign(new Error('dup'), { code: '23505', constraint: 'streams_tenant_id_kind_id_pk' })), 'a unique constraint')
  t.notOk(oneRequestMayCause(outage()), 'the database refused the connection')
  t.notOk(oneRequestMayCause(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), 'the server shut down')
  t.notOk(oneRequestMayCause(new Error('PGlite is closed')), 'PGlite closed')
  t.notOk(oneRequestMayCause(unavailable('shutting down')), 'a 503 problem is nobody\'s input')
  t.notOk(oneRequestMayCause(new TypeError('x is undefined')), 'a bug')
})
