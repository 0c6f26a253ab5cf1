// The baselines: a bare Fastify route on the same Node and loader as the service, so
// "journey reads ÷ hello" says what the service costs above the framework itself; and, given a
// DATABASE_URL, the same route doing one PostgreSQL round trip (`select 1` through postgres.js,
// prepared, a pool as large as the service's): the ceiling of any route that reads the database.
// Usage: node --import tsx bench/hello.ts PORT [DATABASE_URL]
import Fastify from 'fastify'
import postgres from 'postgres'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: hello.ts PORT\n')
  process.exit(2)
}

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
const databaseUrl = process.argv[3]
if (databaseUrl) {
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} })
  app.get('/hello/db', async () => {
    const [row] = await sql<{ one: number }[]>`select 1 as one`
    return { hello: row?.one }
  })
  app.addHook('onClose', () => sql.end({ timeout: 5 }))
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}

await app.listen({ port, host: '127.0.0.1' })
