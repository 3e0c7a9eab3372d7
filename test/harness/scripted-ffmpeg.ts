/**
 * ffmpeg scripted behind the process port, for running capture (or the whole camera) on fake time. Capture spawns
 * `ffmpeg` through its ProcessRunner like every other child, so the stand-in is a script of ScriptedProcesses that
 * answers what capture asks: `-version` and `-encoders` (the check before the first start), a microphone probe, and
 * capture runs, whose stdout carries real fMP4 bytes from the fixture (160x120, 3 s, one fragment per GOP, separate
 * video and audio moofs). A run is either driven by the test (write, exit) or, with `live`, plays the fixture in a
 * loop on the fake clock at media speed, each pass shifted on the timeline as one continuous stream.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Box, children, fullBox, readBox } from '../../src/camera/media/fmp4/boxes.ts';
import { Fmp4Parser } from '../../src/camera/media/fmp4/parser.ts';
import type { MediaFragment } from '../../src/camera/media/types.ts';
import type { Clock } from '../../src/hal/clock/port.ts';
import type { ScriptedCall, ScriptedProcesses } from '../../src/hal/process/scripted.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../fixtures/media/synthetic-160x120-3s.mp4');

/** The fixture as init + fragments (moof + mdat, video and audio alternating). */
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

/**
 * The fixture played as an endless stream: GOP n (its video fragment, then its audio fragment) is a copy of the
 * fixture's GOP n mod 3 with its decode times (tfdt) moved on by whole passes of each track and its sequence number
 * (mfhd) counted on, so the timeline has no gap and no repeat. `endMs(n)` is where GOP n ends on that timeline.
 */
export class LoopedSample {
  readonly init: Buffer;
  readonly #fragments: MediaFragment[] = [];
  /** Per track: ticks from the first decode time to the end of the last sample (one pass). */
  readonly #passTicks = new Map<number, number>();
  readonly #gopsPerPass: number;
  readonly #passMs: number;

  constructor() {
    const { init, fragments } = sampleStream();
    this.init = init;
    const parser = new Fmp4Parser({
      onInit: () => undefined,
      onFragment: (f) => this.#fragments.push(f),
      onError: (e) => {
        throw e;
      },
    });
    parser.push(init);
    for (const f of fragments) parser.push(f);
    for (const f of this.#fragments) {
      this.#passTicks.set(f.track, Math.max(this.#passTicks.get(f.track) ?? 0, f.baseTime + f.duration));
    }
    this.#gopsPerPass = this.#fragments.filter((f) => f.kind === 'video').length;
    const video = this.#fragments.filter((f) => f.kind === 'video');
    this.#passMs = Math.max(...video.map((f) => f.endMs));
  }

  /** The bytes of GOP `n` (0-based): video fragment, then audio fragment. */
  gop(n: number): Buffer[] {
    const pass = Math.floor(n / this.#gopsPerPass);
    const at = n % this.#gopsPerPass;
    return this.#fragments.slice(2 * at, 2 * at + 2).map((f, i) => {
      const bytes = Buffer.from(f.bytes);
      shift(bytes, pass * (this.#passTicks.get(f.track) ?? 0), 1 + 2 * n + i);
      return bytes;
    });
  }

  /** Where GOP `n` ends on the stream's timeline, ms (its video fragment's end). */
  endMs(n: number): number {
    const pass = Math.floor(n / this.#gopsPerPass);
    const video = this.#fragments.filter((f) => f.kind === 'video')[n % this.#gopsPerPass];
    return pass * this.#passMs + (video?.endMs ?? Number.NaN);
  }
}

/** Moves the one traf's tfdt on by `ticks` and sets the mfhd sequence number, in place. */
function shift(bytes: Buffer, ticks: number, sequence: number): void {
  const moof = readBox(bytes, 0, bytes.length);
  const parts = children(bytes, moof);
  const mfhd = parts.find((b) => b.type === 'mfhd') as Box;
  bytes.writeUInt32BE(sequence, fullBox(bytes, mfhd).body);
  const traf = parts.find((b) => b.type === 'traf') as Box;
  const tfdt = children(bytes, traf).find((b) => b.type === 'tfdt') as Box;
  const { version, body } = fullBox(bytes, tfdt);
  if (version === 1) bytes.writeBigUInt64BE(bytes.readBigUInt64BE(body) + BigInt(ticks), body);
  else bytes.writeUInt32BE(bytes.readUInt32BE(body) + ticks, body);
}

/** One capture run of the scripted ffmpeg. */
export class FfmpegRun {
  readonly call: ScriptedCall;

  constructor(call: ScriptedCall) {
    this.call = call;
  }

  /** The inputs ffmpeg was asked to open (what follows each `-i`), e.g. the camera and the microphone. */
  get inputs(): string[] {
    return this.call.args.flatMap((a, i) => (this.call.args[i - 1] === '-i' ? [a] : []));
  }

  /** Signals sent to it, in order (SIGINT to stop it, SIGKILL from the stall watchdog). */
  get signals(): NodeJS.Signals[] {
    return this.call.signals;
  }

  get ended(): boolean {
    return !this.call.running;
  }

  /** ffmpeg writes these bytes to its stdout. */
  write(bytes: Buffer): void {
    this.call.stdout(bytes);
  }

  /** ffmpeg exits on its own (a crash, a vanished camera). */
  exit(code: number): void {
    this.call.exit(code);
  }
}

export interface ScriptedFfmpegOptions {
  /** Answers a microphone probe; default: the microphone works (exit 0). */
  probe?: (call: ScriptedCall) => void;
  /** Each capture run plays the looped fixture on this clock, from its start, at media speed. */
  live?: { clock: Clock };
}

/** The scripted `ffmpeg` of `processes`: what capture asked, run by run. */
export class ScriptedFfmpeg {
  /** Capture runs, in order. */
  readonly runs: FfmpegRun[] = [];

  constructor(processes: ScriptedProcesses, options: ScriptedFfmpegOptions = {}, command = 'ffmpeg') {
    processes.define(command, (call) => {
      const args = call.args;
      if (args.includes('-version')) {
        call.stdout('ffmpeg version 5.1.scripted Copyright (c) the FFmpeg developers\n');
        call.exit(0);
      } else if (args.includes('-encoders')) {
        call.stdout(' V....D libx264              libx264 H.264 (codec h264)\n A....D aac                  AAC\n');
        call.exit(0);
      } else if (args.at(-1) === 'pipe:1') {
        // SIGINT: ffmpeg finishes its write and exits 255; anything else kills it.
        call.onKill = (signal) => (signal === 'SIGINT' ? call.exit(255) : call.exitBySignal(signal));
        const run = new FfmpegRun(call);
        this.runs.push(run);
        if (options.live !== undefined) play(run, options.live.clock);
      } else if (options.probe !== undefined) {
        options.probe(call);
      } else {
        call.exit(0);
      }
    });
  }

  get last(): FfmpegRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('ffmpeg was never started');
    return run;
  }
}

/** Writes the looped fixture to the run: the init at once, then each GOP when its media end is reached. */
function play(run: FfmpegRun, clock: Clock): void {
  const sample = new LoopedSample();
  const started = clock.now();
  run.write(sample.init);
  const next = (n: number): void => {
    clock.setTimeout(
      () => {
        if (run.ended) return;
        for (const bytes of sample.gop(n)) run.write(bytes);
        next(n + 1);
      },
      started + sample.endMs(n) - clock.now(),
    );
  };
  next(0);
}
