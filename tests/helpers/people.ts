// People with a canary in every field that describes them, and the ways to look for those canaries.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ce, type TestApp } from './app.js'

export const word = () => `zebra${Math.random().toString(36).slice(2, 10)}`

/**
 * A person with a canary in every field that describes them: free text, labels, titles, reasons,
 * promise words and renegotiated terms, the channel, whom they referred.
 */
export async function personWithNotes(app: TestApp, journeyId: string, personId: string) {
  const w = Object.fromEntries(['channel', 'interview', 'term', 'checkin', 'motivation', 'interest', 'wish', 'recognition', 'title', 'promise',
    'evidence', 'comment', 'renegotiated', 'broken', 'reason', 'exitReason', 'exit', 'referred'].map((k) => [k, word()]))
  const at = (day: string) => ({ time: `${day}T00:00:00Z` })
  const res = await app.request({
    method: 'POST', url: '/v1/events', payload: [
      ce('candidate.applied', journeyId, { personId, channel: `via ${w.channel}` }, at('2024-01-01')),
      ce('interview.held', journeyId, { interviewer: 'mgr-1', notes: `asked ${w.interview}` }, at('2024-01-03')),
      ce('offer.made', journeyId, { startDate: '2024-02-01', terms: [{ category: 'flexibility', text: `home ${w.term}`, dueAfterStartDays: 30 }] }, at('2024-01-05')),
      ce('employee.hired', journeyId, { startDate: '2024-02-01', department: 'Ops' }, at('2024-01-10')),
      ce('checkin.held', journeyId, { notes: `feels ${w.checkin}`, expectationsMet: 2, motivations: [w.motivation], interests: [w.interest], developmentWishes: [w.wish] }, at('2024-03-01')),
      ce('recognition.given', journeyId, { by: 'mgr-1', kind: 'award', note: `for ${w.recognition}` }, at('2024-03-05')),
      ce('development.started', journeyId, { kind: 'course', title: `course ${w.title}` }, at('2024-03-10')),
      ce('promise.made', journeyId, { promiseId: `${journeyId}-p`, category: 'career', text: `lead ${w.promise}`, madeBy: 'mgr-1' }, at('2024-02-01')),
      ce('promise.kept', journeyId, { promiseId: `${journeyId}-p`, evidence: `did ${w.evidence}` }, at('2024-06-01')),
      ce('promise.assessed', journeyId, { promiseId: `${journeyId}-p`, fulfilled: 2, comment: `meh ${w.comment}` }, at('2024-06-02')),
      ce('promise.made', journeyId, { promiseId: `${journeyId}-q`, category: 'compensation', text: 'a raise', madeBy: 'mgr-1' }, at('2024-02-02')),
      ce('promise.renegotiated', journeyId, { promiseId: `${journeyId}-q`, text: `later ${w.renegotiated}`, agreedByEmployee: true }, at('2024-04-01')),
      ce('promise.broken', journeyId, { promiseId: `${journeyId}-q`, reason: `budget ${w.broken}` }, at('2024-05-01')),
      ce('exit.announced', journeyId, { kind: 'voluntary', reason: `left ${w.reason}` }, at('2024-07-01')),
      ce('exit.interviewed', journeyId, { wouldRecommend: 3, promisesKept: 2, reasons: [w.exitReason], notes: `said ${w.exit}` }, at('2024-07-20')),
      ce('employee.exited', journeyId, { lastDay: '2024-07-31' }, at('2024-07-31')),
      ce('alumni.referred', journeyId, { referredPersonId: w.referred }, at('2024-09-01')),
    ],
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return Object.values(w)
}

/** Every read path a client has, concatenated. */
export async function everyRead(app: TestApp, journeyId: string, personId: string): Promise<string> {
  const urls = ['/v1/events?limit=200', `/v1/journeys/${journeyId}/events`, `/v1/journeys/${journeyId}`, `/v1/journeys/${journeyId}/experience`, `/v1/promises/${journeyId}-p`,
    `/v1/promises?journeyId=${journeyId}`, `/v1/people/${personId}`, `/v1/people/${personId}/export`, '/v1/audit?limit=200']
  const bodies = await Promise.all(urls.map((url) => app.request({ method: 'GET', url })))
  return bodies.map((r) => r.body).join('\n')
}

/** Every file below a directory, as one string (the raw bytes a backup would copy). */
export function rawFiles(dir: string): string {
  const chunks: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) chunks.push(rawFiles(path))
    else chunks.push(readFileSync(path).toString('latin1'))
  }
  return chunks.join('')
}

