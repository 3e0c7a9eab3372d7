/**
 * The capture supervisor on fake time, with ffmpeg scripted behind the process port writing real fMP4 bytes: stall
 * detection, exponential backoff and its reset after a healthy run, the gap it reports, the media clock, and a stop
 * while a restart is pending. (test/integration/camera/capture.test.ts covers the same with the real ffmpeg.)
 */
import { describe, expect, it } from 'vitest';
import { Capture } from '../../../../src/camera/media/capture.ts';
import type { CaptureGap, MediaFragment } from '../../../../src/camera/media/types.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';
import { ScriptedFfmpeg, sampleStream } from '../../../harness/scripted-ffmpeg.ts';

const STALL_MS = 5000;

async function setup() {
  const clock = new FakeClock();
  const processes = new ScriptedProcesses({ clock });
  const ffmpeg = new ScriptedFfmpeg(processes);
  const fragments: MediaFragment[] = [];
  const gaps: CaptureGap[] = [];
  const capture = new Capture({
    source: {
      kind: 'synthetic',
      width: 160,
      height: 120,
      fps: 15,
      gopSeconds: 1,
      videoBitrateKbps: 200,
      audio: true,
      speed: 1,
    },
    ffmpegPath: 'ffmpeg',
    logger: silentLogger(),
    clock,
    processes,
    stallMs: STALL_MS,
    backoff: { initialMs: 500, maxMs: 4000 },
    onInit: () => undefined,
    onFragment: (f) => fragments.push(f),
    onGap: (g) => gaps.push(g),
  });
  await capture.start();
  await clock.advance(0); // the first run starts once the check has answered
  const stream = sampleStream();
  /** The current run delivers the whole sample (3 s of media). */
  const deliver = async () => {
    ffmpeg.last.write(stream.init);
    for (const f of stream.fragments) ffmpeg.last.write(f);
    await clock.advance(0);
  };
  return { clock, ffmpeg, capture, fragments, gaps, deliver };
}

const videoStarts = (fs: MediaFragment[]) => fs.filter((f) => f.kind === 'video').map((f) => Math.round(f.startMs));

describe('capture supervision on fake time', () => {
  it('kills a stalled ffmpeg after stallMs, restarts after the backoff, and continues the timeline after the gap', async () => {
    const { clock, ffmpeg, capture, fragments, gaps, deliver } = await setup();
    expect(ffmpeg.runs).toHaveLength(1);
    await deliver();
    const first = videoStarts(fragments);
    expect(first).toHaveLength(3);
    expect(first[0]).toBe(0);
    const end = Math.max(...fragments.map((f) => f.endMs));
    expect(capture.state).toBe('running');

    await clock.advance(STALL_MS - 1);
    expect(ffmpeg.runs[0]?.signals).toEqual([]);
    await clock.advance(1);
    expect(ffmpeg.runs[0]?.signals).toEqual(['SIGKILL']);
    expect(capture.state).toBe('restarting');
    await clock.advance(499);
    expect(ffmpeg.runs).toHaveLength(1);
    await clock.advance(1);
    expect(ffmpeg.runs).toHaveLength(2);

    await deliver();
    // The outage (5 s of stall + 0.5 s of backoff) is a gap; the new run's timeline starts after it.
    expect(gaps).toEqual([{ atMs: end, durationMs: 5500, reason: 'capture restarted' }]);
    const second = videoStarts(fragments).slice(3);
    const expected = first.map((t) => t + end + 5500);
    // Shifted by the outage, to within the rounding of the offset to track ticks.
    expect(second).toHaveLength(3);
    for (const [k, t] of second.entries()) expect(Math.abs(t - (expected[k] ?? Number.NaN))).toBeLessThanOrEqual(1);
    await capture.stop();
  });

  it('doubles the backoff after each failed run up to its cap, and resets it after a healthy run', async () => {
    const { clock, ffmpeg, capture, deliver } = await setup();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const launched = ffmpeg.runs.length;
      ffmpeg.last.exit(1); // dies at once, no fragment
      await clock.advance(0);
      let waited = 0;
      while (ffmpeg.runs.length === launched) {
        await clock.advance(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);

    // A run that delivers for 30 s counts as healthy: the next failure waits the initial backoff again.
    await deliver();
    for (let t = 0; t < 30_000; t += 3000) {
      await clock.advance(3000);
      await deliver();
    }
    const launched = ffmpeg.runs.length;
    ffmpeg.last.exit(1);
    await clock.advance(499);
    expect(ffmpeg.runs).toHaveLength(launched);
    await clock.advance(1);
    expect(ffmpeg.runs).toHaveLength(launched + 1);
    await capture.stop();
  });

  it('places "now" on the media timeline, at most one GOP past the last fragment', async () => {
    const { clock, capture, deliver, fragments } = await setup();
    expect(capture.mediaNowMs()).toBe(0);
    await deliver();
    const end = Math.max(...fragments.map((f) => f.endMs));
    expect(end).toBeGreaterThan(2900);
    expect(capture.mediaNowMs()).toBe(end);
    await clock.advance(400);
    expect(capture.mediaNowMs()).toBe(end + 400);
    await clock.advance(4000);
    expect(capture.mediaNowMs()).toBe(end + 1000);
    await capture.stop();
  });

  it('never restarts once stopped, even with a restart pending', async () => {
    const { clock, ffmpeg, capture } = await setup();
    ffmpeg.last.exit(1);
    await clock.advance(100);
    await capture.stop();
    await clock.advance(60_000);
    expect(ffmpeg.runs).toHaveLength(1);
    expect(capture.state).toBe('stopped');
    expect(clock.pending).toBe(0);
  });
});
