// CPU time spent by each side of a scenario (service, database, load generator), from /proc.
// On a shared machine throughput moves with everyone else's load; CPU milliseconds per request
// move much less, so they say what each request costs and who is the limit.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}
const ticksPerSecond = clockTicks()

interface Stat { ppid: number; ownMs: number; childrenMs: number }

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const at = (n: number) => Number(fields[n - 3])
    const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond
    return { ppid: at(4), ownMs: ms(at(14) + at(15)), childrenMs: ms(at(16) + at(17)) }
  } catch {
    return undefined
  }
}

export function processCpuMs(pid: number): number | null {
  return stat(pid)?.ownMs ?? null
}

/**
 * CPU of a whole PostgreSQL cluster: the postmaster, its live children, and the children that
 * have exited (the postmaster's cutime/cstime). Null when the cluster is not visible in /proc.
 */
export function clusterCpuMs(postmasterPid: number | null): number | null {
  if (postmasterPid === null) return null
  const postmaster = stat(postmasterPid)
  if (!postmaster) return null
  let total = postmaster.ownMs + postmaster.childrenMs
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const s = stat(Number(entry))
    if (s?.ppid === postmasterPid) total += s.ownMs
  }
  return total
}

/** The postmaster of the backend with this pid (the database must run on this machine). */
export function postmasterOf(backendPid: number): number | null {
  return stat(backendPid)?.ppid ?? null
}

export interface CpuWindow { stop(requests: number): CpuCost }
export interface CpuCost { serviceMsPerRequest: number | null; databaseMsPerRequest: number | null; loadGeneratorMsPerRequest: number | null; serviceCores: number | null; databaseCores: number | null }

const perRequest = (ms: number | null, requests: number) => (ms === null || requests === 0 ? null : Math.round((ms / requests) * 1000) / 1000)
const cores = (ms: number | null, elapsedMs: number) => (ms === null || elapsedMs <= 0 ? null : Math.round((ms / elapsedMs) * 100) / 100)

export function cpuWindow(servicePid: number | null, postmasterPid: number | null): CpuWindow {
  const started = performance.now()
  const service0 = servicePid === null ? null : processCpuMs(servicePid)
  const db0 = clusterCpuMs(postmasterPid)
  const self0 = process.cpuUsage()
  return {
    stop(requests) {
      const elapsed = performance.now() - started
      const service1 = servicePid === null ? null : processCpuMs(servicePid)
      const db1 = clusterCpuMs(postmasterPid)
      const self = process.cpuUsage(self0)
      const serviceMs = service0 === null || service1 === null ? null : service1 - service0
      const dbMs = db0 === null || db1 === null ? null : db1 - db0
      return {
        serviceMsPerRequest: perRequest(serviceMs, requests),
        databaseMsPerRequest: perRequest(dbMs, requests),
        loadGeneratorMsPerRequest: perRequest((self.user + self.system) / 1000, requests),
        serviceCores: cores(serviceMs, elapsed),
        databaseCores: cores(dbMs, elapsed),
      }
    },
  }
}
