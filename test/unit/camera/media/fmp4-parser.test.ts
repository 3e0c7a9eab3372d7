import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fmp4Parser } from '../../../../src/camera/media/fmp4/parser.ts';
import type { InitSegment, MediaFragment } from '../../../../src/camera/media/types.ts';
import { type BodycamError, ErrorCode } from '../../../../src/lib/errors.ts';

/** 160x120 testsrc2 at 10 fps, 1 s GOP, AAC mono; ffmpeg's capture flags (separate_moof); 3 s; 65 KB. */
const SAMPLE = readFileSync(new URL('../../../fixtures/media/synthetic-160x120-3s.mp4', import.meta.url));

interface Result {
  inits: InitSegment[];
  fragments: MediaFragment[];
  errors: BodycamError[];
  parser: Fmp4Parser;
}

function parse(chunks: Buffer[], offsetMs = 0): Result {
  const r: Result = { inits: [], fragments: [], errors: [], parser: undefined as unknown as Fmp4Parser };
  r.parser = new Fmp4Parser({
    onInit: (i) => r.inits.push(i),
    onFragment: (f) => r.fragments.push(f),
    onError: (e) => r.errors.push(e),
  });
  if (offsetMs !== 0) r.parser.setTimelineOffsetMs(offsetMs);
  for (const c of chunks) r.parser.push(c);
  return r;
}

const summary = (r: Result) => r.fragments.map((f) => [f.track, f.baseTime, f.duration, f.keyframe, f.bytes.length]);
const whole = parse([SAMPLE]);

/** Offset of the first box of `type` inside the container box starting at `at` (descending through moof/traf). */
function find(buf: Buffer, type: string, at = 0, end = buf.length): number {
  let o = at;
  while (o < end) {
    const size = buf.readUInt32BE(o);
    const t = buf.toString('latin1', o + 4, o + 8);
    if (t === type) return o;
    if (t === 'moof' || t === 'traf') {
      const inner = find(buf, type, o + 8, o + size);
      if (inner !== -1) return inner;
    }
    o += size;
  }
  return -1;
}

function fragmentBytes(i: number): Buffer {
  const f = whole.fragments[i];
  if (f === undefined) throw new Error(`no fragment ${i}`);
  return Buffer.from(f.bytes);
}

const init = (): Buffer => whole.inits[0]?.bytes ?? Buffer.alloc(0);

describe('Fmp4Parser on a real ffmpeg stream', () => {
  it('emits the init segment and one fragment per moof + mdat', () => {
    expect(whole.errors).toEqual([]);
    expect(whole.inits).toHaveLength(1);
    expect(whole.inits[0]?.tracks).toEqual([
      { id: 1, kind: 'video', timescale: 10240, codec: 'avc1', width: 160, height: 120 },
      { id: 2, kind: 'audio', timescale: 48000, codec: 'mp4a', width: 0, height: 0 },
    ]);
    expect(whole.fragments.map((f) => f.kind)).toEqual(['video', 'audio', 'video', 'audio', 'video', 'audio']);
    for (const f of whole.fragments) expect(f.keyframe).toBe(true);
    expect(whole.fragments.filter((f) => f.kind === 'video').map((f) => f.sampleCount)).toEqual([10, 10, 10]);
    // Contiguous per track, in ticks; ms derived from them.
    for (const track of [1, 2]) {
      const fs = whole.fragments.filter((f) => f.track === track);
      for (let i = 1; i < fs.length; i++)
        expect(fs[i]?.baseTime).toBe((fs[i - 1]?.baseTime ?? 0) + (fs[i - 1]?.duration ?? 0));
    }
    const v = whole.fragments[2];
    expect(v?.startMs).toBeCloseTo(((v?.baseTime ?? 0) * 1000) / 10240, 9);
    // Init + fragments is the whole file except the trailing mfra.
    const total = init().length + whole.fragments.reduce((n, f) => n + f.bytes.length, 0);
    expect(SAMPLE.subarray(0, total).equals(Buffer.concat([init(), ...whole.fragments.map((f) => f.bytes)]))).toBe(
      true,
    );
  });

  it('gives the same result for a split at every byte offset', () => {
    // Init + the first video and audio fragments (26 KB): every boundary case, in well under a second.
    const small = SAMPLE.subarray(0, init().length + fragmentBytes(0).length + fragmentBytes(1).length);
    const wanted = summary(whole).slice(0, 2);
    expect(wanted.map(([track]) => track)).toEqual([1, 2]);
    const expected = JSON.stringify(wanted);
    const differing: number[] = [];
    for (let k = 0; k <= small.length; k++) {
      const r = parse([small.subarray(0, k), small.subarray(k)]);
      if (r.errors.length > 0 || JSON.stringify(summary(r)) !== expected) differing.push(k);
    }
    expect(differing).toEqual([]);
  });

  it('gives the same result for random chunk sizes and for single bytes', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 20; run++) {
      const chunks: Buffer[] = [];
      for (let o = 0; o < SAMPLE.length; ) {
        const n = 1 + Math.floor(rand() * (run % 2 === 0 ? 64 : 9000));
        chunks.push(SAMPLE.subarray(o, o + n));
        o += n;
      }
      const r = parse(chunks);
      expect(summary(r)).toEqual(summary(whole));
      expect(r.inits[0]?.bytes.equals(init())).toBe(true);
    }
    const bytes = [...SAMPLE.subarray(0, 30_000)].map((b) => Buffer.from([b]));
    expect(summary(parse(bytes))).toEqual(summary(whole).slice(0, 2));
  });

  it('gives the same result read into its own memory (space, wrote) as pushed, whatever each read fills', () => {
    for (const read of [1, 333, 4096, 65_536]) {
      const r: Result = { inits: [], fragments: [], errors: [], parser: undefined as unknown as Fmp4Parser };
      r.parser = new Fmp4Parser({
        onInit: (i) => r.inits.push(i),
        onFragment: (f) => r.fragments.push(f),
        onError: (e) => r.errors.push(e),
      });
      for (let o = 0; o < SAMPLE.length; ) {
        const space = r.parser.space();
        const n = SAMPLE.copy(space, 0, o, Math.min(SAMPLE.length, o + read, o + space.length));
        // What the last read left behind in the parser's memory must not leak into the next fragment.
        space.fill(0xee, n);
        r.parser.wrote(n);
        o += n;
      }
      expect(r.errors).toEqual([]);
      expect(summary(r)).toEqual(summary(whole));
      for (const [i, f] of r.fragments.entries()) expect(f.bytes.equals(fragmentBytes(i))).toBe(true);
    }
  });

  it('shifts the timeline by the offset, rewriting tfdt in a copy', () => {
    const r = parse([SAMPLE], 10_000);
    expect(r.errors).toEqual([]);
    r.fragments.forEach((f, i) => {
      const orig = whole.fragments[i];
      expect(f.baseTime).toBe((orig?.baseTime ?? 0) + (f.kind === 'video' ? 102_400 : 480_000));
      expect(f.startMs).toBeCloseTo((orig?.startMs ?? 0) + 10_000, 6);
    });
    // The rewritten bytes say the same when parsed again; the originals are untouched.
    const again = parse([init(), ...r.fragments.map((f) => f.bytes)]);
    expect(again.fragments.map((f) => f.baseTime)).toEqual(r.fragments.map((f) => f.baseTime));
    expect(whole.fragments[0]?.baseTime).toBe(0);
  });

  it('widens a 32-bit tfdt whose shifted time no longer fits', () => {
    // Turn the first video fragment's tfdt v1 into v0 (4 bytes shorter), as another muxer might write it.
    const v1 = fragmentBytes(2);
    const at = find(v1, 'tfdt');
    const v0 = Buffer.concat([v1.subarray(0, at), Buffer.alloc(16), v1.subarray(at + 20)]);
    v0.writeUInt32BE(16, at);
    v0.write('tfdt', at + 4, 'latin1');
    v0.writeUInt32BE(Number(v1.readBigUInt64BE(at + 12)), at + 12);
    v0.writeUInt32BE(v0.readUInt32BE(0) - 4, 0); // moof
    const traf = find(v0, 'traf');
    v0.writeUInt32BE(v0.readUInt32BE(traf) - 4, traf);
    const trun = find(v0, 'trun');
    v0.writeInt32BE(v0.readInt32BE(trun + 16) - 4, trun + 16); // data_offset
    const plain = parse([init(), v0]);
    expect(plain.errors).toEqual([]);
    expect(plain.fragments[0]?.baseTime).toBe(whole.fragments[2]?.baseTime);

    const offsetMs = 500_000_000; // 5.12e9 ticks at 10240 Hz: past 2^32
    const shifted = parse([init(), v0], offsetMs);
    const f = shifted.fragments[0];
    expect(f?.baseTime).toBe((whole.fragments[2]?.baseTime ?? 0) + 5_120_000_000);
    expect(f?.bytes.length).toBe(v0.length + 4);
    const reparsed = parse([init(), f?.bytes ?? Buffer.alloc(0)]);
    expect(reparsed.errors).toEqual([]);
    expect(reparsed.fragments[0]?.baseTime).toBe(f?.baseTime);
    expect(f?.bytes.subarray(-1000).equals(v0.subarray(-1000))).toBe(true); // same media payload
  });

  it('reads keyframe-ness from first_sample_flags', () => {
    const bytes = fragmentBytes(2);
    const trun = find(bytes, 'trun');
    bytes.writeUInt32BE(0x0001_0000, trun + 20); // first_sample_flags: non-sync
    const r = parse([init(), bytes]);
    expect(r.fragments[0]?.keyframe).toBe(false);
  });
});

describe('Fmp4Parser on corrupt or hostile input', () => {
  const moof = () => {
    const b = fragmentBytes(0);
    return b.subarray(0, b.readUInt32BE(0));
  };
  const patched = (i: number, box: string, rel: number, value: number) => {
    const b = fragmentBytes(i);
    b.writeUInt32BE(value, find(b, box) + rel);
    return b;
  };
  const header = (size: number, type: string) => {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(size, 0);
    h.write(type, 4, 'latin1');
    return h;
  };
  const large = Buffer.alloc(16);
  large.writeUInt32BE(1, 0);
  large.write('mdat', 4, 'latin1');
  large.writeBigUInt64BE(2n ** 40n, 8);

  it.each([
    { name: 'garbage instead of a box', stream: () => [Buffer.from('\x00\x00\x00\x10\x01\x02\x03\x04garbage!')] },
    { name: 'box smaller than its header', stream: () => [init(), header(4, 'moof')] },
    { name: 'giant box claim', stream: () => [init(), moof(), header(0x7fff_ffff, 'mdat')] },
    { name: 'giant largesize claim', stream: () => [init(), moof(), large] },
    { name: 'moof without mdat', stream: () => [init(), moof(), moof()] },
    { name: 'mdat without moof', stream: () => [init(), header(16, 'mdat'), Buffer.alloc(8)] },
    { name: 'moof before the init segment', stream: () => [fragmentBytes(0)] },
    { name: 'moov without ftyp', stream: () => [init().subarray(28)] },
    { name: 'fragment of an unknown track', stream: () => [init(), patched(0, 'tfhd', 12, 9)] },
    { name: 'trun claims a huge sample count', stream: () => [init(), patched(0, 'trun', 12, 0xffff_fff0)] },
    { name: 'trun with more samples than its box holds', stream: () => [init(), patched(0, 'trun', 12, 500)] },
    { name: 'traf larger than its moof', stream: () => [init(), patched(0, 'traf', 0, 5000)] },
    { name: 'samples past the end of the mdat', stream: () => [init(), patched(0, 'trun', 16, 20_000)] },
    { name: 'unknown top-level box', stream: () => [init(), header(8, 'zzzz')] },
  ])('$name → one MEDIA_CORRUPT, then silence', ({ stream }) => {
    const r = parse(stream());
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.code).toBe(ErrorCode.MEDIA_CORRUPT);
    const before = r.fragments.length;
    expect(() => r.parser.push(SAMPLE)).not.toThrow();
    expect(r.errors).toHaveLength(1);
    expect(r.fragments).toHaveLength(before);
    expect(r.parser.failed).toBe(true);
  });

  it('waits for bytes instead of allocating for a claim that has not arrived', () => {
    const before = process.memoryUsage().arrayBuffers;
    const r = parse([init(), moof(), header(60 * 1024 * 1024, 'mdat')]);
    // The claim is 60 MiB; what the parser holds is the few KiB that arrived.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
    expect(r.errors).toEqual([]);
    expect(r.fragments).toEqual([]);
  });

  it('copies each fragment once into a buffer of its own (no view into a shared pool or chunk)', () => {
    expect(whole.fragments.length).toBeGreaterThan(0);
    for (const f of whole.fragments) {
      expect(f.bytes.byteOffset).toBe(0);
      expect(f.bytes.buffer.byteLength).toBe(f.bytes.length);
    }
  });

  it('skips boxes that carry nothing for us (free, mfra)', () => {
    const r = parse([init(), header(12, 'free'), Buffer.alloc(4), fragmentBytes(0)]);
    expect(r.errors).toEqual([]);
    expect(r.fragments).toHaveLength(1);
  });
});
