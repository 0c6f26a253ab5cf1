// A stream's aggregate, whatever its kind: the one entry the command handler and the rebuild call.
// Journeys and vacancies each keep their rules and folds in their own module.
import type { IncomingEvent } from './cloudevent.js'
import { evolveJourney, foldJourneyState, needsPromises, newJourney, storedState, withPromises, type JourneyState } from './journey.js'
import { decideJourney, vacancyToInherit, type JourneyEvent } from './journey-rules.js'
import type { LedgerEvent } from './ledger-event.js'
import type { PromiseBook, VacancyPromiseSource } from './promise.js'
import { decideVacancy, evolveVacancyState, foldVacancyState, isVacancyEvent, newVacancy, type VacancyState } from './vacancy.js'

export type StreamKind = 'journey' | 'vacancy'
export type StreamState = JourneyState | VacancyState

/** Bump when a state's shape or a fold changes: a stored state of another version is refolded from its stream's history. */
export const stateVersion = 5

export function initialState(kind: StreamKind): StreamState {
  return kind === 'journey' ? newJourney : newVacancy
}

const isJourneyEvent = <E extends { type: string }>(e: E): e is Exclude<E, { type: 'vacancy.published' | 'vacancy.closed' }> => !isVacancyEvent(e)

function wrongStream(state: StreamState, type: string): Error {
  return new Error(`a ${type} event is not an event of a ${state.kind} stream`)
}

/** The vacancy whose promises deciding this event needs (see decide), if any. */
export function vacancyNeeded(state: StreamState, event: IncomingEvent): string | null {
  return state.kind === 'journey' ? vacancyToInherit(state.facts, event) : null
}

/** A stored state with what this append loaded beside it (a journey's promises, from their rows). */
export function loadedState(state: StreamState, promises: PromiseBook | undefined): StreamState {
  return state.kind === 'journey' && state.promises === null && promises ? withPromises(state, promises) : state
}

/** The state as the store keeps it. */
export function storedForm(state: StreamState): StreamState {
  return state.kind === 'journey' ? storedState(state) : state
}

/** Judges an incoming event against its stream's state: the events to store, or a thrown problem. */
export function decide(state: StreamState, event: IncomingEvent, vacancy: VacancyPromiseSource | null): IncomingEvent[] {
  if (state.kind === 'journey' && state.promises === null && needsPromises(event)) throw new Error(`the promises of journey ${event.subject} were not loaded`)
  if (state.kind === 'vacancy' && isVacancyEvent(event)) {
    decideVacancy(state, event)
    return [event]
  }
  if (state.kind === 'journey' && isJourneyEvent(event)) return decideJourney(state.facts, event, vacancy)
  throw wrongStream(state, event.type)
}

/** The state after a stored event (marked `backfilled` when the fold must be redone from history). */
export function evolve(state: StreamState, event: LedgerEvent): StreamState {
  if (state.kind === 'vacancy' && isVacancyEvent(event)) return evolveVacancyState(state, event)
  if (state.kind === 'journey' && isJourneyEvent(event)) return evolveJourney(state, event)
  throw wrongStream(state, event.type)
}

/** The state from a stream's whole history. */
export function foldStream(kind: StreamKind, events: readonly LedgerEvent[]): StreamState {
  return kind === 'journey' ? foldJourneyState(events.filter((e): e is LedgerEvent & JourneyEvent => isJourneyEvent(e))) : foldVacancyState(events.filter(isVacancyEvent))
}
