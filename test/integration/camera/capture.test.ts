import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Capture, type CaptureOptions } from '../../../src/camera/media/capture.ts';
import type { SourceConfig } from '../../../src/camera/media/sources.ts';
import type { CaptureGap, InitSegment, MediaFragment } from '../../../src/camera/media/types.ts';
import { realClock } from '../../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';

const processes = new NodeProcessRunner();

import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const run = promisify(execFile);
const FPS = 15;
const SOURCE: SourceConfig = {
  kind: 'synthetic',
  width: 320,
  height: 240,
  fps: FPS,
  gopSeconds: 1,
  videoBitrateKbps: 300,
  audio: true,
  speed: 4,
};

interface Recorded {
  capture: Capture;
  inits: InitSegment[];
  fragments: MediaFragment[];
  gaps: CaptureGap[];
  /** Order of events, to check the init comes first. */
  events: string[];
}

let active: Capture | undefined;
afterEach(async () => {
  await active?.stop();
  active = undefined;
});

function record(overrides: Partial<CaptureOptions> = {}): Recorded {
  const r: Recorded = { capture: undefined as unknown as Capture, inits: [], fragments: [], gaps: [], events: [] };
  r.capture = new Capture({
    source: SOURCE,
    ffmpegPath: 'ffmpeg',
    logger: silentLogger(),
    clock: realClock,
    processes,
    backoff: { initialMs: 100, maxMs: 1000 },
    onInit: (i) => {
      r.inits.push(i);
      r.events.push('init');
    },
    onFragment: (f) => {
      r.fragments.push(f);
      r.events.push(f.kind);
    },
    onGap: (g) => {
      r.gaps.push(g);
      r.events.push('gap');
    },
    ...overrides,
  });
  active = r.capture;
  return r;
}

async function until(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const videos = (r: Recorded) => r.fragments.filter((f) => f.kind === 'video');

/** Our live ffmpeg children (vitest runs this file in its own process). */
function ffmpegChildren(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
        const [, comm = '', rest = ''] = /^\d+ \((.*)\) (.*)$/.exec(stat) ?? [];
        const [state, ppid] = rest.split(' ');
        return comm === 'ffmpeg' && state !== 'Z' && Number(ppid) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The one live ffmpeg child; never 0 or undefined, which would signal our own process group. */
function theFfmpeg(): number {
  const pids = ffmpegChildren();
  if (pids.length !== 1 || pids[0] === undefined || pids[0] <= 0) throw new Error(`ffmpeg children: ${pids}`);
  return pids[0];
}

/** Per track: every fragment starts exactly (in ticks) where the previous one ended. */
function expectContiguous(fragments: MediaFragment[]): void {
  for (const track of new Set(fragments.map((f) => f.track))) {
    const fs = fragments.filter((f) => f.track === track);
    for (let i = 1; i < fs.length; i++) {
      const prev = fs[i - 1];
      expect(fs[i]?.baseTime).toBe((prev?.baseTime ?? 0) + (prev?.duration ?? 0));
    }
  }
}

describe('Capture with real ffmpeg (synthetic 320x240, speed 4)', () => {
  it('emits the init, then 1-GOP keyframe fragments on a contiguous timeline that ffprobe decodes', async () => {
    const r = record();
    await r.capture.start();
    await until('8 video fragments', () => videos(r).length >= 8);
    await r.capture.stop();
    const count = r.fragments.length;

    expect(r.events[0]).toBe('init');
    expect(r.inits).toHaveLength(1);
    expect(r.gaps).toEqual([]);
    const video = videos(r);
    for (const f of video) {
      expect(f.keyframe).toBe(true);
      expect(f.sampleCount).toBe(FPS);
    }
    // One GOP of media each (the first also carries ffmpeg's ~21 ms start offset from AAC priming).
    for (const f of video.slice(1)) expect(f.duration).toBe(f.timescale);
    expect(Math.abs((video[0]?.endMs ?? 0) - 1000)).toBeLessThan(1000 / FPS);
    expectContiguous(r.fragments);
    expect(r.capture.mediaNowMs()).toBeGreaterThanOrEqual(Math.max(...r.fragments.map((f) => f.endMs)));

    const dir = mkdtempSync(join(tmpdir(), 'bodycam-capture-'));
    try {
      const file = join(dir, 'capture.mp4');
      writeFileSync(file, Buffer.concat([r.inits[0]?.bytes ?? Buffer.alloc(0), ...r.fragments.map((f) => f.bytes)]));
      const probe = await run('ffprobe', [
        ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
        ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
      ]);
      expect(probe.stderr).toBe('');
      expect(Number(probe.stdout.trim())).toBe(video.length * FPS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.fragments).toHaveLength(count); // stopped means stopped: no restart
    expect(r.capture.state).toBe('stopped');
    expect(ffmpegChildren()).toEqual([]);
  });

  it('restarts after ffmpeg is SIGKILLed, reports the gap and continues the timeline', async () => {
    const r = record();
    await r.capture.start();
    await until('3 video fragments', () => videos(r).length >= 3);
    process.kill(theFfmpeg(), 'SIGKILL');
    await until('the gap and 3 more video fragments', () => r.gaps.length === 1 && videos(r).length >= 6);
    await r.capture.stop();

    const gap = r.gaps[0];
    const fragmentsBeforeGap = r.events.slice(0, r.events.indexOf('gap')).filter((e) => e !== 'init').length;
    const beforeGap = r.fragments.slice(0, fragmentsBeforeGap);
    const afterGap = r.fragments.slice(fragmentsBeforeGap);
    expect(r.inits).toHaveLength(2); // the restarted ffmpeg sends its own init
    expect(gap?.atMs).toBe(Math.max(...beforeGap.map((f) => f.endMs)));
    expect(gap?.durationMs).toBeGreaterThan(0);
    expect(afterGap[0]?.keyframe).toBe(true);
    // Strictly after the gap, per track, and contiguous on each side of it.
    for (const track of [1, 2]) {
      const lastBefore = beforeGap.filter((f) => f.track === track).at(-1);
      const firstAfter = afterGap.find((f) => f.track === track);
      expect(firstAfter?.startMs).toBeGreaterThan(lastBefore?.endMs ?? Number.POSITIVE_INFINITY);
    }
    expectContiguous(beforeGap);
    expectContiguous(afterGap);
  });

  it('treats a stalled ffmpeg as an outage: SIGKILL, restart, gap', async () => {
    const r = record({ stallMs: 800 });
    await r.capture.start();
    await until('2 video fragments', () => videos(r).length >= 2);
    const pid = theFfmpeg();
    process.kill(pid, 'SIGSTOP');
    await until('the gap after the stall', () => r.gaps.length === 1, 10_000);
    expect(r.gaps[0]?.durationMs).toBeGreaterThanOrEqual(800);
    expect(ffmpegChildren()).not.toContain(pid);
  });

  it('pipes a camera process (rpicam-vid stand-in) into ffmpeg and ends its process group on stop', async () => {
    const rpicamPath = new URL('../../fixtures/media/fake-rpicam-vid.sh', import.meta.url).pathname;
    const r = record({
      source: { ...SOURCE, kind: 'rpicam', audio: false, alsaDevice: 'hw:1,0', rpicamPath },
    });
    await r.capture.start();
    await until('2 video fragments', () => videos(r).length >= 2);
    await r.capture.stop();
    expect(r.inits[0]?.tracks.map((t) => t.kind)).toEqual(['video']);
    for (const f of videos(r)) expect(f).toMatchObject({ keyframe: true, sampleCount: FPS });
    expectContiguous(r.fragments);
    // Both the capture ffmpeg and the stand-in (an exec'd ffmpeg in its own process group) are our children: gone.
    expect(ffmpegChildren()).toEqual([]);
  });

  it('reports a missing ffmpeg as MEDIA_FFMPEG_MISSING without crashing', async () => {
    const r = record({ ffmpegPath: '/nonexistent/ffmpeg' });
    const error = await r.capture.start().catch((e: unknown) => e);
    expect(isBodycamError(error, ErrorCode.MEDIA_FFMPEG_MISSING)).toBe(true);
    expect((error as Error).message).toContain('apt-get install ffmpeg');
    expect(r.capture.state).toBe('idle');
  });
});
