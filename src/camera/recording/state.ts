/**
 * The recorder's state machine as a pure function, so every transition is a row in a table test.
 * buffering: only the RAM ring fills. recording: the ring was flushed and live fragments are written.
 * stopping: a stop was asked for at a media position; fragments are written until one starts past it.
 * Storage (docs/design.md §18): an activation that cannot store footage is refused, and a video fragment that
 * would reach the storage reserve closes the incident before it (`storage-full`).
 */

import type { RecorderState } from '../events.ts';

export type { RecorderState };

export type RecorderInput =
  /** `canStore: false`: not even one GOP fits before the storage reserve. */
  | { type: 'activate'; canStore?: boolean }
  | { type: 'stop' }
  /** `fits: false`: this fragment would reach the storage reserve. */
  | { type: 'videoFragment'; startMs: number; stopAtMs: number | null; fits?: boolean }
  | { type: 'stopTimeout' };

export type RecorderAction =
  | 'openIncident'
  | 'refuse'
  | 'write'
  | 'drop'
  | 'armStop'
  | 'closeIncident'
  | 'closeStorageFull'
  | 'ignore';

export interface Transition {
  next: RecorderState;
  action: RecorderAction;
}

export function transition(state: RecorderState, input: RecorderInput): Transition {
  switch (input.type) {
    case 'activate':
      // A second activation while recording changes nothing; while stopping it cancels the stop.
      if (state === 'buffering') {
        return input.canStore === false
          ? { next: 'buffering', action: 'refuse' }
          : { next: 'recording', action: 'openIncident' };
      }
      if (state === 'stopping') return { next: 'recording', action: 'ignore' };
      return { next: state, action: 'ignore' };
    case 'stop':
      return state === 'recording' ? { next: 'stopping', action: 'armStop' } : { next: state, action: 'ignore' };
    case 'videoFragment':
      if (state === 'buffering') return { next: state, action: 'drop' };
      if (state === 'stopping' && input.stopAtMs !== null && input.startMs >= input.stopAtMs) {
        return { next: 'buffering', action: 'closeIncident' };
      }
      if (input.fits === false) return { next: 'buffering', action: 'closeStorageFull' };
      return { next: state, action: 'write' };
    case 'stopTimeout':
      return state === 'stopping' ? { next: 'buffering', action: 'closeIncident' } : { next: state, action: 'ignore' };
    default: {
      const never: never = input;
      return never;
    }
  }
}

const ROTATE_TOLERANCE_MS = 0.5;

/** Rotate to a new segment before this video fragment? Only on a keyframe, once the segment is long enough. */
export function shouldRotate(
  segmentFirstMs: number,
  fragmentStartMs: number,
  keyframe: boolean,
  segmentMs: number,
): boolean {
  // Media times are ticks divided into ms: allow for the rounding so a 60 s segment does not become 61 s.
  return keyframe && fragmentStartMs - segmentFirstMs >= segmentMs - ROTATE_TOLERANCE_MS;
}

/**
 * Counts write failures in runs of the same code. While storage stays full every failure says the same thing, so
 * the first of a run is reported in full and then one in every 30 (the segment file keeps unwritten ciphertext in
 * memory and the next write retries it).
 */
export class FailureRuns {
  total = 0;
  #code = '';
  #run = 0;

  add(code: string): { run: number; report: boolean } {
    this.total += 1;
    this.#run = code === this.#code ? this.#run + 1 : 1;
    this.#code = code;
    return { run: this.#run, report: this.#run % 30 === 1 };
  }
}
