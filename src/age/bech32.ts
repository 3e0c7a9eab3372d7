import { BodycamError, ErrorCode } from '../lib/errors.ts';

/**
 * Bech32 (BIP-173, original checksum constant 1, not bech32m) as age uses it for recipients and identities.
 * BIP-173 caps strings at 90 characters; age lifts that cap because an identity is longer, so there is none here.
 * Errors carry SEAL_BAD_RECIPIENT because on the device bech32 text only ever arrives as a recipient; callers
 * that know more (keys.ts) wrap the message with what a valid key looks like.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const CHECKSUM_LENGTH = 6;

const CHARSET_INDEX = new Map<string, number>([...CHARSET].map((c, i) => [c, i]));

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) chk = (chk ^ (GENERATOR[i] ?? 0)) >>> 0;
    }
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const high: number[] = [];
  const low: number[] = [];
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    high.push(c >>> 5);
    low.push(c & 31);
  }
  return [...high, 0, ...low];
}

function checksum(hrp: string, data: readonly number[]): number[] {
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  const out: number[] = [];
  for (let i = 0; i < CHECKSUM_LENGTH; i++) out.push((mod >>> (5 * (5 - i))) & 31);
  return out;
}

/** Regroups bits: 8→5 pads the last group with zeros; 5→8 refuses leftover non-zero or whole-group padding. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | (data[i] ?? 0);
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || acc !== 0) {
    throw bad('its data part has invalid padding (it was not produced by a bech32 encoder)');
  }
  return out;
}

function bad(reason: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.SEAL_BAD_RECIPIENT, `not valid bech32: ${reason}`, details);
}

/** Encodes bytes under a human-readable part; the result is lower case (callers upper-case identities). */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  if (hrp.length === 0) throw bad('the human-readable part is empty');
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw bad('the human-readable part has a character outside ASCII 33..126');
  }
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true);
  const all = [...words, ...checksum(lowerHrp, words)];
  return `${lowerHrp}1${all.map((w) => CHARSET[w]).join('')}`;
}

/** Decodes `hrp1data…checksum`; the hrp comes back lower case. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    throw bad('it mixes upper and lower case letters');
  }
  const lower = text.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1) throw bad('there is no "1" separating the prefix from the data');
  if (lower.length - sep - 1 < CHECKSUM_LENGTH) throw bad('it is too short to hold a checksum');
  const hrp = lower.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw bad(`character ${i + 1} of the prefix is not printable ASCII`, { position: i + 1 });
  }
  const words: number[] = [];
  for (let i = sep + 1; i < lower.length; i++) {
    const ch = lower.charAt(i);
    const w = CHARSET_INDEX.get(ch);
    if (w === undefined) {
      throw bad(`character ${i + 1} (${JSON.stringify(ch)}) is not in the bech32 alphabet (${CHARSET})`, {
        position: i + 1,
      });
    }
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) {
    throw bad('the checksum does not match (a character was mistyped, dropped or swapped)');
  }
  const data = convertBits(words.slice(0, -CHECKSUM_LENGTH), 5, 8, false);
  return { hrp, data: Buffer.from(data) };
}
