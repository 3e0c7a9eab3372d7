import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PcmFormat } from '../../../src/hal/audio/port.ts';
import {
  buildWav,
  clipFromPcm,
  clipFromWav,
  concatClips,
  parseWav,
  SPEECH_FORMAT,
  samplesToPcm,
  silenceClip,
  toneClip,
} from '../../../src/hal/audio/wav.ts';
import { type BodycamError, isBodycamError } from '../../../src/lib/errors.ts';
import { itWith } from '../../harness/tools.ts';

const STEREO_8K: PcmFormat = { sampleRate: 8000, channels: 2, bitsPerSample: 16 };

function badClip(fn: () => unknown): BodycamError {
  try {
    fn();
  } catch (e) {
    if (isBodycamError(e, 'HAL_AUDIO_BAD_CLIP')) return e;
    throw e;
  }
  throw new Error('expected HAL_AUDIO_BAD_CLIP');
}

function chunk(id: string, body: Buffer, declaredSize = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(declaredSize, 4);
  const pad = body.length % 2 === 1 && declaredSize === body.length; // a streamed chunk runs to the end: no pad
  return Buffer.concat([head, body, Buffer.alloc(pad ? 1 : 0)]);
}

/** A WAV assembled from chunks, with a fmt body built from the given fields. */
function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  return Buffer.concat([chunk('RIFF', Buffer.alloc(0), body.length).subarray(0, 8), body]);
}

function fmt(o: { tag?: number; channels?: number; rate?: number; align?: number; bits?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  const channels = o.channels ?? 1;
  b.writeUInt16LE(o.tag ?? 1, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(o.rate ?? 8000, 4);
  b.writeUInt32LE((o.rate ?? 8000) * channels * 2, 8);
  b.writeUInt16LE(o.align ?? channels * 2, 12);
  b.writeUInt16LE(o.bits ?? 16, 14);
  return chunk('fmt ', b);
}

/** Samples of a mono clip. */
function samples(wav: Buffer): number[] {
  const { data } = parseWav(wav);
  return Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(i * 2));
}

describe('buildWav / parseWav', () => {
  it('writes the canonical 44-byte header and reads it back', () => {
    const pcm = samplesToPcm(Int16Array.from([1, -1, 300, -300, 32767, -32768]));
    const wav = buildWav(STEREO_8K, pcm);
    expect(wav.length).toBe(44 + 12);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect([wav.readUInt16LE(20), wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt32LE(28)]).toEqual([
      1, 2, 8000, 32000,
    ]);
    expect([wav.readUInt16LE(32), wav.readUInt16LE(34), wav.toString('latin1', 36, 40), wav.readUInt32LE(40)]).toEqual([
      4,
      16,
      'data',
      12,
    ]);
    expect(parseWav(wav)).toEqual({ format: STEREO_8K, data: pcm, streamed: false });
  });

  it('skips LIST and other chunks, including odd-sized ones with their pad byte', () => {
    const data = Buffer.from([1, 0, 2, 0]);
    const wav = riff(
      chunk('LIST', Buffer.from('INFOabc', 'latin1')),
      fmt(),
      chunk('fact', Buffer.alloc(4)),
      chunk('data', data),
      chunk('LIST', Buffer.alloc(3)),
    );
    const parsed = parseWav(wav);
    expect(parsed.data).toEqual(data);
    expect(parsed.format).toEqual({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE whose subformat is PCM', () => {
    const ext = Buffer.alloc(40);
    fmt({ tag: 0xfffe, channels: 2 }).copy(ext, 0, 8, 24);
    ext.writeUInt16LE(22, 16);
    ext.writeUInt16LE(1, 24);
    expect(parseWav(riff(chunk('fmt ', ext), chunk('data', Buffer.alloc(8)))).format.channels).toBe(2);
  });

  it('takes a placeholder data size (written to a pipe) as "to the end", in whole frames', () => {
    const wav = riff(fmt(), chunk('data', Buffer.from([1, 0, 2, 0, 3]), 0xffffffff));
    const parsed = parseWav(wav);
    expect(parsed.streamed).toBe(true);
    expect(parsed.data).toEqual(Buffer.from([1, 0, 2, 0]));
    const clip = clipFromWav('espeak', wav);
    expect(clip.wav.readUInt32LE(40)).toBe(4); // rebuilt with true sizes
    expect(clip.durationMs).toBe(0.25);
  });

  it.each([
    { problem: 'not a RIFF/WAVE file', wav: Buffer.from('ID3\u0004 not a wav at all', 'latin1') },
    { problem: 'not a RIFF/WAVE file', wav: Buffer.from('RIFF\u0000\u0000\u0000\u0000AVI LIST', 'latin1') },
    { problem: 'no fmt chunk', wav: riff(chunk('data', Buffer.alloc(4))) },
    { problem: 'no data chunk', wav: riff(fmt()) },
    { problem: '8-bit samples', wav: riff(fmt({ bits: 8, align: 1 }), chunk('data', Buffer.alloc(4))) },
    { problem: 'sample format 0x3 is not PCM', wav: riff(fmt({ tag: 3, bits: 32 }), chunk('data', Buffer.alloc(4))) },
    {
      problem: 'fmt chunk of 14 bytes is too short',
      wav: riff(chunk('fmt ', Buffer.alloc(14)), chunk('data', Buffer.alloc(2))),
    },
    { problem: 'fmt chunk is truncated', wav: riff(chunk('fmt ', Buffer.alloc(4), 16)) },
    { problem: 'sample rate 0 Hz', wav: riff(fmt({ rate: 0 }), chunk('data', Buffer.alloc(2))) },
    { problem: 'block align 3', wav: riff(fmt({ align: 3 }), chunk('data', Buffer.alloc(2))) },
    { problem: 'not a whole number of 4-byte frames', wav: riff(fmt({ channels: 2 }), chunk('data', Buffer.alloc(6))) },
  ])('rejects: $problem', ({ problem, wav }) => {
    const e = badClip(() => clipFromWav('x', wav));
    expect(e.message).toContain(problem);
  });

  it('clipFromWav keeps a well-formed file byte for byte and computes the duration', () => {
    const wav = buildWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16 }, Buffer.alloc(16000 * 2 * 1.5));
    const clip = clipFromWav('warning-nl', wav);
    expect(clip.wav).toBe(wav);
    expect(clip.durationMs).toBe(1500);
    expect(clip.name).toBe('warning-nl');
  });
});

describe('toneClip', () => {
  const tone = toneClip('tone', { frequencyHz: 1000, durationMs: 200, sampleRate: 8000, amplitude: 0.5 });
  const s = samples(tone.wav);

  it('has the asked length, format and peak level', () => {
    expect(tone.format).toEqual({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    expect(tone.durationMs).toBe(200);
    expect(s).toHaveLength(1600);
    expect(Math.max(...s)).toBeGreaterThan(0.49 * 32767);
    expect(Math.max(...s.map(Math.abs))).toBeLessThanOrEqual(Math.round(0.5 * 32767));
  });

  it('has the asked frequency (zero crossings)', () => {
    const middle = s.slice(100, 1500);
    let rises = 0;
    for (let i = 1; i < middle.length; i++) if ((middle[i - 1] ?? 0) < 0 && (middle[i] ?? 0) >= 0) rises++;
    expect(rises).toBeGreaterThanOrEqual(174); // 1400 samples at 8 per cycle = 175 cycles
    expect(rises).toBeLessThanOrEqual(176);
  });

  it('fades in and out over 5 ms so it does not click', () => {
    expect(s[0]).toBe(0);
    expect(s.at(-1)).toBe(0);
    const edge = Math.max(...s.slice(0, 10).map(Math.abs), ...s.slice(-10).map(Math.abs));
    expect(edge).toBeLessThan(0.5 * 32767 * 0.3); // 10 of the 40 fade samples: at most a quarter of the peak
    expect(Math.max(...s.slice(40, 48).map(Math.abs))).toBeGreaterThan(0.49 * 32767);
  });

  it('defaults to the speech format and writes every channel', () => {
    expect(toneClip('t', { frequencyHz: 880, durationMs: 10 }).format).toEqual(SPEECH_FORMAT);
    const stereo = parseWav(toneClip('t', { frequencyHz: 440, durationMs: 10, sampleRate: 8000, channels: 2 }).wav);
    for (let i = 0; i < stereo.data.length; i += 4)
      expect(stereo.data.readInt16LE(i)).toBe(stereo.data.readInt16LE(i + 2));
    expect(stereo.data.length).toBe(80 * 4);
  });

  it.each([
    { frequencyHz: 4000, durationMs: 10, sampleRate: 8000 },
    { frequencyHz: 0, durationMs: 10 },
    { frequencyHz: 440, durationMs: -1 },
    { frequencyHz: 440, durationMs: 10, amplitude: 1.5 },
    { frequencyHz: 440, durationMs: 10, sampleRate: 44100.5 },
  ])('rejects %o', (opts) => {
    expect(badClip(() => toneClip('t', opts)).code).toBe('HAL_AUDIO_BAD_CLIP');
  });
});

describe('silenceClip / concatClips', () => {
  it('silence is all zeros of the asked length', () => {
    const silence = silenceClip('gap', { durationMs: 250, sampleRate: 8000 });
    expect(silence.durationMs).toBe(250);
    expect(samples(silence.wav)).toEqual(new Array(2000).fill(0));
  });

  it('joins clips of one format in order', () => {
    const format: PcmFormat = { sampleRate: 8000, channels: 1, bitsPerSample: 16 };
    const a = clipFromPcm('a', format, samplesToPcm(Int16Array.from([1, 2])));
    const b = clipFromPcm('b', format, samplesToPcm(Int16Array.from([3])));
    const joined = concatClips('ab', [a, silenceClip('gap', { durationMs: 0.25, sampleRate: 8000 }), b]);
    expect(joined.name).toBe('ab');
    expect(samples(joined.wav)).toEqual([1, 2, 0, 0, 3]);
    expect(joined.durationMs).toBe(0.625);
  });

  it('refuses clips of different formats, naming both', () => {
    const a = silenceClip('tone', { durationMs: 10, sampleRate: 8000 });
    const b = silenceClip('warning-fr', { durationMs: 10, sampleRate: 22050 });
    const e = badClip(() => concatClips('start', [a, b]));
    expect(e.message).toContain("'warning-fr' (22050 Hz, 1 channel)");
    expect(e.message).toContain("'tone' (8000 Hz, 1 channel)");
    expect(badClip(() => concatClips('empty', [])).message).toContain('nothing to join');
  });
});

describe('read by other tools', () => {
  itWith('ffprobe')('ffprobe reads a toneClip as 16-bit PCM with the right rate, channels and duration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bodycam-wav-'));
    try {
      const file = join(dir, 'tone.wav');
      await writeFile(
        file,
        toneClip('tone', { frequencyHz: 880, durationMs: 500, sampleRate: 22050, channels: 2 }).wav,
      );
      const args = [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,sample_rate,channels,duration',
        '-of',
        'json',
        file,
      ];
      const probe = JSON.parse(spawnSync('ffprobe', args, { encoding: 'utf8' }).stdout) as { streams: unknown[] };
      expect(probe.streams).toEqual([
        { codec_name: 'pcm_s16le', sample_rate: '22050', channels: 2, duration: '0.500000' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  itWith('sox')('sox reads a toneClip with the right rate, channels and duration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bodycam-wav-'));
    try {
      const file = join(dir, 'tone.wav');
      await writeFile(
        file,
        toneClip('tone', { frequencyHz: 880, durationMs: 500, sampleRate: 22050, channels: 2 }).wav,
      );
      const info = (flag: string) => spawnSync('sox', ['--i', flag, file], { encoding: 'utf8' }).stdout.trim();
      expect(info('-r')).toBe('22050');
      expect(info('-c')).toBe('2');
      expect(info('-b')).toBe('16');
      expect(Number(info('-D'))).toBeCloseTo(0.5, 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
