// The promise projection: written per journey from the fold, read with status computed in SQL
// from the clock the caller passes (the same rule as promiseStatus in the domain).
import { sql, type SQL } from 'drizzle-orm'
import { dueHorizon, type PromiseRecord, type PromiseStatus } from '../domain/promise.js'
import { query, queryInTenant, queryOne, type Db, type Queryable } from './database.js'
import { sealAad, type Keyring } from './keyring.js'

export type PromiseCounts = Record<PromiseStatus, number>

const promiseRecordset = sql`"id" text, "journeyId" text, "category" text, "textSource" text, "textEventId" text, "madeBy" text,
  "madeAt" text, "kind" text, "madeTime" timestamptz, "dueBy" date, "dueAfterStartDays" integer, "dueDate" date, "dueKey" date,
  "outcome" text, "closedAt" timestamptz, "brokenCause" text, "renegotiations" integer, "lastRenegotiationAgreed" boolean,
  "assessedFulfilled" integer, "assessedAt" timestamptz, "inheritedFrom" jsonb`

function promiseRows(promises: readonly PromiseRecord[]): string {
  return JSON.stringify(promises.map((p) => ({
    id: p.id, journeyId: p.journeyId, category: p.category, textSource: p.textRef.source, textEventId: p.textRef.eventId, madeBy: p.madeBy,
    madeAt: p.madeAt, kind: p.kind, madeTime: p.madeTime, dueBy: p.dueBy, dueAfterStartDays: p.dueAfterStartDays, dueDate: p.dueDate,
    dueKey: p.dueDate ?? 'infinity', outcome: p.outcome, closedAt: p.closedAt, brokenCause: p.brokenCause, renegotiations: p.renegotiations,
    lastRenegotiationAgreed: p.lastRenegotiationAgreed, assessedFulfilled: p.assessedFulfilled, assessedAt: p.assessedAt,
    inheritedFrom: p.inheritedFrom,
  })))
}

/**
 * The writes of promise rows: new promises are inserted (a promise id another journey holds fails
 * on the primary key, and the append reruns to answer promise-exists), the others updated in place.
 */
export function promiseWrites(tenantId: string, inserted: readonly PromiseRecord[], updated: readonly PromiseRecord[]): SQL[] {
  const writes: SQL[] = []
  if (inserted.length > 0) {
    writes.push(sql`
      insert into promises (tenant_id, id, journey_id, category, text_source, text_event_id, made_by, made_at, kind, made_time, due_by,
        due_after_start_days, due_date, due_key, outcome, closed_at, broken_cause, renegotiations, last_renegotiation_agreed,
        assessed_fulfilled, assessed_at, inherited_from)
      select ${tenantId}, r.* from jsonb_to_recordset(${promiseRows(inserted)}::jsonb) as r(${promiseRecordset})`)
  }
  if (updated.length > 0) {
    writes.push(sql`
      update promises p set category = r."category", text_source = r."textSource", text_event_id = r."textEventId", made_by = r."madeBy",
        made_at = r."madeAt", kind = r."kind", made_time = r."madeTime", due_by = r."dueBy", due_after_start_days = r."dueAfterStartDays",
        due_date = r."dueDate", due_key = r."dueKey", outcome = r."outcome", closed_at = r."closedAt", broken_cause = r."brokenCause",
        renegotiations = r."renegotiations", last_renegotiation_agreed = r."lastRenegotiationAgreed", assessed_fulfilled = r."assessedFulfilled",
        assessed_at = r."assessedAt", inherited_from = r."inheritedFrom"
      from jsonb_to_recordset(${promiseRows(updated)}::jsonb) as r(${promiseRecordset})
      where p.tenant_id = ${tenantId} and p.id = r."id" and p.journey_id = r."journeyId"`)
  }
  return writes
}

/** The promise rows of these journeys as records (each journey's book), one jsonb array: a column of the append's first read. */
export function promiseBooks(tenantId: string, journeyIds: readonly string[]): SQL {
  return sql`
    select coalesce(jsonb_agg(jsonb_build_object('id', id, 'journeyId', journey_id, 'category', category,
      'textRef', jsonb_build_object('source', text_source, 'eventId', text_event_id), 'madeBy', made_by, 'madeAt', made_at, 'kind', kind,
      'madeTime', jl_iso(made_time), 'dueBy', due_by::text, 'dueAfterStartDays', due_after_start_days, 'dueDate', due_date::text,
      'outcome', outcome, 'closedAt', jl_iso(closed_at), 'brokenCause', broken_cause, 'renegotiations', renegotiations,
      'lastRenegotiationAgreed', last_renegotiation_agreed, 'assessedFulfilled', assessed_fulfilled, 'assessedAt', jl_iso(assessed_at),
      'inheritedFrom', inherited_from)), '[]'::jsonb)
    from promises where tenant_id = ${tenantId} and journey_id in (select jsonb_array_elements_text(${JSON.stringify(journeyIds)}::jsonb))`
}

/** Deletes every promise row of these journeys (a rebuild writes them anew). */
export function promisesOfJourneysDelete(tenantId: string, journeyIds: readonly string[]): SQL {
  return sql`delete from promises where tenant_id = ${tenantId} and journey_id in (select jsonb_array_elements_text(${JSON.stringify(journeyIds)}::jsonb))`
}

/** The SQL twin of promiseStatus(), for reads and analytics; tests/integration/time-rules holds it to the same answers. */
export function statusSql(today: string): SQL {
  const horizon = dueHorizon(today)
  return sql`case when outcome <> 'open' then outcome
    when due_date < ${today}::date then 'overdue'
    when due_date <= ${horizon}::date then 'due'
    when renegotiations > 0 then 'renegotiated'
    else 'open' end`
}

/**
 * The rows whose promiseStatus() is `status`, as ranges on the due_key index (undated promises are
 * keyed 'infinity'); held to promiseStatus() by tests/integration/time-rules like statusSql.
 */
export function statusCondition(status: PromiseStatus, today: string): SQL {
  const horizon = dueHorizon(today)
  switch (status) {
    case 'overdue': return sql`outcome = 'open' and due_key < ${today}::date`
    case 'due': return sql`outcome = 'open' and due_key >= ${today}::date and due_key <= ${horizon}::date`
    case 'renegotiated': return sql`outcome = 'open' and due_key > ${horizon}::date and renegotiations > 0`
    case 'open': return sql`outcome = 'open' and due_key > ${horizon}::date and renegotiations = 0`
    default: return sql`outcome = ${status}`
  }
}

/** The journeys that hold these promises, as one jsonb array ([{ id, journeyId }]). */
export function promiseOwners(tenantId: string, ids: readonly string[]): SQL {
  return sql`
    select coalesce(jsonb_agg(jsonb_build_object('id', id, 'journeyId', journey_id)), '[]'::jsonb) from promises
    where tenant_id = ${tenantId} and id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`
}

export async function journeysOfPromises(tx: Queryable, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const row = await queryOne<{ owners: { id: string; journeyId: string }[] }>(tx, sql`select (${promiseOwners(tenantId, ids)}) as owners`)
  return new Map((row?.owners ?? []).map((o) => [o.id, o.journeyId]))
}

export interface PromiseRow {
  id: string
  journeyId: string
  category: string
  /** The promise's words, opened with the person's key; null once the person is erased. */
  text: string | null
  erased: boolean
  madeBy: string
  madeAt: string | null
  kind: string | null
  madeTime: string
  dueBy: string | null
  dueAfterStartDays: number | null
  dueDate: string | null
  status: PromiseStatus
  closedAt: string | null
  brokenCause: string | null
  renegotiations: number
  assessedFulfilled: number | null
  assessedAt: string | null
  inheritedFrom: { kind: string; id: string; index: number } | null
  dueKey: string
}

/** A row as read: the words either in the clear (no person) or sealed, with the person's wrapped key (null: erased or none). */
type SealedPromiseRow = Omit<PromiseRow, 'text' | 'erased'> & {
  clearText: string | null; sealed: string | null; personId: string | null; wrappedKey: string | null; textSource: string; textEventId: string
}

// The words live in the ledger, sealed: join the event that holds them and its person's key, so a
// page is one statement.
const withText = (tenant: SQL) => sql`promises p
  left join events t on t.tenant_id = ${tenant} and t.source = p.text_source and t.id = p.text_event_id
  left join person_keys k on k.tenant_id = ${tenant} and k.person_ref = t.person_ref`

function promiseColumns(today: string): SQL {
  return sql`p.id, journey_id as "journeyId", category, t.data ->> 'text' as "clearText", t.sealed, k.person_id as "personId", k.wrapped_key as "wrappedKey",
    made_by as "madeBy", made_at as "madeAt", kind, jl_iso(made_time) as "madeTime",
    due_by::text as "dueBy", due_after_start_days as "dueAfterStartDays", due_date::text as "dueDate", ${statusSql(today)} as status,
    jl_iso(closed_at) as "closedAt", broken_cause as "brokenCause", renegotiations, assessed_fulfilled as "assessedFulfilled",
    jl_iso(assessed_at) as "assessedAt", inherited_from as "inheritedFrom", due_key::text as "dueKey",
    text_source as "textSource", text_event_id as "textEventId"`
}

/** Opens each row's words in place (the rows are fresh from the driver: copying 25 fields per row cost more than the decryption). */
function openTexts(keyring: Keyring, tenantId: string, rows: SealedPromiseRow[]): PromiseRow[] {
  return rows.map((row) => {
    let text: string | null = row.clearText
    let erased = false
    if (text === null) {
      if (row.sealed && row.personId && row.wrappedKey) {
        const opened = keyring.openFields(keyring.keyOf(tenantId, row.personId, row.wrappedKey), row.sealed, sealAad(tenantId, row.textSource, row.textEventId)).text
        text = typeof opened === 'string' ? opened : null
      } else erased = true
    }
    return Object.assign(row, { text, erased })
  })
}

export async function readPromise(tx: Queryable, keyring: Keyring, tenantId: string, id: string, today: string): Promise<PromiseRow | undefined> {
  const rows = await query<SealedPromiseRow>(tx, sql`select ${promiseColumns(today)} from ${withText(sql`${tenantId}`)} where p.tenant_id = ${tenantId} and p.id = ${id}`)
  return openTexts(keyring, tenantId, rows)[0]
}

export interface PromiseFilter {
  status?: PromiseStatus
  journeyId?: string
  madeBy?: string
  category?: string
  dueBefore?: string
  after?: { dueKey: string; id: string }
  limit: number
  today: string
}

function pageStatement(tenant: SQL, f: PromiseFilter): SQL {
  const where: SQL[] = [sql`p.tenant_id = ${tenant}`]
  if (f.status) where.push(statusCondition(f.status, f.today))
  if (f.journeyId !== undefined) where.push(sql`journey_id = ${f.journeyId}`)
  if (f.madeBy !== undefined) where.push(sql`made_by = ${f.madeBy}`)
  if (f.category !== undefined) where.push(sql`category = ${f.category}`)
  if (f.dueBefore !== undefined) where.push(sql`due_key < ${f.dueBefore}::date`)
  if (f.after) where.push(sql`(due_key, p.id) > (${f.after.dueKey}::date, ${f.after.id})`)
  return sql`select ${promiseColumns(f.today)} from ${withText(tenant)} where ${sql.join(where, sql` and `)} order by due_key, p.id limit ${f.limit}`
}

/** Promises ordered by due date (undated last), then id; keyset-paged on the same pair. */
export async function listPromises(tx: Queryable, keyring: Keyring, tenantId: string, f: PromiseFilter): Promise<PromiseRow[]> {
  return openTexts(keyring, tenantId, await query<SealedPromiseRow>(tx, pageStatement(sql`${tenantId}`, f)))
}

/** A page of listPromises in a transaction of its own: the page and COMMIT go out as one round trip after BEGIN's. */
export async function readPromisePage(db: Db, keyring: Keyring, tenantId: string, f: PromiseFilter): Promise<PromiseRow[]> {
  return openTexts(keyring, tenantId, await queryInTenant<SealedPromiseRow>(db, tenantId, pageStatement(sql`${tenantId}`, f)))
}

/**
 * What a promise's answer depends on besides its rows: its journey's stream version (every promise
 * event is one of the journey's), whether the day can still change its status, and whether the
 * person is still mapped (erasure changes no version). The ETag is made of them (routes/etags.ts).
 */
export interface PromiseTagParts { version: number; dayDependent: boolean; personMapped: boolean }

function promiseTagStatement(tenant: SQL, id: string, today: string): SQL {
  return sql`select j.version, (p.outcome = 'open' and p.due_key >= ${today}::date and p.due_key <> 'infinity') as "dayDependent",
      exists (select 1 from person_keys k where k.tenant_id = ${tenant} and k.person_ref = j.person_ref) as "personMapped"
    from promises p join journeys j on j.tenant_id = ${tenant} and j.id = p.journey_id
    where p.tenant_id = ${tenant} and p.id = ${id}`
}

/** The tag parts alone, in one statement: what If-None-Match is judged by. */
export async function readPromiseTag(db: Db, tenantId: string, id: string, today: string): Promise<PromiseTagParts | undefined> {
  return (await queryInTenant<PromiseTagParts>(db, tenantId, promiseTagStatement(sql`${tenantId}`, id, today)))[0]
}

/** The tag parts inside a transaction that reads the promise, so the tag and the answer share a snapshot. */
export function readPromiseTagIn(tx: Queryable, tenantId: string, id: string, today: string): Promise<PromiseTagParts | undefined> {
  return queryOne<PromiseTagParts>(tx, promiseTagStatement(sql`${tenantId}`, id, today))
}
