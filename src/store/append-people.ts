// How an append names people: the client's ids become the ledger's references before the domain
// sees them, and labels that folds compare become marks keyed by the person's data key, so no
// state, projection or clear column ever holds a person's id or words.
import type { IncomingEvent } from '../domain/cloudevent.js'
import type { Queryable } from './database.js'
import type { Keyring, PersonKeys, PersonRow } from './keyring.js'
import { addKeys, createPeople, erasedPersonRef, peopleOfAppend } from './people.js'

/** What an append knows of its people: each named id's reference, and the data keys by reference. */
export interface AppendPeople { refs: Map<string, string>; keys: PersonKeys }

/** The client ids an append names (the events that open or hire into a journey carry one). */
export function namedPersonIds(events: readonly IncomingEvent[]): string[] {
  return [...new Set(events.flatMap((e) => ((e.type === 'candidate.applied' || e.type === 'employee.hired') && e.data.personId ? [e.data.personId] : [])))]
}

/** The read of the append's first statement (see peopleOfAppend); `resolvePeople` takes its answer. */
export function readPeopleOfAppend(keyring: Keyring, tenantId: string, personIds: readonly string[], journeyIds: readonly string[]) {
  return peopleOfAppend(tenantId, personIds, personIds.map((id) => keyring.tombstoneOf(tenantId, id)), journeyIds)
}

/**
 * References for every named id: the stored one, the tombstone's for an erased person (nothing new
 * is stored about them: they have no key), or a new person's (a round trip, only then).
 */
export async function resolvePeople(tx: Queryable, keyring: Keyring, tenantId: string, personIds: readonly string[], read: { people: PersonRow[]; erased: string[] }): Promise<AppendPeople> {
  const erased = new Set(read.erased)
  const known = new Map(read.people.map((p) => [p.personId, p]))
  const refs = new Map<string, string>()
  const missing: string[] = []
  for (const id of personIds) {
    const row = known.get(id)
    const tombstone = keyring.tombstoneOf(tenantId, id)
    if (row) refs.set(id, row.personRef)
    else if (erased.has(tombstone)) refs.set(id, erasedPersonRef(tombstone))
    else missing.push(id)
  }
  const created = await createPeople(tx, keyring, tenantId, missing)
  for (const row of created) refs.set(row.personId, row.personRef)
  const withKeys = [...read.people.filter((p) => p.wrappedKey !== null), ...created, ...await addKeys(tx, keyring, tenantId, read.people.filter((p) => p.wrappedKey === null))]
  return { refs, keys: keyring.openKeys(tenantId, withKeys) }
}

/** The event as the ledger stores it: the person by reference. */
export function byReference(event: IncomingEvent, refs: ReadonlyMap<string, string>): IncomingEvent {
  const refOf = (personId: string) => {
    const ref = refs.get(personId)
    if (!ref) throw new Error(`no reference for a person named in event ${event.index}`)
    return ref
  }
  if (event.type === 'candidate.applied') return { ...event, data: { ...event.data, personId: refOf(event.data.personId) } }
  if (event.type === 'employee.hired' && event.data.personId) return { ...event, data: { ...event.data, personId: refOf(event.data.personId) } }
  return event
}

/**
 * The event with the labels folds compare as marks (none when the person has no key: erased).
 * Their words stay in the original, which is what gets sealed.
 */
export function withLabelMarks(event: IncomingEvent, keyring: Keyring, key: Buffer | undefined): IncomingEvent {
  if (event.type !== 'checkin.held') return event
  const marks = (labels: string[] | undefined) => (labels === undefined ? undefined : key ? labels.map((l) => keyring.labelMark(key, l)) : [])
  const { interests, developmentWishes } = event.data
  return {
    ...event,
    data: {
      ...event.data,
      ...(interests !== undefined && { interests: marks(interests) }),
      ...(developmentWishes !== undefined && { developmentWishes: marks(developmentWishes) }),
    },
  }
}

/** The fields of an event's clear data that hold marks rather than null (see withLabelMarks). */
export const markedFields: Readonly<Record<string, readonly string[]>> = { 'checkin.held': ['interests', 'developmentWishes'] }
