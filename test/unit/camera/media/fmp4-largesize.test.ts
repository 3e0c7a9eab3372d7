/**
 * A moov written with a 64-bit largesize header (size field 1, the real size in the next 8 bytes) is as valid as one
 * with a 32-bit size. The parser once read its children from byte 8, inside the largesize field, and refused the
 * init segment ("moov has no track"); found by the fMP4 property tests (test/fuzz/fmp4.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fmp4Parser } from '../../../../src/camera/media/fmp4/parser.ts';
import type { InitSegment, MediaFragment } from '../../../../src/camera/media/types.ts';
import type { BodycamError } from '../../../../src/lib/errors.ts';

const SAMPLE = readFileSync(new URL('../../../fixtures/media/synthetic-160x120-3s.mp4', import.meta.url));

function parse(stream: Buffer) {
  const r = { inits: [] as InitSegment[], fragments: [] as MediaFragment[], errors: [] as BodycamError[] };
  const parser = new Fmp4Parser({
    onInit: (i) => r.inits.push(i),
    onFragment: (f) => r.fragments.push(f),
    onError: (e) => r.errors.push(e),
  });
  parser.push(stream);
  return r;
}

describe('Fmp4Parser with a largesize moov', () => {
  it('reads the tracks and the fragments after it', () => {
    const ftypEnd = SAMPLE.readUInt32BE(0);
    const moovEnd = ftypEnd + SAMPLE.readUInt32BE(ftypEnd);
    expect(SAMPLE.toString('latin1', ftypEnd + 4, ftypEnd + 8)).toBe('moov');
    const header = Buffer.alloc(16);
    header.writeUInt32BE(1, 0);
    header.write('moov', 4, 'latin1');
    header.writeBigUInt64BE(BigInt(moovEnd - ftypEnd + 8), 8);
    const stream = Buffer.concat([
      SAMPLE.subarray(0, ftypEnd),
      header,
      SAMPLE.subarray(ftypEnd + 8, moovEnd),
      SAMPLE.subarray(moovEnd),
    ]);

    const plain = parse(SAMPLE);
    const large = parse(stream);
    expect(large.errors).toEqual([]);
    expect(large.inits[0]?.tracks).toEqual(plain.inits[0]?.tracks);
    expect(large.fragments.map((f) => [f.track, f.baseTime, f.duration])).toEqual(
      plain.fragments.map((f) => [f.track, f.baseTime, f.duration]),
    );
  });
});
