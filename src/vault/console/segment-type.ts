/**
 * The Media Source Extensions type of a decrypted segment, read from its own init segment: each segment the camera
 * seals is a self-contained fragmented MP4 (ftyp + moov, then moof + mdat pairs), H.264 video with optional AAC audio.
 * The codec string names the H.264 profile and level from the `avcC` box (RFC 6381: avc1.PPCCLL). Pure, so the player
 * and its tests share it.
 */

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function indexOf(bytes: Uint8Array, name: string, end: number): number {
  const [a, b, c, d] = ascii(name);
  for (let i = 0; i + 4 <= end; i++) {
    if (bytes[i] === a && bytes[i + 1] === b && bytes[i + 2] === c && bytes[i + 3] === d) return i;
  }
  return -1;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** The top-level box `moov` ends where the first fragment begins; codec boxes are searched only inside it. */
function moovEnd(bytes: Uint8Array): number {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const size =
      ((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (size < 8) return -1;
    if (type === 'moov') return Math.min(at + size, bytes.length);
    at += size >>> 0;
  }
  return -1;
}

/** `video/mp4; codecs="avc1.…[,mp4a.40.2]"`, or null when the bytes do not begin with an H.264 fMP4 init segment. */
export function segmentMimeType(bytes: Uint8Array): string | null {
  const end = moovEnd(bytes);
  if (end < 0) return null;
  const avcC = indexOf(bytes, 'avcC', end);
  // avcC payload: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication.
  if (avcC < 0 || avcC + 8 > end) return null;
  const codecs = [`avc1.${hex2(bytes[avcC + 5] ?? 0)}${hex2(bytes[avcC + 6] ?? 0)}${hex2(bytes[avcC + 7] ?? 0)}`];
  if (indexOf(bytes, 'mp4a', end) >= 0) codecs.push('mp4a.40.2');
  return `video/mp4; codecs="${codecs.join(',')}"`;
}
