/**
 * A failing microphone never stops the video, on fake time with ffmpeg scripted behind the process port: a run with
 * sound that delivers nothing is followed by a probe of the microphone alone; when that fails too, capture restarts
 * at once video-only, reports the fault, probes again every `microphoneRetryMs` and restarts with sound once the
 * microphone works. A camera that fails while the microphone works keeps the usual backoff.
 */
import { describe, expect, it } from 'vitest';
import { Capture, type MicrophoneHealth } from '../../../../src/camera/media/capture.ts';
import { microphoneProbeArgs } from '../../../../src/camera/media/microphone.ts';
import type { V4l2Source } from '../../../../src/camera/media/sources.ts';
import type { CaptureGap } from '../../../../src/camera/media/types.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { type ScriptedCall, ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';
import { ScriptedFfmpeg, sampleStream } from '../../../harness/scripted-ffmpeg.ts';

const RETRY_MS = 30_000;
const SOURCE: V4l2Source = {
  kind: 'v4l2',
  device: '/dev/video0',
  encoder: 'libx264',
  width: 160,
  height: 120,
  fps: 15,
  gopSeconds: 1,
  videoBitrateKbps: 200,
  audio: true,
  alsaDevice: 'hw:Loopback,1,0',
  audioChannels: 1,
  audioRate: 48_000,
};
const ALSA_ERROR =
  '[alsa @ 0x55d0] cannot open audio device hw:Loopback,1,0 (No such file or directory)\nhw:Loopback,1,0: Input/output error\n';

async function setup() {
  const clock = new FakeClock();
  const mic = { works: false };
  const processes = new ScriptedProcesses({ clock });
  const probes: ScriptedCall[] = [];
  const ffmpeg = new ScriptedFfmpeg(processes, {
    probe: (call) => {
      probes.push(call);
      if (mic.works) return call.exit(0);
      call.stderr(ALSA_ERROR);
      call.exit(1);
    },
  });
  const health: MicrophoneHealth[] = [];
  const gaps: CaptureGap[] = [];
  let fragments = 0;
  const capture = new Capture({
    source: SOURCE,
    ffmpegPath: 'ffmpeg',
    logger: silentLogger(),
    clock,
    processes,
    stallMs: 5000,
    backoff: { initialMs: 500, maxMs: 4000 },
    microphoneRetryMs: RETRY_MS,
    onInit: () => undefined,
    onFragment: () => {
      fragments += 1;
    },
    onGap: (g) => gaps.push(g),
    onMicrophone: (h) => health.push(h),
  });
  await capture.start();
  await clock.advance(0); // the first run starts once the check has answered
  const stream = sampleStream();
  /** Lets the scripted processes settle (they end on setImmediate) and due timers run. */
  const settle = async () => {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setImmediate(r));
      await clock.advance(0);
    }
  };
  const deliver = async () => {
    ffmpeg.last.write(stream.init);
    for (const f of stream.fragments) ffmpeg.last.write(f);
    await settle();
  };
  /** Time passes with the current run delivering (no stall). */
  const runFor = async (ms: number) => {
    for (let t = 0; t < ms; t += 3000) {
      await clock.advance(Math.min(3000, ms - t));
      await deliver();
    }
  };
  const inputs = (i: number) => ffmpeg.runs[i]?.inputs;
  return {
    clock,
    ffmpeg,
    probes,
    mic,
    capture,
    health,
    gaps,
    settle,
    deliver,
    runFor,
    inputs,
    fragments: () => fragments,
  };
}

describe('capture with a failing microphone', () => {
  it('opens the microphone alone as capture does, for a tenth of a second', () => {
    expect(microphoneProbeArgs(SOURCE)).toEqual([
      '-hide_banner',
      '-nostdin',
      '-f',
      'alsa',
      '-thread_queue_size',
      '1024',
      '-channels',
      '1',
      '-sample_rate',
      '48000',
      '-i',
      'hw:Loopback,1,0',
      '-t',
      '0.1',
      '-f',
      'null',
      '-',
    ]);
  });

  it('records video-only at once, reports the fault, retries, and restarts with sound when the microphone works', async () => {
    const t = await setup();
    expect(t.inputs(0)).toEqual(['/dev/video0', 'hw:Loopback,1,0']);
    t.ffmpeg.last.exit(1); // the ALSA input fails: nothing delivered
    await t.settle();
    expect(t.probes).toHaveLength(1);
    // No backoff: video-only starts straight after the probe.
    expect(t.ffmpeg.runs).toHaveLength(2);
    expect(t.inputs(1)).toEqual(['/dev/video0']);
    expect(t.health).toEqual([
      {
        state: 'fault',
        device: 'hw:Loopback,1,0',
        message:
          '[alsa @ 0x55d0] cannot open audio device hw:Loopback,1,0 (No such file or directory) | hw:Loopback,1,0: Input/output error',
      },
    ]);
    await t.deliver();
    expect(t.fragments()).toBeGreaterThan(0);
    expect(t.capture.state).toBe('running');

    // Still failing at the first retry: video-only goes on untouched.
    await t.runFor(RETRY_MS);
    expect(t.probes).toHaveLength(2);
    expect(t.ffmpeg.runs).toHaveLength(2);
    expect(t.ffmpeg.runs[1]?.signals).toEqual([]);

    // Works at the next: the video-only run ends and a run with sound starts at once.
    t.mic.works = true;
    await t.runFor(RETRY_MS);
    expect(t.health.at(-1)).toEqual({ state: 'ok', device: 'hw:Loopback,1,0', message: '' });
    expect(t.ffmpeg.runs[1]?.signals).toEqual(['SIGKILL']);
    expect(t.ffmpeg.runs).toHaveLength(3);
    expect(t.inputs(2)).toEqual(['/dev/video0', 'hw:Loopback,1,0']);
    await t.deliver();
    expect(t.gaps.at(-1)?.reason).toBe('capture restarted with the microphone');
    // No more probes once it works.
    await t.runFor(3 * RETRY_MS);
    expect(t.probes).toHaveLength(3);
    await t.capture.stop();
  });

  it('a camera that fails while the microphone works keeps the backoff and the sound', async () => {
    const t = await setup();
    t.mic.works = true;
    t.ffmpeg.last.exit(1);
    await t.settle();
    expect(t.probes).toHaveLength(1);
    expect(t.health).toEqual([]);
    expect(t.ffmpeg.runs).toHaveLength(1);
    await t.clock.advance(500);
    await t.settle();
    expect(t.ffmpeg.runs).toHaveLength(2);
    expect(t.inputs(1)).toEqual(['/dev/video0', 'hw:Loopback,1,0']);
    await t.capture.stop();
  });

  it('a run with sound that delivered before it died is restarted as usual, not probed', async () => {
    const t = await setup();
    await t.deliver();
    t.ffmpeg.last.exit(1);
    await t.settle();
    expect(t.probes).toHaveLength(0);
    await t.clock.advance(500);
    await t.settle();
    expect(t.inputs(1)).toEqual(['/dev/video0', 'hw:Loopback,1,0']);
    await t.capture.stop();
  });

  it('stop() while the microphone is retried ends the retries', async () => {
    const t = await setup();
    t.ffmpeg.last.exit(1);
    await t.settle();
    expect(t.ffmpeg.runs).toHaveLength(2);
    await t.capture.stop();
    await t.clock.advance(5 * RETRY_MS);
    await t.settle();
    expect(t.probes).toHaveLength(1);
    expect(t.ffmpeg.runs).toHaveLength(2);
  });
});
