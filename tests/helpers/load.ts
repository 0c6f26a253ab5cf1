// A bounded load of idempotent ingests for the fault suite: workers play whole journeys (applied,
// offer with terms, hire, promises, check-ins, pulses...) one event at a time, and retry each
// event with the same source + id (and Idempotency-Key) until the service answers 201 or the
// load's deadline passes. Every answer is kept, so a test can judge each one afterwards.
import { call, problemDefects, seededRandom, type Answer } from './faults.js'

export interface LoadEvent {
  specversion: '1.0'
  id: string
  source: string
  type: string
  subject: string
  time: string
  data: Record<string, unknown>
}

/** The events of one journey, in an order the domain rules accept when sent one after another. */
export function journeyScript(runId: string, journeyIndex: number, random: () => number): LoadEvent[] {
  const subject = `j-${runId}-${journeyIndex}`
  const base = Date.parse('2025-01-06T09:00:00.000Z') + journeyIndex * 60_000
  let n = 0
  const event = (type: string, data: Record<string, unknown> = {}): LoadEvent => {
    n += 1
    return { specversion: '1.0', id: `${subject}-e${n}`, source: `fault:${runId}`, type, subject, time: new Date(base + n * 3_600_000).toISOString(), data }
  }
  const manager = `m-${journeyIndex % 7}`
  const events = [
    event('candidate.applied', { personId: `p-${runId}-${journeyIndex}`, channel: 'referral' }),
    event('interview.held', { interviewer: manager, notes: 'Asked about remote work.' }),
    event('offer.made', {
      role: 'Engineer', department: `dept-${journeyIndex % 3}`, startDate: '2025-03-03', madeBy: manager,
      terms: [{ category: 'compensation', text: 'Salary review after six months.', dueAfterStartDays: 183 }],
    }),
    event('offer.accepted'),
    event('employee.hired', { role: 'Engineer', department: `dept-${journeyIndex % 3}`, manager, startDate: '2025-03-03' }),
    event('promise.made', { promiseId: `pr-${subject}`, category: 'development', text: 'A course of your choice.', madeBy: manager, dueBy: '2025-12-31' }),
  ]
  const extra = 1 + Math.floor(random() * 4)
  for (let i = 0; i < extra; i++) {
    events.push(random() < 0.5
      ? event('checkin.held', { with: manager, expectationsMet: 1 + Math.floor(random() * 5), interests: ['data'], notes: 'Fine.' })
      : event('pulse.answered', { enps: Math.floor(random() * 11), valued: 1 + Math.floor(random() * 5) }))
  }
  events.push(random() < 0.7
    ? event('promise.kept', { promiseId: `pr-${subject}`, evidence: 'Booked.' })
    : event('promise.broken', { promiseId: `pr-${subject}`, reason: 'Budget frozen.', cause: 'circumstances' }))
  return events
}

export interface Attempt {
  event: LoadEvent
  target: string
  started: number
  answer: Answer
}

export interface EventOutcome {
  event: LoadEvent
  /** The 201's result for this event: the first one, or the duplicate answer of a retry. */
  result?: { id: string; source: string; subject: string; version: number; position: number; duplicate: boolean }
  /** Whether any attempt got a 201 with duplicate: false (the service says it stored it now). */
  storedFresh: boolean
  attempts: number
}

export interface LoadOptions {
  /** Base URLs of the instances; attempts rotate over them. */
  targets: string[]
  key: string
  runId: string
  seed: number
  /** How many journeys at most; the load ends when all are played or it is stopped. */
  journeys: number
  concurrency: number
  /** Hard end of the load (epoch ms): an event not stored by then stays unacknowledged. */
  deadline: number
  /** Send Idempotency-Key on every other journey's events. */
  idempotencyKeys?: boolean
  /** Pause between retries of one event. */
  retryDelayMs?: number
  /** Seen after every answer, e.g. to assert latency while the database is down. */
  onAnswer?: (attempt: Attempt) => void
}

export interface Load {
  /** Workers finish the event they are on (retrying until stored or the deadline), then stop. */
  stop(): void
  /** Workers give up at once, even mid-retry (for teardowns after a failure). */
  abort(): void
  done: Promise<void>
  outcomes: Map<string, EventOutcome>
  attempts: Attempt[]
  acknowledged(): number
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function firstResult(body: unknown): EventOutcome['result'] | undefined {
  if (!isRecord(body) || !Array.isArray(body.data)) return undefined
  const first: unknown = body.data[0]
  if (!isRecord(first)) return undefined
  const { id, source, subject, version, position, duplicate } = first
  if (typeof id !== 'string' || typeof source !== 'string' || typeof subject !== 'string' || typeof version !== 'number'
    || typeof position !== 'number' || typeof duplicate !== 'boolean') return undefined
  return { id, source, subject, version, position, duplicate }
}

/** Answers a client should retry: the database or the instance is away, or the first try is still running. */
export function retryable(answer: Answer): boolean {
  if (answer.status === 0 || answer.status === 503) return true
  return answer.status === 409 && isRecord(answer.body) && answer.body.code === 'idempotency-in-flight'
}

export function startJourneyLoad(options: LoadOptions): Load {
  const random = seededRandom(options.seed)
  const scripts = Array.from({ length: options.journeys }, (_, i) => journeyScript(options.runId, i, random))
  const outcomes = new Map<string, EventOutcome>()
  const attempts: Attempt[] = []
  let next = 0
  let stopping = false
  let aborted = false
  let acked = 0
  let rotation = 0

  /** 'stored' once a 201 came; 'rejected' on an answer no retry changes; 'late' when the deadline passed. */
  async function deliver(event: LoadEvent, withKey: boolean): Promise<'stored' | 'rejected' | 'late'> {
    const outcome: EventOutcome = { event, storedFresh: false, attempts: 0 }
    outcomes.set(`${event.source}/${event.id}`, outcome)
    while (!aborted && Date.now() < options.deadline) {
      const target = options.targets[rotation++ % options.targets.length] ?? ''
      const started = Date.now()
      const answer = await call(target, 'POST', '/v1/events', {
        key: options.key, body: event, timeoutMs: 10_000,
        headers: withKey ? { 'idempotency-key': `${event.source}/${event.id}` } : {},
      })
      outcome.attempts += 1
      const attempt = { event, target, started, answer }
      attempts.push(attempt)
      options.onAnswer?.(attempt)
      if (answer.status === 201) {
        const result = firstResult(answer.body)
        if (result) {
          outcome.result ??= result
          if (!result.duplicate) outcome.storedFresh = true
          acked += 1
          return 'stored'
        }
      }
      if (!retryable(answer)) return 'rejected'
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 100))
    }
    return 'late'
  }

  async function worker(): Promise<void> {
    while (!stopping && !aborted && Date.now() < options.deadline) {
      const index = next++
      const script = scripts[index]
      if (!script) return
      const withKey = options.idempotencyKeys === true && index % 2 === 0
      // A journey is played to its end even when stopping; after a rejection its later events would break rules.
      for (const event of script) {
        const delivered = await deliver(event, withKey)
        if (delivered === 'late') return
        if (delivered === 'rejected') break
      }
    }
  }

  const done = Promise.all(Array.from({ length: options.concurrency }, () => worker())).then(() => undefined)
  return { stop: () => { stopping = true }, abort: () => { aborted = true }, done, outcomes, attempts, acknowledged: () => acked }
}

/** Attempts whose answer was not 201 and is not an acceptable answer to a retryable fault. */
export function unexpectedAnswers(attempts: Attempt[]): Attempt[] {
  return attempts.filter(({ answer }) => {
    if (answer.status === 201 || answer.status === 0) return false
    if (answer.status === 503 || answer.status === 409) return !retryable(answer) || problemDefects(answer).length > 0
    return true
  })
}
