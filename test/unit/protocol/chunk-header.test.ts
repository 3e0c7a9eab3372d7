/**
 * A chunk's seq and offset travel as MQTT 5 user properties, i.e. strings. They were read with Number(), which
 * takes '' and ' ' for 0, '0x10' for 16 and '1e3' for 1000; found by the protocol property tests
 * (test/fuzz/protocol.test.ts). Only plain decimal digits are a number now.
 */
import { describe, expect, it } from 'vitest';
import { checkChunkHeader } from '../../../src/protocol/checks.ts';

const good = { session: 's1', incident: 'cam-1-20250101', seq: '3', offset: '262144', sha256: 'ab'.repeat(32) };

describe('checkChunkHeader numbers', () => {
  it('reads decimal digits', () => {
    expect(checkChunkHeader(good)).toEqual({ ok: { ...good, seq: 3, offset: 262_144 } });
    expect(checkChunkHeader({ ...good, seq: ['7'], offset: '0' })).toEqual({ ok: { ...good, seq: 7, offset: 0 } });
  });

  it.each(['', ' ', ' 7', '7 ', '0x10', '1e3', '1.0', '+5', '-0', '0b1', '99999999999999999'])(
    'refuses %j as seq and as offset',
    (v) => {
      expect(checkChunkHeader({ ...good, seq: v })).toEqual({ error: expect.stringContaining('seq must be') });
      expect(checkChunkHeader({ ...good, offset: v })).toEqual({ error: expect.stringContaining('offset must be') });
    },
  );
});
