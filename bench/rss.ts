// Peak resident memory of a process during one scenario: VmRSS sampled every 100 ms, and VmHWM
// (the kernel's own peak), reset at the start through /proc/<pid>/clear_refs where allowed.
import { readFileSync, writeFileSync } from 'node:fs'

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

export interface RssSampler { stop(): { peakMb: number | null; hwmReset: boolean } }

export function sampleRss(pid: number): RssSampler {
  let hwmReset = false
  try {
    // "5" resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    hwmReset = true
  } catch {
    // Not permitted: VmHWM then covers the process's whole life, so only the samples count.
  }
  let peakKb = statusKb(pid, 'VmRSS') ?? 0
  const timer = setInterval(() => {
    peakKb = Math.max(peakKb, statusKb(pid, 'VmRSS') ?? 0)
  }, 100)
  let stopped: { peakMb: number | null; hwmReset: boolean } | undefined
  return {
    stop() {
      if (stopped) return stopped
      clearInterval(timer)
      if (hwmReset) peakKb = Math.max(peakKb, statusKb(pid, 'VmHWM') ?? 0)
      stopped = { peakMb: peakKb > 0 ? Math.round(peakKb / 102.4) / 10 : null, hwmReset }
      return stopped
    },
  }
}

