/**
 * An ffmpeg stand-in behind the capture's FfmpegLauncher port, for testing the capture supervisor on fake time:
 * each start() is a run the test drives (write real fMP4 bytes from the fixture, stall, exit), with no process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FfmpegExit, FfmpegInfo, FfmpegLauncher, RunningFfmpeg } from '../../src/camera/media/ffmpeg.ts';
import type { CapturePlan } from '../../src/camera/media/sources.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../fixtures/media/synthetic-160x120-3s.mp4');

/** The fixture (160x120, 3 s, one fragment per GOP, separate video and audio moofs) as init + fragments. */
export function sampleStream(): { init: Buffer; fragments: Buffer[] } {
  const bytes = readFileSync(SAMPLE);
  const boxes: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    boxes.push(bytes.subarray(at, at + size));
    at += size;
  }
  const type = (b: Buffer) => b.toString('latin1', 4, 8);
  const init = Buffer.concat(boxes.filter((b) => type(b) === 'ftyp' || type(b) === 'moov'));
  const fragments: Buffer[] = [];
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i] as Buffer;
    if (type(box) === 'moof') fragments.push(Buffer.concat([box, boxes[i + 1] as Buffer]));
  }
  return { init, fragments };
}

export class ScriptedRun {
  /** The plan this run was started with (which inputs: with or without the microphone). */
  readonly plan: CapturePlan | undefined;
  readonly stdout = new PassThrough();
  readonly signals: NodeJS.Signals[] = [];
  readonly running: RunningFfmpeg;
  #settle: (exit: FfmpegExit) => void = () => undefined;
  #requested = false;
  #done = false;

  constructor(plan?: CapturePlan) {
    this.plan = plan;
    const exited = new Promise<FfmpegExit>((resolve) => {
      this.#settle = resolve;
    });
    this.running = {
      stdout: this.stdout,
      exited,
      pid: () => 4242,
      kill: (signal) => {
        this.signals.push(signal);
        this.#requested = true;
        this.#end(null, signal);
      },
      stop: async () => {
        this.signals.push('SIGINT');
        this.#requested = true;
        this.#end(255, null);
        return exited;
      },
      stderrTail: () => ['scripted ffmpeg'],
    };
  }

  /** ffmpeg writes these bytes to its stdout. */
  write(bytes: Buffer): void {
    this.stdout.write(bytes);
  }

  /** ffmpeg exits on its own (a crash, a vanished camera). */
  exit(code: number): void {
    this.#end(code, null);
  }

  get ended(): boolean {
    return this.#done;
  }

  #end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#done) return;
    this.#done = true;
    this.stdout.end();
    this.#settle({ code, signal, requested: this.#requested, message: undefined });
  }
}

export class ScriptedFfmpeg implements FfmpegLauncher {
  readonly runs: ScriptedRun[] = [];

  async check(): Promise<FfmpegInfo> {
    return { version: 'scripted', encoders: ['libx264', 'aac'] };
  }

  start(plan: CapturePlan): RunningFfmpeg {
    const run = new ScriptedRun(plan);
    this.runs.push(run);
    return run.running;
  }

  get last(): ScriptedRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('ffmpeg was never started');
    return run;
  }
}
