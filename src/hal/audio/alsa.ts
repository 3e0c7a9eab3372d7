/**
 * The real audio driver: each clip is piped to `aplay` on one ALSA device, one clip at a time in call order.
 * The argument list comes from a pure function; the process goes through the ProcessRunner port.
 */
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import type { ProcessExit, ProcessRunner, RunningProcess } from '../process/port.ts';
import { stopProcess } from '../process/supervision.ts';
import type { AudioClip, AudioOutput, Played } from './port.ts';
import { PlayQueue } from './queue.ts';
import { silenceClip } from './wav.ts';

/** The speaker check: this much silence through the whole path (aplay, ALSA, the device), never audible. */
const CHECK_CLIP = silenceClip('speaker-check', { durationMs: 50 });
/** A check that has not finished by then (a hung device) counts as failed. */
const CHECK_TIMEOUT_MS = 3000;

/** stderr lines of aplay quoted in a failure message. */
const TAIL_IN_MESSAGE = 5;

/** aplay's arguments: quiet, one device, a WAV read from stdin. */
export function aplayArgs(device: string): string[] {
  return ['-q', '-D', device, '-t', 'wav', '-'];
}

export interface AlsaAudioOptions {
  /** ALSA PCM name, e.g. `default`, `hw:0,0`, `plughw:CARD=Headphones`. */
  device: string;
  processes: ProcessRunner;
  clock: Clock;
  /** How long aplay gets to leave after SIGTERM on stop() before SIGKILL (default 1000 ms). */
  graceMs?: number;
}

/** Plays clips through aplay. */
export class AlsaAudio implements AudioOutput {
  readonly kind = 'alsa';
  readonly #device: string;
  readonly #processes: ProcessRunner;
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #queue = new PlayQueue();
  #current: RunningProcess | undefined;

  constructor(opts: AlsaAudioOptions) {
    this.#device = opts.device;
    this.#processes = opts.processes;
    this.#clock = opts.clock;
    this.#graceMs = opts.graceMs ?? 1000;
  }

  play(clip: AudioClip): Promise<Played> {
    return this.#queue.enqueue(
      (current) => this.#playNow(clip, current),
      () => stopped(this.#device, clip),
    );
  }

  async stop(): Promise<void> {
    const drained = this.#queue.cancel();
    const current = this.#current;
    if (current !== undefined) await stopProcess(current, { clock: this.#clock, graceMs: this.#graceMs });
    await drained;
  }

  /** Plays 50 ms of silence: aplay must start, open the device and play it out. */
  async check(): Promise<void> {
    await this.#queue.enqueue(
      (current) => this.#playNow(CHECK_CLIP, current, CHECK_TIMEOUT_MS),
      () => stopped(this.#device, CHECK_CLIP),
    );
  }

  async #playNow(clip: AudioClip, current: () => boolean, timeoutMs?: number): Promise<Played> {
    const startedAt = this.#clock.now();
    const proc = this.#processes.spawn({
      command: 'aplay',
      args: aplayArgs(this.#device),
      stdin: 'pipe',
      detached: true,
    });
    this.#current = proc;
    proc.stdout.resume(); // -q: nothing expected, but never let a full pipe block it
    proc.stdin?.end(clip.wav);
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? null
        : this.#clock.setTimeout(() => {
            timedOut = true;
            void stopProcess(proc, { clock: this.#clock, graceMs: this.#graceMs });
          }, timeoutMs);
    const exit = await proc.exited;
    if (timer !== null) this.#clock.clearTimeout(timer);
    this.#current = undefined;
    if (timedOut) throw failed(this.#device, clip, exit, [`no end after ${timeoutMs} ms`, ...proc.stderrTail()]);
    if (exit.error === undefined && exit.code === 0) return { startedAt, endedAt: this.#clock.now() };
    if (!current()) throw stopped(this.#device, clip);
    throw failed(this.#device, clip, exit, proc.stderrTail());
  }
}

function stopped(device: string, clip: AudioClip): BodycamError {
  return new BodycamError(ErrorCode.HAL_AUDIO_STOPPED, `'${clip.name}' on ${device} was stopped`, {
    device,
    clip: clip.name,
  });
}

function failed(device: string, clip: AudioClip, exit: ProcessExit, tail: string[]): BodycamError {
  const details = { device, clip: clip.name, code: exit.code, signal: exit.signal, stderr: tail };
  const what = `cannot play '${clip.name}' on ALSA device ${device}`;
  if (exit.error !== undefined) {
    const missing = errnoCode(exit.error) === 'ENOENT';
    const why = missing
      ? 'aplay is not installed (alsa-utils is missing; install it with `sudo apt-get install alsa-utils`)'
      : `aplay could not be started: ${exit.error.message}`;
    return new BodycamError(ErrorCode.HAL_AUDIO_FAILED, `${what}: ${why}`, details, { cause: exit.error });
  }
  const how = exit.signal === null ? `aplay exited with code ${exit.code}` : `aplay was killed by ${exit.signal}`;
  const said = tail.slice(-TAIL_IN_MESSAGE).join(' | ') || '(nothing on stderr)';
  return new BodycamError(ErrorCode.HAL_AUDIO_FAILED, `${what}: ${how}: ${said}`, details);
}
