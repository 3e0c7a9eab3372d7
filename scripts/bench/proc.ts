/** What /proc says of a running process, for the memory benchmark and the soak: its RSS and its children. */
import { readFileSync } from 'node:fs';

/** Resident set size in bytes (0 once the process is gone). */
export function rssOf(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The resident set and, of it, the pages backed by files (`RssFile`), in bytes, from one reading: the file-backed
 * pages are mostly the Node binary's own code and read-only data, clean, shared with any other process mapping it,
 * and given back by the kernel under memory pressure. Zeros once the process is gone.
 */
export function residentOf(pid: number): { rss: number; file: number } {
  const status = statusText(pid);
  return { rss: field(status, 'VmRSS'), file: field(status, 'RssFile') };
}

/** The most resident memory the process has had so far, in bytes (0 once it is gone). */
export function peakRssOf(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

function statusBytes(pid: number, name: string): number {
  return field(statusText(pid), name);
}

function statusText(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

function field(status: string, name: string): number {
  const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(status);
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
}

/** The process's direct children (none once it is gone). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
