/**
 * What `bodycam doctor` is made of: checks that each look at one thing a technician would look at and come back
 * passing, warning or failing, with what was found and, unless it passed, the fix.
 */
import type { Config } from '../../config/schema.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import type { Account } from '../service-user.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Short stable name, e.g. `camera`; the JSON output is keyed by it. */
  id: string;
  status: CheckStatus;
  /** What was found, in one line. */
  detail: string;
  /** What to do about it (absent when it passed). */
  fix?: string;
}

/** What the checks may touch; every path and tool has a stand-in in tests. */
export interface DoctorContext {
  config: Config;
  configFile: string;
  runner: ProcessRunner;
  /** Where the system's device and sysfs trees start ('' on a real machine; a fixture tree in tests). */
  root: string;
  /** Bytes written by the storage speed test (default 32 MiB). */
  writeTestBytes: number;
  /** Wall clock, ms. */
  now: () => number;
  /**
   * The account the camera runs as, when doctor runs as root and the service user exists: access is checked for it
   * (root reads everything). Null: checked as whoever runs doctor.
   */
  account: Account | null;
}

export type Check = (ctx: DoctorContext) => Promise<CheckResult | CheckResult[]>;

export const pass = (id: string, detail: string): CheckResult => ({ id, status: 'pass', detail });
export const skip = (id: string, detail: string): CheckResult => ({ id, status: 'skip', detail });
export const warn = (id: string, detail: string, fix: string): CheckResult => ({ id, status: 'warn', detail, fix });
export const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: 'fail', detail, fix });

/** The last non-empty line of a tool's stderr, which is where ffmpeg, aplay and arecord say what went wrong. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.at(-1) ?? '(no output)';
}
