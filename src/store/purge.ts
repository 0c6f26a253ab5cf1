// After an erasure, the deleted row that mapped the person to their reference and data key must
// not survive in the database files: a plain DELETE leaves it in the table file until a VACUUM,
// and even a VACUUM leaves its bytes in the page's free space. VACUUM FULL writes the table anew
// (old file unlinked). On the embedded database the write-ahead log is in the data directory too:
// with recycling off, switching segments twice and checkpointing removes the segments that held it.
// On PostgreSQL the WAL and its archives are the operator's: see README "Erasure and backups".
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from './database.js'

export async function purgeErased(db: Db, log: Pick<FastifyBaseLogger, 'warn'>): Promise<void> {
  try {
    // As the owner of the tables (Db.maintain): a role that does not own one only gets a warning.
    await db.maintain('vacuum full person_keys')
    for (let i = 0; i < (db.kind === 'pglite' ? 2 : 0); i++) {
      await db.maintain('select pg_switch_wal()')
      await db.maintain('checkpoint')
    }
    if (db.kind === 'postgres') await db.maintain('checkpoint')
  } catch (err) {
    // The erasure itself is committed; what is left is the database's own clean-up of old copies.
    log.warn({ err }, 'could not purge the erased rows from the database files at once (VACUUM FULL person_keys runs on MIGRATION_DATABASE_URL, the tables\' owner; CHECKPOINT needs pg_checkpoint)')
  }
}
