/**
 * One fragment = moof (mfhd + exactly one traf, as `separate_moof` writes) followed by its mdat. We read what the
 * rest of the firmware needs (track, decode time, duration, keyframe) and check that the samples the truns
 * describe lie inside the mdat, so a damaged fragment is rejected here rather than written into evidence.
 */
import { type Box, children, corrupt, fullBox, need, readBox, readU64 } from './boxes.ts';
import type { TrackDefaults } from './init.ts';

const TFHD_BASE_DATA_OFFSET = 0x1;
const TFHD_SAMPLE_DESCRIPTION = 0x2;
const TFHD_DEFAULT_DURATION = 0x8;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;

const TRUN_DATA_OFFSET = 0x1;
const TRUN_FIRST_SAMPLE_FLAGS = 0x4;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;

/** Far above any real GOP (120 fps × 10 s); bounds the work a hostile sample count can cause. */
const MAX_SAMPLES = 100_000;

/** sample_is_non_sync_sample in the sample flags word. */
const NON_SYNC = 0x0001_0000;

export interface ParsedFragment {
  trackId: number;
  baseTime: number;
  duration: number;
  sampleCount: number;
  /** Flags of the first sample, from whichever level defines them (undefined if none does). */
  firstSampleFlags: number | undefined;
  /** Where the tfdt box sits, so the timeline offset can rewrite it. */
  tfdt: Box & { version: number };
  moof: Box;
  traf: Box;
  /** Byte offsets of every trun data_offset field (moof-relative data, shifted if the moof grows). */
  dataOffsetFields: number[];
}

interface Tfhd {
  trackId: number;
  duration: number | undefined;
  size: number | undefined;
  flags: number | undefined;
}

function parseTfhd(buf: Buffer, box: Box): Tfhd {
  const { flags, body } = fullBox(buf, box);
  if (flags & TFHD_BASE_DATA_OFFSET) throw corrupt('tfhd uses an absolute base_data_offset (need default_base_moof)');
  let at = body;
  need(at, 4, box.end, 'tfhd');
  const trackId = buf.readUInt32BE(at);
  at += 4;
  const field = (present: boolean): number | undefined => {
    if (!present) return undefined;
    need(at, 4, box.end, 'tfhd');
    const v = buf.readUInt32BE(at);
    at += 4;
    return v;
  };
  field((flags & TFHD_SAMPLE_DESCRIPTION) !== 0);
  const duration = field((flags & TFHD_DEFAULT_DURATION) !== 0);
  const size = field((flags & TFHD_DEFAULT_SIZE) !== 0);
  const sampleFlags = field((flags & TFHD_DEFAULT_FLAGS) !== 0);
  return { trackId, duration, size, flags: sampleFlags };
}

function parseTfdt(buf: Buffer, box: Box): { baseTime: number; version: number } {
  const { version, body } = fullBox(buf, box);
  if (version === 1) {
    need(body, 8, box.end, 'tfdt');
    return { baseTime: readU64(buf, body, 'tfdt'), version };
  }
  need(body, 4, box.end, 'tfdt');
  return { baseTime: buf.readUInt32BE(body), version };
}

/**
 * Parses `buf` = moof + mdat (mdat at `mdatStart`). `lookup` gives the trex defaults of a known track and
 * undefined for a track the moov did not declare.
 */
export function parseFragment(
  buf: Buffer,
  mdatStart: number,
  lookup: (trackId: number) => TrackDefaults | undefined,
): ParsedFragment {
  const moof = readBox(buf, 0, mdatStart);
  const mdat = readBox(buf, mdatStart, buf.length);
  const trafs = children(buf, moof).filter((b) => b.type === 'traf');
  const traf = trafs[0];
  if (traf === undefined || trafs.length > 1) throw corrupt(`moof has ${trafs.length} trafs, expected 1`);
  const boxes = children(buf, traf);
  const tfhdBox = boxes.find((b) => b.type === 'tfhd');
  const tfdtBox = boxes.find((b) => b.type === 'tfdt');
  if (tfhdBox === undefined || tfdtBox === undefined) throw corrupt('traf lacks tfhd or tfdt');
  const tfhd = parseTfhd(buf, tfhdBox);
  const trex = lookup(tfhd.trackId);
  if (trex === undefined) throw corrupt(`fragment for unknown track ${tfhd.trackId}`, { track: tfhd.trackId });
  const { baseTime, version } = parseTfdt(buf, tfdtBox);

  let duration = 0;
  let sampleCount = 0;
  let firstSampleFlags: number | undefined;
  let dataCursor = 0; // moof-relative: default_base_moof, or the implicit base of the first traf
  const dataOffsetFields: number[] = [];
  for (const trun of boxes.filter((b) => b.type === 'trun')) {
    const { flags, body } = fullBox(buf, trun);
    need(body, 4, trun.end, 'trun');
    const count = buf.readUInt32BE(body);
    if (count + sampleCount > MAX_SAMPLES) throw corrupt(`trun claims ${count} samples`);
    let at = body + 4;
    if (flags & TRUN_DATA_OFFSET) {
      need(at, 4, trun.end, 'trun data_offset');
      dataOffsetFields.push(at);
      dataCursor = buf.readInt32BE(at);
      at += 4;
    }
    let firstFlags: number | undefined;
    if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
      need(at, 4, trun.end, 'trun first_sample_flags');
      firstFlags = buf.readUInt32BE(at);
      at += 4;
    }
    const perSample = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO].filter((f) => flags & f).length * 4;
    // Checked before the loop, so a hostile count costs nothing.
    need(at, count * perSample, trun.end, `trun with ${count} samples`);
    const dataStart = dataCursor;
    for (let i = 0; i < count; i++) {
      const sampleDuration = flags & TRUN_DURATION ? buf.readUInt32BE(at) : (tfhd.duration ?? trex.sampleDuration);
      if (flags & TRUN_DURATION) at += 4;
      const size = flags & TRUN_SIZE ? buf.readUInt32BE(at) : (tfhd.size ?? trex.sampleSize);
      if (flags & TRUN_SIZE) at += 4;
      const sampleFlags = flags & TRUN_FLAGS ? buf.readUInt32BE(at) : (tfhd.flags ?? trex.sampleFlags);
      if (flags & TRUN_FLAGS) at += 4;
      if (flags & TRUN_CTO) at += 4;
      if (sampleCount === 0 && i === 0) firstSampleFlags = firstFlags ?? sampleFlags;
      duration += sampleDuration;
      dataCursor += size;
    }
    if (count > 0 && (dataStart < mdat.body || dataCursor > mdat.end)) {
      throw corrupt('trun samples lie outside the mdat', { dataStart, dataEnd: dataCursor, mdatEnd: mdat.end });
    }
    sampleCount += count;
  }
  if (sampleCount === 0) throw corrupt('fragment has no samples');
  if (duration === 0) throw corrupt('fragment has no sample durations');
  return {
    trackId: tfhd.trackId,
    baseTime,
    duration,
    sampleCount,
    firstSampleFlags,
    tfdt: { ...tfdtBox, version },
    moof,
    traf,
    dataOffsetFields,
  };
}

export function isSync(flags: number | undefined): boolean {
  return flags !== undefined && (flags & NON_SYNC) === 0;
}

function bumpSize(buf: Buffer, box: Box, delta: number): void {
  if (buf.readUInt32BE(box.start) === 1) buf.writeBigUInt64BE(BigInt(box.end - box.start + delta), box.start + 8);
  else buf.writeUInt32BE(box.end - box.start + delta, box.start);
}

/**
 * The fragment with its tfdt set to `baseTime`, rewritten in place when the field fits. ffmpeg writes tfdt v1
 * (64-bit). A v0 tfdt whose new value needs more than 32 bits is widened to v1 rather than wrapped or rejected
 * (a wrap would send the timeline backwards; rejecting would make the capture restart forever): the moof and
 * traf grow by 4 bytes, and every trun data_offset, being moof-relative, grows by 4 as the mdat moves.
 */
export function withBaseTime(buf: Buffer, parsed: ParsedFragment, baseTime: number): Buffer {
  const { tfdt } = parsed;
  const fieldAt = fullBox(buf, tfdt).body;
  if (tfdt.version === 1 || baseTime <= 0xffff_ffff) {
    // The field fits: rewrite it in place (the buffer is the parser's own copy of the fragment).
    if (tfdt.version === 1) buf.writeBigUInt64BE(BigInt(baseTime), fieldAt);
    else buf.writeUInt32BE(baseTime, fieldAt);
    return buf;
  }
  const widened = Buffer.alloc(20);
  widened.writeUInt32BE(20, 0);
  widened.write('tfdt', 4, 'latin1');
  widened.writeUInt32BE(0x0100_0000, 8);
  widened.writeBigUInt64BE(BigInt(baseTime), 12);
  const out = Buffer.concat([buf.subarray(0, tfdt.start), widened, buf.subarray(tfdt.end)]);
  const growth = 20 - (tfdt.end - tfdt.start);
  bumpSize(out, parsed.moof, growth);
  bumpSize(out, parsed.traf, growth);
  for (const field of parsed.dataOffsetFields) {
    const at = field > tfdt.start ? field + growth : field;
    out.writeInt32BE(out.readInt32BE(at) + growth, at);
  }
  return out;
}
