/**
 * What the media layer hands to the rest of the firmware. ffmpeg writes fragmented MP4 with
 * `separate_moof`, so every fragment (moof + mdat) carries one track; a video fragment is one GOP.
 */

export type TrackKind = 'video' | 'audio' | 'other';

export interface TrackInfo {
  id: number;
  kind: TrackKind;
  /** Ticks per second of this track's media time. */
  timescale: number;
  /** Sample entry fourcc, e.g. `avc1`, `mp4a`. */
  codec: string;
  /**
   * Presentation size from tkhd, in pixels (0 for audio): what the device actually delivers, which may differ from
   * the size asked for (vivid gives 320x180 when asked for 320x240).
   */
  width: number;
  height: number;
}

/** ftyp + moov: what a player needs before any fragment. */
export interface InitSegment {
  bytes: Buffer;
  tracks: TrackInfo[];
}

export interface MediaFragment {
  /** Track of the single traf in this fragment. */
  track: number;
  kind: TrackKind;
  timescale: number;
  /** Decode time of the first sample (tfdt), in track ticks, after any timeline offset was applied. */
  baseTime: number;
  /** Sum of sample durations, in track ticks. */
  duration: number;
  sampleCount: number;
  /** First sample is a sync sample (an IDR frame for video; always true for audio). */
  keyframe: boolean;
  /** Start and end on the capture timeline in milliseconds (baseTime / timescale). */
  startMs: number;
  endMs: number;
  /** The whole moof + mdat, ready to append after an init segment. */
  bytes: Buffer;
}

/** A break in capture (ffmpeg exit or stall): recorded as an event; the timeline continues after it. */
export interface CaptureGap {
  /** Capture-timeline position where the gap starts (end of the last fragment before it), ms. */
  atMs: number;
  /** Wall-clock length of the outage, ms. */
  durationMs: number;
  reason: string;
}

/** idle → starting → running ⇄ restarting → stopped. */
export type CaptureState = 'idle' | 'starting' | 'running' | 'restarting' | 'stopped';

/** Whether two init segments are the same (a capture restarted with other parameters gives another one). */
export function sameInit(a: InitSegment | null, b: InitSegment | null): boolean {
  return a !== null && b !== null && (a === b || a.bytes.equals(b.bytes));
}
