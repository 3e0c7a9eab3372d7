/** The simulated room: silence until the speaker plays, then the clip (resampled to 48 kHz) in the microphone stream. */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SimulatedRoom } from '../../../src/hal/audio/room.ts';
import { toneClip } from '../../../src/hal/audio/wav.ts';

/** Reads `frames` stereo f64 frames from the stream and returns the left channel. */
async function take(stream: Readable, frames: number): Promise<Float64Array> {
  const out = new Float64Array(frames);
  let got = 0;
  while (got < frames) {
    const chunk = stream.read() as Buffer | null;
    if (chunk === null) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    for (let at = 0; at + 16 <= chunk.length && got < frames; at += 16) out[got++] = chunk.readDoubleLE(at);
  }
  return out;
}

const rms = (xs: Float64Array) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);

describe('SimulatedRoom', () => {
  it('streams silence, then what the speaker plays, then silence again', async () => {
    const room = new SimulatedRoom();
    expect(room.inputOptions()).toEqual(['-f', 'f64le', '-ar', '48000', '-ac', '2', '-thread_queue_size', '2']);
    const mic = room.openMicrophone();
    expect(rms(await take(mic, 4800))).toBe(0);
    const clip = toneClip('beep', { frequencyHz: 1000, durationMs: 100, amplitude: 0.5 });
    room.hear(clip);
    // Whatever was already buffered comes first; the tone follows within the stream's buffers.
    const next = await take(mic, 48_000);
    const windows = Array.from({ length: 100 }, (_, i) => rms(next.subarray(i * 480, (i + 1) * 480)));
    const loud = windows.filter((w) => w > 0.2).length;
    expect(loud).toBeGreaterThanOrEqual(8); // 100 ms of tone = 10 windows of 10 ms, less the fades
    expect(loud).toBeLessThanOrEqual(11);
    expect(windows.findIndex((w) => w > 0.2)).toBeLessThan(20); // within 200 ms of where we were
    expect(windows.at(-1)).toBe(0);
    room.close();
  });

  it('hears nothing while no capture reads it', async () => {
    const room = new SimulatedRoom();
    room.hear(toneClip('beep', { frequencyHz: 1000, durationMs: 100 }));
    const mic = room.openMicrophone();
    expect(rms(await take(mic, 9600))).toBe(0);
    room.close();
  });
});
