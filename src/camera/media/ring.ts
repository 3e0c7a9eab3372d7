/**
 * The pre-record ring: the last pre-roll of footage, in RAM only, so an activation can include the seconds
 * before the button press. It is bounded by media time (docs/design.md §3): entries are GOP units (a video
 * fragment plus the audio fragments that follow it), and the window always starts on a video keyframe.
 * The decisions (what to evict, what to write on activation) are pure functions over unit spans.
 */
import type { FragmentArena } from './arena.ts';
import type { MediaFragment } from './types.ts';

/** What the decisions look at in a unit: its video fragment's media span and whether it starts on a keyframe. */
export interface UnitSpan {
  startMs: number;
  endMs: number;
  keyframe: boolean;
}

export interface RingUnit extends UnitSpan {
  video: MediaFragment;
  audio: MediaFragment[];
}

/**
 * How many units to drop from the head: up to the LATEST keyframe unit from which the window (last end − its
 * start) still covers `prerollMs`, so the ring covers [pre-roll, pre-roll + one GOP). Units before the first
 * keyframe are undecodable and always go; so does everything when the pre-roll is 0 (nothing kept, by design).
 */
export function unitsToEvict(units: readonly UnitSpan[], prerollMs: number): number {
  if (prerollMs <= 0) return units.length;
  const last = units[units.length - 1];
  if (last === undefined) return 0;
  for (let k = units.length - 1; k > 0; k--) {
    const unit = units[k];
    if (unit?.keyframe && last.endMs - unit.startMs >= prerollMs) return k;
  }
  const firstKey = units.findIndex((u) => u.keyframe);
  return firstKey === -1 ? units.length : firstKey;
}

/**
 * Index of the unit an activation at `activationMs` starts from: the latest keyframe unit starting at or before
 * `activationMs − prerollMs` (so the pre-roll written is in [requested, requested + one GOP)), or the first
 * keyframe unit when the ring holds less than requested; -1 when there is no keyframe at all.
 */
export function prerollStartIndex(units: readonly UnitSpan[], activationMs: number, prerollMs: number): number {
  const target = activationMs - prerollMs;
  let chosen = -1;
  units.forEach((u, i) => {
    if (u.keyframe && u.startMs <= target) chosen = i;
  });
  return chosen !== -1 ? chosen : units.findIndex((u) => u.keyframe);
}

export interface PrerollSelection {
  /** Fragments in stream order (each video fragment followed by its audio). */
  fragments: MediaFragment[];
  /** activationMs − first video start; 0 when nothing is selected. */
  actualPrerollMs: number;
  firstVideoStartMs: number | undefined;
}

export function selectPreroll(units: readonly RingUnit[], activationMs: number, prerollMs: number): PrerollSelection {
  const start = prerollStartIndex(units, activationMs, prerollMs);
  const first = units[start];
  if (first === undefined) return { fragments: [], actualPrerollMs: 0, firstVideoStartMs: undefined };
  const fragments = units.slice(start).flatMap((u) => [u.video, ...u.audio]);
  return { fragments, actualPrerollMs: activationMs - first.startMs, firstVideoStartMs: first.startMs };
}

export interface RingOptions {
  prerollMs: number;
  /** The arena the fragments live in: the ring holds a reference to each fragment it keeps. */
  arena?: Pick<FragmentArena, 'retain' | 'release'>;
  /** Policy switch: when false, audio is never held in RAM before an activation (data minimisation). */
  audioInPreroll: boolean;
}

export interface RingStats {
  /** Media seconds between the first unit's start and the last unit's end. */
  seconds: number;
  bytes: number;
  units: number;
  fragments: number;
}

export class PreRecordRing {
  readonly #options: RingOptions;
  #units: RingUnit[] = [];
  #bytes = 0;
  #fragments = 0;

  constructor(options: RingOptions) {
    this.#options = options;
  }

  push(f: MediaFragment): void {
    if (f.kind === 'video') {
      this.#units.push({ startMs: f.startMs, endMs: f.endMs, keyframe: f.keyframe, video: f, audio: [] });
      this.#add(f);
      this.#evict();
      return;
    }
    const last = this.#units[this.#units.length - 1];
    // Audio before the first video fragment has no unit to belong to; "other" tracks are not evidence we keep.
    if (f.kind !== 'audio' || !this.#options.audioInPreroll || last === undefined) return;
    last.audio.push(f);
    this.#add(f);
  }

  /** The units to write for an activation placed at `activationMs` on the capture timeline. */
  selectPreroll(activationMs: number): PrerollSelection {
    return selectPreroll(this.#units, activationMs, this.#options.prerollMs);
  }

  stats(): RingStats {
    const first = this.#units[0];
    const last = this.#units[this.#units.length - 1];
    const seconds = first && last ? (last.endMs - first.startMs) / 1000 : 0;
    return { seconds, bytes: this.#bytes, units: this.#units.length, fragments: this.#fragments };
  }

  /** Forget everything (a capture restart with a new init segment makes old fragments unusable with it). */
  clear(): void {
    for (const unit of this.#units) this.#releaseUnit(unit);
    this.#units = [];
    this.#bytes = 0;
    this.#fragments = 0;
  }

  #add(f: MediaFragment): void {
    this.#options.arena?.retain(f.bytes);
    this.#bytes += f.bytes.length;
    this.#fragments += 1;
  }

  #evict(): void {
    const n = unitsToEvict(this.#units, this.#options.prerollMs);
    if (n === 0) return;
    for (const unit of this.#units.splice(0, n)) {
      for (const f of [unit.video, ...unit.audio]) {
        this.#bytes -= f.bytes.length;
        this.#fragments -= 1;
      }
      this.#releaseUnit(unit);
    }
  }

  #releaseUnit(unit: RingUnit): void {
    const arena = this.#options.arena;
    if (arena === undefined) return;
    arena.release(unit.video.bytes);
    for (const f of unit.audio) arena.release(f.bytes);
  }
}
