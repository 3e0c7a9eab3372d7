/**
 * RIFF/WAVE helpers for the audio port: parse 16-bit PCM WAV (what espeak-ng, sox and aplay agree on), build WAV
 * from samples, and make the clips the feedback needs (tones, silence, a warning joined from parts). Pure: no I/O.
 */
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { AudioClip, PcmFormat } from './port.ts';

/** espeak-ng's output format; tones default to it so they join spoken warnings without conversion. */
export const SPEECH_FORMAT: PcmFormat = { sampleRate: 22_050, channels: 1, bitsPerSample: 16 };

/** Tones ramp up and down over this long, so they start and end without a click. */
export const FADE_MS = 5;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface ParsedWav {
  format: PcmFormat;
  /** The PCM sample bytes (a view into the parsed buffer), whole frames only. */
  data: Buffer;
  /** The data size in the header was a placeholder longer than the file (written to a pipe); data runs to the end. */
  streamed: boolean;
}

/**
 * Reads the `fmt ` and `data` chunks of a 16-bit PCM WAV, skipping any others (LIST, fact, …). Anything else is
 * HAL_AUDIO_BAD_CLIP naming the problem.
 */
export function parseWav(wav: Buffer): ParsedWav {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw badClip('not a RIFF/WAVE file');
  }
  let format: PcmFormat | undefined;
  let data: Buffer | undefined;
  let streamed = false;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + size > wav.length) throw badClip('fmt chunk is truncated');
      format = parseFmt(wav.subarray(body, body + size));
    } else if (id === 'data' && data === undefined) {
      streamed = body + size > wav.length;
      data = wav.subarray(body, Math.min(body + size, wav.length));
    }
    at = body + size + (size % 2); // chunks are padded to an even length
  }
  if (format === undefined) throw badClip('no fmt chunk');
  if (data === undefined) throw badClip('no data chunk');
  const frame = format.channels * 2;
  const extra = data.length % frame;
  if (extra !== 0) {
    if (!streamed) throw badClip(`data chunk of ${data.length} bytes is not a whole number of ${frame}-byte frames`);
    data = data.subarray(0, data.length - extra);
  }
  return { format, data, streamed };
}

function parseFmt(fmt: Buffer): PcmFormat {
  if (fmt.length < 16) throw badClip(`fmt chunk of ${fmt.length} bytes is too short`);
  const tag = fmt.readUInt16LE(0);
  const pcm =
    tag === WAVE_FORMAT_PCM ||
    (tag === WAVE_FORMAT_EXTENSIBLE && fmt.length >= 26 && fmt.readUInt16LE(24) === WAVE_FORMAT_PCM);
  if (!pcm) throw badClip(`sample format 0x${tag.toString(16)} is not PCM; only 16-bit PCM is played`);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const blockAlign = fmt.readUInt16LE(12);
  const bits = fmt.readUInt16LE(14);
  if (bits !== 16) throw badClip(`${bits}-bit samples; only 16-bit PCM is played`);
  checkFormat(sampleRate, channels);
  if (blockAlign !== channels * 2) throw badClip(`block align ${blockAlign} does not fit ${channels} x 16-bit samples`);
  return { sampleRate, channels, bitsPerSample: 16 };
}

/** A canonical 44-byte-header WAV around interleaved little-endian 16-bit PCM bytes. */
export function buildWav(format: PcmFormat, pcm: Buffer): Buffer {
  checkFormat(format.sampleRate, format.channels);
  const frame = format.channels * 2;
  if (pcm.length % frame !== 0)
    throw badClip(`${pcm.length} bytes of PCM is not a whole number of ${frame}-byte frames`);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * frame, 28);
  h.writeUInt16LE(frame, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

/** Interleaved samples as little-endian PCM bytes. */
export function samplesToPcm(samples: Int16Array): Buffer {
  const pcm = Buffer.alloc(samples.length * 2);
  for (const [i, s] of samples.entries()) pcm.writeInt16LE(s, i * 2);
  return pcm;
}

/** A clip around PCM bytes in `format`. */
export function clipFromPcm(name: string, format: PcmFormat, pcm: Buffer): AudioClip {
  const wav = buildWav(format, pcm);
  return { name, wav, format: { ...format }, durationMs: durationOf(format, pcm.length) };
}

/** A clip from a WAV file's bytes (kept as they are, unless the header's sizes were placeholders). */
export function clipFromWav(name: string, wav: Buffer): AudioClip {
  const { format, data, streamed } = parseWav(wav);
  return { name, wav: streamed ? buildWav(format, data) : wav, format, durationMs: durationOf(format, data.length) };
}

export interface ToneOptions {
  frequencyHz: number;
  durationMs: number;
  /** Default: SPEECH_FORMAT's rate. */
  sampleRate?: number;
  /** Peak level, 0–1 of full scale (default 0.5). */
  amplitude?: number;
  channels?: number;
}

/** A sine tone with a FADE_MS linear fade in and out (shorter for very short tones), so it does not click. */
export function toneClip(name: string, opts: ToneOptions): AudioClip {
  const format = formatOf(opts.sampleRate, opts.channels);
  const amplitude = opts.amplitude ?? 0.5;
  const { frequencyHz, durationMs } = opts;
  if (!(frequencyHz > 0 && frequencyHz < format.sampleRate / 2)) {
    throw badClip(`tone frequency ${frequencyHz} Hz must be above 0 and below half the sample rate`);
  }
  if (!(amplitude >= 0 && amplitude <= 1)) throw badClip(`tone amplitude ${amplitude} must be within 0–1`);
  const frames = framesFor(durationMs, format.sampleRate);
  const fade = Math.min(Math.round((FADE_MS * format.sampleRate) / 1000), Math.floor(frames / 2));
  const samples = new Int16Array(frames * format.channels);
  for (let i = 0; i < frames; i++) {
    const ramp = fade === 0 ? 1 : Math.min(1, i / fade, (frames - 1 - i) / fade);
    const value = Math.round(amplitude * 32767 * ramp * Math.sin((2 * Math.PI * frequencyHz * i) / format.sampleRate));
    samples.fill(value, i * format.channels, (i + 1) * format.channels);
  }
  return clipFromPcm(name, format, samplesToPcm(samples));
}

export interface SilenceOptions {
  durationMs: number;
  sampleRate?: number;
  channels?: number;
}

/** Silence, e.g. the pause between a tone and the spoken warning. */
export function silenceClip(name: string, opts: SilenceOptions): AudioClip {
  const format = formatOf(opts.sampleRate, opts.channels);
  return clipFromPcm(name, format, Buffer.alloc(framesFor(opts.durationMs, format.sampleRate) * format.channels * 2));
}

/** The clips one after another, as one clip; all must share one format (HAL_AUDIO_BAD_CLIP otherwise). */
export function concatClips(name: string, clips: readonly AudioClip[]): AudioClip {
  const first = clips[0];
  if (first === undefined) throw badClip(`nothing to join into '${name}'`);
  const parts = clips.map((clip) => {
    const { format, data } = parseWav(clip.wav);
    if (format.sampleRate !== first.format.sampleRate || format.channels !== first.format.channels) {
      throw badClip(
        `cannot join '${clip.name}' (${describe(format)}) to '${first.name}' (${describe(first.format)}) in '${name}': convert them to one format first`,
      );
    }
    return data;
  });
  return clipFromPcm(name, first.format, Buffer.concat(parts));
}

function formatOf(sampleRate = SPEECH_FORMAT.sampleRate, channels = SPEECH_FORMAT.channels): PcmFormat {
  checkFormat(sampleRate, channels);
  return { sampleRate, channels, bitsPerSample: 16 };
}

function checkFormat(sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw badClip(`sample rate ${sampleRate} Hz is outside 1000–384000`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw badClip(`${channels} channels (1–8 allowed)`);
}

function framesFor(durationMs: number, sampleRate: number): number {
  if (!(durationMs >= 0 && durationMs <= 600_000)) throw badClip(`duration ${durationMs} ms is outside 0–600000`);
  return Math.round((durationMs * sampleRate) / 1000);
}

function durationOf(format: PcmFormat, bytes: number): number {
  return (bytes / (format.channels * 2) / format.sampleRate) * 1000;
}

function describe(format: PcmFormat): string {
  return `${format.sampleRate} Hz, ${format.channels} channel${format.channels === 1 ? '' : 's'}`;
}

function badClip(problem: string): BodycamError {
  return new BodycamError(ErrorCode.HAL_AUDIO_BAD_CLIP, `bad audio clip: ${problem}`, { problem });
}
