/** The recorder's vocabulary: what an activation brings, the open incident and segment, and its status. */
import type { Clock } from '../../hal/clock/port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, RecorderState, WarningPlan } from '../events.ts';
import type { FragmentArena } from '../media/arena.ts';
import type { InitSegment, MediaFragment } from '../media/types.ts';
import type { IncidentStore } from '../storage/incidents.ts';
import type { SegmentStore } from '../storage/segments.ts';
import type { SegmentFile } from './segments/writer.ts';
import type { FootageSpace } from './space.ts';

export type OpenSegmentFile = (finalPath: string) => Promise<SegmentFile>;

export interface RecorderOptions {
  bus: CameraBus;
  incidents: IncidentStore;
  segments: SegmentStore;
  storageDir: string;
  deviceId: string;
  segmentMs: number;
  stopTimeoutMs: number;
  openSegmentFile: OpenSegmentFile;
  clock: Clock;
  logger: Logger;
  /** The storage reserve footage must leave free (docs/design.md §18); without it, footage takes what it finds. */
  space?: FootageSpace;
  /** The arena fragments live in: a queued write holds a reference to its fragment until it has been sealed. */
  arena?: Pick<FragmentArena, 'retain' | 'release'>;
}

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
