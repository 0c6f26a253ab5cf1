import { sql } from 'drizzle-orm'
import type { Vacancy } from '../domain/vacancy.js'
import { queryOne, type Queryable } from './database.js'

export function readVacancy(tx: Queryable, tenantId: string, id: string): Promise<Vacancy | undefined> {
  return queryOne<Vacancy>(tx, sql`
    select id, title, department, published_by as "publishedBy", open, promises, jl_iso(published_at) as "publishedAt",
      jl_iso(closed_at) as "closedAt", version
    from vacancies where tenant_id = ${tenantId} and id = ${id}`)
}
