// The master key: from JOURNEY_MASTER_KEY, or from the file JOURNEY_MASTER_KEY_FILE names; on the
// embedded default generated once into that file, which is never inside the data directory (a copy
// of the data must not carry the key that opens it). A key that does not open what this database
// was written with stops the start-up.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
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

/** Where the embedded default keeps its master key: the configured file, else beside DATA_DIR. */
export function masterKeyFileOf(config: Pick<Config, 'dataDir' | 'masterKeyFile'>): string {
  const dataDir = resolve(config.dataDir)
  return resolve(config.masterKeyFile ?? join(dirname(dataDir), `${basename(dataDir)}.master.key`))
}

const inside = (dir: string, file: string) => !relative(resolve(dir), file).startsWith('..')

/** The keyring of a config: the current master key and the previous ones being rotated away from. */
export function keyringOf(config: Config, warn: (message: string) => void): Keyring {
  const previous = (config.previousMasterKeys ?? '').split(',').filter((k) => k.trim() !== '').map(parseMasterKey)
  return new Keyring(loadMasterKey(config, warn), previous)
}

/** Where the master key comes from; `warn` is called when one is generated or moved. */
export function loadMasterKey(config: Config, warn: (message: string) => void): Buffer {
  if (config.masterKey) return parseMasterKey(config.masterKey)
  if (config.databaseUrl && !config.masterKeyFile) {
    throw new MasterKeyError('JOURNEY_MASTER_KEY or JOURNEY_MASTER_KEY_FILE is required with DATABASE_URL (32 bytes: `openssl rand -hex 32`)')
  }
  if (config.dataDir.startsWith('memory://') && !config.masterKeyFile) return newKey()
  const file = masterKeyFileOf(config)
  if (!config.dataDir.startsWith('memory://') && inside(config.dataDir, file)) {
    throw new MasterKeyError(`JOURNEY_MASTER_KEY_FILE (${file}) is inside DATA_DIR: a copy of the data would carry the key that opens it; keep it elsewhere`)
  }
  // Versions before 2026-12-02 kept it in the data directory; it moves out on the first start.
  const legacy = join(config.dataDir, 'master.key')
  if (!config.databaseUrl && !config.dataDir.startsWith('memory://') && existsSync(legacy)) {
    if (existsSync(file)) throw new MasterKeyError(`two master keys: ${legacy} and ${file}; keep the one this database was written with, outside DATA_DIR`)
    renameSync(legacy, file)
    warn(`moved the master key out of the data directory, to ${file}: back it up apart from the data`)
  }
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'))
  if (config.databaseUrl) throw new MasterKeyError(`JOURNEY_MASTER_KEY_FILE (${file}) does not exist`)
  const key = newKey()
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 })
  warn(`generated a master key in ${file} (outside the data directory): back it up apart from the data; without it no personal field can be read`)
  return key
}

async function keyringPlugin(app: FastifyInstance) {
  const keyring = keyringOf(app.config, (message) => app.log.warn(message))
  await keyring.verify(app.db)
  app.decorate('keyring', keyring)
}

export default fp(keyringPlugin, { name: 'keyring', dependencies: ['db'] })
