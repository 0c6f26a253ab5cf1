// The OpenAPI 3.1 `webhooks` section: every notification a subscription can receive, with its
// payload schema (the event catalogue's data schemas, by component name), so typed clients get them.
import { dataSchemas, personalFields } from '../domain/catalogue.js'
import { derivedTypes } from '../domain/webhooks.js'
import { withBounds } from '../../routes/schemas.js'

const key = { type: 'string', minLength: 1, maxLength: 128 }

const derivedData: Record<(typeof derivedTypes)[number], object> = {
  'promise.due': promiseNotice('due within 14 days'),
  'promise.overdue': promiseNotice('past its due date'),
  'webhook.test': { type: 'object', properties: { webhookId: { type: 'string', maxLength: 128 }, url: { type: 'string', format: 'uri', maxLength: 2048 } }, required: ['webhookId', 'url'] },
}

function promiseNotice(what: string): object {
  return {
    type: 'object', description: `An open promise ${what}; announced once per promise and due date.`,
    properties: { promiseId: key, journeyId: key, dueDate: { type: 'string', format: 'date', maxLength: 10 }, category: { type: 'string', maxLength: 200 }, madeBy: key },
    required: ['promiseId', 'journeyId', 'dueDate', 'category', 'madeBy'],
  }
}

const header = (name: string, description: string) => ({ name, in: 'header', required: true, schema: { type: 'string', maxLength: 1024 }, description })
const headers = [
  header('webhook-id', 'The delivery id: the same on every attempt; dedupe on it.'),
  header('webhook-timestamp', 'Seconds since the epoch, of this attempt.'),
  header('webhook-signature', '`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the subscription\'s secret; two, space-separated, for 24 h after a rotation.'),
]

function notification(type: string, data: object, personal: readonly string[]): object {
  const envelope = {
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'data'],
    properties: {
      specversion: { const: '1.0' }, id: { type: 'string', maxLength: 255 }, source: { type: 'string', maxLength: 255 }, type: { const: type }, subject: { type: 'string', maxLength: 128 },
      time: { type: 'string', format: 'date-time' }, datacontenttype: { const: 'application/json' }, data,
      version: { type: 'integer', minimum: 1 }, position: { type: 'integer', minimum: 1 }, recordedtime: { type: 'string', format: 'date-time' }, erased: { type: 'boolean' },
      dataref: { type: 'string', maxLength: 512, description: 'Where to read the event with its personal fields (subscriptions without `includePersonal`).' },
    },
  }
  const note = personal.length > 0 ? ` Personal fields (${personal.join(', ')}) are null unless the subscription has \`includePersonal\`.` : ''
  return {
    post: {
      summary: `${type} notification`,
      description: `The CloudEvent, POSTed with Standard Webhooks headers. Only a 2xx answer counts as delivered.${note}`,
      tags: ['webhooks'],
      parameters: headers,
      requestBody: { required: true, content: { 'application/json': { schema: withBounds(envelope) } } },
      responses: { '2XX': { description: 'Delivered.' }, 410: { description: 'Gone: the subscription is disabled.' }, default: { description: 'Failed: retried with back-off.' } },
    },
  }
}

/** The `webhooks` section; `componentOf` names the component a catalogue type's data schema became. */
export function webhooksSection(componentOf: (type: keyof typeof dataSchemas) => string): Record<string, object> {
  const section: Record<string, object> = {}
  for (const type of Object.keys(dataSchemas).filter((t): t is keyof typeof dataSchemas => t in dataSchemas)) {
    section[type] = notification(type, { $ref: `#/components/schemas/${componentOf(type)}` }, personalFields[type])
  }
  for (const type of derivedTypes) section[type] = notification(type, derivedData[type], [])
  return section
}
