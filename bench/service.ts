// Starting the service and the hello baseline as child processes on free 127.0.0.1 ports, with
// the environment the service reads (and nothing inherited that would change its behaviour).
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serviceNodeFlags } from '../scripts/start-command.js'
import { freePort, onExit, runCommand, startChild, waitForHttp, type Child } from './processes.js'

/** Fixed keys, so data sealed by one run opens in the next; an operator's own env wins. */
export function benchKeys(env: NodeJS.ProcessEnv): { masterKey: string; bootstrapKey: string } {
  return {
    masterKey: env.JOURNEY_MASTER_KEY ?? createHash('sha256').update('journey-ledger bench master key').digest('hex'),
    bootstrapKey: env.JOURNEY_BOOTSTRAP_KEY ?? `bench-bootstrap-${createHash('sha256').update('journey-ledger bench bootstrap').digest('hex').slice(0, 24)}`,
  }
}

const serviceVariables = ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL', 'DB_POOL_SIZE', 'BODY_LIMIT', 'SHUTDOWN_GRACE_MS']

/** The environment for the service and the CLI: the caller's, minus anything the service reads, plus `set`. */
export function serviceEnv(set: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (serviceVariables.includes(name) || name.startsWith('JOURNEY_')) continue
    env[name] = value
  }
  return { ...env, LOG_LEVEL: 'warn', ...set }
}

/** A started server; `readyPath` answers 2xx when it is idle enough to take the next run. */
export interface Running { child: Child; baseUrl: string; readyPath: string }

/**
 * The build the container ships (`tsc -p tsconfig.build.json`, `node dist/src/server.js`), made in a
 * temporary directory outside the repository; returns the server's entry file.
 */
export async function buildCompiled(root: string): Promise<{ dir: string; entry: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jl-bench-dist-'))
  onExit(() => rmSync(dir, { recursive: true, force: true }))
  await runCommand('tsc build', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { env: process.env, cwd: root, timeoutMs: 600_000 })
  cpSync(join(root, 'db', 'migrations'), join(dir, 'dist', 'db', 'migrations'), { recursive: true })
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  return { dir, entry: join(dir, 'dist', 'src', 'server.js') }
}

export async function startService(options: { root: string; env: NodeJS.ProcessEnv; cpuProfileDir?: string; readyTimeoutMs: number; compiledEntry?: string }): Promise<Running> {
  const port = await freePort()
  const args = [
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    // As `npm start` runs it (TypeScript through tsx), or as the container does (compiled).
    ...serviceNodeFlags(options.root),
    ...(options.compiledEntry ? [options.compiledEntry] : ['--import', 'tsx', join('src', 'server.ts')]),
  ]
  const child = startChild('service', process.execPath, args, { cwd: options.root, env: { ...options.env, PORT: String(port), HOST: '127.0.0.1' } })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitForHttp(`${baseUrl}/readyz`, child, options.readyTimeoutMs)
  return { child, baseUrl, readyPath: '/readyz' }
}

/** The bare Fastify baseline; with a database URL it also serves `/hello/db`, one `select 1` a request. */
export async function startHello(root: string, databaseUrl?: string): Promise<Running> {
  const port = await freePort()
  const child = startChild('hello', process.execPath, ['--import', 'tsx', join('bench', 'hello.ts'), String(port), ...(databaseUrl ? [databaseUrl] : [])], { cwd: root, env: serviceEnv({}) })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitForHttp(`${baseUrl}/hello`, child, 60_000)
  return { child, baseUrl, readyPath: '/hello' }
}
