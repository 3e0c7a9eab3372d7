/**
 * The one encoded source and its delivery. The clip (1920x1080, 30 fps, 8 Mbit/s H.264, keyframe every 30
 * frames, no B-frames, one slice per frame, testsrc2 with temporal noise so the bits are spent on picture) is
 * encoded once and cached; the feed loops it at real time into each recorder's FIFO, recorder k running
 * k × `staggerMs` behind the first, so every recorder sees the same frames at the same moments of its own
 * stream while their durable phases (disk and CPU bursts) do not overlap.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AccessUnit, accessUnits } from './annexb.ts';

export interface Source {
  width: number;
  height: number;
  fps: number;
  kbps: number;
  seconds: number;
}

/** The ffmpeg argument list that encodes the clip (pure). */
export function clipArgs(s: Source, out: string): string[] {
  const g = String(s.fps);
  const rate = `${s.kbps}k`;
  return [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc2=size=${s.width}x${s.height}:rate=${s.fps},noise=alls=12:allf=t`, '-t', String(s.seconds)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-bf', '0'],
    ...['-b:v', rate, '-maxrate', rate, '-bufsize', rate, '-g', g, '-keyint_min', g, '-sc_threshold', '0'],
    ...['-x264-params', 'slices=1', '-f', 'h264', out],
  ];
}

export function loadClip(s: Source, cacheDir: string): { units: AccessUnit[]; bytes: Buffer; file: string } {
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `compare-${s.width}x${s.height}-${s.fps}-${s.kbps}k-${s.seconds}s.h264`);
  if (!existsSync(file)) {
    process.stderr.write(`compare: encoding the ${s.seconds} s source clip once (cached in ${file})\n`);
    const r = spawnSync('ffmpeg', clipArgs(s, `${file}.tmp`), { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('compare: encoding the source clip failed');
    renameSync(`${file}.tmp`, file);
  }
  const bytes = readFileSync(file);
  return { units: accessUnits(bytes), bytes, file };
}

export interface FeedTarget {
  fifo: string;
  /** Called after frame `n` (0-based, counting across loops) was handed to this target. */
  onFrame(n: number): void;
}

/** Writes frame n to target k at t0 + k × staggerMs + n / fps until `stop()`. */
export class Feed {
  readonly #units: AccessUnit[];
  readonly #fps: number;
  readonly #stagger: number;
  readonly #targets: { t: FeedTarget; out: WriteStream; next: number }[];
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #stopped = false;

  constructor(units: AccessUnit[], fps: number, staggerMs: number, targets: FeedTarget[]) {
    this.#units = units;
    this.#fps = fps;
    this.#stagger = staggerMs;
    this.#targets = targets.map((t) => ({ t, out: this.#open(t), next: 0 }));
  }

  /**
   * Opening a FIFO for writing waits for its reader; the stream buffers until then. A reader that goes away (a
   * recorder restarting its capture) gets a new stream: what was written meanwhile is lost to it, as a camera's
   * frames are while its capture restarts.
   */
  #open(t: FeedTarget): WriteStream {
    const out = createWriteStream(t.fifo);
    out.on('error', (e) => {
      if (this.#stopped) return;
      process.stderr.write(`compare: feed ${path.basename(path.dirname(t.fifo))}: ${e.message}; reopening\n`);
      const target = this.#targets.find((x) => x.out === out);
      if (target !== undefined) target.out = this.#open(t);
    });
    return out;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), 5);
  }

  #tick(): void {
    const now = performance.now();
    this.#targets.forEach((target, k) => {
      const due = Math.floor(((now - this.#t0 - k * this.#stagger) * this.#fps) / 1000) + 1;
      while (target.next < due) {
        const n = target.next;
        const unit = this.#units[n % this.#units.length];
        if (unit !== undefined) target.out.write(unit.bytes);
        target.next += 1;
        target.t.onFrame(n);
      }
    });
  }

  /** Wall seconds of footage fed to the first target. */
  seconds(): number {
    return (this.#targets[0]?.next ?? 0) / this.#fps;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const { out } of this.#targets) out.end();
  }
}
