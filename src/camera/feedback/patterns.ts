/**
 * What the officer sees and feels, as pure functions of the camera's state, so every case is a row in a table test.
 * Belgian law (police function act, art. 25/3) wants a red light while recording and green on standby; faults get
 * patterns of their own, so a camera is never shown as fine when it is not.
 */
import type { BatteryLevel, ClockState, RecorderState, StorageLevel } from '../events.ts';

export interface FeedbackState {
  recorder: RecorderState;
  stealth: boolean;
  /** `starting` until the capture first delivers; `fault` while it is down (ffmpeg restarting, camera gone). */
  capture: 'starting' | 'ok' | 'fault';
  storage: StorageLevel;
  clock: ClockState;
  speaker: 'ok' | 'fault';
  /** `fault` while capture records video without sound because the microphone fails. */
  microphone: 'ok' | 'fault';
  /** `missing` when a warning prompt could not be loaded at start: the warning cannot be fully given. */
  prompts: 'ok' | 'missing';
  /** `fault` when start-up found no usable signing key: footage is recorded, its manifests signed later. */
  identity: 'ok' | 'fault';
  /** From the fuel gauge (`ok` without one). */
  battery: BatteryLevel;
}

/** How one LED is driven: steady, or a repeating sequence of on/off times. */
export type LedMode = 'off' | 'on' | 'blink' | 'slow' | 'flash2' | 'flash3' | 'wink' | 'pulse' | 'flash1';

export type Indication = 'stealth' | 'starting' | 'capture-fault' | 'storage-full' | 'recording' | 'standby';

/** Why the secondary LED blinks beside the base state (most urgent first). */
export type Warning =
  | 'battery-low'
  | 'speaker-fault'
  | 'prompts-missing'
  | 'microphone-fault'
  | 'clock-unset'
  | 'setup-fault'
  | 'storage-low';

export interface LedPlan {
  red: LedMode;
  green: LedMode;
  indication: Indication;
  /** A lesser fault shown on the other LED while recording or on standby. */
  warning: Warning | null;
}

/** LED on/off times in ms for each mode (starting with "on"); steady modes have none. */
export const LED_STEPS: Readonly<Record<LedMode, readonly number[]>> = {
  off: [],
  on: [],
  blink: [250, 250],
  slow: [1000, 1000],
  flash2: [120, 120, 120, 640],
  flash3: [120, 120, 120, 120, 120, 640],
  /** One long and one short flash: unlike the double flash of full storage, even with the green LED unseen. */
  wink: [700, 200, 120, 980],
  pulse: [120, 1880],
  flash1: [120, 880],
};

/**
 * The secondary indication's LED mode: distinct per fault, except that a failing speaker and a missing prompt share
 * one, since they tell the officer the same thing: the camera cannot give the warning, give it orally. A camera
 * without a usable signing key pulses briefly: it records, but needs a technician.
 */
const WARNING_MODE: Readonly<Record<Warning, LedMode>> = {
  'battery-low': 'flash1',
  'speaker-fault': 'wink',
  'prompts-missing': 'wink',
  'microphone-fault': 'flash3',
  'clock-unset': 'blink',
  'setup-fault': 'pulse',
  'storage-low': 'slow',
};

/** Most urgent first: a low battery ends the camera's day, whatever else is wrong. */
function lesserWarning(s: FeedbackState): Warning | null {
  if (s.battery !== 'ok') return 'battery-low';
  if (s.speaker === 'fault') return 'speaker-fault';
  if (s.prompts === 'missing') return 'prompts-missing';
  if (s.microphone === 'fault') return 'microphone-fault';
  if (s.clock === 'unset') return 'clock-unset';
  if (s.identity === 'fault') return 'setup-fault';
  if (s.storage === 'low') return 'storage-low';
  return null;
}

/**
 * The LEDs for a state. Stealth darkens everything. A camera that captures nothing blinks red fast, full storage
 * double-flashes red: both outrank recording, because the officer must not believe footage is being kept. Otherwise
 * red is steady while recording and green on standby, and the other LED shows the most urgent lesser fault.
 */
export function ledPlan(s: FeedbackState): LedPlan {
  if (s.stealth) return { red: 'off', green: 'off', indication: 'stealth', warning: null };
  if (s.capture === 'starting') return { red: 'off', green: 'off', indication: 'starting', warning: null };
  if (s.capture === 'fault') return { red: 'blink', green: 'off', indication: 'capture-fault', warning: null };
  if (s.storage === 'full') return { red: 'flash2', green: 'off', indication: 'storage-full', warning: null };
  const warning = lesserWarning(s);
  const side: LedMode = warning === null ? 'off' : WARNING_MODE[warning];
  return s.recorder === 'buffering'
    ? { red: side, green: 'on', indication: 'standby', warning }
    : { red: 'on', green: side, indication: 'recording', warning };
}

export type HapticCue = 'start' | 'stop' | 'reminder' | 'refused' | 'say-warning' | 'battery-low';

/**
 * Vibration motor on/off times for a cue: two pulses at start, one at stop and reminders, three short on refusal,
 * three long when the spoken warning could not be given (the officer gives it).
 */
export function hapticSteps(cue: HapticCue, pulseMs: number): number[] {
  switch (cue) {
    case 'start':
      return [pulseMs, pulseMs, pulseMs];
    case 'stop':
    case 'reminder':
      return [pulseMs];
    case 'battery-low':
      return [2 * pulseMs, pulseMs, 2 * pulseMs];
    case 'refused': {
      const short = Math.max(50, Math.round(pulseMs / 2));
      return [short, short, short, short, short];
    }
    case 'say-warning': {
      const long = pulseMs * 4;
      return [long, pulseMs * 2, long, pulseMs * 2, long];
    }
    default: {
      const never: never = cue;
      return never;
    }
  }
}
