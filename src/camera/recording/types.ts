/** The recorder's vocabulary: what an activation brings, the open incident and segment, and its status. */
import type { RecorderState, WarningPlan } from '../events.ts';
import type { InitSegment, MediaFragment } from '../media/types.ts';
import type { SegmentFile } from './segments/writer.ts';

export type OpenSegmentFile = (finalPath: string) => Promise<SegmentFile>;

export interface Activation {
  trigger: string;
  /** Capture-timeline position of the press, ms. */
  activationMs: number;
  requestedPrerollMs: number;
  /** Pre-roll fragments in stream order, starting with a video keyframe. */
  preroll: MediaFragment[];
  warning: WarningPlan;
}

export interface OpenIncident {
  id: string;
  trigger: string;
  activationMs: number;
  seqNext: number;
}

export interface OpenSegment {
  rowId: number;
  incidentId: string;
  seq: number;
  path: string;
  file: SegmentFile;
  init: InitSegment;
  firstMs: number;
  endMs: number;
  frames: number;
  fragments: number;
}

export interface RecorderStatus {
  state: RecorderState;
  incident: { id: string; trigger: string; segments: number; activationMs: number } | null;
  writeFailures: number;
}
