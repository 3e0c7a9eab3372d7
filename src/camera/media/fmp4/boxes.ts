/**
 * ISO BMFF box walking over a buffer that already holds a whole box. Every read is bounds-checked against the
 * enclosing box, so a lying size inside a moov/moof becomes a MEDIA_CORRUPT error, never an out-of-range read.
 */
import { BodycamError, ErrorCode } from '../../../lib/errors.ts';

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the payload (after size, type and any largesize). */
  body: number;
  /** Offset just past the box. */
  end: number;
}

export function corrupt(message: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.MEDIA_CORRUPT, `corrupt fMP4 stream: ${message}`, details);
}

/** Throws MEDIA_CORRUPT unless `n` bytes from `offset` lie within `[.., end)`. */
export function need(offset: number, n: number, end: number, what: string): void {
  if (offset + n > end) throw corrupt(`${what} is truncated`, { offset, need: n, end });
}

/** The box header at `offset`, limited to `end` (the parent's end or the buffer's). */
export function readBox(buf: Buffer, offset: number, end: number): Box {
  need(offset, 8, end, 'box header');
  const type = buf.toString('latin1', offset + 4, offset + 8);
  let size = buf.readUInt32BE(offset);
  let body = offset + 8;
  if (size === 1) {
    need(offset, 16, end, `${type} largesize`);
    const large = buf.readBigUInt64BE(offset + 8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${type} size is absurd`, { size: large.toString() });
    size = Number(large);
    body = offset + 16;
  } else if (size === 0) {
    size = end - offset; // "to the end of the enclosing container"
  }
  if (size < body - offset || offset + size > end) throw corrupt(`${type} box size ${size} does not fit`, { offset });
  return { type, start: offset, body, end: offset + size };
}

/** The child boxes of a container body. */
export function children(buf: Buffer, parent: Box): Box[] {
  const out: Box[] = [];
  let offset = parent.body;
  while (offset < parent.end) {
    const box = readBox(buf, offset, parent.end);
    out.push(box);
    offset = box.end;
  }
  return out;
}

export function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  return children(buf, parent).find((b) => b.type === type);
}

/** Full-box version and flags (the 4 bytes after the header). */
export function fullBox(buf: Buffer, box: Box): { version: number; flags: number; body: number } {
  need(box.body, 4, box.end, `${box.type} header`);
  const word = buf.readUInt32BE(box.body);
  return { version: word >>> 24, flags: word & 0xffffff, body: box.body + 4 };
}

/** A 64-bit unsigned field as a number, or MEDIA_CORRUPT past 2^53. */
export function readU64(buf: Buffer, offset: number, what: string): number {
  const value = buf.readBigUInt64BE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} is beyond 2^53`, { value: value.toString() });
  return Number(value);
}
