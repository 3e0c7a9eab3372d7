/**
 * Supervised capture: runs the source's ffmpeg (and rpicam-vid) pipeline, parses its fMP4 output, and keeps it
 * running. An exit, a stall (no fragment for `stallMs`) or a corrupt stream restarts the pipeline after an
 * exponential backoff. The restarted stream continues the capture timeline: its timestamps are shifted to
 * start after the outage, so media time never goes backwards or repeats, and the outage is reported as a gap.
 * A microphone that fails never stops the video: a run with sound that delivers nothing is followed by a probe of
 * the microphone alone; if it fails, capture goes on video-only and probes it again every `microphoneRetryMs`,
 * restarting with sound once it works.
 */
import type { Readable } from 'node:stream';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { ProcessRunner, RunningProcess } from '../../hal/process/port.ts';
import { stopProcess } from '../../hal/process/supervision.ts';
import type { BodycamError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { FragmentArena } from './arena.ts';
import { checkFfmpeg, type FfmpegExit, type RunningFfmpeg, requiredEncoders, startFfmpeg } from './ffmpeg.ts';
import { Fmp4Parser } from './fmp4/parser.ts';
import { microphoneOf, probeMicrophone } from './microphone.ts';
import { buildCapturePlan, type CapturePlan, type Microphone, type SourceConfig } from './sources.ts';
import type { CaptureGap, CaptureState, InitSegment, MediaFragment } from './types.ts';

export interface CaptureOptions {
  source: SourceConfig;
  ffmpegPath: string;
  logger: Logger;
  clock: Clock;
  /** Runs ffmpeg (and the camera process of an rpicam source): the real runner, or scripted ones in tests. */
  processes: ProcessRunner;
  /**
   * Synthetic source only: a raw PCM stream mixed into the microphone track (the simulated room, so the synthetic
   * microphone hears the simulated speaker). A new stream is opened for every ffmpeg run.
   */
  room?: RoomFeed;
  /** Restart when no fragment arrived for this long (wall ms). */
  stallMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  onInit(init: InitSegment): void;
  onFragment(fragment: MediaFragment): void;
  onGap(gap: CaptureGap): void;
  onStateChange?(state: CaptureState): void;
  /**
   * Memory fragments are copied into (media/arena.ts). Capture holds a fragment's reference while `onFragment`
   * runs and releases it after: a subscriber that keeps the fragment retains it. Default: a Buffer per fragment.
   */
  arena?: FragmentArena;
  /** How often a failed microphone is probed again (wall ms, default 30 s). */
  microphoneRetryMs?: number;
  /** The microphone failed (capture goes on video-only) or works again. */
  onMicrophone?(health: MicrophoneHealth): void;
}

export interface MicrophoneHealth {
  state: 'ok' | 'fault';
  device: string;
  /** Why it failed (ffmpeg's last lines); empty when ok. */
  message: string;
}

export interface RoomFeed {
  inputOptions(): string[];
  openMicrophone(): Readable;
  close(): void;
}

/** A run this long (with fragments) counts as healthy and resets the backoff. */
const HEALTHY_RUN_MS = 30_000;
const STOP_TIMEOUT_MS = 3000;
/** Why a video-only run is ended on purpose: the microphone works again. */
const MICROPHONE_BACK = 'the microphone works again';

interface Run {
  ffmpeg: RunningFfmpeg;
  /** Whether this run records the microphone. */
  withSound: boolean;
  /** rpicam-vid, whose stdout feeds ffmpeg (its own process group). */
  producer: RunningProcess | undefined;
  launchedAt: number;
  fragments: number;
  /** Why we killed it (stall, corrupt stream); undefined for an exit ffmpeg chose itself. */
  killReason: string | undefined;
  /** The outage this run ends, reported with its first fragment. */
  pendingGap: CaptureGap | undefined;
  /** Cleared once the run is over: bytes read after that are dropped. */
  reading: boolean;
  parser: Fmp4Parser;
}

export class Capture {
  readonly #options: CaptureOptions;
  /** The source's plan, and the same without sound while the microphone is at fault (absent without a microphone). */
  readonly #plan: CapturePlan;
  readonly #videoOnly: CapturePlan | undefined;
  readonly #mic: Microphone | undefined;
  #micFault = false;
  #micTimer: TimerHandle | undefined;
  #reportedSize = '';
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stallMs: number;
  readonly #backoff: { initialMs: number; maxMs: number };
  #state: CaptureState = 'idle';
  #run: Run | undefined;
  #stopping = false;
  #failures = 0;
  #stallTimer: TimerHandle | undefined;
  #restartTimer: TimerHandle | undefined;
  /** End of the latest fragment on the capture timeline, and the wall time it arrived. */
  #lastEndMs: number | undefined;
  #lastArrival = 0;

  constructor(options: CaptureOptions) {
    this.#options = options;
    this.#plan = buildCapturePlan(
      options.source,
      options.room === undefined ? {} : { roomInput: options.room.inputOptions() },
    );
    this.#mic = microphoneOf(options.source);
    this.#videoOnly = this.#mic === undefined ? undefined : buildCapturePlan({ ...options.source, audio: false });
    this.#log = options.logger;
    this.#clock = options.clock;
    this.#stallMs = options.stallMs ?? 5000;
    this.#backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  }

  get state(): CaptureState {
    return this.#state;
  }

  /** Checks ffmpeg (throws MEDIA_FFMPEG_MISSING / MEDIA_FFMPEG_UNUSABLE) and starts the pipeline. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`capture already ${this.#state}`);
    this.#setState('starting');
    try {
      const { processes, ffmpegPath } = this.#options;
      const info = await checkFfmpeg(processes, ffmpegPath, requiredEncoders(this.#plan));
      this.#log.info({ version: info.version, source: this.#options.source.kind }, 'starting capture');
    } catch (e) {
      this.#setState('idle');
      throw e;
    }
    if (this.#stopping) return; // stop() was called while ffmpeg was being checked
    this.#launch();
  }

  /** Ends the child processes and never restarts them again. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearTimer(this.#stallTimer);
    this.#clearTimer(this.#restartTimer);
    this.#clearTimer(this.#micTimer);
    const run = this.#run;
    this.#run = undefined;
    if (run !== undefined) {
      this.#stopReading(run);
      run.producer?.kill('SIGTERM');
      await Promise.all([run.ffmpeg.stop(STOP_TIMEOUT_MS), this.#endProducer(run)]);
    }
    this.#options.room?.close();
    this.#setState('stopped');
  }

  /**
   * Where "now" falls on the capture timeline: the last fragment's end plus the wall time since it arrived
   * (× speed), capped one GOP past it since no later media can exist yet. 0 before the first fragment.
   */
  mediaNowMs(): number {
    if (this.#lastEndMs === undefined) return 0;
    const ahead = (this.#clock.now() - this.#lastArrival) * this.#plan.speed;
    return this.#lastEndMs + Math.min(ahead, this.#plan.gopMs);
  }

  #clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#clock.clearTimeout(handle);
  }

  #setState(state: CaptureState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }

  #launch(reason = 'capture restarted'): void {
    const now = this.#clock.now();
    const withSound = this.#mic !== undefined && !this.#micFault;
    const plan = withSound || this.#videoOnly === undefined ? this.#plan : this.#videoOnly;
    let pendingGap: CaptureGap | undefined;
    const arena = this.#options.arena;
    const parser = new Fmp4Parser(
      {
        onInit: (init) => this.#init(init),
        onFragment: (f) => {
          try {
            this.#fragment(run, f);
          } finally {
            arena?.release(f.bytes);
          }
        },
        onError: (e) => this.#corrupt(run, e),
      },
      arena,
    );
    if (this.#lastEndMs !== undefined) {
      const outageMs = now - this.#lastArrival;
      pendingGap = { atMs: this.#lastEndMs, durationMs: outageMs, reason };
      parser.setTimelineOffsetMs(this.#lastEndMs + outageMs * this.#plan.speed);
    }
    const p = this.#plan.producer;
    const room = this.#plan.pipe === 'room' ? this.#options.room?.openMicrophone() : undefined;
    const input = p !== undefined ? 'process' : room;
    const ffmpeg = startFfmpeg(this.#options.processes, plan, {
      ffmpegPath: this.#options.ffmpegPath,
      clock: this.#clock,
      logger: this.#log,
      ...(input === undefined ? {} : { input }),
      // ffmpeg's fMP4 is read straight into the parser's memory: no Buffer per read, no copy before the arena's.
      stdoutInto: {
        space: () => parser.space(),
        wrote: (n) => {
          if (run.reading) parser.wrote(n);
        },
      },
    });
    // rpicam-vid writes straight into ffmpeg's stdin: ~1 MB/s of H.264 that Node would otherwise read and write again.
    const producer =
      p === undefined || ffmpeg.stdin === null
        ? undefined
        : this.#options.processes.spawn({ command: p.command, args: p.args, detached: true, stdoutTo: ffmpeg.stdin });
    const run: Run = {
      ffmpeg,
      withSound,
      producer,
      launchedAt: now,
      fragments: 0,
      killReason: undefined,
      pendingGap,
      reading: true,
      parser,
    };
    this.#run = run;
    void ffmpeg.exited.then((exit) => this.#ended(run, exit));
    if (producer !== undefined) {
      // A dead camera process starves ffmpeg; end the run at once rather than wait for the stall watchdog.
      void producer.exited.then((exit) => {
        if (this.#run === run)
          this.#kill(run, `rpicam-vid exited (${exit.error?.message ?? exit.code ?? exit.signal})`);
      });
    }
    this.#armStall(run);
  }

  /** Passes the init segment on; says once per size when the camera delivers another size than the one asked. */
  #init(init: InitSegment): void {
    const video = init.tracks.find((t) => t.kind === 'video');
    const { width, height } = this.#options.source;
    if (video !== undefined && (video.width !== width || video.height !== height)) {
      const size = `${video.width}x${video.height}`;
      if (size !== this.#reportedSize)
        this.#log.warn({ asked: `${width}x${height}`, delivered: size }, 'the camera delivers another frame size');
      this.#reportedSize = size;
    }
    this.#options.onInit(init);
  }

  #fragment(run: Run, f: MediaFragment): void {
    if (this.#run !== run) return;
    if (run.pendingGap !== undefined) {
      this.#options.onGap(run.pendingGap);
      run.pendingGap = undefined;
    }
    run.fragments += 1;
    this.#lastEndMs = Math.max(this.#lastEndMs ?? 0, f.endMs);
    this.#lastArrival = this.#clock.now();
    this.#setState('running');
    this.#armStall(run);
    this.#options.onFragment(f);
  }

  #corrupt(run: Run, e: BodycamError): void {
    this.#log.warn({ err: e }, 'corrupt capture stream');
    this.#kill(run, 'corrupt stream');
  }

  #armStall(run: Run): void {
    this.#clearTimer(this.#stallTimer);
    this.#stallTimer = this.#clock.setTimeout(
      () => this.#kill(run, `no fragment for ${this.#stallMs} ms`),
      this.#stallMs,
    );
  }

  /** Bytes the run's ffmpeg still writes are dropped, and its parser's memory is given back now, not at the next run. */
  #stopReading(run: Run): void {
    run.reading = false;
    run.parser.release();
  }

  /** Ends a run we gave up on; its exit then schedules the restart. */
  #kill(run: Run, reason: string): void {
    if (this.#run !== run || run.killReason !== undefined) return;
    run.killReason = reason;
    run.ffmpeg.kill('SIGKILL');
    run.producer?.kill('SIGKILL');
  }

  async #ended(run: Run, exit: FfmpegExit): Promise<void> {
    if (this.#run !== run || this.#stopping) return;
    this.#clearTimer(this.#stallTimer);
    this.#stopReading(run);
    this.#options.room?.close();
    await this.#endProducer(run);
    if (this.#run !== run || this.#stopping) return;
    if (run.killReason === MICROPHONE_BACK) {
      this.#launch('capture restarted with the microphone');
      return;
    }
    if (run.withSound && run.fragments === 0 && (await this.#microphoneFailed(run))) return;
    const ranMs = this.#clock.now() - run.launchedAt;
    if (ranMs >= HEALTHY_RUN_MS && run.fragments > 0) this.#failures = 0;
    const delayMs = Math.min(this.#backoff.maxMs, this.#backoff.initialMs * 2 ** this.#failures);
    this.#failures += 1;
    this.#log.warn(
      {
        reason: run.killReason ?? 'ffmpeg exited',
        code: exit.code,
        signal: exit.signal,
        message: exit.message,
        ranMs: Math.round(ranMs),
        delayMs,
        stderr: run.ffmpeg.stderrTail(),
        ...(run.producer === undefined ? {} : { producerStderr: run.producer.stderrTail() }),
      },
      'capture pipeline ended unexpectedly; restarting',
    );
    this.#setState('restarting');
    this.#restartTimer = this.#clock.setTimeout(() => {
      if (!this.#stopping) this.#launch();
    }, delayMs);
  }

  /**
   * A run with sound delivered nothing: probes the microphone alone. When it fails, the microphone is at fault and
   * capture restarts at once without it (true); otherwise the camera is at fault and the usual backoff applies.
   */
  async #microphoneFailed(run: Run): Promise<boolean> {
    const mic = this.#mic;
    if (mic === undefined) return false;
    const probe = await probeMicrophone(this.#options.processes, this.#options.ffmpegPath, mic);
    if (this.#run !== run || this.#stopping || probe.ok) return false;
    this.#micFault = true;
    this.#log.error(
      { device: mic.alsaDevice, message: probe.message, stderr: run.ffmpeg.stderrTail() },
      'the microphone failed: recording video without sound, trying the microphone again periodically',
    );
    this.#options.onMicrophone?.({ state: 'fault', device: mic.alsaDevice, message: probe.message });
    this.#setState('restarting');
    this.#launch('capture restarted without the microphone');
    this.#scheduleMicrophoneRetry();
    return true;
  }

  #scheduleMicrophoneRetry(): void {
    const retryMs = this.#options.microphoneRetryMs ?? 30_000;
    this.#micTimer = this.#clock.setTimeout(() => void this.#retryMicrophone(), retryMs);
  }

  async #retryMicrophone(): Promise<void> {
    const mic = this.#mic;
    if (mic === undefined || this.#stopping || !this.#micFault) return;
    const probe = await probeMicrophone(this.#options.processes, this.#options.ffmpegPath, mic);
    if (this.#stopping) return;
    if (!probe.ok) {
      this.#log.debug({ device: mic.alsaDevice, message: probe.message }, 'the microphone still fails');
      this.#scheduleMicrophoneRetry();
      return;
    }
    this.#micFault = false;
    this.#log.info({ device: mic.alsaDevice }, 'the microphone works again: restarting capture with sound');
    this.#options.onMicrophone?.({ state: 'ok', device: mic.alsaDevice, message: '' });
    // A run in progress is ended and relaunched with sound at once; a pending restart will use sound anyway.
    const run = this.#run;
    if (run !== undefined && !run.withSound) this.#kill(run, MICROPHONE_BACK);
  }

  /** SIGTERM the camera process group, SIGKILL it if it lingers, and wait until it is gone. */
  async #endProducer(run: Run): Promise<void> {
    if (run.producer !== undefined) await stopProcess(run.producer, { clock: this.#clock, graceMs: STOP_TIMEOUT_MS });
  }
}
