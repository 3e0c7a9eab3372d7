/**
 * ffmpeg for capture, in the two halves of every external command: fluent-ffmpeg (the one module that imports it)
 * builds the argument list from a capture plan, and the process runs through the process port like every other
 * child (the real runner on the camera, a scripted ffmpeg in tests), so the same supervision applies to it: the
 * stderr tail, and the one stop (SIGINT, on which ffmpeg finishes its current write and closes the file, then
 * SIGKILL when it lingers). fluent-ffmpeg 2.1.3 is archived upstream: only its command builder is used
 * (`_getArguments`, declared by its types and frozen with the package), never its runner, whose quirks (an
 * uncatchable TypeError on a missing binary, a ~0.4 s capability probe before each first run, a SIGINT stop reported
 * as an error) therefore no longer reach the camera. The argument lists are compared in the unit tests, so a
 * different builder would show there.
 */

import type { Readable, Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { Clock } from '../../hal/clock/port.ts';
import type { ProcessRunner, StdoutSink } from '../../hal/process/port.ts';
import { stopProcess } from '../../hal/process/supervision.ts';
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CapturePlan } from './sources.ts';

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
  /** Why it could not start (a missing binary), for logs only. */
  message: string | undefined;
}

export interface RunningFfmpeg {
  /** The fMP4 byte stream (ffmpeg's stdout); empty when read into `StartOptions.stdoutInto`. */
  readonly stdout: Readable;
  /** Its stdin when started with input 'process': hand it to the feeding process (`ProcessSpec.stdoutTo`). */
  readonly stdin: Writable | null;
  /** Settles (never rejects) once the process is gone, or once it failed to start. */
  readonly exited: Promise<FfmpegExit>;
  /** SIGINT (ffmpeg finishes the current write and closes), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<FfmpegExit>;
  /** An immediate signal, e.g. SIGKILL from the stall watchdog; counts as requested. */
  kill(signal: NodeJS.Signals): void;
  /** The last ~40 stderr lines, for the log on an unexpected exit. */
  stderrTail(): string[];
}

export interface StartOptions {
  ffmpegPath: string;
  /**
   * Feeds the plan's `pipe:0` input: a stream this process writes in (the simulated room), or 'process': another
   * process feeds it directly (rpicam-vid, through `stdin`), so that the camera's bytes never pass through Node.
   */
  input?: Readable | 'process';
  /** Reads the fMP4 into this memory (the parser's), read by read; `stdout` is then empty. */
  stdoutInto?: StdoutSink;
  clock: Clock;
  logger: Logger;
}

/** ffmpeg's arguments for `plan`, its fMP4 going to stdout (`pipe:1`), as fluent-ffmpeg builds them. */
export function ffmpegArgs(plan: CapturePlan): string[] {
  const command = ffmpeg();
  for (const [i, input] of plan.inputs.entries()) {
    command.input(input.url);
    // No banner (version, build configuration): the stderr tail logged on a failure is then the error itself.
    // fluent-ffmpeg has no global options; before the first input is where ffmpeg reads them.
    const options = i === 0 ? ['-hide_banner', ...input.options] : input.options;
    // Spread, not an array: given an array, fluent-ffmpeg splits any "a b" element at its space.
    if (options.length > 0) command.inputOptions(...options);
  }
  if (plan.outputOptions.length > 0) command.outputOptions(...plan.outputOptions);
  command.output('pipe:1');
  return command._getArguments();
}

/** Starts ffmpeg for `plan` through the process port. Call after `checkFfmpeg` passed, so a failure is a run's. */
export function startFfmpeg(processes: ProcessRunner, plan: CapturePlan, options: StartOptions): RunningFfmpeg {
  const args = ffmpegArgs(plan);
  const proc = processes.spawn({
    command: options.ffmpegPath,
    args,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    ...(options.stdoutInto === undefined ? {} : { stdoutInto: options.stdoutInto }),
  });
  options.logger.debug({ pid: proc.pid, args }, 'ffmpeg started');
  if (options.input !== undefined && options.input !== 'process' && proc.stdin !== null) options.input.pipe(proc.stdin);
  let requested = false;
  const exited = proc.exited.then(
    (exit): FfmpegExit => ({ code: exit.code, signal: exit.signal, requested, message: exit.error?.message }),
  );
  return {
    stdout: proc.stdout,
    stdin: options.input === 'process' ? proc.stdin : null,
    exited,
    kill(signal) {
      requested = true;
      proc.kill(signal);
    },
    stderrTail: () => proc.stderrTail(),
    async stop(timeoutMs = 3000): Promise<FfmpegExit> {
      requested = true;
      await stopProcess(proc, { clock: options.clock, graceMs: timeoutMs, signal: 'SIGINT' });
      return exited;
    },
  };
}
