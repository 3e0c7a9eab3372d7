import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bech32Decode, bech32Encode } from '../../../src/age/bech32.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

describe('bech32', () => {
  it.each([
    ['A12UEL5L', 'a', 0],
    ['a12uel5l', 'a', 0],
    ['abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'abcdef', 20],
    ['split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w', 'split', 30],
  ])('accepts the BIP-173 vector %s', (text, hrp, length) => {
    const decoded = bech32Decode(text);
    expect(decoded.hrp).toBe(hrp);
    expect(decoded.data.length).toBe(length);
    expect(bech32Encode(decoded.hrp, decoded.data)).toBe(text.toLowerCase());
  });

  it('round-trips random data of every length up to 100 bytes (no 90-character limit)', () => {
    for (let n = 0; n <= 100; n++) {
      const data = randomBytes(n);
      const text = bech32Encode('age-secret-key-', data);
      const upper = bech32Decode(text.toUpperCase());
      expect(upper.hrp).toBe('age-secret-key-');
      expect(upper.data.equals(data)).toBe(true);
    }
  });

  it('encodes a known value', () => {
    expect(bech32Encode('abcdef', Buffer.from('00443214c74254b635cf84653a56d7c675be77df', 'hex'))).toBe(
      'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
    );
  });

  it.each([
    ['pzry9x0s0muk', /no "1"/],
    ['1pzry9x0s0muk', /no "1"/],
    ['x1b4n0q5v', /not in the bech32 alphabet/],
    ['li1dgmt3', /too short/],
    ['A1G7SGD8', /checksum/],
    ['a12uEL5L', /mixes upper and lower/],
    ['a12uel5m', /checksum/],
    ['abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx', /checksum/],
    ['a\u00ff1qqqqqqqqq', /prefix is not printable/],
  ])('rejects %s', (text, message) => {
    let thrown: unknown;
    try {
      bech32Decode(text);
    } catch (e) {
      thrown = e;
    }
    expect(isBodycamError(thrown, 'SEAL_BAD_RECIPIENT')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });

  it('rejects non-zero padding bits', () => {
    // Two 5-bit words carry one byte plus 2 padding bits: 11111 11100 is 0xff, 11111 11111 has padding set.
    expect(bech32Decode(`age1lu${checksumFor('age', [31, 28])}`).data).toEqual(Buffer.from([0xff]));
    expect(() => bech32Decode(`age1ll${checksumFor('age', [31, 31])}`)).toThrow(/padding/);
  });
});

/** BIP-173 checksum for raw 5-bit words, to build strings no encoder would produce. */
function checksumFor(hrp: string, words: number[]): string {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  let chk = 1;
  for (const v of [...values, ...words, 0, 0, 0, 0, 0, 0]) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ (gen[i] ?? 0)) >>> 0;
  }
  chk ^= 1;
  const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  return Array.from({ length: 6 }, (_, i) => charset[(chk >>> (5 * (5 - i))) & 31]).join('');
}
