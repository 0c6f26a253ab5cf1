// The tests' own look at the tables, past row-level security: the session's login (the owning
// superuser in tests) for one transaction. The service never does this; its sessions run as journey_app.
import { sql } from 'drizzle-orm'
import { execute, type Db, type Tx } from '../../src/store/database.js'

export function asOwner<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await execute(tx, sql`set local role none`)
    return work(tx)
  })
}
