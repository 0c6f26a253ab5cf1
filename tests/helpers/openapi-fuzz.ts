// Reads the app's own OpenAPI document and turns every operation into fast-check arbitraries of
// requests that the schemas make invalid by construction (wrong types, out-of-range and huge
// strings, deep nesting, unicode, missing and extra fields, bad cursors, bad content types, bad
// path parameters, bad credentials), each with the statuses it may get. A valid instance of each
// schema is built first (from its examples where it has them) and then broken in one place that
// no other branch of the schema can accept, so "rejected" is certain, never a guess.
import fc from 'fast-check'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type Schema = { [key: string]: unknown }

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isSchema = (v: unknown): v is Schema => isRecord(v)
const isJson = (v: unknown): v is Json => v === null || ['boolean', 'number', 'string'].includes(typeof v)
  || (Array.isArray(v) && v.every(isJson)) || (isRecord(v) && Object.values(v).every(isJson))

export interface Parameter { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }

export interface Operation {
  method: string
  path: string
  /** `METHOD /path`, for messages. */
  name: string
  parameters: Parameter[]
  body?: Schema
  /** false for the public routes (`security: []`). */
  secured: boolean
}

export class OpenApi {
  constructor(readonly doc: Schema) {}

  operations(): Operation[] {
    const out: Operation[] = []
    const paths = isRecord(this.doc.paths) ? this.doc.paths : {}
    for (const [path, item] of Object.entries(paths)) {
      if (!isRecord(item)) continue
      for (const [method, op] of Object.entries(item)) {
        if (!isRecord(op) || !['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
        const parameters: Parameter[] = []
        for (const raw of Array.isArray(op.parameters) ? op.parameters : []) {
          const p = this.resolve(raw)
          const where = p.in
          if (typeof p.name !== 'string' || (where !== 'path' && where !== 'query' && where !== 'header')) continue
          parameters.push({ name: p.name, in: where, required: p.required === true, schema: this.resolve(p.schema) })
        }
        const content = isRecord(op.requestBody) && isRecord(op.requestBody.content) ? op.requestBody.content : {}
        const json = isRecord(content['application/json']) ? content['application/json'] : undefined
        const body = json && isSchema(json.schema) ? this.resolve(json.schema) : undefined
        const secured = !(Array.isArray(op.security) && op.security.length === 0)
        out.push({ method: method.toUpperCase(), path, name: `${method.toUpperCase()} ${path}`, parameters, body, secured })
      }
    }
    return out
  }

  /** Follows `$ref`s to components. */
  resolve(schema: unknown): Schema {
    let current: unknown = schema
    for (let depth = 0; depth < 20 && isRecord(current) && typeof current.$ref === 'string'; depth++) {
      const match = /^#\/components\/schemas\/(.+)$/.exec(current.$ref)
      const components = isRecord(this.doc.components) && isRecord(this.doc.components.schemas) ? this.doc.components.schemas : {}
      current = match?.[1] ? components[decodeURIComponent(match[1])] : undefined
    }
    return isSchema(current) ? current : {}
  }

  component(name: string): Schema | undefined {
    const components = isRecord(this.doc.components) && isRecord(this.doc.components.schemas) ? this.doc.components.schemas : {}
    const found = components[name]
    return isSchema(found) ? found : undefined
  }

  /** The data schema of a CloudEvent type (`employee.hired` -> `EmployeeHiredData`). */
  dataSchemaOf(type: string): Schema | undefined {
    const name = `${type.split(/[._-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}Data`
    return this.component(name)
  }
}

// ---------------------------------------------------------------- valid instances

const typesOf = (schema: Schema): string[] => (Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === 'string') : typeof schema.type === 'string' ? [schema.type] : [])

function validString(schema: Schema): string {
  if (schema.format === 'date') return '2025-06-16'
  if (schema.format === 'date-time') return '2025-06-16T09:00:00.000Z'
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64
  if (typeof schema.pattern === 'string') {
    for (const candidate of ['fz-1', 'fz1', 'a', '1', 'fz_1@x.y:z']) if (new RegExp(schema.pattern, 'u').test(candidate)) return candidate
  }
  return 'x'.repeat(Math.min(Math.max(min, 1), max))
}

/** A value the schema accepts: its example, const, first enum value, or one built from its keywords. */
export function validInstance(api: OpenApi, raw: Schema, depth = 0): Json {
  const schema = api.resolve(raw)
  const examples = schema.examples
  if (Array.isArray(examples) && examples.length > 0 && isJson(examples[0])) return structuredClone(examples[0])
  if (isJson(schema.const) && schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && isJson(schema.enum[0])) return schema.enum[0]
  for (const key of ['anyOf', 'oneOf']) {
    const options = schema[key]
    if (Array.isArray(options)) {
      const usable = options.map((o) => api.resolve(o)).find((o) => !typesOf(o).includes('null'))
      if (usable) return validInstance(api, usable, depth + 1)
    }
  }
  const types = typesOf(schema)
  if (types.includes('object') || isRecord(schema.properties)) {
    const out: { [key: string]: Json } = {}
    const properties = isRecord(schema.properties) ? schema.properties : {}
    const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []
    for (const name of required) out[name] = depth > 12 ? null : validInstance(api, isSchema(properties[name]) ? properties[name] : {}, depth + 1)
    // minProperties (a PATCH must change something): the first optional fields, in schema order.
    const least = typeof schema.minProperties === 'number' ? schema.minProperties : 0
    for (const name of Object.keys(properties).filter((n) => !(n in out)).slice(0, Math.max(0, least - Object.keys(out).length))) {
      const property = properties[name]
      out[name] = validInstance(api, isSchema(property) ? property : {}, depth + 1)
    }
    return out
  }
  if (types.includes('array')) {
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0
    return Array.from({ length: min }, () => validInstance(api, isSchema(schema.items) ? schema.items : {}, depth + 1))
  }
  if (types.includes('integer') || types.includes('number')) {
    const min = typeof schema.minimum === 'number' ? schema.minimum : 1
    const max = typeof schema.maximum === 'number' ? schema.maximum : min
    return Math.min(Math.max(min, 1), max)
  }
  if (types.includes('boolean')) return true
  if (types.includes('string')) return validString(schema)
  return null
}

// ---------------------------------------------------------------- definite breakage

/** A replacement that makes a value invalid; `raw` is spliced into the JSON text as is (deep nesting). */
export type Breakage = { kind: 'value'; value: Json; why: string } | { kind: 'raw'; text: string; why: string } | { kind: 'remove'; why: string }

/** JSON text nested `depth` levels deep, built without recursion. */
export const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
export const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

const unicodeSamples = ['😀', 'ü', '中', '\u202e', '\u0301', 'Ω', '\u{1F9D1}\u200D\u{1F4BB}']

/** Strings that are certain to break a string schema, or none when it takes any string. */
export function brokenStrings(schema: Schema): fc.Arbitrary<{ value: string; why: string }>[] {
  const out: fc.Arbitrary<{ value: string; why: string }>[] = []
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined
  if (max !== undefined) {
    out.push(fc.constantFrom('x', 'é', '😀').map((c) => ({ value: c.repeat(max + 1), why: `maxLength ${max} + 1` })))
    out.push(fc.integer({ min: max + 2, max: Math.max(max * 4, 300_000) }).map((n) => ({ value: 'y'.repeat(n), why: `huge string (${n} > ${max})` })))
  }
  if (min >= 1) out.push(fc.constant({ value: '', why: `minLength ${min}` }))
  if (pattern) {
    const candidates = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      fc.constantFrom(...unicodeSamples, 'a b', 'a/b', '../..', '%00', 'a\u0000b', '', '\t', 'x'.repeat(129), '<script>', 'DROP TABLE events;--'),
    ).filter((s) => !pattern.test(s))
    out.push(candidates.map((value) => ({ value, why: `does not match ${String(schema.pattern)}` })))
  }
  const enumValues = Array.isArray(schema.enum) ? schema.enum.filter((e): e is string => typeof e === 'string') : []
  if (enumValues.length > 0) {
    out.push(fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom(...enumValues.map((e) => e.toUpperCase()), ...enumValues.map((e) => ` ${e}`), ...unicodeSamples),
    ).filter((s) => !enumValues.includes(s)).map((value) => ({ value, why: 'not in the enum' })))
  }
  if (typeof schema.const === 'string') {
    const constant = schema.const
    out.push(fc.string({ maxLength: 10 }).filter((s) => s !== constant).map((value) => ({ value, why: `not the const ${constant}` })))
  }
  if (schema.format === 'date') {
    out.push(fc.constantFrom('2025-13-01', '2025-02-30', 'tomorrow', '01/02/2025', '2025-6-1', '20250601', '2025-06-01T00:00:00Z', '٢٠٢٥-٠٦-٠١')
      .map((value) => ({ value, why: 'not a date' })))
  }
  if (schema.format === 'date-time') {
    out.push(fc.constantFrom('yesterday', '2025-06-01', '2025-06-01 25:00', '2025-06-01T09:00:00', '2025-13-01T00:00:00Z', '1e10')
      .map((value) => ({ value, why: 'not a date-time' })))
  }
  return out
}

/** Values certain to break the schema where it stands (an object where a scalar belongs, ...). */
export function breakages(api: OpenApi, raw: Schema): fc.Arbitrary<Breakage>[] {
  const schema = api.resolve(raw)
  const types = typesOf(schema)
  if (types.length !== 1 || schema.anyOf || schema.oneOf) return [] // unions and nullables: no certain breakage here
  const [type] = types
  const out: fc.Arbitrary<Breakage>[] = []
  const value = (v: Json, why: string): Breakage => ({ kind: 'value', value: v, why })
  // Objects are never coerced to a scalar or an array, and scalars are never coerced to an object.
  if (type !== 'object') {
    out.push(fc.constantFrom(value({ fuzz: [1] }, 'an object'), value({}, 'an empty object')))
    out.push(fc.integer({ min: 50, max: 5_000 }).map((d): Breakage => ({ kind: 'raw', text: deepObject(d), why: `an object nested ${d} deep` })))
  } else {
    out.push(fc.constantFrom(value(7, 'a number'), value('text', 'a string'), value(true, 'a boolean'), value([], 'an array')))
    out.push(fc.integer({ min: 50, max: 5_000 }).map((d): Breakage => ({ kind: 'raw', text: deepArray(d), why: `an array nested ${d} deep` })))
  }
  if (type === 'string') out.push(...brokenStrings(schema).map((a) => a.map((s) => value(s.value, s.why))))
  if (type === 'integer' || type === 'number') {
    if (typeof schema.minimum === 'number') out.push(fc.constant(value(schema.minimum - 1, `below minimum ${schema.minimum}`)))
    if (typeof schema.maximum === 'number') out.push(fc.constant(value(schema.maximum + 1, `above maximum ${schema.maximum}`)))
    if (type === 'integer') out.push(fc.constantFrom(value(1.5, 'not an integer'), value('ten', 'a word')))
  }
  if (type === 'boolean') out.push(fc.constantFrom(value('maybe', 'a word'), value(2, 'the number 2')))
  if (type === 'array') {
    const items = isSchema(schema.items) ? schema.items : {}
    if (typeof schema.maxItems === 'number' && schema.maxItems <= 1_000) {
      const n = schema.maxItems + 1
      out.push(fc.constant(value(Array.from({ length: n }, () => validInstance(api, items)), `maxItems ${schema.maxItems} + 1`)))
    }
    if (typeof schema.minItems === 'number' && schema.minItems >= 1) out.push(fc.constant(value([], `minItems ${schema.minItems}`)))
    if (schema.uniqueItems === true) {
      const item = validInstance(api, items)
      out.push(fc.constant(value([item, item], 'repeated items')))
    }
  }
  return out
}

export interface Point { path: (string | number)[]; schema: Schema; parentRequired: boolean }

/**
 * The places in a valid instance where a breakage is certain to make the whole document invalid:
 * reached through object properties and array items only (never into a union, where another
 * branch might accept it). `dataSchemaFor` lets a CloudEvent's `data` follow its type's schema.
 */
export function pointsOf(api: OpenApi, raw: Schema, instance: Json, dataSchemaFor?: (parent: Json) => Schema | undefined, path: (string | number)[] = [], parentRequired = true): Point[] {
  const schema = api.resolve(raw)
  const points: Point[] = [{ path, schema, parentRequired }]
  if (schema.anyOf || schema.oneOf) return []
  if (isRecord(instance) && !Array.isArray(instance)) {
    const properties = isRecord(schema.properties) ? schema.properties : {}
    const required = Array.isArray(schema.required) ? schema.required : []
    for (const [name, child] of Object.entries(instance)) {
      let childSchema: Schema = isSchema(properties[name]) ? properties[name] : {}
      if (name === 'data' && dataSchemaFor) childSchema = dataSchemaFor(instance) ?? childSchema
      points.push(...pointsOf(api, childSchema, child, dataSchemaFor, [...path, name], required.includes(name)))
    }
  } else if (Array.isArray(instance)) {
    const items = isSchema(schema.items) ? schema.items : {}
    instance.forEach((child, i) => points.push(...pointsOf(api, items, child, dataSchemaFor, [...path, i], true)))
  }
  return points
}

/** Every certain way to break a document at one of its points (removal, extra field, wrong value). */
export function documentBreakages(api: OpenApi, points: Point[]): fc.Arbitrary<{ path: (string | number)[]; breakage: Breakage }>[] {
  const out: fc.Arbitrary<{ path: (string | number)[]; breakage: Breakage }>[] = []
  for (const point of points) {
    const at = (b: fc.Arbitrary<Breakage>) => b.map((breakage) => ({ path: point.path, breakage }))
    for (const b of breakages(api, point.schema)) out.push(at(b))
    const required = Array.isArray(point.schema.required) ? point.schema.required.filter((r): r is string => typeof r === 'string') : []
    for (const name of required) out.push(fc.constant({ path: [...point.path, name], breakage: { kind: 'remove', why: `required ${name} missing` } }))
    if (point.schema.additionalProperties === false) {
      const known = isRecord(point.schema.properties) ? Object.keys(point.schema.properties) : []
      out.push(fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.constantFrom('__fuzz', 'ünknown', 'constructor2', 'Data', 'ID'))
        .filter((name) => !known.includes(name))
        .chain((name) => fc.constantFrom<Json>(1, 'x', null, { nested: ['deep'] }).map((value) => ({ path: [...point.path, name], breakage: { kind: 'value' as const, value, why: `extra field ${JSON.stringify(name)}` } }))))
    }
  }
  return out
}

/** The JSON text of `doc` with one breakage applied at `path`. */
export function applyBreakage(doc: Json, path: (string | number)[], breakage: Breakage): string {
  const marker = `__fuzz_raw_${Math.random().toString(36).slice(2)}__`
  if (path.length === 0) {
    if (breakage.kind === 'remove') return ''
    return breakage.kind === 'raw' ? breakage.text : JSON.stringify(breakage.value)
  }
  const copy = structuredClone(doc)
  let parent: Json = copy
  for (const step of path.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(parent) && typeof step === 'number' ? parent[step] : isRecord(parent) && typeof step === 'string' ? parent[step] : undefined
    if (next === undefined) throw new Error(`no ${path.join('/')} in the document`)
    parent = next
  }
  const last = path[path.length - 1]
  const replacement: Json = breakage.kind === 'value' ? breakage.value : marker
  if (Array.isArray(parent) && typeof last === 'number') {
    if (breakage.kind === 'remove') parent.splice(last, 1)
    else parent[last] = replacement
  } else if (isRecord(parent) && typeof last === 'string') {
    if (breakage.kind === 'remove') delete parent[last]
    // Defined, not assigned: assigning "__proto__" would set the prototype and send no field at all.
    else Object.defineProperty(parent, last, { value: replacement, enumerable: true, writable: true, configurable: true })
  }
  const text = JSON.stringify(copy)
  return breakage.kind === 'raw' ? text.replace(JSON.stringify(marker), breakage.text) : text
}

// ---------------------------------------------------------------- cursors and query values

/** Cursors no route can decode: a base64url text that starts with a letter and holds a space, or one too long. */
export const badCursor: fc.Arbitrary<{ value: string; why: string }> = fc.oneof(
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 20 }))
    .map(([a, b]) => ({ value: Buffer.from(`z${a} ${b}`).toString('base64url'), why: 'a cursor this API never returned' })),
  fc.integer({ min: 513, max: 4_000 }).map((n) => ({ value: 'A'.repeat(n), why: `a cursor of ${n} characters` })),
)

/** Query values certain to break a query parameter's schema (query values are strings on the wire). */
export function brokenQueryValues(name: string, schema: Schema): fc.Arbitrary<{ value: string; why: string }>[] {
  const out: fc.Arbitrary<{ value: string; why: string }>[] = []
  const types = typesOf(schema)
  if (name === 'cursor' || name === 'after') out.push(badCursor)
  if (types.includes('integer') || types.includes('number')) {
    // Not '0x10' or ' 5': JavaScript's Number() reads those, and so does the validator's coercion.
    const options: string[] = ['ten', '1.5', '1e400', '--1', '½', '5five']
    if (typeof schema.minimum === 'number') options.push(String(schema.minimum - 1), String(schema.minimum - 1000))
    if (typeof schema.maximum === 'number') options.push(String(schema.maximum + 1), '99999999999999999999999')
    out.push(fc.constantFrom(...options).map((value) => ({ value, why: `not a valid ${name}` })))
  }
  if (types.includes('string')) out.push(...brokenStrings(schema))
  return out
}
