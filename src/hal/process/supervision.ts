/**
 * What every runner and every owner of a child process shares, whatever the driver (real or scripted): the bounded
 * stderr tail logged when a process ends, run-to-completion with a timeout, and the one way to stop a process (a
 * signal, then SIGKILL when it lingers past a grace period). Capture (ffmpeg, rpicam-vid), the speaker (aplay), the
 * dock's broker (mosquitto) and the service notifier all stop their children through `stopProcess`.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../clock/port.ts';
import type { ProcessExit, RunningProcess, RunOptions, RunResult, StdoutSink } from './port.ts';

/** stderr lines kept for the log when a process ends. */
export const STDERR_TAIL_LINES = 40;
/** Longest line kept, so a tool that never writes a newline cannot grow the tail without bound. */
const MAX_LINE_CHARS = 1000;

/** At most what one read of a pipe returns (a pipe holds 64 KiB). */
const PIPE_READ_BYTES = 64 * 1024;

/**
 * Copies `chunk` into `sink` as reads of a pipe would have put it there (`ProcessSpec.stdoutInto`): at most 64 KiB,
 * and at most the sink's free space, per read.
 */
export function feedSink(sink: StdoutSink, chunk: Uint8Array): void {
  let at = 0;
  while (at < chunk.length) {
    const space = sink.space();
    if (space.length === 0) throw new RangeError('a stdout sink offered no space');
    const n = Math.min(space.length, chunk.length - at, PIPE_READ_BYTES);
    space.set(chunk.subarray(at, at + n));
    at += n;
    sink.wrote(n);
  }
}

/** The last lines of a text stream, bounded in count and in line length. */
export class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  constructor(limit: number = STDERR_TAIL_LINES) {
    this.#limit = limit;
  }

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const lines = (this.#partial + text).split('\n');
    this.#partial = (lines.pop() ?? '').slice(0, MAX_LINE_CHARS);
    for (const line of lines) this.#lines.push(line.slice(0, MAX_LINE_CHARS));
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
  }

  /** The kept lines, oldest first, including an unfinished last line. */
  lines(): string[] {
    const all = this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
    return all.slice(-this.#limit);
  }
}

/**
 * The half of run() that any runner shares: closes stdin after writing `input`, collects stdout and stderr,
 * SIGKILLs the process after `timeoutMs`, and resolves once it has exited.
 */
export async function collect(proc: RunningProcess, options: RunOptions, clock: Clock): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer | string) => out.push(Buffer.from(chunk)));
  proc.stderr.on('data', (chunk: Buffer | string) => err.push(Buffer.from(chunk)));
  if (options.input === undefined) proc.stdin?.end();
  else proc.stdin?.end(options.input);
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : clock.setTimeout(() => {
          timedOut = true;
          proc.kill('SIGKILL');
        }, options.timeoutMs);
  const exit = await proc.exited;
  if (timer !== undefined) clock.clearTimeout(timer);
  return {
    ...exit,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    timedOut,
  };
}

export interface StopOptions {
  clock: Clock;
  /** How long the stop signal gets before SIGKILL. */
  graceMs: number;
  /** The polite signal (default SIGTERM; ffmpeg finishes its current write on SIGINT). */
  signal?: NodeJS.Signals;
}

/** Sends the stop signal, then SIGKILL if the process is still there after `graceMs`; resolves with the exit. */
export async function stopProcess(proc: RunningProcess, opts: StopOptions): Promise<ProcessExit> {
  proc.kill(opts.signal ?? 'SIGTERM');
  const timer = opts.clock.setTimeout(() => proc.kill('SIGKILL'), opts.graceMs);
  const exit = await proc.exited;
  opts.clock.clearTimeout(timer);
  return exit;
}
