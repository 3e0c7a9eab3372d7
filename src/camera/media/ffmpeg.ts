/**
 * The one adapter around fluent-ffmpeg (archived upstream). Its quirks stay in this file:
 *  - a missing binary makes it throw an uncatchable TypeError, so `checkFfmpeg` spawns the binary itself first
 *    and callers must not start a plan before that check passed;
 *  - `setFfmpegPath` writes a module-wide cache, not a per-command setting (one path per process is fine for the
 *    daemon); `setFfprobePath` is never needed because we never call its ffprobe;
 *  - every `run()` first probes `ffmpeg -formats` and `-encoders` (~0.4 s, cached for the rest of the process).
 *    There is no option to skip it, so the first capture start pays it once at boot, never an activation;
 *    codecs are passed as raw output options so the probe has nothing to veto after our own check;
 *  - a stop by SIGINT is reported through `error` ("exited with code 255"), so the exit is classified from the
 *    child's real exit code/signal and whether we asked it to stop, never from message text.
 */

import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CapturePlan } from './sources.ts';

const STDERR_LINES = 40;

export interface FfmpegInfo {
  version: string;
  encoders: string[];
}

/**
 * Checks that `ffmpegPath` runs and has the `required` encoders (e.g. `libx264`, `aac`; `copy` needs none).
 * Throws MEDIA_FFMPEG_MISSING when the binary is absent, MEDIA_FFMPEG_UNUSABLE when it fails or lacks an encoder.
 */
export async function checkFfmpeg(
  processes: ProcessRunner,
  ffmpegPath = 'ffmpeg',
  required: readonly string[] = [],
): Promise<FfmpegInfo> {
  const version_ = await processes.run(
    { command: ffmpegPath, args: ['-hide_banner', '-version'] },
    { timeoutMs: 30_000 },
  );
  const encoders_ =
    version_.error === undefined && version_.code === 0
      ? await processes.run({ command: ffmpegPath, args: ['-hide_banner', '-encoders'] }, { timeoutMs: 30_000 })
      : version_;
  const failed =
    encoders_.error ??
    (encoders_.code === 0
      ? undefined
      : new Error(encoders_.stderr.trim() || `exit ${encoders_.code ?? encoders_.signal}`));
  if (failed !== undefined) {
    if (errnoCode(failed) === 'ENOENT') {
      throw new BodycamError(
        ErrorCode.MEDIA_FFMPEG_MISSING,
        `ffmpeg not found at ${ffmpegPath}; install it with \`apt-get install ffmpeg\` or set capture.ffmpegPath`,
        { ffmpegPath },
        { cause: failed },
      );
    }
    throw new BodycamError(
      ErrorCode.MEDIA_FFMPEG_UNUSABLE,
      `ffmpeg at ${ffmpegPath} does not run`,
      { ffmpegPath },
      { cause: failed },
    );
  }
  const versionOut = version_.stdout;
  const encodersOut = encoders_.stdout;
  const version = /^ffmpeg version (\S+)/m.exec(versionOut)?.[1] ?? 'unknown';
  const encoders = [...encodersOut.matchAll(/^ [VAS][F.][S.][X.][B.][D.] (\S+)/gm)].map((m) => m[1] ?? '');
  const missing = required.filter((name) => name !== 'copy' && !encoders.includes(name));
  if (missing.length > 0) {
    throw new BodycamError(
      ErrorCode.MEDIA_FFMPEG_UNUSABLE,
      `ffmpeg ${version} at ${ffmpegPath} lacks the encoder(s) ${missing.join(', ')}`,
      { ffmpegPath, version, missing },
    );
  }
  return { version, encoders };
}

/** Encoders a plan needs, for `checkFfmpeg`. */
export function requiredEncoders(plan: CapturePlan): string[] {
  return plan.audioEncoder === undefined ? [plan.videoEncoder] : [plan.videoEncoder, plan.audioEncoder];
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we asked it to stop (stop() or kill()); such an exit is not a failure. */
  requested: boolean;
  /** What fluent-ffmpeg reported, for logs only. */
  message: string | undefined;
}

export interface RunningFfmpeg {
  /** The fMP4 byte stream (ffmpeg's stdout). */
  readonly stdout: Readable;
  /** Settles (never rejects) once the process is gone, or once fluent-ffmpeg gave up before spawning it. */
  readonly exited: Promise<FfmpegExit>;
  readonly pid: () => number | undefined;
  /** SIGINT (ffmpeg finishes the current write and closes), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<FfmpegExit>;
  /** An immediate signal, e.g. SIGKILL from the stall watchdog; counts as requested. */
  kill(signal: NodeJS.Signals): void;
  /** The last ~40 stderr lines, for the log on an unexpected exit. */
  stderrTail(): string[];
}

export interface StartOptions {
  ffmpegPath: string;
  /** Feeds the plan's `pipe:0` input (rpicam-vid's stdout). */
  input?: Readable;
  logger: Logger;
}

/** How capture runs ffmpeg: checked first, then started per run. The real one is `fluentFfmpeg`. */
export interface FfmpegLauncher {
  check(ffmpegPath: string, required: readonly string[]): Promise<FfmpegInfo>;
  start(plan: CapturePlan, options: StartOptions): RunningFfmpeg;
}

/** The real launcher: the check runs through the process port, the capture through fluent-ffmpeg. */
export function fluentFfmpeg(processes: ProcessRunner): FfmpegLauncher {
  return {
    check: (ffmpegPath, required) => checkFfmpeg(processes, ffmpegPath, required),
    start: startFfmpeg,
  };
}

/** Starts ffmpeg for `plan`. Call only after `checkFfmpeg(ffmpegPath)` succeeded (see the file comment). */
export function startFfmpeg(plan: CapturePlan, options: StartOptions): RunningFfmpeg {
  const { logger } = options;
  const command = ffmpeg({ stdoutLines: STDERR_LINES }).setFfmpegPath(options.ffmpegPath);
  for (const [i, input] of plan.inputs.entries()) {
    command.input(input.url === 'pipe:0' && options.input !== undefined ? options.input : input.url);
    // No banner (version, build configuration): the stderr tail logged on a failure is then the error itself.
    // fluent-ffmpeg has no global options; before the first input is where ffmpeg reads them.
    const options_ = i === 0 ? ['-hide_banner', ...input.options] : input.options;
    // Spread, not an array: given an array, fluent-ffmpeg splits any "a b" element at its space.
    if (options_.length > 0) command.inputOptions(...options_);
  }
  if (plan.outputOptions.length > 0) command.outputOptions(...plan.outputOptions);

  const tail: string[] = [];
  let child: ChildProcess | undefined;
  let requested = false;
  let pendingSignal: NodeJS.Signals | undefined;
  let fluentMessage: string | undefined;
  let settle: (exit: FfmpegExit) => void = () => {};
  const exited = new Promise<FfmpegExit>((resolve) => {
    settle = resolve;
  });

  command.on('stderr', (line: string) => {
    tail.push(line);
    if (tail.length > STDERR_LINES) tail.shift();
  });
  command.on('start', (commandLine: string) => {
    logger.debug({ commandLine }, 'ffmpeg started');
    // fluent-ffmpeg keeps the child on an undeclared field; we need it for the real exit code and signals.
    child = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
    child?.once('close', (code, signal) => settle({ code, signal, requested, message: fluentMessage }));
    if (pendingSignal !== undefined) child?.kill(pendingSignal);
  });
  command.on('error', (err: Error) => {
    fluentMessage = err.message;
    // Before a spawn (probe failure) there is no child whose close would settle the exit.
    if (child === undefined) settle({ code: null, signal: null, requested, message: err.message });
  });
  command.on('end', () => {
    fluentMessage = undefined;
  });

  const stdout = command.pipe() as Readable;

  const kill = (signal: NodeJS.Signals): void => {
    requested = true;
    if (child === undefined)
      pendingSignal = signal; // still in the capability probe: signal it once spawned
    else if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };

  return {
    stdout,
    exited,
    pid: () => child?.pid,
    kill,
    stderrTail: () => [...tail],
    async stop(timeoutMs = 3000): Promise<FfmpegExit> {
      kill('SIGINT');
      const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
