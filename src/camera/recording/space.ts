/**
 * What the recorder needs of the storage reserve (docs/design.md §18): footage never writes into it. The storage
 * budget (src/camera/health/storage-budget.ts) is the real one; the composition root hands it in.
 */
import type { MediaFragment } from '../media/types.ts';

export interface FootageSpace {
  /** Reads free space again (cheap: no index query). */
  readFree(): void;
  /** Whether an activation can store footage (one GOP before the reserve). */
  canRecord(): boolean;
  /** Bytes footage may still take before it reaches the reserve. */
  headroom(): number;
  /** Whether a video fragment of `bytes` (with its GOP of audio) fits before the reserve. */
  fits(bytes: number): boolean;
  /** Footage handed to the writer. */
  queued(bytes: number): void;
  /** Queued footage now on disk (after a sync, a close or a given-up segment): the next reading of free space has it. */
  wrote(bytes: number): void;
  /** Free bytes and reserve, for the audit entry of a refused activation. */
  view(): { freeBytes: number; reserveBytes: number };
}

/**
 * The pre-roll for the room left: when it would take more than `maxBytes`, its oldest GOPs go (it still starts on a
 * video keyframe), so a nearly full card keeps what follows the press rather than what came long before it.
 */
export function fitPreroll(fragments: readonly MediaFragment[], maxBytes: number): MediaFragment[] {
  let total = fragments.reduce((n, f) => n + f.bytes.length, 0);
  let start = 0;
  while (total > maxBytes) {
    // Drop up to the next video keyframe after `start`.
    let next = start + 1;
    while (next < fragments.length && !isKeyframe(fragments[next])) next += 1;
    if (next >= fragments.length) break; // the last GOP stays: the recording itself stops at the reserve
    for (let i = start; i < next; i++) total -= fragments[i]?.bytes.length ?? 0;
    start = next;
  }
  return fragments.slice(start);
}

function isKeyframe(f: MediaFragment | undefined): boolean {
  return f !== undefined && f.kind === 'video' && f.keyframe;
}
