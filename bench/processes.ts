// Child processes of a benchmark run: started with a bounded wait for readiness, their output kept
// for diagnostics, and all of them killed when the run ends, whether it succeeds or fails.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Child {
  name: string
  process: ChildProcess
  pid: number
  /** The last 64 KiB of stdout and stderr, for a failure message. */
  output(): string
  exited: Promise<number | null>
}

const running = new Set<Child>()
const outputLimit = 64 * 1024

export function startChild(name: string, command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string }): Child {
  const proc = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  let buffer = ''
  const keep = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString()).slice(-outputLimit)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const child: Child = { name, process: proc, pid: proc.pid, output: () => buffer, exited }
  running.add(child)
  void exited.then(() => running.delete(child))
  return child
}

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
export async function stopChild(child: Child, graceMs = 15_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return
  child.process.kill('SIGTERM')
  const gone = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)])
  if (!gone) {
    child.process.kill('SIGKILL')
    await Promise.race([child.exited, sleep(5_000)])
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c)))
}

const leftovers = new Set<() => void>()

/** Registers synchronous clean-up (a temporary directory) to run however the run ends; returns its remover. */
export function onExit(cleanup: () => void): () => void {
  leftovers.add(cleanup)
  return () => leftovers.delete(cleanup)
}

/** Last resort on exit: nothing may outlive the run. */
export function killAllNow(): void {
  for (const child of running) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
  }
  for (const cleanup of leftovers) {
    try {
      cleanup()
    } catch {
      // best effort: the process is ending
    }
  }
  leftovers.clear()
}

/** Polls `url` until it answers 2xx, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (code ${child.process.exitCode}) before it was ready:\n${child.output()}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(`${child.name} was not ready at ${url} within ${timeoutMs} ms:\n${child.output()}`)
}

/**
 * A free TCP port on 127.0.0.1, chosen below the ephemeral range so it cannot be one that other
 * engineers use (55999) or CI uses (55432-55440).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 21_000 + Math.floor(Math.random() * 9_000)
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error('no free port found in 21000-29999 after 50 attempts')
}

/** Runs a command to completion with a time limit; returns its stdout, throws with stderr on failure. */
export async function runCommand(name: string, command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  const proc = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  proc.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-outputLimit) })
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs)
  const child: Child = { name, process: proc, pid: proc.pid ?? -1, output: () => stderr, exited: new Promise((resolve) => proc.once('exit', resolve)) }
  running.add(child)
  try {
    const code = await child.exited
    if (code !== 0) throw new Error(`${name} failed (exit ${code ?? proc.signalCode ?? '?'}${proc.signalCode === 'SIGKILL' ? `, killed after ${options.timeoutMs} ms` : ''}):\n${stderr}\n${stdout.slice(-4000)}`)
    return { stdout, stderr, ms: performance.now() - started }
  } finally {
    clearTimeout(timer)
    running.delete(child)
  }
}
