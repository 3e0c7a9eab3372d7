import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { controlSocketPath } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { ControlRequest } from './control/protocol.ts';
import { ControlServer } from './control/server.ts';
import { OfficerInputs } from './inputs/officer-inputs.ts';
import { BodycamError, ErrorCode, isSubsystemError } from '../lib/errors.ts';
import { StatusLeds } from './feedback/leds.ts';
import { createGpioDriver } from '../hal/gpio/index.ts';
import type { GpioDriver } from '../hal/gpio/port.ts';
import { SimGpio } from '../hal/gpio/sim.ts';
import type { Logger } from '../lib/logger.ts';
import { Capture } from './media/capture.ts';
import { PreRecordRing } from './media/ring.ts';
import type { InitSegment } from './media/types.ts';
import { parseRecipient } from '../age/keys.ts';
import { Recorder } from './recording/recorder.ts';
import { SealedFileWriter } from './recording/segments/sealed-file.ts';
import { startPeriodicGc } from '../lib/memory.ts';
import { IndexDb } from './storage/index-db.ts';
import { recoverInterrupted } from './recording/segments/startup-recovery.ts';

export interface CameraStatus {
  state: string;
  ring: { seconds: number; bytes: number; fragments: number };
  incident: { id: string; trigger: string; segments: number } | null;
  docked: boolean;
  /** What the LEDs show the officer: standby, recording or fault. */
  indication: string | null;
  capture: { fragments: number; gaps: number; mediaMs: number };
  writeFailures: number;
  /** Process memory in bytes (rss, heapUsed, external, arrayBuffers), for technicians and the memory benchmark. */
  memory: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}

/**
 * The composition root: the one place that builds concrete adapters and wires them. Start in dependency order
 * (index → recovery → GPIO → LEDs → recorder → capture → inputs → control socket), stop in reverse, except that the
 * recorder gets to finish its last segment while capture still runs.
 */
export class Camera {
  readonly #config: Config;
  readonly #log: Logger;
  #index: IndexDb | null = null;
  #gpio: GpioDriver | null = null;
  #leds: StatusLeds | null = null;
  #recorder: Recorder | null = null;
  #ring: PreRecordRing | null = null;
  #capture: Capture | null = null;
  #inputs: OfficerInputs | null = null;
  #control: ControlServer | null = null;
  #init: InitSegment | null = null;
  #docked = false;
  #stopGc: (() => void) | null = null;
  #fragments = 0;
  #gaps = 0;

  constructor(config: Config, logger: Logger) {
    this.#config = config;
    this.#log = logger;
  }

  async start(): Promise<void> {
    const c = this.#config;
    const log = this.#log;
    const recipients = c.encryption.recipients.map((r) => parseRecipient(r));
    await mkdir(c.storage.dir, { recursive: true });

    const index = new IndexDb(path.join(c.storage.dir, 'index.sqlite'));
    this.#index = index;
    const report = await recoverInterrupted(index, log.child({ component: 'recovery' }));
    if (report.recovered + report.lost + report.failed + report.interruptedIncidents > 0)
      log.warn(report, 'recovered after an unclean stop');

    const gpio = await createGpioDriver(c.gpio.driver);
    this.#gpio = gpio;
    const outputs = new Map<string, (on: boolean) => void>();
    for (const [name, line] of Object.entries(c.gpio.outputs)) {
      outputs.set(name, await gpio.openOutput({ name, pin: line.pin, activeLow: line.activeLow }));
    }
    const leds = new StatusLeds({ red: outputs.get('ledRed'), green: outputs.get('ledGreen') });
    this.#leds = leds;

    const recorder = new Recorder({
      index,
      storageDir: c.storage.dir,
      deviceId: c.device.id,
      segmentMs: c.recording.segmentSeconds * 1000,
      stopTimeoutMs: c.recording.stopTimeoutMs,
      openSegmentFile: (file) => SealedFileWriter.create({ path: file, recipients }),
      logger: log.child({ component: 'recorder' }),
      onStateChange: (state) => leds.show(state === 'buffering' ? 'standby' : 'recording'),
      // Blinking red until the next state change: storage trouble is the officer's to know, not to guess.
      onWriteFailure: () => leds.show('fault'),
    });
    this.#recorder = recorder;

    const ring = new PreRecordRing({ prerollMs: c.preRecord.seconds * 1000, audioInPreroll: c.preRecord.audio });
    this.#ring = ring;
    const capture = new Capture({
      source: c.capture.source,
      ffmpegPath: c.capture.ffmpegPath,
      stallMs: c.capture.stallMs,
      logger: log.child({ component: 'capture' }),
      onInit: (init) => {
        // Fragments only play after the init they came with: a changed one (other capture parameters after a
        // restart) makes the pre-roll held so far unusable with it.
        if (this.#init !== null && !this.#init.bytes.equals(init.bytes)) ring.clear();
        this.#init = init;
        recorder.setInit(init);
      },
      onFragment: (f) => {
        this.#fragments += 1;
        ring.push(f);
        recorder.onFragment(f);
      },
      onGap: (gap) => {
        this.#gaps += 1;
        this.#event('capture_gap', { ...gap }, recorder.status().incident?.id ?? null);
      },
    });
    this.#capture = capture;
    await capture.start();
    this.#stopGc = startPeriodicGc(5000);
    leds.show('standby');

    this.#inputs = await OfficerInputs.open(gpio, c, {
      start: (trigger) => this.activate(trigger),
      stop: (reason) => this.stopRecording(reason),
      dock: (docked) => {
        this.#docked = docked;
        this.#event(docked ? 'docked' : 'undocked', {}, null);
        log.info({ docked }, 'dock contact changed');
      },
    });

    const control = new ControlServer({
      path: controlSocketPath(c),
      handler: (req) => this.#handle(req),
      logger: log.child({ component: 'control' }),
    });
    await control.start();
    this.#control = control;
    log.info({ storage: c.storage.dir, prerollSeconds: c.preRecord.seconds }, 'camera ready: buffering');
  }

  /** Events are evidence metadata but not evidence: when storage is full they go to the log instead. */
  #event(kind: string, data: Record<string, unknown>, incidentId: string | null): void {
    try {
      this.#index?.addEvent(kind, data, incidentId);
    } catch (e) {
      if (!isSubsystemError(e, 'STORAGE')) throw e;
      this.#log.warn({ kind, data, code: e.code }, 'event not indexed: storage unavailable');
    }
  }

  /** Start an incident from the ring's pre-roll; a no-op while one is open. */
  activate(trigger: string): string | null {
    const recorder = this.#recorder;
    const ring = this.#ring;
    const capture = this.#capture;
    if (recorder === null || ring === null || capture === null) return null;
    if (recorder.state === 'recording') return null;
    const activationMs = capture.mediaNowMs();
    const selected = ring.selectPreroll(activationMs);
    return recorder.activate({
      trigger,
      activationMs,
      requestedPrerollMs: this.#config.preRecord.seconds * 1000,
      preroll: selected.fragments,
    });
  }

  stopRecording(reason: string): boolean {
    const recorder = this.#recorder;
    const capture = this.#capture;
    if (recorder === null || capture === null) return false;
    return recorder.requestStop(reason, capture.mediaNowMs());
  }

  status(): CameraStatus {
    const rs = this.#ring?.stats();
    const r = this.#recorder?.status();
    return {
      state: r?.state ?? 'starting',
      ring: { seconds: rs?.seconds ?? 0, bytes: rs?.bytes ?? 0, fragments: rs?.fragments ?? 0 },
      incident:
        r?.incident === null || r === undefined
          ? null
          : { id: r.incident.id, trigger: r.incident.trigger, segments: r.incident.segments },
      docked: this.#docked,
      indication: this.#leds?.current ?? null,
      capture: { fragments: this.#fragments, gaps: this.#gaps, mediaMs: this.#capture?.mediaNowMs() ?? 0 },
      writeFailures: r?.writeFailures ?? 0,
      memory: (({ rss, heapUsed, external, arrayBuffers }) => ({ rss, heapUsed, external, arrayBuffers }))(
        process.memoryUsage(),
      ),
    };
  }

  async #handle(req: ControlRequest): Promise<unknown> {
    switch (req.cmd) {
      case 'status':
        return this.status();
      case 'press': {
        const gpio = this.#gpio;
        if (!(gpio instanceof SimGpio)) {
          throw new BodycamError(
            ErrorCode.CONTROL_REJECTED,
            `press works only with gpio.driver "sim" (this camera uses "${gpio?.kind}")`,
          );
        }
        await gpio.press(req.input, req.holdMs > 0 ? { count: req.count, holdMs: req.holdMs } : { count: req.count });
        return { pressed: req.input, count: req.count, holdMs: req.holdMs };
      }
      default: {
        const never: never = req;
        return never;
      }
    }
  }

  async stop(): Promise<void> {
    await this.#control?.stop();
    this.#inputs?.stop();
    const capture = this.#capture;
    await this.#recorder?.shutdown(capture?.mediaNowMs() ?? 0);
    await capture?.stop();
    this.#stopGc?.();
    this.#ring?.clear();
    this.#leds?.stop();
    await this.#gpio?.close();
    this.#index?.close();
    this.#log.info('camera stopped');
  }
}
