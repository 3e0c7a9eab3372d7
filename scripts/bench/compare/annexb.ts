/**
 * H.264 Annex B byte streams cut into access units (frames), each named by a hash of its coded slices. The
 * comparison feeds the same stream to every recorder and names each recorded frame the same way, so a frame is
 * recognised whatever container, timestamps or parameter-set placement a recorder gave it.
 */
import { createHash } from 'node:crypto';

export interface Nal {
  type: number;
  /** Offset of the start code (00 00 01 or 00 00 00 01). */
  start: number;
  /** Offset of the NAL header byte. */
  payload: number;
  /** End of the NAL (trailing zero bytes excluded). */
  end: number;
}

export interface AccessUnit {
  /** The whole access unit, start codes included, as it appears in the stream. */
  bytes: Buffer;
  /** Contains an IDR slice. */
  key: boolean;
  /** Hash of its slice NAL units (types 1 and 5): the same frame has the same id in every recorder's output. */
  id: string;
}

const NAL_SLICE = 1;
const NAL_IDR = 5;
const NAL_SEI = 6;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

export function splitNals(buf: Buffer): Nal[] {
  const nals: Nal[] = [];
  let i = 0;
  let open: { start: number; payload: number } | undefined;
  const close = (end: number) => {
    if (open === undefined) return;
    let e = end;
    while (e > open.payload && buf[e - 1] === 0) e--;
    const header = buf[open.payload];
    if (header !== undefined) nals.push({ type: header & 0x1f, start: open.start, payload: open.payload, end: e });
  };
  while (i + 2 < buf.length) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      const start = i > 0 && buf[i - 1] === 0 ? i - 1 : i;
      close(start);
      open = { start, payload: i + 3 };
      i += 3;
    } else {
      i += 1;
    }
  }
  close(buf.length);
  return nals;
}

const isSlice = (type: number) => type === NAL_SLICE || type === NAL_IDR;

/** first_mb_in_slice is ue(v); it is 0 exactly when the first bit after the NAL header is 1. */
function firstSliceOfPicture(buf: Buffer, nal: Nal): boolean {
  return ((buf[nal.payload + 1] ?? 0) & 0x80) !== 0;
}

/** Groups NAL units into access units (H.264 7.4.1.2.3: AUD, SPS, PPS, SEI or a picture's first slice start one). */
export function accessUnits(buf: Buffer): AccessUnit[] {
  const units: AccessUnit[] = [];
  let group: Nal[] = [];
  const flush = () => {
    const first = group[0];
    const last = group[group.length - 1];
    if (first === undefined || last === undefined) return;
    const slices = group.filter((n) => isSlice(n.type));
    if (slices.length === 0) return; // parameter sets with no picture (end of a truncated stream)
    const hash = createHash('sha1');
    for (const s of slices) hash.update(buf.subarray(s.payload, s.end));
    units.push({
      bytes: buf.subarray(first.start, last.end),
      key: slices.some((s) => s.type === NAL_IDR),
      id: hash.digest('hex').slice(0, 16),
    });
    group = [];
  };
  for (const nal of splitNals(buf)) {
    const hasSlice = group.some((n) => isSlice(n.type));
    const opensUnit =
      (isSlice(nal.type) && firstSliceOfPicture(buf, nal)) ||
      nal.type === NAL_AUD ||
      nal.type === NAL_SPS ||
      nal.type === NAL_PPS ||
      nal.type === NAL_SEI;
    if (hasSlice && opensUnit) flush();
    group.push(nal);
  }
  flush();
  return units;
}
