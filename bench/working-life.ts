// The history the long-versus-short comparison grows: one employee's working life as the HRIS and
// the pulse tool would have sent it, cut at any length, so a journey of 5 and one of 1 000 events
// are the same kind of journey at different ages.

export const lifeSource = 'bench:journey-length'
const weekMs = 7 * 86_400_000
const manager = 'mgr-engineering-1'

interface Step { week: number; type: string; data: Record<string, unknown> }

export interface CloudEvent {
  specversion: '1.0'
  id: string
  source: string
  type: string
  subject: string
  time?: string
  data: Record<string, unknown>
}

/**
 * Hired in week 0; a pulse every week, a check-in with notes (a sealed personal field) every fourth,
 * onboarding done in week 12, a promise made every half year (due half a year later) and kept after a quarter, recognition
 * once a year. About 70 events a year, so 1 000 events are some 14 years.
 */
function steps(journeyId: string, size: number): Step[] {
  const out: Step[] = [{ week: 0, type: 'employee.hired', data: { personId: `pb-${journeyId}`, role: 'Backend Engineer', department: 'Engineering', manager } }]
  for (let week = 1; out.length < size; week++) {
    if (week % 4 === 0) {
      out.push({ week, type: 'checkin.held', data: { with: manager, expectationsMet: 4 + (week % 8 === 0 ? 1 : 0), interests: ['data'], developmentWishes: ['lead a project'], notes: `Week ${week}: workload, the next quarter, and how the team is doing.` } })
    }
    out.push({ week, type: 'pulse.answered', data: { enps: 7 + (week % 3), valued: 4, safe: 5, autonomy: 3 + (week % 2), expectationsMet: 4 } })
    if (week === 12) out.push({ week, type: 'onboarding.completed', data: {} })
    if (week % 26 === 0) {
      out.push({ week, type: 'promise.made', data: { promiseId: `${journeyId}-pr-${week}`, category: 'development', text: 'A conference of your choice this half year.', madeBy: manager, madeAt: 'employment', kind: 'transactional' } })
    }
    if (week % 26 === 13 && week > 13) {
      out.push({ week, type: 'promise.kept', data: { promiseId: `${journeyId}-pr-${week - 13}`, evidence: 'Went to the conference and shared notes with the team.' } })
    }
    if (week % 52 === 40) out.push({ week, type: 'recognition.given', data: { by: manager, kind: 'compliment', note: 'Calm handling of the release week.' } })
  }
  return out.slice(0, size)
}

/** The first `size` events of a working life that ends in the week before `now`. */
export function workingLife(journeyId: string, size: number, now: number): CloudEvent[] {
  const life = steps(journeyId, size)
  const weeks = (life.at(-1)?.week ?? 0) + 1
  const startMs = now - weeks * weekMs
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  return life.map((step, i) => {
    // A minute apart within a week, so the order in time is the order sent.
    const ms = startMs + step.week * weekMs + i * 60_000
    const dates = step.type === 'employee.hired' ? { startDate: day(startMs) } : step.type === 'promise.made' ? { dueBy: day(ms + 26 * weekMs) } : {}
    return { specversion: '1.0', id: `${journeyId}.${i}`, source: lifeSource, type: step.type, subject: journeyId, time: new Date(ms).toISOString(), data: { ...step.data, ...dates } }
  })
}

/** What an integration sends each week to a journey that exists: a pulse, or a check-in with notes. */
export function weeklyEvent(journeyId: string, id: string, checkin: boolean): CloudEvent {
  return checkin
    ? { specversion: '1.0', id, source: lifeSource, type: 'checkin.held', subject: journeyId, data: { with: manager, expectationsMet: 4, interests: ['data'], notes: 'Talked about the next months.' } }
    : { specversion: '1.0', id, source: lifeSource, type: 'pulse.answered', subject: journeyId, data: { enps: 8, valued: 4, safe: 5, autonomy: 3, expectationsMet: 4 } }
}
