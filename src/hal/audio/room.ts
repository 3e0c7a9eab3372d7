/**
 * The simulated room: what a real camera's microphone would pick up from its own speaker. The `file` speaker
 * tells the room what it plays; the synthetic capture reads the room as a raw PCM stream and mixes it into its
 * microphone track, so simulated footage carries the warning as real footage does.
 *
 * The stream is pulled: ffmpeg reads it as fast as its mixer consumes the (real-time paced) synthetic tone, so the
 * stream follows ffmpeg's own timeline, whenever its run started. A clip the room hears enters the stream at the
 * next sample ffmpeg pulls, so it lags the speaker only by what sits in the buffers between us and the mixer; the
 * format (64-bit float stereo at 48 kHz, 768 kB/s) keeps the 64 KiB kernel pipe at 85 ms of sound, and the ffmpeg
 * input queue is kept short for the same reason.
 */
import { Readable } from 'node:stream';
import type { AudioClip } from './port.ts';
import { parseWav } from './wav.ts';

const RATE = 48_000;
const CHANNELS = 2;
const FRAME_BYTES = 8 * CHANNELS;
/**
 * Silence is pushed as slices of this one buffer (never written to), so the 768 kB/s stream allocates nothing while
 * the room is quiet: otherwise it is garbage the daemon's memory budget would pay for between collections.
 */
const SILENCE = Buffer.alloc(16 * 1024);

export interface RoomSink {
  /** A clip starts playing in the room now. */
  hear(clip: AudioClip): void;
}

interface Sound {
  /** Mono samples in -1…1 at the room's rate. */
  samples: Float64Array;
  at: number;
}

export class SimulatedRoom implements RoomSink {
  #sounds: Sound[] = [];
  #stream: Readable | undefined;

  /** ffmpeg input options for the stream (before its `-i pipe:0`). */
  inputOptions(): string[] {
    return ['-f', 'f64le', '-ar', String(RATE), '-ac', String(CHANNELS), '-thread_queue_size', '2'];
  }

  hear(clip: AudioClip): void {
    if (this.#stream === undefined) return; // no capture running: a microphone that is off hears nothing
    this.#sounds.push({ samples: toRoomRate(clip), at: 0 });
  }

  /** A new microphone stream (one per capture run; opening one ends the previous). */
  openMicrophone(): Readable {
    this.close();
    const stream = new Readable({
      highWaterMark: 4096,
      read: (size) => {
        const frames = Math.max(1, Math.floor(Math.min(size, SILENCE.length) / FRAME_BYTES));
        stream.push(this.#sounds.length === 0 ? SILENCE.subarray(0, frames * FRAME_BYTES) : this.#mix(frames));
      },
    });
    this.#stream = stream;
    stream.once('close', () => {
      if (this.#stream === stream) this.#stream = undefined;
    });
    return stream;
  }

  /** Ends the current stream. */
  close(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#sounds = [];
    stream?.push(null);
  }

  /** The next `frames` frames: silence with every sound still playing added in. */
  #mix(frames: number): Buffer {
    const out = Buffer.alloc(frames * FRAME_BYTES);
    for (let i = 0; i < frames; i++) {
      let v = 0;
      for (const sound of this.#sounds) v += sound.samples[sound.at + i] ?? 0;
      v = Math.max(-1, Math.min(1, v));
      for (let c = 0; c < CHANNELS; c++) out.writeDoubleLE(v, i * FRAME_BYTES + c * 8);
    }
    for (const sound of this.#sounds) sound.at += frames;
    this.#sounds = this.#sounds.filter((s) => s.at < s.samples.length);
    return out;
  }
}

/** A clip as mono samples at the room's rate (channels averaged, linear interpolation). */
function toRoomRate(clip: AudioClip): Float64Array {
  const { format, data } = parseWav(clip.wav);
  const frames = data.length / (2 * format.channels);
  const mono = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < format.channels; c++) sum += data.readInt16LE((i * format.channels + c) * 2);
    mono[i] = sum / format.channels / 32768;
  }
  const out = new Float64Array(Math.round((frames * RATE) / format.sampleRate));
  const step = format.sampleRate / RATE;
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const a = mono[j] ?? 0;
    const b = mono[j + 1] ?? a;
    out[i] = a + (b - a) * (x - j);
  }
  return out;
}
