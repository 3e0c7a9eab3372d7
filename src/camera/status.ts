import { Subscriptions } from '../lib/event-bus.ts';
import type { CameraBus, CameraEvents, SetupFault } from './events.ts';
import type { FeedbackOutputs } from './feedback/feedback.ts';
import type { StorageView } from './health/storage-budget.ts';
import type { RingStats } from './media/ring.ts';
import type { BatteryStatus } from './power/battery-monitor.ts';
import type { RecorderStatus } from './recording/recorder.ts';
import type { DeviceKeyRow } from './storage/device-keys.ts';
import type { SyncStatus } from './sync/dock-sync.ts';

/** What `bodycam ctl status` prints. */
export interface CameraStatus {
  state: string;
  ring: { seconds: number; bytes: number; fragments: number };
  /**
   * The open incident. `durableMs`: the media time up to which its footage is on disk and survives a power cut (its
   * last sync or sealed segment); null until the pre-roll is secured. `givenUp`: its segments given up after a failed
   * write (a failed fsync, a card refusing a close twice), each kept to its last sync: what came after that sync, up
   * to the next segment, is missing, so with `givenUp` above 0 the footage up to `durableMs` has gaps.
   */
  incident: { id: string; trigger: string; segments: number; durableMs: number | null; givenUp: number } | null;
  docked: boolean;
  /** What the LEDs show the officer (`standby`, `recording`, `capture-fault`, `storage-full`, `stealth`, …). */
  indication: string | null;
  /** The officer's outputs: LED colours and pattern, vibration, the last sound played, stealth. */
  outputs: FeedbackOutputs | null;
  /** Dock sync, when the camera is enrolled at a dock: connected, segments offloaded and refused this run. */
  sync: SyncStatus | null;
  capture: {
    state: string;
    fragments: number;
    gaps: number;
    mediaMs: number;
    /** The frame size the camera actually delivers (from the init segment; the configured one is a request). */
    video: { width: number; height: number } | null;
    /** The microphone (null without one): `fault` while capture records video without sound and retries it. */
    microphone: { device: string; state: 'ok' | 'fault'; message: string } | null;
  };
  /**
   * The evidence storage in recording time (docs/design.md §18): level, free bytes, the reserve footage never takes,
   * and minutes of recording left beyond it at the configured bitrate.
   */
  storage: StorageView | null;
  /** The speaker path as last checked or used: `fault` with what failed. */
  speaker: { state: 'ok' | 'fault'; message: string };
  /**
   * What start-up found missing or unusable (a warning prompt, the signing key), each with its fix; the camera records
   * regardless. Empty when nothing is.
   */
  faults: SetupFault[];
  /** The key signing this camera's evidence (null without one: see `faults`), and whether a dock confirmed it. */
  identity: {
    keyId: string;
    origin: DeviceKeyRow['origin'];
    firstUsedAt: string;
    /** Made by the camera itself and not yet confirmed by a dock: announced at the next docking. */
    toAnnounce: boolean;
    confirmedAt: string | null;
  } | null;
  /** The fuel gauge's last reading and level; null without a gauge, `error` when it could not be opened. */
  battery: (BatteryStatus & { error?: string }) | null;
  writeFailures: number;
  /** Listener errors caught by the event bus: a bug, counted so it is seen, never a stopped recording. */
  internalErrors: number;
  /** Process memory in bytes (rss, heapUsed, external, arrayBuffers), for technicians and the memory benchmark. */
  memory: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}

export interface StatusSources {
  bus: CameraBus;
  recorder: () => RecorderStatus | null;
  ring: () => RingStats | null;
  mediaNowMs: () => number;
  outputs: () => FeedbackOutputs | null;
  sync: () => SyncStatus | null;
  storage: () => StorageView | null;
  /** The configured microphone's ALSA device, or null when the source has none. */
  microphone: string | null;
  /** The signing key's row in the index (null without a usable key). */
  identity: () => DeviceKeyRow | null;
  battery?: () => (BatteryStatus & { error?: string }) | null;
}

/** Counts what the bus carries (fragments, gaps, dock changes) and assembles the status from its sources. */
export class StatusBoard {
  readonly #o: StatusSources;
  readonly #subs: Subscriptions<CameraEvents>;
  #fragments = 0;
  #gaps = 0;
  #docked = false;
  #captureState = 'idle';
  #internalErrors = 0;
  #video: { width: number; height: number } | null = null;
  #microphone: { device: string; state: 'ok' | 'fault'; message: string } | null;
  #speaker: { state: 'ok' | 'fault'; message: string } = { state: 'ok', message: '' };
  readonly #faults: SetupFault[] = [];
  /** The last footage made durable: its incident and media end. */
  #durable: { incidentId: string; endMs: number } | null = null;
  /** Segments given up after a failed write, and their incident. */
  #givenUp: { incidentId: string; count: number } | null = null;

  constructor(sources: StatusSources) {
    this.#o = sources;
    this.#subs = new Subscriptions(sources.bus);
    this.#microphone = sources.microphone === null ? null : { device: sources.microphone, state: 'ok', message: '' };
  }

  async start(): Promise<void> {
    this.#subs.on('capture.fragment', () => {
      this.#fragments += 1;
    });
    this.#subs.on('capture.gap', () => {
      this.#gaps += 1;
    });
    this.#subs.on('capture.state', ({ state }) => {
      this.#captureState = state;
    });
    this.#subs.on('capture.init', ({ tracks }) => {
      const video = tracks.find((t) => t.kind === 'video');
      this.#video = video === undefined ? null : { width: video.width, height: video.height };
    });
    this.#subs.on('health.microphone', ({ state, device, message }) => {
      this.#microphone = { device, state, message };
    });
    const durable = ({ incidentId, endMs }: { incidentId: string; endMs: number }) => {
      this.#durable = { incidentId, endMs };
    };
    this.#subs.on('segment.synced', durable);
    this.#subs.on('segment.sealed', durable);
    this.#subs.on('segment.recovered', ({ incidentId }) => {
      const count = this.#givenUp?.incidentId === incidentId ? this.#givenUp.count : 0;
      this.#givenUp = { incidentId, count: count + 1 };
    });
    this.#subs.on('dock.changed', ({ docked }) => {
      this.#docked = docked;
    });
    this.#subs.on('health.speaker', ({ state, message }) => {
      this.#speaker = { state, message };
    });
    this.#subs.on('speaker.fault', ({ message }) => {
      this.#speaker = { state: 'fault', message };
    });
    this.#subs.on('audio.played', () => {
      this.#speaker = { state: 'ok', message: '' };
    });
    this.#subs.on('setup.fault', (fault) => {
      this.#faults.push(fault);
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
  }

  /** The bus reports a listener error. */
  countInternalError(): void {
    this.#internalErrors += 1;
  }

  snapshot(): CameraStatus {
    const rs = this.#o.ring();
    const r = this.#o.recorder();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const outputs = this.#o.outputs();
    return {
      state: r?.state ?? 'starting',
      ring: { seconds: rs?.seconds ?? 0, bytes: rs?.bytes ?? 0, fragments: rs?.fragments ?? 0 },
      incident:
        r?.incident == null
          ? null
          : {
              id: r.incident.id,
              trigger: r.incident.trigger,
              segments: r.incident.segments,
              durableMs: this.#durable?.incidentId === r.incident.id ? this.#durable.endMs : null,
              givenUp: this.#givenUp?.incidentId === r.incident.id ? this.#givenUp.count : 0,
            },
      docked: this.#docked,
      indication: outputs?.led?.indication ?? null,
      outputs,
      sync: this.#o.sync(),
      capture: {
        state: this.#captureState,
        fragments: this.#fragments,
        gaps: this.#gaps,
        mediaMs: this.#o.mediaNowMs(),
        video: this.#video,
        microphone: this.#microphone,
      },
      storage: this.#o.storage(),
      speaker: this.#speaker,
      faults: [...this.#faults],
      identity: identityStatus(this.#o.identity()),
      battery: this.#o.battery?.() ?? null,
      writeFailures: r?.writeFailures ?? 0,
      internalErrors: this.#internalErrors,
      memory: { rss, heapUsed, external, arrayBuffers },
    };
  }
}

function identityStatus(row: DeviceKeyRow | null): CameraStatus['identity'] {
  if (row === null) return null;
  return {
    keyId: row.keyId,
    origin: row.origin,
    firstUsedAt: row.firstUsedAt,
    toAnnounce: row.origin === 'created-at-start' && row.confirmedAt === null,
    confirmedAt: row.confirmedAt,
  };
}
