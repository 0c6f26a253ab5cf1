// The baseline: a bare Fastify route on the same Node and loader as the service, so
// "journey reads ÷ hello" says what the service costs above the framework itself.
// Usage: node --import tsx bench/hello.ts PORT
import Fastify from 'fastify'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: hello.ts PORT\n')
  process.exit(2)
}

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host: '127.0.0.1' })
