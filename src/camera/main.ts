/**
 * The camera's composition root: the one place that builds concrete adapters and wires them through the event
 * bus. It holds no behaviour of its own. Parts start in dependency order and stop in reverse; the recording is
 * finished (its last fragment written) while capture still runs, because "finish recording" stops before capture.
 */
import { mkdir } from 'node:fs/promises';
import { parseRecipient } from '../age/keys.ts';
import { controlSocketPath } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createAudioOutput } from '../hal/audio/index.ts';
import type { AudioOutput } from '../hal/audio/port.ts';
import { SimulatedRoom } from '../hal/audio/room.ts';
import { createFuelGauge } from '../hal/battery/index.ts';
import type { FuelGauge } from '../hal/battery/port.ts';
import type { Clock } from '../hal/clock/port.ts';
import { realClock } from '../hal/clock/real.ts';
import { createGpioDriver } from '../hal/gpio/index.ts';
import type { GpioDriver } from '../hal/gpio/port.ts';
import { SimGpio } from '../hal/gpio/sim.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import type { ProcessRunner } from '../hal/process/port.ts';
import { isBodycamError } from '../lib/errors.ts';
import { makePrivate } from '../lib/fs.ts';
import { Lifecycle } from '../lib/lifecycle.ts';
import type { Logger } from '../lib/logger.ts';
import { RELEASE } from '../lib/version.ts';
import type { SyncTransport } from '../protocol/transport/port.ts';
import { Journal } from './audit/journal.ts';
import { ManifestWriter } from './audit/manifests.ts';
import { type AuditRecord, AuditTrail } from './audit/trail.ts';
import { controlHandler } from './control/commands.ts';
import { ControlServer } from './control/server.ts';
import { type CameraBus, createCameraBus } from './events.ts';
import { Feedback } from './feedback/feedback.ts';
import { attentionTone, refusedTone, reminderTone } from './feedback/prompts.ts';
import { StealthPolicy } from './feedback/stealth.ts';
import { SpokenWarning } from './feedback/warning.ts';
import { ClockCheck } from './health/clock-check.ts';
import { MemoryUpkeep } from './health/memory-upkeep.ts';
import { recordingRate } from './health/reserve.ts';
import { SpeakerCheck } from './health/speaker-check.ts';
import { StorageBudget } from './health/storage-budget.ts';
import { StorageSpace } from './health/storage-space.ts';
import { publishDeviceKey } from './identity.ts';
import { OfficerInputs } from './inputs/officer-inputs.ts';
import { arenaForSource } from './media/arena.ts';
import { Capture } from './media/capture.ts';
import { PreRecordRing } from './media/ring.ts';
import { BatteryMonitor } from './power/battery-monitor.ts';
import { Activation } from './recording/activation.ts';
import { Recorder } from './recording/recorder.ts';
import { recoverInterrupted } from './recording/segments/startup-recovery.ts';
import { SegmentWriter } from './recording/segments/writer.ts';
import { SystemdNotify } from './service/notify.ts';
import { gatherStartNeeds } from './start-needs.ts';
import { type CameraStatus, StatusBoard } from './status.ts';
import { CameraStore } from './storage/store.ts';
import { dockSync } from './sync/wiring.ts';
import { cameraUpdates } from './update/wiring.ts';

/** Stand-ins a test or benchmark may hand in (with them the whole camera runs on fake time: camera.test.ts). */
export interface CameraDeps {
  /** Every timer and timestamp of every part (default: the real clock). */
  clock?: Clock;
  gpio?: GpioDriver;
  /** A fuel gauge (the sim one in tests); default: the one battery.gauge names. */
  gauge?: FuelGauge | null;
  /** Every child process: the capture (ffmpeg, rpicam-vid), aplay, systemd-notify, the shutdown command. */
  processes?: ProcessRunner;
  audio?: AudioOutput;
  /** The config file's path, for messages that tell a technician what to run. */
  configFile?: string;
  /** The connection to the dock's broker; default: MQTT with the camera's certificate (sync/wiring.ts). */
  dockTransport?: SyncTransport;
}

export class Camera {
  readonly bus: CameraBus = createCameraBus();
  readonly #config: Config;
  readonly #log: Logger;
  readonly #deps: CameraDeps;
  readonly #parts: Lifecycle;
  #status: StatusBoard | null = null;
  #activation: Activation | null = null;
  readonly #restart = Promise.withResolvers<string>();
  /** Resolves when an update asks for the camera to be stopped and started again (src/camera/update). */
  readonly restartRequested: Promise<string> = this.#restart.promise;

  constructor(config: Config, logger: Logger, deps: CameraDeps = {}) {
    this.#config = config;
    this.#log = logger;
    this.#deps = deps;
    this.#parts = new Lifecycle(logger);
  }

  async start(): Promise<void> {
    const c = this.#config;
    const log = this.#log;
    const bus = this.bus;
    const clock = this.#deps.clock ?? realClock;
    const processes = this.#deps.processes ?? new NodeProcessRunner({ clock });
    bus.onListenerError = (event, err) => {
      log.error({ event, err }, 'an event listener failed');
      this.#status?.countInternalError();
    };
    const recipients = c.encryption.recipients.map((r) => parseRecipient(r));
    // Evidence, its index and the audit log are the daemon's alone (storage made by an older release is tightened).
    await mkdir(c.storage.dir, { recursive: true, mode: 0o700 });
    await makePrivate(c.storage.dir, 0o700);
    // Prompts and the signing key: what is missing is a fault shown once everything runs, never a refusal to record.
    const needs = await gatherStartNeeds(c, this.#deps.configFile);
    const { clips, identity } = needs;
    if (identity !== null) await publishDeviceKey(c.storage.dir, identity);
    const audit =
      identity === null ? null : await AuditTrail.open(c.storage.dir, identity, log.child({ component: 'audit' }));
    if (audit !== null) this.#parts.add('audit log', () => audit.close());
    const store = CameraStore.open(c.storage.dir, {
      wallNow: () => clock.wallNow(),
      ...(audit === null ? {} : { onEvent: (e: AuditRecord) => audit.append(e) }),
    });
    this.#parts.add('index', () => store.close());
    const key =
      identity === null
        ? null
        : store.deviceKeys.use({
            keyId: identity.keyId,
            publicPem: identity.publicPem,
            origin: needs.keyCreated ? 'created-at-start' : 'provisioned',
            release: RELEASE,
          });
    const previousStart = store.events.last('started');
    const report = await recoverInterrupted({
      incidents: store.incidents,
      segments: store.segments,
      events: store.events,
      logger: log.child({ component: 'recovery' }),
    });
    if (report.recovered + report.lost + report.failed + report.interruptedIncidents > 0) {
      log.warn(report, 'recovered after an unclean stop');
    }
    // Footage never takes the storage reserve (docs/design.md §18).
    const budget = new StorageBudget({
      dir: c.storage.dir,
      rate: recordingRate(c.capture.source),
      segmentSeconds: c.recording.segmentSeconds,
      lowMinutes: c.storage.lowMinutes,
      contents: () => store.contents(),
    });
    if (c.feedback.storageLowMb !== undefined)
      log.warn('feedback.storageLowMb is deprecated and ignored: storage shows as low by storage.lowMinutes');
    const gpio =
      this.#deps.gpio ??
      (await createGpioDriver(c.gpio.driver, { clock, ...(c.gpio.chip === undefined ? {} : { chip: c.gpio.chip }) }));
    this.#parts.add('gpio', () => gpio.close());

    // A gauge that does not answer is logged and shown in the status; it never keeps the camera from recording.
    let gauge: FuelGauge | null = null;
    let gaugeError: string | undefined;
    try {
      gauge = this.#deps.gauge === undefined ? await createFuelGauge(c.battery) : this.#deps.gauge;
    } catch (e) {
      if (!isBodycamError(e)) throw e;
      gaugeError = e.message;
      log.error({ code: e.code, message: e.message }, 'no fuel gauge: the battery is not watched');
    }

    const source = c.capture.source;
    const room =
      c.audio.driver === 'file' && c.audio.roomToMicrophone && source.kind === 'synthetic' && source.audio
        ? new SimulatedRoom()
        : undefined;
    const audio =
      this.#deps.audio ??
      createAudioOutput(
        { driver: c.audio.driver, device: c.audio.device, dir: c.audio.dir, ...(room === undefined ? {} : { room }) },
        { processes, clock },
      );
    this.#parts.add('speaker', () => audio.stop());
    const prerollMs = c.preRecord.seconds * 1000;
    // The fragments' memory: one block the size of the pre-roll, reused in place (media/arena.ts).
    const arena = arenaForSource(source, c.preRecord);
    const ring = new PreRecordRing({ prerollMs, audioInPreroll: c.preRecord.audio, arena });
    const capture = new Capture({
      source: c.capture.source,
      arena,
      ffmpegPath: c.capture.ffmpegPath,
      stallMs: c.capture.stallMs,
      clock,
      processes,
      ...(room === undefined ? {} : { room }),
      logger: log.child({ component: 'capture' }),
      onInit: (init) => bus.emit('capture.init', init),
      onFragment: (f) => bus.emit('capture.fragment', f),
      onGap: (gap) => bus.emit('capture.gap', gap),
      onStateChange: (state) => bus.emit('capture.state', { state }),
      onMicrophone: (health) => bus.emit('health.microphone', health),
    });
    const recorder = new Recorder({
      bus,
      incidents: store.incidents,
      segments: store.segments,
      storageDir: c.storage.dir,
      deviceId: c.device.id,
      segmentMs: c.recording.segmentSeconds * 1000,
      stopTimeoutMs: c.recording.stopTimeoutMs,
      openSegmentFile: (file) => SegmentWriter.create({ path: file, recipients }),
      clock,
      logger: log.child({ component: 'recorder' }),
      space: budget,
      arena,
    });
    const mediaNowMs = () => capture.mediaNowMs();
    const activation = new Activation({
      bus,
      ring,
      recorder,
      mediaNowMs,
      prerollMs,
      warningEnabled: c.warning.enabled,
      now: () => clock.now(),
      logger: log.child({ component: 'activation' }),
    });
    this.#activation = activation;
    const tone = clips?.tone ?? attentionTone(c.warning.toneHz, c.warning.toneMs);
    const feedback = new Feedback({
      bus,
      gpio,
      outputs: c.gpio.outputs,
      audio,
      tones: { start: tone, reminder: reminderTone(), refused: refusedTone() },
      settings: c.feedback,
      clock,
      logger: log.child({ component: 'feedback' }),
    });
    const warning = new SpokenWarning({
      bus,
      audio,
      clips,
      incidents: store.incidents,
      clock,
      speed: source.kind === 'synthetic' ? source.speed : 1,
      logger: log.child({ component: 'warning' }),
    });
    const battery =
      gauge === null
        ? null
        : new BatteryMonitor({
            bus,
            gauge,
            thresholds: c.battery,
            pollMs: c.battery.pollSeconds * 1000,
            shutdownCommand: c.battery.shutdownCommand,
            closeTimeoutMs: c.battery.closeTimeoutSeconds * 1000,
            recorderState: () => recorder.state,
            processes,
            clock,
            logger: log.child({ component: 'battery' }),
          });
    const status = new StatusBoard({
      bus,
      recorder: () => recorder.status(),
      ring: () => ring.stats(),
      mediaNowMs,
      outputs: () => feedback.outputs(),
      sync: () => sync?.status() ?? null,
      storage: () => (budget.refresh() ? budget.view() : null),
      microphone: source.kind !== 'synthetic' && source.audio ? source.alsaDevice : null,
      identity: () => (key === null ? null : (store.deviceKeys.get(key.keyId) ?? key)),
      battery: () =>
        battery?.status() ??
        (gaugeError === undefined
          ? null
          : {
              gauge: c.battery.gauge,
              level: 'ok',
              percent: null,
              volts: null,
              at: null,
              readFailures: 0,
              shutdownRequested: false,
              error: gaugeError,
            }),
    });
    this.#status = status;
    // Without a signing key there is nothing the dock would take (no manifests yet): the camera stays off the dock.
    // Updates come only through the dock, to an enrolled camera with a signing key (update/wiring.ts).
    const [configFile, restart] = [this.#deps.configFile ?? '', this.#restart.resolve];
    const updates = await cameraUpdates(c, identity, { bus, clock, recorder, status, log, restart, configFile });
    const sync =
      c.dock === undefined || identity === null
        ? null
        : await dockSync(c.dock, {
            ...(updates.updater === null ? {} : { updates: updates.updater }),
            bus,
            store,
            storageDir: c.storage.dir,
            device: c.device.id,
            identity,
            auditHead: () => audit?.head ?? -1,
            clock,
            logger: log.child({ component: 'sync' }),
            ...(this.#deps.dockTransport === undefined ? {} : { transport: this.#deps.dockTransport }),
          });
    const control = new ControlServer({
      path: controlSocketPath(c),
      handler: controlHandler({
        status: () => status.snapshot(),
        events: (limit) => store.events.recent(limit),
        sim: gpio instanceof SimGpio ? gpio : null,
        gpioKind: gpio.kind,
      }),
      logger: log.child({ component: 'control' }),
    });

    await this.#parts.start('status', status);
    const journalStart = { config: c, previous: previousStart?.data ?? null };
    await this.#parts.start('journal', new Journal({ bus, events: store.events, logger: log, start: journalStart }));
    if (identity !== null) {
      const manifests = new ManifestWriter({
        bus,
        incidents: store.incidents,
        segments: store.segments,
        manifests: store.manifests,
        storageDir: c.storage.dir,
        device: c.device.id,
        identity,
        retention: { policeAccessDays: c.evidence.policeAccessDays, maxMonths: c.evidence.maxMonths },
        speed: source.kind === 'synthetic' ? source.speed : 1,
        wallNow: () => clock.wallNow(),
        logger: log.child({ component: 'manifests' }),
        onInternalError: () => status.countInternalError(),
      });
      await this.#parts.start('manifests', manifests);
    }
    await this.#parts.start('feedback', feedback);
    await this.#parts.start('warning', warning);
    const speakerCheck = {
      bus,
      audio,
      clock,
      everyMs: c.feedback.speakerCheckSeconds * 1000,
      logger: log.child({ component: 'speaker' }),
    };
    await this.#parts.start('speaker check', new SpeakerCheck(speakerCheck));
    const stealth = { bus, allowed: c.stealth.allowed, reason: c.stealth.reason, logger: log };
    await this.#parts.start('stealth', new StealthPolicy(stealth));
    await this.#parts.start('storage space', new StorageSpace({ bus, budget, clock }));
    await this.#parts.start('clock check', new ClockCheck({ bus, clock }));
    await this.#parts.start('memory upkeep', new MemoryUpkeep({ bus, clock }));
    // Recorder and ring subscribe before capture publishes its first init segment.
    await this.#parts.start('recorder', recorder);
    await this.#parts.start('activation', activation);
    await this.#parts.start('capture', capture);
    this.#parts.add('finish recording', () => activation.finish());
    if (battery !== null) await this.#parts.start('battery', battery);
    const inputs = { bus, gpio, lines: c.gpio.inputs, roles: c.controls, debounceMs: c.gpio.debounceMs, clock };
    await this.#parts.start('inputs', new OfficerInputs(inputs));
    if (sync !== null) await this.#parts.start('dock sync', sync);
    updates.attach(sync);
    if (updates.updater !== null) await this.#parts.start('updates', updates.updater);
    await this.#parts.start('control', control);
    // What start-up found missing, now that the LEDs, the status and the journal listen: shown, logged, recorded.
    for (const fault of needs.faults) bus.emit('setup.fault', fault);
    if (needs.keyCreated && identity !== null) {
      bus.emit('identity.created', { keyId: identity.keyId, file: c.evidence.keyFile });
    }
    // Last to start, first to stop: READY only once everything above runs, STOPPING before anything stops.
    const systemd = new SystemdNotify({
      bus,
      processes,
      clock,
      logger: log.child({ component: 'systemd' }),
      env: process.env,
      healthyWithinMs: 2 * c.capture.stallMs,
      captureState: () => capture.state,
    });
    await this.#parts.start('systemd', systemd);
    log.info({ storage: c.storage.dir, prerollSeconds: c.preRecord.seconds }, 'camera ready: buffering');
  }

  /** Stops every started part in reverse order; a part that fails to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    await this.#parts.stop();
    this.#log.info('camera stopped');
  }

  status(): CameraStatus | null {
    return this.#status?.snapshot() ?? null;
  }

  /** Start recording now (as the record button would); null when not started, already recording or refused. */
  activate(trigger: string): string | null {
    return this.#activation?.activate(trigger) ?? null;
  }

  stopRecording(reason: string): boolean {
    return this.#activation?.stopRecording(reason) ?? false;
  }
}
