import t from 'tap'
import { RevisionCache } from '../../src/store/revision-cache.js'

function setup(maxEntries = 10) {
  let clock = 0
  const cache = new RevisionCache<number>({ maxEntries, refreshAfterMs: 1000, now: () => clock })
  let computed = 0
  const compute = (value: number) => () => {
    computed += 1
    return Promise.resolve(value)
  }
  return { cache, compute, tick: (ms: number) => { clock += ms }, computed: () => computed }
}

t.test('computes once per revision, again when the revision moves', async (t) => {
  const { cache, compute, computed } = setup()
  t.equal(await cache.get('k', 1, compute(10)), 10)
  t.equal(await cache.get('k', 1, compute(11)), 10, 'same revision: the cached value')
  t.equal(computed(), 1)
  t.equal(await cache.get('k', 2, compute(12)), 12, 'the ledger moved: recomputed')
  t.equal(await cache.get('other', 2, compute(13)), 13, 'keys are separate')
  t.equal(computed(), 3)
})

t.test('requests during a computation share it', async (t) => {
  const { cache } = setup()
  let release: (v: number) => void = () => {}
  let calls = 0
  const slow = () => {
    calls += 1
    return new Promise<number>((resolve) => { release = resolve })
  }
  const all = Promise.all([cache.get('k', 1, slow), cache.get('k', 1, slow), cache.get('k', 1, slow)])
  release(7)
  t.same(await all, [7, 7, 7])
  t.equal(calls, 1)
})

t.test('a failed computation is not kept', async (t) => {
  const { cache, compute } = setup()
  await t.rejects(cache.get('k', 1, () => Promise.reject(new Error('database away'))))
  t.equal(await cache.get('k', 1, compute(5)), 5)
})

t.test('an old entry is served while it is recomputed in the background', async (t) => {
  const { cache, compute, tick, computed } = setup()
  await cache.get('k', 1, compute(1))
  tick(1001)
  t.equal(await cache.get('k', 1, compute(2)), 1, 'served at once')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(await cache.get('k', 1, compute(3)), 2, 'then replaced by the fresh value')
  t.equal(computed(), 2)
})

t.test('the least recently used entry goes first', async (t) => {
  const { cache, compute, computed } = setup(2)
  await cache.get('a', 1, compute(1))
  await cache.get('b', 1, compute(2))
  await cache.get('a', 1, compute(0))
  await cache.get('c', 1, compute(3))
  t.equal(computed(), 3)
  t.equal(await cache.get('a', 1, compute(9)), 1, 'a was used recently: kept')
  t.equal(await cache.get('b', 1, compute(9)), 9, 'b was evicted')
})
