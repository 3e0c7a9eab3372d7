/**
 * The camera's vocabulary: every event its components publish and subscribe to, with its payload. Components get
 * the bus in their options, subscribe in `start()` and drop their subscriptions in `stop()`. The capture events
 * run synchronously at every fragment: listeners on them must stay cheap and must not allocate.
 */
import { EventBus } from '../lib/event-bus.ts';
import type { CaptureGap, CaptureState, InitSegment, MediaFragment } from './media/types.ts';

export type RecorderState = 'buffering' | 'recording' | 'stopping';

/** Whether an incident's warning is to be spoken, or why not (a silent activation's reason, `stealth`, `disabled`). */
export type WarningPlan = { speak: true } | { speak: false; reason: string };

export type StorageLevel = 'ok' | 'low' | 'full';
export type BatteryLevel = 'ok' | 'low' | 'critical';
export type ClockState = 'ok' | 'unset';
/** Where the wall clock comes from: `system` when it is plausible but its provenance is unknown. */
export type ClockSource = 'rtc' | 'ntp' | 'dock' | 'system' | 'unset';

export interface IncidentStarted {
  id: string;
  trigger: string;
  /** Capture-timeline position of the activation, ms. */
  activationMs: number;
  prerollRequestedMs: number;
  prerollActualMs: number;
  /** Monotonic clock ms of the activation (for timing what follows it, such as the warning). */
  atMono: number;
  warning: WarningPlan;
}

export interface IncidentClosed {
  id: string;
  reason: string;
  /** Capture-timeline stop point, ms; null when the recorder closed without one. */
  stopAtMs: number | null;
}

export interface SegmentOpened {
  incidentId: string;
  seq: number;
  path: string;
  firstMs: number;
}

export interface SegmentSynced {
  incidentId: string;
  seq: number;
  /** End of the footage now durable, capture timeline ms. */
  endMs: number;
  bytes: number;
}

export interface SegmentSealed {
  incidentId: string;
  seq: number;
  path: string;
  bytes: number;
  sha256: string;
  firstMs: number;
  endMs: number;
  frames: number;
}

/** A segment whose writer broke (an fsync failed), finished at once the way a power cut's is at start-up. */
export interface SegmentFinishedEarly {
  incidentId: string;
  seq: number;
  path: string;
  /** `recovered` to its last good sync, or `lost` when it had none. */
  state: 'recovered' | 'lost';
  bytes: number;
}

export interface StorageFault {
  /** STORAGE_FULL, STORAGE_IO, … (or an errno when the cause was not classified). */
  code: string;
  message: string;
  /** How many failures in a row had this code. */
  run: number;
  /** True for the first of a run and every 30th after: the ones worth an entry in the event log. */
  report: boolean;
  incidentId: string | null;
}

export interface ActivationRefused {
  trigger: string;
  reason: 'storage-full';
  freeBytes: number;
  reserveBytes: number;
}

export interface WarningFinished {
  incidentId: string;
  state: 'given' | 'partial' | 'failed' | 'suppressed';
  reason: string | null;
  /** Capture-timeline ms and wall-clock ISO time when the first clip started; null when nothing played. */
  startedMediaMs: number | null;
  startedAt: string | null;
  durationMs: number | null;
  /** Languages whose phrase was played, in order. */
  languages: string[];
}

/** Something the camera needs was missing or unusable at start; it records anyway and shows, logs and names the fix. */
export interface SetupFault {
  /** `prompts`: the warning cannot be (fully) given; `identity`: no usable signing key, evidence is signed later. */
  part: 'prompts' | 'identity';
  message: string;
  fix: string;
}

export interface CameraEvents {
  'capture.init': InitSegment;
  'capture.fragment': MediaFragment;
  'capture.gap': CaptureGap;
  'capture.state': { state: CaptureState };
  /** A debounced level change on an input line. */
  'input.level': { input: string; active: boolean; atMs: number };
  /** Someone (button, trigger line, control socket) asks to start recording; `silent` gives the reason for none. */
  'command.start': { trigger: string; silent?: string };
  /** Someone asks to stop recording. */
  'command.stop': { reason: string };
  /** The officer asks to enter or leave stealth (no lights, sounds or vibration). */
  'command.stealth': { from: string };
  'stealth.changed': { on: boolean; reason: string };
  /** Stealth was asked for where policy does not allow it. */
  'stealth.refused': { from: string };
  /** Free space on the evidence storage changed level (in minutes of recording left beyond the reserve). */
  'health.storage': { level: StorageLevel; freeBytes: number; reserveBytes: number; minutesLeft: number };
  /** An activation could not store footage (storage full up to its reserve): refused, nothing recorded. */
  'activation.refused': ActivationRefused;
  /** The speaker path checked in standby (a short silent play, or the device's presence) works or fails. */
  'health.speaker': { state: 'ok' | 'fault'; code: string; message: string };
  /** The wall clock is unset (a Pi without RTC before NTP) or set again, and where it comes from. */
  'health.clock': { state: ClockState; source: ClockSource; wallMs: number };
  /** The dock's signed receipt arrived; a segment's file was deleted (or a closing manifest acknowledged). */
  'offload.done': { done: 'segment' | 'incident'; file: string; sha256: string };
  /** A segment was refused by the dock (verification failed: kept), or a receipt refused by the camera. */
  'offload.refused': { by: 'dock' | 'camera'; file: string | null; reason: string };
  /** The wall clock's offset against a reference (the dock), measured over a round trip. */
  'clock.offset': { offsetMs: number; roundTripMs: number; source: 'dock' };
  /** A signed manifest was written and joined the device's manifest chain. */
  'manifest.written': {
    chainSeq: number;
    hash: string;
    kind: 'segment' | 'incident';
    incidentId: string;
    file: string;
  };
  /** A clip finished playing on the speaker (`startedAt` on the monotonic clock). */
  'audio.played': { name: string; startedAt: number; endedAt: number };
  /** The speaker failed to play a clip. */
  'speaker.fault': { name: string; code: string; message: string };
  /** The microphone failed (capture goes on video-only and retries it) or works again. */
  'health.microphone': { state: 'ok' | 'fault'; device: string; message: string };
  /** How an incident's warning ended (also written on the incident). */
  'warning.finished': WarningFinished;
  'recorder.state': { state: RecorderState; previous: RecorderState };
  'incident.started': IncidentStarted;
  'incident.closed': IncidentClosed;
  'segment.opened': SegmentOpened;
  'segment.synced': SegmentSynced;
  'segment.sealed': SegmentSealed;
  'segment.recovered': SegmentFinishedEarly;
  'storage.fault': StorageFault;
  'dock.changed': { docked: boolean };
  'setup.fault': SetupFault;
  /** The camera made its own signing key at start (none was there): to be announced to and confirmed by its dock. */
  'identity.created': { keyId: string; file: string };
  /** A fuel-gauge reading and the level decided from it; `changed` when the level differs from the last one. */
  'health.battery': { level: BatteryLevel; percent: number; volts: number; changed: boolean };
  /** The camera asks the system to power off (battery critical); emitted before the command runs. */
  'power.shutdown': { reason: string; command: readonly string[] };
}

export type CameraBus = EventBus<CameraEvents>;

export function createCameraBus(): CameraBus {
  return new EventBus<CameraEvents>();
}
