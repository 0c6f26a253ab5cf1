// The tables of Journey Ledger. Every table leads its primary key and indexes with tenant_id
// (ready for distribution by tenant); row-level security is added in a hand-written migration.
import { sql } from 'drizzle-orm'
import {
  bigint, boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core'

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' })

export const tenants = pgTable('tenants', {
  tenantId: text('tenant_id').primaryKey(),
  name: text('name').notNull(),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
})

export const apiKeys = pgTable('api_keys', {
  tenantId: text('tenant_id').notNull(),
  id: text('id').notNull(),
  name: text('name').notNull(),
  scopes: text('scopes').array().notNull(),
  keyHash: text('key_hash').notNull(),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
  revokedAt: tstz('revoked_at'),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.id] }),
  uniqueIndex('api_keys_hash').on(t.tenantId, t.keyHash),
])

export const streams = pgTable('streams', {
  tenantId: text('tenant_id').notNull(),
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  version: integer('version').notNull().default(0),
  // The stream's aggregate state as of `version` (src/domain/streams.ts): an append reads this one
  // row, not the stream's history. Null, or of another stateVersion: refolded from history.
  state: jsonb('state'),
}, (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.id] })])

export const events = pgTable('events', {
  tenantId: text('tenant_id').notNull(),
  // The event's place in its tenant's feed: 1, 2, 3... with no gap, in commit order (tenant_heads).
  position: bigint('position', { mode: 'number' }).notNull(),
  streamKind: text('stream_kind').notNull(),
  subject: text('subject').notNull(),
  version: integer('version').notNull(),
  id: text('id').notNull(),
  source: text('source').notNull(),
  type: text('type').notNull(),
  time: tstz('time').notNull(),
  data: jsonb('data').notNull(),
  // The person the event is about, by the service's own reference (person_keys.person_ref), never the client's id.
  personRef: text('person_ref'),
  // The event's personal fields, sealed under the person's data key (AES-256-GCM, base64); in
  // `data` those fields stand as null. Erasure destroys the key, leaving only ciphertext.
  sealed: text('sealed'),
  recordedAt: tstz('recorded_at').notNull().default(sql`now()`),
  // The id of the API key that wrote it (null: the service's own tools, e.g. `journey seed`).
  writtenBy: text('written_by'),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.position] }),
  uniqueIndex('events_source_id').on(t.tenantId, t.source, t.id),
  uniqueIndex('events_stream_version').on(t.tenantId, t.streamKind, t.subject, t.version),
  index('events_person').on(t.tenantId, t.personRef),
  // The experience and exit analytics read these types by time (src/store/experience-analytics.ts); partial, so no other event pays for it.
  index('events_analytics').on(t.tenantId, t.type, t.time).where(sql`type in ('pulse.answered', 'exit.interviewed', 'alumni.referred')`),
])

// Each tenant's last feed position. An append takes it in its last statement and holds the row
// until commit, so a tenant's positions are gap-free and in commit order, with no node-local function.
export const tenantHeads = pgTable('tenant_heads', {
  tenantId: text('tenant_id').primaryKey(),
  head: bigint('head', { mode: 'number' }).notNull(),
})

// Feed cursors handed out before positions were per tenant named (transaction id, global position):
// the event's global position, mapped to its place in the tenant's feed, so such a cursor resumes there.
export const feedLegacyPositions = pgTable('feed_legacy_positions', {
  tenantId: text('tenant_id').notNull(),
  oldPosition: bigint('old_position', { mode: 'number' }).notNull(),
  position: bigint('position', { mode: 'number' }).notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.oldPosition] })])

export const journeys = pgTable('journeys', {
  tenantId: text('tenant_id').notNull(),
  id: text('id').notNull(),
  personRef: text('person_ref').notNull(),
  vacancyId: text('vacancy_id'),
  stage: text('stage').notNull(),
  stageSince: tstz('stage_since').notNull(),
  role: text('role'),
  department: text('department'),
  manager: text('manager'),
  startDate: date('start_date', { mode: 'string' }),
  hiredAt: tstz('hired_at'),
  exitedAt: tstz('exited_at'),
  lastDay: date('last_day', { mode: 'string' }),
  exitKind: text('exit_kind'),
  regrettable: boolean('regrettable'),
  version: integer('version').notNull(),
  stages: jsonb('stages').notNull(),
  experience: jsonb('experience').notNull(),
  signals: jsonb('signals').notNull(),
  createdAt: tstz('created_at').notNull(),
  updatedAt: tstz('updated_at').notNull(),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.id] }),
  index('journeys_stage').on(t.tenantId, t.stage, t.id),
  index('journeys_department').on(t.tenantId, t.department, t.id),
  index('journeys_person').on(t.tenantId, t.personRef, t.id),
  index('journeys_vacancy').on(t.tenantId, t.vacancyId, t.id),
  index('journeys_manager').on(t.tenantId, t.manager, t.id),
])

export const vacancies = pgTable('vacancies', {
  tenantId: text('tenant_id').notNull(),
  id: text('id').notNull(),
  title: text('title').notNull(),
  department: text('department'),
  publishedBy: text('published_by').notNull(),
  open: boolean('open').notNull(),
  promises: jsonb('promises').notNull(),
  publishedAt: tstz('published_at').notNull(),
  closedAt: tstz('closed_at'),
  version: integer('version').notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.id] })])

export const promises = pgTable('promises', {
  tenantId: text('tenant_id').notNull(),
  id: text('id').notNull(),
  journeyId: text('journey_id').notNull(),
  category: text('category').notNull(),
  // The promise's words are personal data: the projection names the event holding them (sealed).
  textSource: text('text_source'),
  textEventId: text('text_event_id'),
  madeBy: text('made_by').notNull(),
  madeAt: text('made_at'),
  kind: text('kind'),
  madeTime: tstz('made_time').notNull(),
  dueBy: date('due_by', { mode: 'string' }),
  dueAfterStartDays: integer('due_after_start_days'),
  dueDate: date('due_date', { mode: 'string' }),
  // dueDate or 'infinity': one non-null sort key, so lists page by (dueKey, id) straight off an index.
  dueKey: date('due_key', { mode: 'string' }).notNull(),
  outcome: text('outcome').notNull(),
  closedAt: tstz('closed_at'),
  brokenCause: text('broken_cause'),
  renegotiations: integer('renegotiations').notNull(),
  lastRenegotiationAgreed: boolean('last_renegotiation_agreed'),
  assessedFulfilled: integer('assessed_fulfilled'),
  assessedAt: tstz('assessed_at'),
  inheritedFrom: jsonb('inherited_from'),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.id] }),
  index('promises_outcome_due').on(t.tenantId, t.outcome, t.dueKey, t.id),
  index('promises_journey').on(t.tenantId, t.journeyId),
  index('promises_made_by').on(t.tenantId, t.madeBy, t.dueKey, t.id),
  index('promises_category').on(t.tenantId, t.category, t.dueKey, t.id),
])

// Maintained aggregates of the analytics (src/domain/analytics-cells.ts): the sum of every
// journey's cells, kept in the append's transaction. Cells that sum to zero may linger; reads skip them.
export const analyticsCounts = pgTable('analytics_counts', {
  tenantId: text('tenant_id').notNull(),
  analysis: text('analysis').notNull(),
  grouping: text('grouping').notNull(),
  // The first day of the month; '-infinity' for hires without a start date.
  month: date('month', { mode: 'string' }).notNull(),
  groupKey: text('group_key').notNull(),
  measure: text('measure').notNull(),
  bucket: integer('bucket').notNull(),
  value: bigint('value', { mode: 'number' }).notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.analysis, t.grouping, t.month, t.groupKey, t.measure, t.bucket] })])

export const analyticsPeople = pgTable('analytics_people', {
  tenantId: text('tenant_id').notNull(),
  analysis: text('analysis').notNull(),
  grouping: text('grouping').notNull(),
  month: date('month', { mode: 'string' }).notNull(),
  groupKey: text('group_key').notNull(),
  split: text('split').notNull(),
  personRef: text('person_ref').notNull(),
  // How many of the person's items are in the cell: a member while above zero.
  value: integer('value').notNull(),
  // The last change to value: the append reads back whether the person joined or left the cell.
  lastChange: integer('last_change').notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.analysis, t.grouping, t.month, t.groupKey, t.split, t.personRef] })])

// Tenants whose aggregates are still to be filled from their projection rows (those that predate them).
export const analyticsPending = pgTable('analytics_pending', {
  tenantId: text('tenant_id').primaryKey(),
})

export const idempotencyKeys = pgTable('idempotency_keys', {
  tenantId: text('tenant_id').notNull(),
  key: text('key').notNull(),
  requestHash: text('request_hash').notNull(),
  statusCode: integer('status_code'),
  // The first response, sealed under the data key of the person it is about (person_ref), else under the master key.
  response: text('response'),
  // The first response carried a secret (a new API key, a tenant's admin key): it is not stored, and a replay is refused.
  secretWithheld: boolean('secret_withheld').notNull().default(false),
  personRef: text('person_ref'),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
  completedAt: tstz('completed_at'),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.key] }),
  index('idempotency_keys_created').on(t.tenantId, t.createdAt),
])

// A person: the service's own reference, the client's id, and the person's data key. The only row
// that maps the client's id to the reference; erasure deletes it (and vacuums the table).
export const personKeys = pgTable('person_keys', {
  tenantId: text('tenant_id').notNull(),
  personRef: text('person_ref').notNull(),
  personId: text('person_id').notNull(),
  // The person's data key wrapped by the master key (null: none needed yet, for rows from before references).
  wrappedKey: text('wrapped_key'),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.personRef] }),
  uniqueIndex('person_keys_person_id').on(t.tenantId, t.personId),
])

// Who was erased, as a keyed hash of the client's id (HMAC under a key derived from the master key):
// enough to answer "erased" and store nothing new about them, not enough to name them.
export const erasedPeople = pgTable('erased_people', {
  tenantId: text('tenant_id').notNull(),
  idHash: text('id_hash').notNull(),
  erasedAt: tstz('erased_at').notNull().default(sql`now()`),
  reason: text('reason').notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.idHash] })])

export const masterKeyCheck = pgTable('master_key_check', {
  tenantId: text('tenant_id').notNull(),
  // A known value sealed under the master key: a wrong key fails to open it at start-up.
  verifier: text('verifier').notNull(),
  fingerprint: text('fingerprint').notNull(),
  // The key tombstones of erased persons are hashed under, wrapped by the master key (re-wrapped on rotation).
  tombstoneKey: text('tombstone_key'),
}, (t) => [primaryKey({ columns: [t.tenantId] })])

export const audit = pgTable('audit', {
  tenantId: text('tenant_id').notNull(),
  id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
  at: tstz('at').notNull().default(sql`now()`),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id').notNull(),
  details: jsonb('details').notNull(),
}, (t) => [primaryKey({ columns: [t.tenantId, t.id] })])

export const webhooks = pgTable('webhooks', {
  tenantId: text('tenant_id').notNull(),
  id: text('id').notNull(),
  url: text('url').notNull(),
  description: text('description'),
  // Filters: exact event types, `promise.*` (a family) or `*`.
  events: text('events').array().notNull(),
  includePersonal: boolean('include_personal').notNull().default(false),
  // The signing secret, sealed under the master key (Keyring.sealSecret); never stored in clear.
  secret: text('secret').notNull(),
  // The secret before the last rotation, which keeps signing until previous_secret_until.
  previousSecret: text('previous_secret'),
  previousSecretUntil: tstz('previous_secret_until'),
  paused: boolean('paused').notNull().default(false),
  disabledReason: text('disabled_reason'),
  disabledAt: tstz('disabled_at'),
  // Set at a failed attempt after a success (or none), cleared by a success: 5 days of it disables.
  failingSince: tstz('failing_since'),
  createdBy: text('created_by').notNull(),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
  updatedAt: tstz('updated_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.tenantId, t.id] })])

export const webhookDeliveries = pgTable('webhook_deliveries', {
  tenantId: text('tenant_id').notNull(),
  // The `webhook-id` header: the same on every attempt, so receivers dedupe on it.
  id: text('id').notNull().default(sql`'msg_' || replace(gen_random_uuid()::text, '-', '')`),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  webhookId: text('webhook_id').notNull(),
  eventType: text('event_type').notNull(),
  // A stored event is referenced, not copied (its personal fields stay sealed, and erasable).
  eventSource: text('event_source'),
  eventId: text('event_id'),
  // Notifications with no stored event (webhook.test, promise.due, promise.overdue) carry their payload.
  payload: jsonb('payload'),
  status: text('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  // '-infinity': due at once, whatever the worker's clock says.
  nextAttemptAt: tstz('next_attempt_at').notNull().default(sql`'-infinity'`),
  // Set by a claim: the row is in flight until then, and only that claim may record its attempt.
  leaseUntil: tstz('lease_until'),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
  succeededAt: tstz('succeeded_at'),
}, (t) => [
  primaryKey({ columns: [t.tenantId, t.id] }),
  index('webhook_deliveries_webhook').on(t.tenantId, t.webhookId, t.seq),
  index('webhook_deliveries_due').on(t.tenantId, t.nextAttemptAt).where(sql`status = 'pending'`),
])

export const webhookAttempts = pgTable('webhook_attempts', {
  tenantId: text('tenant_id').notNull(),
  deliveryId: text('delivery_id').notNull(),
  attempt: integer('attempt').notNull(),
  at: tstz('at').notNull(),
  durationMs: integer('duration_ms').notNull(),
  statusCode: integer('status_code'),
  // The first 4 KiB of the receiver's answer.
  responseBody: text('response_body').notNull(),
  error: text('error'),
}, (t) => [primaryKey({ columns: [t.tenantId, t.deliveryId, t.attempt] })])

/** One row per promise, kind and due date: a derived notification is announced once, by whichever instance sweeps first. */
export const webhookNotices = pgTable('webhook_notices', {
  tenantId: text('tenant_id').notNull(),
  promiseId: text('promise_id').notNull(),
  kind: text('kind').notNull(),
  dueDate: date('due_date', { mode: 'string' }).notNull(),
  createdAt: tstz('created_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.tenantId, t.promiseId, t.kind, t.dueDate] })])
