/**
 * Stand-ins for the speaker. `FileAudio` (simulation, demo, scenario tests) writes exactly what would have been
 * played as numbered WAV files and takes as long as a speaker would, on the injected clock. `NoAudio` is a board
 * without a speaker: it refuses every clip, so nobody is ever told a warning was played when it was not.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path, { join } from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import type { AudioClip, AudioOutput, Played } from './port.ts';
import { PlayQueue } from './queue.ts';
import type { RoomSink } from './room.ts';

export interface FileAudioOptions {
  /** Where the clips go (created if missing). */
  dir: string;
  clock: Clock;
  /** The simulated room, which hears what is played (and feeds the synthetic microphone). */
  room?: RoomSink;
}

/** The file name of the n-th played clip: `0001-warning-nl.wav`; odd characters in the name become `_`. */
export function clipFileName(n: number, clipName: string): string {
  return `${String(n).padStart(4, '0')}-${clipName.replace(/[^A-Za-z0-9._-]/g, '_')}.wav`;
}

/** Writes each played clip to `<dir>/NNNN-<name>.wav`, numbering on after the files already there. */
export class FileAudio implements AudioOutput {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #clock: Clock;
  readonly #room: RoomSink | undefined;
  readonly #queue = new PlayQueue();
  /** Number of the next file; read from the directory at the first play. */
  #next: number | undefined;
  /** Ends the clip now "playing" as stopped. */
  #abort: (() => void) | undefined;

  constructor(opts: FileAudioOptions) {
    this.#dir = opts.dir;
    this.#clock = opts.clock;
    this.#room = opts.room;
  }

  play(clip: AudioClip): Promise<Played> {
    return this.#queue.enqueue(
      (current) => this.#playNow(clip, current),
      () => stopped(clip),
    );
  }

  async stop(): Promise<void> {
    const drained = this.#queue.cancel();
    this.#abort?.();
    await drained;
  }

  /**
   * The simulated speaker works while its directory can take files (or be made where it is missing); nothing is
   * written or created.
   */
  check(): Promise<void> {
    return this.#queue.enqueue(
      async () => {
        let at = this.#dir;
        for (;;) {
          try {
            if (!(await stat(at)).isDirectory()) throw new Error(`${at} is not a directory`);
            await access(at, constants.W_OK);
            return;
          } catch (e) {
            if (errnoCode(e) !== 'ENOENT' || path.dirname(at) === at) throw failed(this.#dir, e);
            at = path.dirname(at); // missing: it is made at the first clip, if its parent takes it
          }
        }
      },
      () => stopped({ name: 'speaker-check' }),
    );
  }

  async #playNow(clip: AudioClip, current: () => boolean): Promise<Played> {
    await this.#write(clip);
    if (!current()) throw stopped(clip);
    const startedAt = this.#clock.now();
    this.#room?.hear(clip);
    await new Promise<void>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#abort = undefined;
        resolve();
      }, clip.durationMs);
      this.#abort = () => {
        this.#clock.clearTimeout(timer);
        this.#abort = undefined;
        reject(stopped(clip));
      };
    });
    return { startedAt, endedAt: this.#clock.now() };
  }

  async #write(clip: AudioClip): Promise<string> {
    let n = this.#next ?? (await this.#firstNumber());
    for (;;) {
      const path = join(this.#dir, clipFileName(n, clip.name));
      try {
        await writeFile(path, clip.wav, { flag: 'wx' }); // never overwrite, even if another writer shares the dir
        this.#next = n + 1;
        return path;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw failed(path, e);
        n++;
      }
    }
  }

  async #firstNumber(): Promise<number> {
    let names: string[];
    try {
      await mkdir(this.#dir, { recursive: true });
      names = await readdir(this.#dir);
    } catch (e) {
      throw failed(this.#dir, e);
    }
    return names.reduce((max, name) => Math.max(max, Number(/^(\d+)-/.exec(name)?.[1] ?? 0)), 0) + 1;
  }
}

/**
 * The `none` driver. It rejects every play() with HAL_AUDIO_UNAVAILABLE rather than pretending: the caller must
 * learn that the spoken warning was not given, so it can say so in the manifest and the audit log and rely on the
 * LED and haptics instead. stop() has nothing to stop.
 */
export class NoAudio implements AudioOutput {
  readonly kind = 'none';

  play(clip: AudioClip): Promise<Played> {
    return Promise.reject(
      new BodycamError(
        ErrorCode.HAL_AUDIO_UNAVAILABLE,
        `cannot play '${clip.name}': this board has no speaker configured (audio driver 'none')`,
        { clip: clip.name },
      ),
    );
  }

  async stop(): Promise<void> {}

  check(): Promise<void> {
    return Promise.reject(
      new BodycamError(
        ErrorCode.HAL_AUDIO_UNAVAILABLE,
        `this board has no speaker configured (audio driver 'none')`,
        {},
      ),
    );
  }
}

function stopped(clip: Pick<AudioClip, 'name'>): BodycamError {
  return new BodycamError(ErrorCode.HAL_AUDIO_STOPPED, `'${clip.name}' was stopped`, { clip: clip.name });
}

function failed(path: string, e: unknown): BodycamError {
  const why = e instanceof Error ? e.message : String(e);
  return new BodycamError(
    ErrorCode.HAL_AUDIO_FAILED,
    `cannot write audio clip to ${path}: ${why}`,
    { path },
    {
      cause: e,
    },
  );
}
