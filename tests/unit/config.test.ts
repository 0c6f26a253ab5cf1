// The group-commit knobs are configuration: defaults when unset, the environment's values when
// valid, and a ConfigError naming the variable when not.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('append groups default to two groups of up to 200 events; batches of 50 run alone', async (t) => {
  t.same(loadConfig({}, {}).appendGroups, { concurrency: 2, maxEvents: 200, ownBatch: 50 })
})

t.test('the environment sets each knob', async (t) => {
  const config = loadConfig({}, { APPEND_GROUP_CONCURRENCY: '4', APPEND_GROUP_MAX_EVENTS: '1000', APPEND_GROUP_OWN_BATCH: '1' })
  t.same(config.appendGroups, { concurrency: 4, maxEvents: 1000, ownBatch: 1 })
})

t.test('values out of bounds are refused by name', async (t) => {
  const cases: Record<string, string>[] = [
    { APPEND_GROUP_CONCURRENCY: '0' },
    { APPEND_GROUP_CONCURRENCY: '33' },
    { APPEND_GROUP_MAX_EVENTS: '1001' },
    { APPEND_GROUP_OWN_BATCH: '0' },
    { APPEND_GROUP_OWN_BATCH: 'many' },
  ]
  for (const env of cases) {
    const [name] = Object.keys(env)
    t.throws(() => loadConfig({}, env), { constructor: ConfigError, message: new RegExp(`${name}`) }, JSON.stringify(env))
  }
})
