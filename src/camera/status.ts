import { Subscriptions } from '../lib/event-bus.ts';
import type { CameraBus, CameraEvents } from './events.ts';
import type { FeedbackOutputs } from './feedback/feedback.ts';
import type { RingStats } from './media/ring.ts';
import type { BatteryStatus } from './power/battery-monitor.ts';
import type { RecorderStatus } from './recording/recorder.ts';
import type { SyncStatus } from './sync/dock-sync.ts';

/** What `bodycam ctl status` prints. */
export interface CameraStatus {
  state: string;
  ring: { seconds: number; bytes: number; fragments: number };
  incident: { id: string; trigger: string; segments: number } | null;
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
  /** The configured microphone's ALSA device, or null when the source has none. */
  microphone: string | null;
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
    this.#subs.on('dock.changed', ({ docked }) => {
      this.#docked = docked;
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
        r?.incident == null ? null : { id: r.incident.id, trigger: r.incident.trigger, segments: r.incident.segments },
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
      battery: this.#o.battery?.() ?? null,
      writeFailures: r?.writeFailures ?? 0,
      internalErrors: this.#internalErrors,
      memory: { rss, heapUsed, external, arrayBuffers },
    };
  }
}
