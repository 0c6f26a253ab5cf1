// The event catalogue of CONTRACT.md: every event type, the schema of its `data`, and which of
// its fields hold personal data. Pure: no I/O. Validators are compiled once, at module load.
import Type, { type Static, type TObject, type TObjectOptions, type TProperties, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

export const eventTypes = [
  'vacancy.published', 'vacancy.closed', 'candidate.applied', 'interview.held', 'offer.made',
  'offer.accepted', 'offer.declined', 'candidate.withdrew', 'candidate.rejected',
  'employee.hired', 'onboarding.completed', 'checkin.held', 'pulse.answered', 'recognition.given',
  'development.started', 'development.completed', 'role.changed',
  'promise.made', 'promise.kept', 'promise.broken', 'promise.renegotiated', 'promise.withdrawn',
  'promise.assessed',
  'exit.announced', 'exit.interviewed', 'employee.exited', 'alumni.referred',
] as const
export type EventType = (typeof eventTypes)[number]
export type VacancyEventType = Extract<EventType, `vacancy.${string}`>
export type JourneyEventType = Exclude<EventType, VacancyEventType>

const eventTypeSet: ReadonlySet<string> = new Set(eventTypes)
export function isEventType(t: string): t is EventType {
  return eventTypeSet.has(t)
}

const isVacancyType = (t: EventType): t is VacancyEventType => t.startsWith('vacancy.')
// vacancy.* events live on a vacancy stream (subject = vacancyId); all others on a journey stream.
export const vacancyStreamTypes: readonly VacancyEventType[] = eventTypes.filter(isVacancyType)
export const journeyStreamTypes: readonly JourneyEventType[] = eventTypes.filter(
  (t): t is JourneyEventType => !isVacancyType(t))
export function streamKindOf(type: EventType): 'vacancy' | 'journey' {
  return isVacancyType(type) ? 'vacancy' : 'journey'
}

export const promiseCategories = ['flexibility', 'compensation', 'development', 'career', 'culture',
  'wellbeing', 'autonomy', 'community', 'other'] as const
export const promiseMadeAt = ['vacancy', 'interview', 'offer', 'onboarding', 'employment'] as const
export const promiseKinds = ['transactional', 'relational'] as const
export const exitKinds = ['voluntary', 'involuntary'] as const
export const developmentKinds = ['training', 'course', 'mentoring', 'role-expansion', 'community'] as const
export const recognitionKinds = ['compliment', 'award', 'bonus', 'other'] as const
export const roleChangeKinds = ['promotion', 'lateral', 'expansion'] as const
export const brokenCauses = ['reneged', 'misunderstood', 'circumstances'] as const
export type PromiseCategory = (typeof promiseCategories)[number]
export type PromiseMadeAt = (typeof promiseMadeAt)[number]
export type PromiseKind = (typeof promiseKinds)[number]
export type ExitKind = (typeof exitKinds)[number]
export type DevelopmentKind = (typeof developmentKinds)[number]
export type RecognitionKind = (typeof recognitionKinds)[number]
export type RoleChangeKind = (typeof roleChangeKinds)[number]
export type BrokenCause = (typeof brokenCauses)[number]

export const keyPattern = '^[A-Za-z0-9._:@-]{1,128}$'
const keyOptions = { pattern: keyPattern, minLength: 1, maxLength: 128 }
export const KeySchema = Type.String({ ...keyOptions, description: 'A key chosen by the client: 1-128 characters from A-Z a-z 0-9 . _ : @ -' })

// Small field builders, so each schema below reads as the contract's line does.
const key = (description: string) => Type.String({ ...keyOptions, description })
const stringEnum = <V extends string[]>(values: readonly [...V], description: string) =>
  Type.Enum(values, { type: 'string', description })
const freeText = (description: string, minLength = 0) => Type.String({ minLength, maxLength: 10000, description })
const label = (description: string) => Type.String({ minLength: 1, maxLength: 200, description })
const labels = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50, description })
const isoDate = (description: string) => Type.String({ format: 'date', description: `${description} (ISO date, YYYY-MM-DD)` })
const scale = (minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, description: `${description} (${minimum}-${maximum})` })
const dueAfterStartDays = () => Type.Integer({ minimum: 0, maximum: 3650, description: 'Due this many days after the journey\'s startDate (0-3650).' })
const category = () => stringEnum(promiseCategories, 'What the promise is about.')
const opt = Type.Optional

const eitherDue = {
  not: { type: 'object', required: ['dueBy', 'dueAfterStartDays'], description: 'give dueBy or dueAfterStartDays, not both' },
}

function dataSchema<P extends TProperties>(
  title: string, description: string, properties: P, example: Static<TObject<P>>, options: TObjectOptions = {},
): TObject<P> {
  return Type.Object(properties, { title, description, additionalProperties: false, examples: [example], ...options })
}

const noData = (title: string, description: string) => dataSchema(title, `${description} Carries no data: send {} or omit it.`, {}, {})
const reasonOnly = (title: string, description: string, exampleReason: string) =>
  dataSchema(title, description, { reason: opt(freeText('Why, in words (personal data).')) }, { reason: exampleReason })

const inheritedFrom = Type.Object({
  kind: stringEnum(['vacancy', 'offer'], 'Where the promise came from.'),
  id: Type.String({ minLength: 1, maxLength: 255, description: 'The vacancyId (kind vacancy) or the offer.made event id (kind offer).' }),
  index: Type.Integer({ minimum: 0, description: 'Position of the promise in the vacancy\'s promises or the offer\'s terms.' }),
}, {
  additionalProperties: false,
  description: 'Written by the server when it derives this promise from a vacancy\'s promises or an offer\'s terms.',
  if: { properties: { kind: { const: 'vacancy' } } },
  then: { properties: { id: KeySchema }, description: 'id must be a vacancyId (a client key) when kind is vacancy' },
})

export const dataSchemas = {
  'vacancy.published': dataSchema('VacancyPublishedData', 'A vacancy is open. Its promises are inherited by every journey hired through it.', {
    title: label('Job title.'),
    department: opt(label('Department.')),
    publishedBy: opt(key('Who published it (a recruiter\'s key); its promises are held against them. Default: the event source.')),
    promises: opt(Type.Array(Type.Object({
      category: category(),
      text: freeText('The promise, in words.', 1),
      dueAfterStartDays: opt(dueAfterStartDays()),
    }, { additionalProperties: false }), { maxItems: 100, description: 'What the vacancy promises.' })),
  }, { title: 'Senior Backend Engineer', department: 'Engineering', promises: [{ category: 'flexibility', text: 'Two remote days a week.' }, { category: 'development', text: 'A conference of your choice each year.', dueAfterStartDays: 365 }] }),
  'vacancy.closed': dataSchema('VacancyClosedData', 'The vacancy is no longer open.', {
    reason: opt(freeText('Why it closed (filled, cancelled, budget).')),
  }, { reason: 'Filled.' }),
  'candidate.applied': dataSchema('CandidateAppliedData', 'A person applied; starts the journey.', {
    personId: key('The person\'s key.'),
    vacancyId: opt(key('The vacancy applied to.')),
    channel: opt(label('How the candidate came (referral, job board, ...).')),
  }, { personId: 'p-1042', vacancyId: 'vac-2026-17', channel: 'referral' }),
  'interview.held': dataSchema('InterviewHeldData', 'An interview took place.', {
    interviewer: opt(key('The interviewer\'s key.')),
    notes: opt(freeText('Interview notes (personal data).')),
  }, { interviewer: 'mgr-7', notes: 'Strong on distributed systems; asked about remote work.' }),
  'offer.made': dataSchema('OfferMadeData', 'An offer was made. Each term becomes a promise made at offer.', {
    role: opt(label('Offered role.')),
    department: opt(label('Department.')),
    madeBy: opt(key('Who made the offer (a recruiter\'s or manager\'s key); its terms are promises made by them. Default: the event source.')),
    startDate: opt(isoDate('Planned first day')),
    terms: opt(Type.Array(Type.Object({
      category: category(),
      text: freeText('The term, in words.', 1),
      dueBy: opt(isoDate('Due date')),
      dueAfterStartDays: opt(dueAfterStartDays()),
    }, { additionalProperties: false, ...eitherDue }), { maxItems: 100, description: 'Terms of the offer, each a promise (personal data).' })),
  }, { role: 'Senior Backend Engineer', department: 'Engineering', startDate: '2026-03-01', terms: [{ category: 'compensation', text: 'Salary review after six months.', dueAfterStartDays: 183 }] }),
  'offer.accepted': noData('OfferAcceptedData', 'The candidate accepted the offer.'),
  'offer.declined': reasonOnly('OfferDeclinedData', 'The candidate declined the offer.', 'Accepted another offer closer to home.'),
  'candidate.withdrew': reasonOnly('CandidateWithdrewData', 'The candidate withdrew.', 'Decided to stay with the current employer.'),
  'candidate.rejected': reasonOnly('CandidateRejectedData', 'The candidate was rejected.', 'Another candidate had more Kubernetes experience.'),
  'employee.hired': dataSchema('EmployeeHiredData', 'The contract is signed.', {
    personId: opt(key('The person\'s key; required when this event starts the journey.')),
    role: opt(label('Role.')),
    department: opt(label('Department.')),
    manager: opt(key('The manager\'s key.')),
    startDate: isoDate('First day of work'),
  }, { personId: 'p-1042', role: 'Senior Backend Engineer', department: 'Engineering', manager: 'mgr-7', startDate: '2026-03-01' }),
  'onboarding.completed': noData('OnboardingCompletedData', 'Onboarding is complete.'),
  'checkin.held': dataSchema('CheckinHeldData', 'A 1:1 dialogue between the employee and their manager.', {
    with: opt(key('Key of the person who held the check-in with the employee.')),
    expectationsMet: opt(scale(1, 5, 'How far the job meets the employee\'s expectations')),
    motivations: opt(labels('What motivates the employee (short labels).')),
    interests: opt(labels('What interests the employee (short labels).')),
    developmentWishes: opt(labels('How the employee wants to grow (short labels).')),
    notes: opt(freeText('Check-in notes (personal data).')),
  }, { with: 'mgr-7', expectationsMet: 4, motivations: ['autonomy'], interests: ['data engineering'], developmentWishes: ['lead a project'], notes: 'Wants more ownership.' }),
  'pulse.answered': dataSchema('PulseAnsweredData', 'The individual\'s experience; at least one field.', {
    enps: opt(scale(0, 10, 'How likely to recommend working here')),
    valued: opt(scale(1, 5, 'Feels valued')),
    safe: opt(scale(1, 5, 'Feels safe to speak up')),
    autonomy: opt(scale(1, 5, 'Has autonomy')),
    expectationsMet: opt(scale(1, 5, 'Expectations met')),
  }, { enps: 8, valued: 4, safe: 5, autonomy: 3, expectationsMet: 4 }, { minProperties: 1 }),
  'recognition.given': dataSchema('RecognitionGivenData', 'The employee was recognised.', {
    by: opt(key('Key of who gave the recognition.')),
    kind: opt(stringEnum(recognitionKinds, 'Kind of recognition.')),
    note: opt(freeText('What for (personal data).')),
  }, { by: 'mgr-7', kind: 'compliment', note: 'Calm handling of the March outage.' }),
  'development.started': dataSchema('DevelopmentStartedData', 'A development activity started.', {
    kind: opt(stringEnum(developmentKinds, 'Kind of development.')),
    title: label('What the activity is.'),
  }, { kind: 'course', title: 'PostgreSQL internals' }),
  'development.completed': dataSchema('DevelopmentCompletedData', 'A development activity was completed.', {
    kind: opt(stringEnum(developmentKinds, 'Kind of development.')),
    title: label('What the activity is.'),
  }, { kind: 'mentoring', title: 'Mentoring by the staff engineer' }),
  'role.changed': dataSchema('RoleChangedData', 'The employee\'s role, department or manager changed.', {
    role: opt(label('New role.')),
    department: opt(label('New department.')),
    manager: opt(key('New manager\'s key.')),
    kind: opt(stringEnum(roleChangeKinds, 'Kind of change.')),
  }, { role: 'Staff Engineer', kind: 'promotion' }),
  'promise.made': dataSchema('PromiseMadeData', 'A promise was made to the employee. Give dueBy or dueAfterStartDays, not both. inheritedFrom is written by the server for promises derived from a vacancy or an offer.', {
    promiseId: opt(key('The promise\'s key; the server makes one when absent.')),
    category: category(),
    text: freeText('The promise, in words (personal data).', 1),
    madeBy: key('Key of who made the promise.'),
    madeAt: opt(stringEnum(promiseMadeAt, 'Journey moment the promise was made at.')),
    kind: opt(stringEnum(promiseKinds, 'Transactional (tangible) or relational (about the relationship).')),
    dueBy: opt(isoDate('Due date')),
    dueAfterStartDays: opt(dueAfterStartDays()),
    inheritedFrom: opt(inheritedFrom),
  }, { promiseId: 'pr-311', category: 'development', text: 'Budget for an AWS certification.', madeBy: 'mgr-7', madeAt: 'onboarding', kind: 'transactional', dueBy: '2026-09-30' }, eitherDue),
  'promise.kept': dataSchema('PromiseKeptData', 'The promise was kept.', {
    promiseId: key('The promise.'),
    evidence: opt(freeText('How it was kept (personal data).')),
  }, { promiseId: 'pr-311', evidence: 'Certification paid on 2026-08-12.' }),
  'promise.broken': dataSchema('PromiseBrokenData', 'The promise was broken.', {
    promiseId: key('The promise.'),
    reason: freeText('Why it was broken (personal data).', 1),
    cause: opt(stringEnum(brokenCauses, 'Kind of breach.')),
  }, { promiseId: 'pr-311', reason: 'Training budget frozen for the year.', cause: 'circumstances' }),
  'promise.renegotiated': dataSchema('PromiseRenegotiatedData', 'The promise is open again with new terms.', {
    promiseId: key('The promise.'),
    text: opt(freeText('The new terms, in words (personal data).')),
    dueBy: opt(isoDate('New due date')),
    agreedByEmployee: Type.Boolean({ description: 'Whether the employee agreed to the new terms.' }),
  }, { promiseId: 'pr-311', text: 'Certification budget moved to next year.', dueBy: '2027-03-31', agreedByEmployee: true }),
  'promise.withdrawn': dataSchema('PromiseWithdrawnData', 'The promise was withdrawn.', {
    promiseId: key('The promise.'),
    reason: opt(freeText('Why (personal data).')),
  }, { promiseId: 'pr-311', reason: 'Recorded twice by mistake.' }),
  'promise.assessed': dataSchema('PromiseAssessedData', 'The employee\'s own view of a promise.', {
    promiseId: key('The promise.'),
    fulfilled: scale(1, 5, 'How far the employee feels it was fulfilled'),
    comment: opt(freeText('The employee\'s comment (personal data).')),
  }, { promiseId: 'pr-311', fulfilled: 2, comment: 'Paid, but no time given to study.' }),
  'exit.announced': dataSchema('ExitAnnouncedData', 'The employee is leaving.', {
    kind: stringEnum(exitKinds, 'Who decided.'),
    reason: opt(freeText('Why (personal data).')),
    lastDay: opt(isoDate('Planned last day')),
  }, { kind: 'voluntary', reason: 'Moving abroad.', lastDay: '2027-01-31' }),
  'exit.interviewed': dataSchema('ExitInterviewedData', 'The exit interview.', {
    reasons: opt(labels('Reasons for leaving (short labels, counted in analytics).')),
    wouldRecommend: opt(scale(0, 10, 'Would recommend working here')),
    wouldReturn: opt(Type.Boolean({ description: 'Would come back.' })),
    promisesKept: opt(scale(1, 5, 'How far promises were kept')),
    notes: opt(freeText('Interview notes (personal data).')),
  }, { reasons: ['relocation', 'career'], wouldRecommend: 9, wouldReturn: true, promisesKept: 4, notes: 'Would return for a remote role.' }),
  'employee.exited': dataSchema('EmployeeExitedData', 'The employee has left.', {
    lastDay: isoDate('Last day of work'),
    regrettable: opt(Type.Boolean({ description: 'Whether the loss is regrettable.' })),
  }, { lastDay: '2027-01-31', regrettable: true }),
  'alumni.referred': dataSchema('AlumniReferredData', 'A former employee referred someone (the ambassador effect).', {
    referredPersonId: opt(key('Key of the person referred.')),
  }, { referredPersonId: 'p-2201' }),
} satisfies { [K in EventType]: TSchema }

export type EventData<K extends EventType> = Static<(typeof dataSchemas)[K]>
/** An event type with the data its schema allows: what a valid CloudEvent carries. */
export type TypedData = { [K in EventType]: { type: K; data: EventData<K> } }[EventType]

// Personal: every field that describes the person: free text (notes, comments, evidence, reasons,
// promise words and terms) and labels (motivations, interests, development wishes, exit reasons,
// development titles, the channel they came by, whom they referred). The person's own id is not
// stored at all: the ledger holds a reference instead (store/append-people.ts). Not personal: other
// keys, scores, enums, dates, and the tenant's own vocabulary (department, role, category).
export const personalFields = {
  'vacancy.published': [], 'vacancy.closed': [],
  'candidate.applied': ['channel'], 'interview.held': ['notes'], 'offer.made': ['terms'], 'offer.accepted': [],
  'offer.declined': ['reason'], 'candidate.withdrew': ['reason'], 'candidate.rejected': ['reason'],
  'employee.hired': [], 'onboarding.completed': [], 'checkin.held': ['motivations', 'interests', 'developmentWishes', 'notes'], 'pulse.answered': [],
  'recognition.given': ['note'], 'development.started': ['title'], 'development.completed': ['title'], 'role.changed': [],
  'promise.made': ['text'], 'promise.kept': ['evidence'], 'promise.broken': ['reason'],
  'promise.renegotiated': ['text'], 'promise.withdrawn': ['reason'], 'promise.assessed': ['comment'],
  'exit.announced': ['reason'], 'exit.interviewed': ['reasons', 'notes'], 'employee.exited': [], 'alumni.referred': ['referredPersonId'],
} as const satisfies { readonly [K in EventType]: readonly (keyof EventData<K>)[] }
export type PersonalField<K extends EventType> = (typeof personalFields)[K][number]

export interface FieldError { path: string; message: string }

const validators = new Map(eventTypes.map((type) => [type, Compile(dataSchemas[type])]))

/** True when `data` is valid for the type: the event is then its member of the typed union. */
export function hasValidData(event: { type: EventType; data: unknown }): event is TypedData {
  return validators.get(event.type)?.Check(event.data) ?? false
}

/** Errors in an event's `data` (JSON Pointers relative to `data`, the first problem per field); [] when valid. Absent data counts as {}. */
export function validateEventData(type: EventType, data: unknown): FieldError[] {
  const validator = validators.get(type)
  if (validator === undefined) throw new Error(`no validator for event type ${type}`)
  const value = data === undefined ? {} : data
  if (validator.Check(value)) return []
  const seenPaths = new Set<string>()
  return validator.Errors(value).flatMap((error): FieldError[] => {
    switch (error.keyword) {
      case 'required':
        return error.params.requiredProperties.map((name) => ({ path: childPath(error.instancePath, name), message: 'is required' }))
      case 'additionalProperties':
        return error.params.additionalProperties.map((name) => ({ path: childPath(error.instancePath, name), message: unknownField }))
      case 'boolean':
        // typebox also reports each unknown field as `false` schema under additionalProperties
        return [{ path: error.instancePath, message: error.schemaPath.endsWith('/additionalProperties') ? unknownField : error.message }]
      case 'enum':
        return [{ path: error.instancePath, message: `must be one of: ${error.params.allowedValues.join(', ')}` }]
      case 'format':
        return [{ path: error.instancePath, message: error.params.format === 'date' ? 'must be a date (YYYY-MM-DD)' : error.message }]
      case 'pattern':
        return [{ path: error.instancePath, message: error.params.pattern === keyPattern ? keyMessage : error.message }]
      case 'minProperties':
        return [{ path: error.instancePath, message: `must have at least ${error.params.limit} field(s)` }]
      case 'not':
        return [{ path: error.instancePath, message: clauseDescription(dataSchemas[type], error.schemaPath, 'not') ?? error.message }]
      case 'if':
        return [{ path: error.instancePath, message: clauseDescription(dataSchemas[type], error.schemaPath, error.params.failingKeyword) ?? error.message }]
      default:
        return [{ path: error.instancePath, message: error.message }]
    }
  }).filter(({ path }) => (seenPaths.has(path) ? false : (seenPaths.add(path), true)))
}

const unknownField = 'is not a field of this event type'
const keyMessage = 'must be a key: 1-128 characters from A-Z a-z 0-9 . _ : @ -'
const childPath = (parent: string, name: string) => `${parent}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

// typebox reports a failed `not`/`then`/`else` without detail, so such a clause carries its own
// human message in `description` (see eitherDue and inheritedFrom).
function clauseDescription(schema: TSchema, schemaPath: string, clause: 'not' | 'then' | 'else'): string | undefined {
  const node = schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)
    .reduce<unknown>((at, part) => (isRecord(at) ? at[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined), schema)
  const sub = isRecord(node) ? node[clause] : undefined
  return isRecord(sub) && typeof sub.description === 'string' ? sub.description : undefined
}
