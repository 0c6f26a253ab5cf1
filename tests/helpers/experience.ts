// Helpers of the experience tests: one journey's story, told as the HRIS sends it while the clock moves.
import { ce, type TestApp } from './app.js'
import { getOk, given, journey, on } from './spine.js'

interface Trend { readings: number; last: number | null; lastAt: string | null; change: number | null }
export interface ExperienceView {
  journeyId: string
  personId: string | null
  pulses: { time: string; enps: number | null; expectationsMet: number | null }[]
  checkins: { time: string; expectationsMet: number | null; motivations: string[] | null; interests: string[] | null; developmentWishes: string[] | null; notes: string | null }[]
  recognition: { time: string; kind: string | null; note: string | null }[]
  development: { time: string; status: string; kind: string | null; title: string | null }[]
  roleChanges: { time: string; kind: string | null; role: string | null }[]
  trends: Record<'enps' | 'valued' | 'safe' | 'autonomy' | 'expectationsMet', Trend> & Record<'recognition' | 'development', { last: string | null; inWindow: number }>
  data: unknown[]
}

export const J = 'j-story'
export const experienceOf = (app: TestApp) => getOk<ExperienceView>(app, `/v1/journeys/${J}/experience`)

/** The names of the signals on the journey with the clock set to `at`. */
export async function signalsAt(app: TestApp, at: string): Promise<string[]> {
  app.clock.set(at)
  return (await journey(app, J)).signals.map((s) => s.name)
}

/** The events happen on their day, at 09:00, and the clock stands there when they are sent. */
export async function happen(app: TestApp, date: string, ...events: [string, Record<string, unknown>][]): Promise<void> {
  app.clock.set(on(date, 10))
  await given(app, ...events.map(([type, data]) => ce(type, J, data, { time: on(date) })))
}
