import t from 'tap'
import {
  dataSchemas, eventTypes, isEventType, journeyStreamTypes, keyPattern, personalFields, streamKindOf,
  validateEventData, vacancyStreamTypes, type EventType, type FieldError,
} from '../../src/domain/catalogue.js'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

// The schemas' JSON Schema keywords, which TObject's static type does not list.
function schemaOf(type: EventType): Record<string, unknown> {
  const schema: unknown = dataSchemas[type]
  if (!isRecord(schema)) throw new Error(`${type} has no schema`)
  return schema
}

function exampleOf(type: EventType): Record<string, unknown> {
  const examples = schemaOf(type).examples
  const first: unknown = Array.isArray(examples) ? examples[0] : undefined
  if (!isRecord(first)) throw new Error(`${type} has no example object`)
  return first
}

const paths = (errors: FieldError[]) => errors.map((e) => e.path)

t.test('the catalogue lists every contract type once, vacancy streams first', async (t) => {
  t.equal(eventTypes.length, 27)
  t.equal(new Set(eventTypes).size, eventTypes.length, 'no duplicates')
  t.same(vacancyStreamTypes, ['vacancy.published', 'vacancy.closed'])
  t.equal(journeyStreamTypes.length, 25)
  t.equal(streamKindOf('vacancy.closed'), 'vacancy')
  t.equal(streamKindOf('promise.made'), 'journey')
  t.ok(isEventType('exit.interviewed'))
  t.notOk(isEventType('promise.due'), 'derived webhook notifications are not stored events')
  t.notOk(isEventType('Promise.Made'))
})

t.test('every data schema is a closed, documented object whose example validates', async (t) => {
  for (const type of eventTypes) {
    const schema = schemaOf(type)
    t.equal(schema.type, 'object', `${type} is an object`)
    t.equal(schema.additionalProperties, false, `${type} rejects unknown fields`)
    t.match(schema.title, /^[A-Z][A-Za-z]+Data$/, `${type} has a title`)
    t.type(schema.description, 'string', `${type} has a description`)
    t.same(validateEventData(type, exampleOf(type)), [], `${type} example is valid`)
  }
})

t.test('a missing required field is reported at its own path', async (t) => {
  let checked = 0
  for (const type of eventTypes) {
    for (const field of dataSchemas[type].required ?? []) {
      const data = { ...exampleOf(type) }
      delete data[field]
      const errors = validateEventData(type, data)
      t.ok(errors.some((e) => e.path === `/${field}` || e.path === ''), `${type} without ${field}: ${JSON.stringify(errors)}`)
      checked++
    }
  }
  t.ok(checked >= 15, `checked ${checked} required fields`)
  t.same(validateEventData('promise.kept', {}), [{ path: '/promiseId', message: 'is required' }])
})

t.test('an unknown field is rejected for every type, also inside array items', async (t) => {
  for (const type of eventTypes) {
    const errors = validateEventData(type, { ...exampleOf(type), notes_: 'typo' })
    t.same(paths(errors), ['/notes_'], `${type} rejects a typo`)
  }
  t.same(paths(validateEventData('offer.accepted', { note: 'thanks' })), ['/note'], 'no-data types take only {}')
  t.same(paths(validateEventData('offer.made', { terms: [{ category: 'other', text: 'x', due: '2026-01-01' }] })), ['/terms/0/due'])
})

t.test('absent data counts as an empty object', async (t) => {
  t.same(validateEventData('onboarding.completed', undefined), [])
  t.same(paths(validateEventData('promise.assessed', undefined)), ['/promiseId', '/fulfilled'])
  t.same(paths(validateEventData('offer.accepted', null)), [''], 'null is not an object')
  t.same(paths(validateEventData('offer.accepted', [])), [''], 'an array is not an object')
})

t.test('scales are integers within their range', async (t) => {
  const cases: Array<[EventType, string, number, number]> = [
    ['checkin.held', 'expectationsMet', 1, 5], ['pulse.answered', 'enps', 0, 10],
    ['pulse.answered', 'valued', 1, 5], ['pulse.answered', 'safe', 1, 5], ['pulse.answered', 'autonomy', 1, 5],
    ['pulse.answered', 'expectationsMet', 1, 5], ['promise.assessed', 'fulfilled', 1, 5],
    ['exit.interviewed', 'wouldRecommend', 0, 10], ['exit.interviewed', 'promisesKept', 1, 5],
  ]
  for (const [type, field, min, max] of cases) {
    for (const ok of [min, max]) t.same(validateEventData(type, { ...exampleOf(type), [field]: ok }), [], `${type} ${field}=${ok}`)
    for (const bad of [min - 1, max + 1, min + 0.5]) {
      t.same(paths(validateEventData(type, { ...exampleOf(type), [field]: bad })), [`/${field}`], `${type} ${field}=${bad}`)
    }
    t.same(paths(validateEventData(type, { ...exampleOf(type), [field]: String(max) })), [`/${field}`], `${type} ${field} as a string`)
  }
})

t.test('dates must be calendar dates', async (t) => {
  const cases: Array<[EventType, string]> = [
    ['employee.hired', 'startDate'], ['offer.made', 'startDate'], ['promise.made', 'dueBy'],
    ['promise.renegotiated', 'dueBy'], ['exit.announced', 'lastDay'], ['employee.exited', 'lastDay'],
  ]
  for (const [type, field] of cases) {
    t.same(validateEventData(type, { ...exampleOf(type), [field]: '2026-02-28' }), [], `${type} ${field} valid date`)
    for (const bad of ['2026-13-01', '2026-02-30', '01.03.2026', '2026-03-01T09:00:00Z', '']) {
      const errors = validateEventData(type, { ...exampleOf(type), [field]: bad })
      t.same(errors, [{ path: `/${field}`, message: 'must be a date (YYYY-MM-DD)' }], `${type} ${field}=${JSON.stringify(bad)}`)
    }
  }
})

t.test('a promise is due by a date or some days after start, never both', async (t) => {
  const made = { category: 'career', text: 'Team lead role in a year.', madeBy: 'mgr-7' }
  t.same(validateEventData('promise.made', made), [], 'neither')
  t.same(validateEventData('promise.made', { ...made, dueAfterStartDays: 365 }), [])
  t.same(validateEventData('promise.made', { ...made, dueBy: '2027-03-01', dueAfterStartDays: 365 }),
    [{ path: '', message: 'give dueBy or dueAfterStartDays, not both' }])
  const term = { category: 'compensation', text: 'Raise', dueBy: '2027-03-01', dueAfterStartDays: 365 }
  t.same(paths(validateEventData('offer.made', { terms: [term] })), ['/terms/0'], 'offer terms follow the same rule')
  t.same(paths(validateEventData('promise.made', { ...made, dueAfterStartDays: 3651 })), ['/dueAfterStartDays'])
  t.same(paths(validateEventData('promise.made', { ...made, category: 'money' })), ['/category'])
})

t.test('promise.made carries inheritedFrom for derived promises', async (t) => {
  const made = { category: 'flexibility', text: 'Two remote days a week.', madeBy: 'rec-1', madeAt: 'vacancy' }
  t.same(validateEventData('promise.made', { ...made, inheritedFrom: { kind: 'vacancy', id: 'vac-2026-17', index: 0 } }), [])
  t.same(validateEventData('promise.made', { ...made, inheritedFrom: { kind: 'offer', id: 'evt 42/offer', index: 3 } }), [],
    'an offer is referred to by its event id, which is not a client key')
  t.same(paths(validateEventData('promise.made', { ...made, inheritedFrom: { kind: 'vacancy', id: 'vac 17', index: 0 } })), ['/inheritedFrom'])
  t.same(paths(validateEventData('promise.made', { ...made, inheritedFrom: { kind: 'offer', id: 'e1', index: -1 } })), ['/inheritedFrom/index'])
})

t.test('pulse.answered needs at least one answer', async (t) => {
  t.same(paths(validateEventData('pulse.answered', {})), [''])
  t.same(validateEventData('pulse.answered', { enps: 0 }), [])
})

t.test('client keys follow the contract pattern', async (t) => {
  t.equal(keyPattern, '^[A-Za-z0-9._:@-]{1,128}$')
  t.same(validateEventData('candidate.applied', { personId: 'a'.repeat(128) }), [])
  t.same(validateEventData('candidate.applied', { personId: 'hris:personio@acme.de-1_2' }), [])
  for (const bad of ['', 'a'.repeat(129), 'has space', 'ümlaut', 'a/b']) {
    t.same(paths(validateEventData('candidate.applied', { personId: bad })), ['/personId'], `personId=${JSON.stringify(bad)}`)
  }
  t.same(validateEventData('promise.kept', { promiseId: 'pr 1' }),
    [{ path: '/promiseId', message: 'must be a key: 1-128 characters from A-Z a-z 0-9 . _ : @ -' }])
})

t.test('text and list sizes are bounded', async (t) => {
  t.same(paths(validateEventData('interview.held', { notes: 'x'.repeat(10001) })), ['/notes'])
  t.same(validateEventData('interview.held', { notes: 'x'.repeat(10000) }), [])
  t.same(paths(validateEventData('development.started', { title: 'x'.repeat(201) })), ['/title'])
  t.same(paths(validateEventData('checkin.held', { interests: Array.from({ length: 51 }, (_, i) => `i${i}`) })), ['/interests'])
  const promises = Array.from({ length: 101 }, () => ({ category: 'other', text: 'x' }))
  t.same(paths(validateEventData('vacancy.published', { title: 'Engineer', promises })), ['/promises'])
  t.same(paths(validateEventData('promise.made', { category: 'other', text: '', madeBy: 'm' })), ['/text'], 'required text is not empty')
})

t.test('personal fields are fields of their own type; the only key among them names the person referred', async (t) => {
  for (const type of eventTypes) {
    const properties: Record<string, unknown> = dataSchemas[type].properties
    for (const field of personalFields[type]) {
      const property = properties[field]
      t.ok(isRecord(property), `${type} has a field ${field}`)
      if (field !== 'referredPersonId') t.not(isRecord(property) ? property.pattern : undefined, keyPattern, `${type}.${field} is not a client key`)
    }
  }
  t.same(personalFields['promise.broken'], ['reason'])
  t.same(personalFields['promise.assessed'], ['comment'])
  t.same(personalFields['vacancy.closed'], [], 'a vacancy is no person')
  t.same(personalFields['pulse.answered'], [], 'scores stay for analytics')
  t.same(personalFields['exit.interviewed'], ['reasons', 'notes'], 'exit reasons describe the person: sealed')
  t.same(personalFields['checkin.held'], ['motivations', 'interests', 'developmentWishes', 'notes'], 'labels describe the person: sealed')
  t.same(personalFields['role.changed'], [], 'the tenant\'s vocabulary stays')
})
