// The stage history a reader sees on a given day: the stored one, plus the onboarding that
// effectiveStage() begins on the start date (tests/integration/time-rules holds the SQL filter to it).
import t from 'tap'
import { effectiveStages, type Journey } from '../../src/domain/journey.js'

const signed = (hiredAt: string, startDate: string | null): Pick<Journey, 'stage' | 'stageSince' | 'startDate' | 'stages'> => ({
  stage: 'hired', stageSince: hiredAt, startDate, stages: [{ stage: 'offered', enteredAt: '2026-04-01T10:00:00.000Z', leftAt: hiredAt }, { stage: 'hired', enteredAt: hiredAt, leftAt: null }],
})

t.test('before the start date the stored history is the history', async (t) => {
  const j = signed('2026-05-01T10:00:00.000Z', '2026-06-01')
  t.same(effectiveStages(j, '2026-05-31'), { stage: 'hired', stageSince: '2026-05-01T10:00:00.000Z', stages: j.stages })
  t.same(effectiveStages(signed('2026-05-01T10:00:00.000Z', null), '2027-01-01').stage, 'hired', 'no start date: hired until an event says otherwise')
})

t.test('from the start date, onboarding begins at its first moment', async (t) => {
  t.same(effectiveStages(signed('2026-05-01T10:00:00.000Z', '2026-06-01'), '2026-06-01'), {
    stage: 'onboarding', stageSince: '2026-06-01T00:00:00.000Z',
    stages: [
      { stage: 'offered', enteredAt: '2026-04-01T10:00:00.000Z', leftAt: '2026-05-01T10:00:00.000Z' },
      { stage: 'hired', enteredAt: '2026-05-01T10:00:00.000Z', leftAt: '2026-06-01T00:00:00.000Z' },
      { stage: 'onboarding', enteredAt: '2026-06-01T00:00:00.000Z', leftAt: null },
    ],
  })
})

t.test('a hire recorded after its start date begins onboarding at the hire, never before it', async (t) => {
  const { stage, stageSince, stages } = effectiveStages(signed('2026-05-10T09:00:00.000Z', '2026-05-04'), '2026-05-20')
  t.equal(stage, 'onboarding')
  t.equal(stageSince, '2026-05-10T09:00:00.000Z')
  t.same(stages.slice(1), [
    { stage: 'hired', enteredAt: '2026-05-10T09:00:00.000Z', leftAt: '2026-05-10T09:00:00.000Z' },
    { stage: 'onboarding', enteredAt: '2026-05-10T09:00:00.000Z', leftAt: null },
  ])
})

t.test('the stored history is not changed in place', async (t) => {
  const j = signed('2026-05-01T10:00:00.000Z', '2026-06-01')
  effectiveStages(j, '2026-07-01')
  t.equal(j.stages.length, 2)
  t.equal(j.stages[1]?.leftAt, null)
})
