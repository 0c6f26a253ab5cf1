// The master key: from JOURNEY_MASTER_KEY, or on the embedded default generated once into the
// data directory (with a warning: back it up with the data, or nothing personal can be read).
// A key that does not open what this database was written with stops the start-up.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { MasterKeyError, newKey, parseMasterKey } from '../domain/crypto.js'
import { Keyring } from '../store/keyring.js'

declare module 'fastify' {
  interface FastifyInstance {
    keyring: Keyring
  }
}

/** Where the master key comes from; `warn` is called when one is generated. */
export function loadMasterKey(config: Config, warn: (message: string) => void): Buffer {
  if (config.masterKey) return parseMasterKey(config.masterKey)
  if (config.databaseUrl) throw new MasterKeyError('JOURNEY_MASTER_KEY is required with DATABASE_URL (32 bytes: `openssl rand -hex 32`)')
  if (config.dataDir.startsWith('memory://')) return newKey()
  const file = join(config.dataDir, 'master.key')
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'))
  const key = newKey()
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 })
  warn(`generated a master key in ${file}: keep it with the data (and back it up apart from it); without it no personal field can be read`)
  return key
}

async function keyringPlugin(app: FastifyInstance) {
  const keyring = new Keyring(loadMasterKey(app.config, (message) => app.log.warn(message)))
  await keyring.verify(app.db)
  app.decorate('keyring', keyring)
}

export default fp(keyringPlugin, { name: 'keyring', dependencies: ['db'] })
