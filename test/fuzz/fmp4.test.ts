/**
 * Property tests of the capture's streaming fMP4 parser and, through it, the init-segment (moov) and fragment
 * (moof + mdat) parsers: truncated, oversized, malformed and random boxes in random chunkings. Whatever comes in,
 * `push` never throws, reports at most one MEDIA_CORRUPT error with a message, emits nothing after it, returns
 * promptly, and refuses a size claim over its limit from the header alone instead of buffering towards it.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fmp4Parser, MAX_BOX_BYTES } from '../../src/camera/media/fmp4/parser.ts';
import type { InitSegment, MediaFragment } from '../../src/camera/media/types.ts';
import { type BodycamError, ErrorCode, isBodycamError } from '../../src/lib/errors.ts';
import { runs } from './runs.ts';

/** 160x120 testsrc2 at 10 fps, 1 s GOP, AAC mono, ffmpeg's capture flags; 3 s (the parser unit test's fixture). */
const SAMPLE = readFileSync(new URL('../fixtures/media/synthetic-160x120-3s.mp4', import.meta.url));

type Event = { kind: 'init'; init: InitSegment } | { kind: 'fragment'; fragment: MediaFragment } | { kind: 'error' };

interface Outcome {
  events: Event[];
  errors: BodycamError[];
  fragments: MediaFragment[];
  thrown: unknown;
  ms: number;
}

function feed(chunks: Buffer[]): Outcome {
  const out: Outcome = { events: [], errors: [], fragments: [], thrown: undefined, ms: 0 };
  const parser = new Fmp4Parser({
    onInit: (init) => out.events.push({ kind: 'init', init }),
    onFragment: (fragment) => {
      out.events.push({ kind: 'fragment', fragment });
      out.fragments.push(fragment);
    },
    onError: (e) => {
      out.events.push({ kind: 'error' });
      out.errors.push(e);
    },
  });
  const t0 = performance.now();
  try {
    for (const c of chunks) parser.push(c);
  } catch (e) {
    out.thrown = e;
  }
  out.ms = performance.now() - t0;
  return out;
}

/** Splits `buf` into chunks whose sizes cycle through `sizes` (a chunking fast-check can shrink). */
function chunked(buf: Buffer, sizes: number[]): Buffer[] {
  if (sizes.length === 0) return [buf];
  const out: Buffer[] = [];
  for (let o = 0, i = 0; o < buf.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(buf.subarray(o, o + n));
    o += n;
  }
  return out;
}

const chunking = fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 12 });

/** What every outcome must satisfy, on any input. */
function checkInvariants(o: Outcome): void {
  expect(o.thrown).toBeUndefined();
  expect(o.errors.length).toBeLessThanOrEqual(1);
  for (const e of o.errors) {
    expect(isBodycamError(e, ErrorCode.MEDIA_CORRUPT)).toBe(true);
    expect(e.message).toMatch(/^corrupt fMP4 stream: .*\S/s);
  }
  // Failed means failed: nothing after the error.
  const at = o.events.findIndex((e) => e.kind === 'error');
  if (at >= 0) expect(o.events.length).toBe(at + 1);
  let tracks = new Set<number>();
  for (const e of o.events) {
    if (e.kind === 'init') {
      expect(e.init.tracks.length).toBeGreaterThan(0);
      tracks = new Set(e.init.tracks.map((t) => t.id));
    } else if (e.kind === 'fragment') {
      const f = e.fragment;
      expect(tracks.has(f.track)).toBe(true);
      expect(f.sampleCount).toBeGreaterThan(0);
      expect(f.bytes.length).toBeGreaterThan(16);
      expect(Number.isFinite(f.startMs) && Number.isFinite(f.endMs)).toBe(true);
      expect(f.endMs).toBeGreaterThan(f.startMs);
    }
  }
  // Linear work: even a slow shared machine parses these inputs (< 100 KB) far faster.
  expect(o.ms).toBeLessThan(2000);
}

const summary = (o: Outcome) => o.fragments.map((f) => [f.track, f.baseTime, f.duration, f.keyframe, f.bytes.length]);
const whole = feed([SAMPLE]);

/** Top-level boxes of the fixture: ftyp, moov, then moof/mdat pairs, then mfra. */
function topLevel(buf: Buffer): Array<{ type: string; start: number; end: number }> {
  const out: Array<{ type: string; start: number; end: number }> = [];
  for (let o = 0; o < buf.length; ) {
    const size = buf.readUInt32BE(o);
    out.push({ type: buf.toString('latin1', o + 4, o + 8), start: o, end: o + size });
    o += size;
  }
  return out;
}
const TOP = topLevel(SAMPLE);
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'edts', 'dinf']);

/** Offsets of every box header inside the stream, nested ones included: where size fields live. */
function headerOffsets(buf: Buffer, start: number, end: number, out: number[] = []): number[] {
  for (let o = start; o + 8 <= end; ) {
    const size = buf.readUInt32BE(o);
    if (size < 8 || o + size > end) break;
    out.push(o);
    if (CONTAINERS.has(buf.toString('latin1', o + 4, o + 8))) headerOffsets(buf, o + 8, o + size, out);
    o += size;
  }
  return out;
}
const HEADERS = headerOffsets(SAMPLE, 0, SAMPLE.length);

/** Sizes that sit on boundaries: below a header, the largesize marker, just over the limit, the 32-bit maximum. */
const interestingU32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 7, 8, 9, 15, 16, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, MAX_BOX_BYTES, MAX_BOX_BYTES + 1),
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.integer({ min: 0, max: 4096 }),
);

describe('fMP4 parser, valid streams', () => {
  it('gives the whole-stream result for any chunking', () => {
    expect(whole.errors).toEqual([]);
    expect(whole.fragments).toHaveLength(6);
    fc.assert(
      fc.property(chunking, (sizes) => {
        const o = feed(chunked(SAMPLE, sizes));
        checkInvariants(o);
        expect(summary(o)).toEqual(summary(whole));
      }),
      runs(100),
    );
  });

  it('waits on a truncated stream: no error, a prefix of the fragments', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLE.length }), chunking, (cut, sizes) => {
        const o = feed(chunked(SAMPLE.subarray(0, cut), sizes));
        checkInvariants(o);
        expect(o.errors).toEqual([]);
        expect(summary(o)).toEqual(summary(whole).slice(0, o.fragments.length));
      }),
      runs(200),
    );
  });

  it('reads 64-bit largesize headers on ftyp, moov and skippable boxes like 32-bit ones', () => {
    const ftyp = TOP[0];
    const moov = TOP[1];
    if (ftyp === undefined || moov === undefined) throw new Error('fixture without ftyp/moov');
    const asLarge = (box: { start: number; end: number }) => {
      const body = SAMPLE.subarray(box.start + 8, box.end);
      const h = Buffer.alloc(16);
      h.writeUInt32BE(1, 0);
      SAMPLE.copy(h, 4, box.start + 4, box.start + 8);
      h.writeBigUInt64BE(BigInt(body.length + 16), 8);
      return Buffer.concat([h, body]);
    };
    const free = (n: number) => {
      const h = Buffer.alloc(16 + n);
      h.writeUInt32BE(1, 0);
      h.write('free', 4, 'latin1');
      h.writeBigUInt64BE(BigInt(16 + n), 8);
      return h;
    };
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 300 }), chunking, (f, m, pad, sizes) => {
        const stream = Buffer.concat([
          f ? asLarge(ftyp) : SAMPLE.subarray(ftyp.start, ftyp.end),
          free(pad),
          m ? asLarge(moov) : SAMPLE.subarray(moov.start, moov.end),
          SAMPLE.subarray(moov.end),
        ]);
        const o = feed(chunked(stream, sizes));
        checkInvariants(o);
        expect(o.errors).toEqual([]);
        expect(summary(o)).toEqual(summary(whole));
      }),
      runs(50),
    );
  });
});

describe('fMP4 parser, damaged and hostile streams', () => {
  it('survives a size field anywhere (nested boxes included) set to a boundary value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...HEADERS), interestingU32), { minLength: 1, maxLength: 3 }),
        chunking,
        (patches, sizes) => {
          const b = Buffer.from(SAMPLE);
          for (const [at, value] of patches) b.writeUInt32BE(value, at);
          checkInvariants(feed(chunked(b, sizes)));
        },
      ),
      runs(300),
    );
  });

  it('survives random byte and word overwrites anywhere in the stream', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ at: fc.nat(SAMPLE.length - 1), byte: fc.integer({ min: 0, max: 255 }) }),
            fc.record({ at: fc.nat(SAMPLE.length - 4), word: interestingU32 }),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        chunking,
        (edits, sizes) => {
          const b = Buffer.from(SAMPLE);
          for (const e of edits) {
            if ('byte' in e) b[e.at] = e.byte;
            else b.writeUInt32BE(e.word, e.at);
          }
          checkInvariants(feed(chunked(b, sizes)));
        },
      ),
      runs(300),
    );
  });

  it('survives boxes cut short, dropped, repeated or swapped', () => {
    const boxes = TOP.map((b) => SAMPLE.subarray(b.start, b.end));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            box: fc.nat(boxes.length - 1),
            cut: fc.option(fc.nat(2000), { nil: undefined }),
          }),
          { maxLength: 12 },
        ),
        chunking,
        (picks, sizes) => {
          const stream = Buffer.concat(
            picks.map(({ box, cut }) => {
              const b = boxes[box] ?? Buffer.alloc(0);
              return cut === undefined ? b : b.subarray(0, Math.min(cut, b.length));
            }),
          );
          checkInvariants(feed(chunked(stream, sizes)));
        },
      ),
      runs(300),
    );
  });

  it('survives random bytes, alone and after a valid start', () => {
    const init = SAMPLE.subarray(0, TOP[1]?.end ?? 0);
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 4096 }), chunking, (afterInit, bytes, sizes) => {
        const stream = Buffer.concat([afterInit ? init : Buffer.alloc(0), Buffer.from(bytes)]);
        checkInvariants(feed(chunked(stream, sizes)));
      }),
      runs(300),
    );
  });

  it('survives random box trees: any type, any size field, nested boxes out of bounds', () => {
    const type = fc.oneof(
      fc.constantFrom(
        'ftyp',
        'moov',
        'moof',
        'mdat',
        'free',
        'skip',
        'uuid',
        'mvex',
        'trex',
        'trak',
        'tkhd',
        'mdia',
        'mdhd',
        'hdlr',
        'minf',
        'stbl',
        'stsd',
        'mfhd',
        'traf',
        'tfhd',
        'tfdt',
        'trun',
      ),
      fc.string({ unit: 'binary-ascii', minLength: 4, maxLength: 4 }),
    );
    type Tree = { type: string; size: 'exact' | 'large' | number | bigint; body: Uint8Array | Tree[] };
    const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.record({
        type,
        size: fc.oneof(
          { arbitrary: fc.constant<'exact'>('exact'), weight: 4 },
          { arbitrary: fc.constant<'large'>('large'), weight: 1 },
          { arbitrary: interestingU32, weight: 2 },
          { arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), weight: 1 },
        ),
        body: fc.oneof(
          { arbitrary: fc.uint8Array({ maxLength: 48 }), weight: 2 },
          { arbitrary: fc.array(tie('tree'), { maxLength: 3 }), weight: 1 },
        ),
      }),
    }));
    const encode = (t: Tree): Buffer => {
      const body = t.body instanceof Uint8Array ? Buffer.from(t.body) : Buffer.concat(t.body.map(encode));
      const { size } = t;
      if (size === 'large' || typeof size === 'bigint') {
        const h = Buffer.alloc(16);
        h.write(t.type.padEnd(4, ' ').slice(0, 4), 4, 'latin1');
        h.writeUInt32BE(1, 0);
        h.writeBigUInt64BE(typeof size === 'bigint' ? size : BigInt(body.length + 16), 8);
        return Buffer.concat([h, body]);
      }
      const h = Buffer.alloc(8);
      h.write(t.type.padEnd(4, ' ').slice(0, 4), 4, 'latin1');
      h.writeUInt32BE(size === 'exact' ? body.length + 8 : size, 0);
      return Buffer.concat([h, body]);
    };
    const init = SAMPLE.subarray(0, TOP[1]?.end ?? 0);
    fc.assert(
      fc.property(fc.boolean(), fc.array(tree, { maxLength: 6 }), chunking, (afterInit, trees, sizes) => {
        const stream = Buffer.concat([afterInit ? init : Buffer.alloc(0), ...trees.map(encode)]);
        checkInvariants(feed(chunked(stream, sizes)));
      }),
      runs(300),
    );
  });

  it('refuses a size claim over the limit from its header alone, whatever follows', () => {
    const init = SAMPLE.subarray(0, TOP[1]?.end ?? 0);
    const moof = TOP[2] === undefined ? Buffer.alloc(0) : SAMPLE.subarray(TOP[2].start, TOP[2].end);
    fc.assert(
      fc.property(
        fc.constantFrom('ftyp', 'moov', 'moof', 'mdat', 'free'),
        fc.oneof(
          fc.integer({ min: MAX_BOX_BYTES + 1, max: 0xffff_ffff }),
          fc.bigInt({ min: BigInt(MAX_BOX_BYTES) + 1n, max: 2n ** 64n - 1n }),
        ),
        (type, claim) => {
          const header = Buffer.alloc(typeof claim === 'bigint' ? 16 : 8);
          header.write(type, 4, 'latin1');
          if (typeof claim === 'bigint') {
            header.writeUInt32BE(1, 0);
            header.writeBigUInt64BE(claim, 8);
          } else header.writeUInt32BE(claim, 0);
          const before = type === 'ftyp' ? [] : type === 'mdat' ? [init, moof] : [init];
          const o = feed([...before, header]);
          checkInvariants(o);
          expect(o.errors.map((e) => e.code)).toEqual([ErrorCode.MEDIA_CORRUPT]);
          expect(o.errors[0]?.message).toContain(`claims more than ${MAX_BOX_BYTES} bytes`);
        },
      ),
      runs(100),
    );
  });
});

describe('fMP4 parser memory', () => {
  const gc = (() => {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  })();
  // A collection frees Buffers' memory a moment later, not during gc() itself.
  const external = async () => {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    gc();
    return process.memoryUsage().arrayBuffers;
  };

  it('skips a large skippable box without keeping its bytes, and drops everything once failed', async () => {
    const init = SAMPLE.subarray(0, TOP[1]?.end ?? 0);
    const chunk = 1024 * 1024;
    const skipped = 48 * chunk;
    const header = Buffer.alloc(8);
    header.writeUInt32BE(skipped + 8, 0);
    header.write('free', 4, 'latin1');
    const events: string[] = [];
    const parser = new Fmp4Parser({
      onInit: () => events.push('init'),
      onFragment: () => events.push('fragment'),
      onError: (e) => events.push(e.code),
    });
    parser.push(init);
    parser.push(header);
    const base = await external();
    for (let i = 0; i < skipped / chunk; i++) parser.push(Buffer.alloc(chunk, 0xab));
    expect((await external()) - base).toBeLessThan(4 * chunk);
    parser.push(SAMPLE.subarray(TOP[1]?.end ?? 0));
    expect(events).toEqual(['init', ...Array(6).fill('fragment')]);

    // A failed parser holds nothing of what it is still given.
    parser.push(Buffer.from('\x00\x00\x00\x10\x01\x02\x03\x04garbage!'));
    expect(parser.failed).toBe(true);
    const failedBase = await external();
    for (let i = 0; i < 32; i++) parser.push(Buffer.alloc(chunk));
    expect((await external()) - failedBase).toBeLessThan(4 * chunk);
  });
});
