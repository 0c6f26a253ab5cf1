// The service's V8 flags live in npm start; the bench and the fault suite read them from there, and
// the Dockerfile's CMD must repeat them, or the container would run a service nobody measured.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { serviceNodeFlags } from '../../scripts/start-command.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('npm start passes V8 flags before tsx, and the Dockerfile runs the build with the same ones', async (t) => {
  const flags = serviceNodeFlags(root)
  t.ok(flags.length > 0, `npm start passes ${flags.join(' ')}`)
  t.ok(flags.every((flag) => flag.startsWith('--')), 'only flags stand between node and --import')
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(`${root}Dockerfile`, 'utf8'))?.[1]
  if (!cmd) throw new Error('the Dockerfile has no CMD in exec form')
  const words: unknown = JSON.parse(cmd)
  t.same(words, ['node', ...flags, 'dist/src/server.js'], 'the container starts the compiled service with npm start\'s flags')
})

t.test('a start script that is not node <flags> --import is refused, not misread', async (t) => {
  t.throws(() => serviceNodeFlags(t.testdir({ 'package.json': JSON.stringify({ scripts: { start: 'tsx src/server.ts' } }) })), /start script/)
})
