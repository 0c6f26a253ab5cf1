// Two transactions that race on the same new source + id: the loser's insert fails on the unique
// index after the winner commits. Running the loser once more finds the stored event and answers
// `duplicate: true`, which is what an idempotent append means.
import { violatedConstraint } from './failures.js'

export async function retryOnDuplicate<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      const constraint = violatedConstraint(error)
      // promises_tenant_id_id_pk: another journey made the same promise id concurrently; the rerun answers promise-exists.
      const retriable = constraint === 'events_source_id' || constraint === 'events_stream_version' || constraint === 'streams_tenant_id_kind_id_pk' || constraint === 'promises_tenant_id_id_pk'
      if (!retriable || attempt >= attempts) throw error
    }
  }
}
