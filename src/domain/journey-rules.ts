// The journey's rules (decide): what an incoming event may do given the facts of its journey in
// arrival order, and the events it brings with it. Pure.
import type { IncomingEvent } from './cloudevent.js'
import { impossible, invalid } from './errors.js'
import type { DomainEvent, Envelope } from './ledger-event.js'
import {
  checkPromiseEvent, derivedPromiseId, derivedSource, evolveOutcomes, isPromiseEvent, promisesFromOffer, promisesFromVacancy,
  type PromiseOutcomes, type VacancyPromiseSource,
} from './promise.js'
import type { VacancyEvent } from './vacancy.js'

export type JourneyEvent = Exclude<DomainEvent, VacancyEvent>
export type IncomingJourneyEvent = Extract<IncomingEvent, { type: JourneyEvent['type'] }>

/** What the rules need to know, in arrival order. */
export interface JourneyFacts {
  exists: boolean
  /** The person, by the ledger's reference (the ledger's events name people by it, in data.personId). */
  personRef: string | null
  vacancyId: string | null
  hired: boolean
  exitAnnounced: boolean
  exited: boolean
  /** Each promise's outcome; filled only while the journey's promises are loaded (see JourneyState.promises). */
  promises: PromiseOutcomes
}

export const noJourney: JourneyFacts = { exists: false, personRef: null, vacancyId: null, hired: false, exitAnnounced: false, exited: false, promises: {} }

type Judged = Pick<Envelope, 'subject' | 'time'> & JourneyEvent

export const personRefOf = (e: JourneyEvent): string | undefined =>
  e.type === 'candidate.applied' || e.type === 'employee.hired' ? e.data.personId : undefined

/** Throws the rule a new event breaks. */
export function checkJourneyEvent(facts: JourneyFacts, event: Judged): void {
  const { type, subject } = event
  const personRef = personRefOf(event)
  if (!facts.exists) {
    if (type !== 'candidate.applied' && type !== 'employee.hired') {
      throw impossible('journey-unknown', `journey ${subject} does not exist: its first event must be candidate.applied or employee.hired`)
    }
    if (!personRef) throw invalid(`${type} opens journey ${subject} and needs personId`, [{ path: '/data/personId', message: 'is required when the journey is new' }])
  } else if (personRef && facts.personRef && personRef !== facts.personRef) {
    throw impossible('person-mismatch', `journey ${subject} belongs to another person`)
  }
  if (isPromiseEvent(event)) return checkPromiseEvent(facts.promises, event)
  switch (type) {
    case 'employee.hired':
      if (facts.exited) throw impossible('hire-after-exit', `journey ${subject} has exited; a rehire is a new journey with the same personId`)
      return
    case 'onboarding.completed':
      if (!facts.hired) throw impossible('onboarding-before-hire', `journey ${subject} has no employee.hired`)
      return
    case 'exit.announced': case 'employee.exited':
      if (facts.exited) throw impossible('second-exit', `journey ${subject} has already exited`)
      if (!facts.hired) throw impossible('exit-before-hire', `journey ${subject} was never hired`)
      return
    default:
  }
}

/** The facts after an event (one that passed checkJourneyEvent, or one stored before). */
export function evolveFacts(facts: JourneyFacts, event: JourneyEvent): JourneyFacts {
  const next = {
    ...facts, exists: true, personRef: facts.personRef ?? personRefOf(event) ?? null,
    vacancyId: facts.vacancyId ?? (event.type === 'candidate.applied' ? event.data.vacancyId ?? null : null),
  }
  if (isPromiseEvent(event)) return { ...next, promises: evolveOutcomes(facts.promises, event) }
  switch (event.type) {
    case 'employee.hired': return { ...next, hired: true }
    case 'exit.announced': return { ...next, exitAnnounced: true }
    case 'employee.exited': return { ...next, exited: true }
    default: return next
  }
}

/** The vacancy whose promises this event would make the journey inherit (its first hire), if any: decide needs it. */
export function vacancyToInherit(facts: JourneyFacts, event: IncomingEvent): string | null {
  return event.type === 'employee.hired' && !facts.hired ? facts.vacancyId : null
}

/**
 * Judges an incoming event: the events to store (itself, with a promiseId made when absent, and
 * the promises it brings: an offer's terms, at the first hire the vacancy's), or a thrown problem.
 */
export function decideJourney(facts: JourneyFacts, incoming: IncomingJourneyEvent, vacancy: VacancyPromiseSource | null): IncomingJourneyEvent[] {
  const event = withPromiseId(incoming)
  const derived = event.type === 'offer.made' ? promisesFromOffer(event.subject, event)
    : event.type === 'employee.hired' && vacancy && vacancyToInherit(facts, event) === vacancy.id ? promisesFromVacancy(event.subject, vacancy) : []
  const decided: IncomingJourneyEvent[] = [event, ...derived.map((d) => ({
    ...event, id: `derived:${d.promiseId}`, source: derivedSource, type: 'promise.made' as const, data: d.data, expectedVersion: undefined, index: -1,
  }))]
  // The derived promises pass the same rules (an offer sent twice under two ids may not promise twice).
  let after = facts
  for (const e of decided) {
    checkJourneyEvent(after, e)
    after = evolveFacts(after, e)
  }
  return decided
}

/** A promise.made without a promiseId gets one derived from its source + id, so a retry names the same promise. */
function withPromiseId(event: IncomingJourneyEvent): IncomingJourneyEvent {
  if (event.type !== 'promise.made' || event.data.promiseId !== undefined) return event
  return { ...event, data: { ...event.data, promiseId: derivedPromiseId(event.source, event.id) } }
}

