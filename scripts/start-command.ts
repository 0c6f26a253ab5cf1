// The V8 flags `npm start` passes to node, read from package.json, so the bench and the fault suite
// start the service exactly as it is started (the Dockerfile's CMD repeats them).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The words of the start script between `node` and `--import`. */
export function serviceNodeFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/)
  const end = start.indexOf('--import')
  if (start[0] !== 'node' || end < 0) throw new Error(`package.json's start script is not "node <flags> --import tsx ...": ${start.join(' ')}`)
  return start.slice(1, end)
}
