/** What /proc says of a running process, for the memory benchmark and the soak: its RSS and its children. */
import { readFileSync } from 'node:fs';

/** Resident set size in bytes (0 once the process is gone). */
export function rssOf(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * Of the resident set, the pages backed by files (`RssFile`, bytes): mostly the Node binary's own code and read-only
 * data, clean, shared with any other process mapping it, and given back by the kernel under memory pressure.
 */
export function rssFileOf(pid: number): number {
  return statusBytes(pid, 'RssFile');
}

/** The most resident memory the process has had so far, in bytes (0 once it is gone). */
export function peakRssOf(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

function statusBytes(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The process's direct children (none once it is gone). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
