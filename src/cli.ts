// The `journey` command: operations run directly against the database when no server holds it
// (PGlite allows one process at a time).
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from './config.js'
import { defaultTenantId, scopes, type Scope } from './domain/keys.js'
import { fillPendingAggregates } from './store/aggregates.js'
import { inTenant, migrateDatabase, openDatabase, type Database } from './store/database.js'
import { keyringOf } from './plugins/keyring.js'
import { rebuildProjections } from './store/rebuild.js'
import { seedPopulation } from './store/seed.js'
import { sweepRetention } from './store/retention.js'
import { createApiKey, createTenant, listTenants } from './store/tenants.js'
import { startDeliveryLoop } from './webhooks/loop.js'
import { deliveryWorker } from './webhooks/worker.js'

const usage = `journey <command>

  migrate                                   apply database migrations
  tenants create --name NAME                create a tenant; prints its admin key once
  tenants list                              list tenants
  keys create --tenant ID --name NAME --scopes a,b   create an API key; prints it once
  projections rebuild [--tenant ID]         replay the ledger into every projection
  keys rotate-master                        re-wrap every data key under JOURNEY_MASTER_KEY (the new one),
                                            online, from JOURNEY_PREVIOUS_MASTER_KEYS; events are untouched
  retention sweep --months N                erase free text of persons whose journeys ended N months ago
  seed --journeys N [--seed S] [--tenant ID]   append a generated demo population (default tenant: default)
  worker                                    deliver webhooks until stopped (SIGINT, SIGTERM); run the
                                            service with WEBHOOK_WORKER=off when workers run apart

Configuration comes from the environment (DATABASE_URL, DATA_DIR, ...), as for the server.`

function out(line: string) {
  process.stdout.write(`${line}\n`)
}

/** An Error's message in JSON (its own fields are not enumerable). */
const errorFields = (_key: string, value: unknown) => (value instanceof Error ? { message: value.message } : value)

async function withDatabase<T>(config: Config, work: (database: Database) => Promise<T>, poolSize = 2): Promise<T> {
  const options = { databaseUrl: config.databaseUrl, migrationDatabaseUrl: config.migrationDatabaseUrl, dataDir: config.dataDir, poolSize }
  const database = await openDatabase(options)
  try {
    await migrateDatabase(database, options)
    await fillPendingAggregates(database.db)
    return await work(database)
  } finally {
    await database.close()
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`${flag} is required\n\n${usage}`)
  return value
}

function count(raw: string, flag: string): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new Error(`${flag} takes a whole number`)
  return n
}

function parseScopes(raw: string): Scope[] {
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = wanted.filter((s) => !scopes.some((known) => known === s))
  if (unknown.length > 0 || wanted.length === 0) throw new Error(`--scopes takes a comma-separated list of: ${scopes.join(', ')}`)
  return scopes.filter((s) => wanted.includes(s))
}

export async function runCli(argv: string[], config: Config = loadConfig()): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' }, tenant: { type: 'string' }, scopes: { type: 'string' }, months: { type: 'string' },
      journeys: { type: 'string' }, seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const command = positionals.join(' ')
  if (values.help || command === '') {
    out(usage)
    return
  }
  switch (command) {
    case 'migrate':
      await withDatabase(config, async () => out('migrations applied'))
      return
    case 'tenants create':
      await withDatabase(config, async ({ db }) => {
        const tenant = await createTenant(db, required(values.name, '--name'), { actor: 'cli' })
        out(JSON.stringify(tenant, null, 2))
      })
      return
    case 'tenants list':
      await withDatabase(config, async ({ db }) => out(JSON.stringify(await listTenants(db), null, 2)))
      return
    case 'keys create':
      await withDatabase(config, async ({ db }) => {
        const tenantId = required(values.tenant, '--tenant')
        const key = await inTenant(db, tenantId, (tx) => createApiKey(tx, tenantId, required(values.name, '--name'), parseScopes(required(values.scopes, '--scopes'))))
        out(JSON.stringify(key, null, 2))
      })
      return
    case 'projections rebuild':
      await withDatabase(config, async ({ db }) => {
        const report = await rebuildProjections(db, {
          tenantId: values.tenant,
          onProgress: (r) => process.stderr.write(`\r${r.streams} streams, ${r.events} events`),
        })
        process.stderr.write('\n')
        out(JSON.stringify({ ...report, eventsPerSecond: Math.round(report.events / Math.max(report.ms / 1000, 0.001)) }))
      })
      return
    case 'keys rotate-master':
      await withDatabase(config, async ({ db }) => {
        if (!config.previousMasterKeys) throw new Error('JOURNEY_PREVIOUS_MASTER_KEYS (the keys to rotate away from) is required; JOURNEY_MASTER_KEY is the new one')
        const keyring = keyringOf(config, (message) => process.stderr.write(`${message}\n`))
        const rewrapped = await keyring.rewrapAll(db)
        out(JSON.stringify({ rewrapped, fingerprint: keyring.fingerprint }))
      })
      return
    case 'retention sweep':
      await withDatabase(config, async ({ db }) => {
        const months = Number(values.months ?? config.retentionFreeTextMonths)
        if (!Number.isInteger(months) || months < 1) throw new Error('--months N (or JOURNEY_RETENTION_FREE_TEXT_MONTHS) is required')
        out(JSON.stringify(await sweepRetention(db, months, config.now())))
      })
      return
    case 'seed':
      await withDatabase(config, async ({ db }) => {
        const keyring = keyringOf(config, (message) => process.stderr.write(`${message}\n`))
        await keyring.verify(db)
        const report = await seedPopulation(db, keyring, {
          tenantId: values.tenant ?? defaultTenantId, journeys: count(required(values.journeys, '--journeys'), '--journeys'),
          seed: count(values.seed ?? '1', '--seed'), now: config.now(),
          onProgress: (r) => process.stderr.write(`\r${r.journeys} journeys, ${r.events} events`),
        })
        process.stderr.write('\n')
        out(JSON.stringify({ ...report, eventsPerSecond: Math.round(report.events / Math.max(report.ms / 1000, 0.001)) }))
      })
      return
    case 'worker':
      await withDatabase(config, async ({ db }) => {
        const keyring = keyringOf(config, (message) => process.stderr.write(`${message}\n`))
        await keyring.verify(db)
        const log = { warn: (details: object, message: string) => process.stderr.write(`${message} ${JSON.stringify(details, errorFields)}\n`) }
        const loop = startDeliveryLoop(deliveryWorker({ db, keyring, config, log }), { pollIntervalMs: config.webhooks.pollIntervalMs, log })
        out('delivering webhooks; stop with SIGINT or SIGTERM')
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve())
          process.once('SIGTERM', () => resolve())
        })
        await loop.stop()
      }, config.webhooks.concurrency + 2)
      return
    default:
      throw new Error(`unknown command: ${command}\n\n${usage}`)
  }
}
