/**
 * The comparison's own judgement: frames named by their slices (Annex B), placed in the looped feed, and the seam
 * verdicts (lost, duplicated, pre-roll, keyframe) computed from them, on hand-made streams.
 */
import { describe, expect, it } from 'vitest';
import { parsePackets } from '../../../scripts/bench/compare/analyze.ts';
import { accessUnits, splitNals } from '../../../scripts/bench/compare/annexb.ts';
import { parseStat } from '../../../scripts/bench/compare/procstat.ts';
import { nearestGlobal, type RecordedFrame, seamReport } from '../../../scripts/bench/compare/seam.ts';
import { peerTable, recordingMisses, type Summary, withinOneGop } from '../../../scripts/bench/compare/summary.ts';

const SC4 = [0, 0, 0, 1];
const SC3 = [0, 0, 1];
/** A slice NAL: header byte, then first_mb_in_slice = 0 (bit 1) and a body that tells frames apart. */
const slice = (type: 1 | 5, tag: number) => [...SC3, 0x60 | type, 0x88, tag, 0x80];
const sps = [...SC4, 0x67, 0x42, 0x00, 0x1f];
const pps = [...SC4, 0x68, 0xce, 0x38, 0x80];

describe('Annex B access units', () => {
  it('splits on 3- and 4-byte start codes and drops trailing zeros', () => {
    const nals = splitNals(Buffer.from([...sps, 0, 0, ...slice(5, 1)]));
    expect(nals.map((n) => n.type)).toEqual([7, 5]);
    expect(nals[0]?.end).toBe(8);
  });

  it('groups parameter sets with the next picture and names a frame by its slices only', () => {
    const withHeaders = accessUnits(Buffer.from([...sps, ...pps, ...slice(5, 1), ...slice(1, 2), ...slice(1, 3)]));
    expect(withHeaders.map((u) => u.key)).toEqual([true, false, false]);
    const bare = accessUnits(Buffer.from([...slice(5, 1), ...slice(1, 2)]));
    expect(bare[0]?.id).toBe(withHeaders[0]?.id);
    expect(new Set(withHeaders.map((u) => u.id)).size).toBe(3);
  });

  it('keeps a picture of several slices together', () => {
    const second = [...SC3, 0x41, 0x40, 7, 0x80]; // first_mb_in_slice = 1
    expect(accessUnits(Buffer.from([...slice(1, 2), ...second, ...slice(1, 3)]))).toHaveLength(2);
  });
});

describe('the seam', () => {
  const clipFrames = 10;
  const clip = new Map(Array.from({ length: clipFrames }, (_, i) => [`f${i}`, i]));
  /** Recorded frames for global feed indices (the clip loops every 10). */
  const rec = (globals: number[]): RecordedFrame[] =>
    globals.map((g, i) => ({ id: `f${g % clipFrames}`, key: g % 5 === 0, pts: i / 30 }));

  it('places a clip position at the loop nearest to where it is expected', () => {
    expect(nearestGlobal(3, 10, 41)).toBe(43);
    expect(nearestGlobal(9, 10, 41)).toBe(39);
  });

  it('finds nothing wrong in a continuous recording across the loop', () => {
    const r = seamReport(rec([15, 16, 17, 18, 19, 20, 21, 22, 23]), clip, clipFrames, {
      frame: 19,
      stopFrame: 23,
      fps: 30,
    });
    expect(r).toMatchObject({ lost: 0, duplicated: 0, firstIsKeyframe: true, first: 15, last: 23, prerollFrames: 5 });
    expect(r.prerollSeconds).toBeCloseTo(5 / 30);
  });

  it('counts frames lost and duplicated at the seam, and a start off the keyframe', () => {
    const r = seamReport(rec([16, 17, 18, 21, 21, 22, 22, 23]), clip, clipFrames, {
      frame: 19,
      stopFrame: 24,
      fps: 30,
    });
    expect(r).toMatchObject({ lost: 2, duplicated: 2, firstIsKeyframe: false, prerollFrames: 4 });
  });

  it('counts unreadable frames and uses the trigger frame for the pre-roll', () => {
    const frames = rec([10, 11, 12, 13]);
    frames.splice(1, 0, { id: 'garbage', key: false, pts: null });
    const r = seamReport(frames, clip, clipFrames, { frame: 12, stopFrame: 13, fps: 30 });
    expect(r.unknown).toBe(1);
    expect(r.prerollFrames).toBe(3);
  });

  it('judges a pre-roll within one GOP of the request', () => {
    expect(withinOneGop(30.5, 30, 1, 30)).toBe(true);
    expect(withinOneGop(31.2, 30, 1, 30)).toBe(false);
    expect(withinOneGop(29.5, 30, 1, 30)).toBe(false);
  });
});

describe('tool output', () => {
  it('reads ffprobe packets and /proc stat lines', () => {
    expect(parsePackets('0.000000,K_\nN/A,__\n')).toEqual([
      { pts: 0, key: true },
      { pts: null, key: false },
    ]);
    const stat = parseStat('42 (gst (worker)) S 7 42 42 0 -1 4194304 10 0 0 0 150 25 0 0 20 0 3 0 100 1 1');
    expect(stat).toEqual({ comm: 'gst (worker)', ppid: 7, ticks: 175 });
  });
});

describe('ratios to the peer (the form an emulated run is read in)', () => {
  const row = (key: string, o: { ms: number; cpu: [number, number]; rss: [number, number] }): Summary => ({
    key,
    label: key,
    triggers: 4,
    durableMs: o.ms,
    floorMs: 100,
    ratio: o.ms / 100,
    prerollMin: 30,
    prerollMax: 30.5,
    withinGop: 4,
    keyframeFirst: 4,
    lost: 0,
    duplicated: 0,
    unknown: 0,
    cpuPerHour: { controller: o.cpu[0], recorder: o.cpu[1] },
    peakRssMB: { controller: o.rss[0], recorder: o.rss[1] },
    card: {
      standbySeconds: 60,
      standbyBytes: 0,
      standbyBytesPerHour: 0,
      writeAmplification: 1.01,
      recordingBytes: 101,
      footageBytes: 100,
    },
  });
  it('divides each figure by the peer’s of the same run; n/a where the peer has none', () => {
    const lines = peerTable(
      [
        row('bodycam', { ms: 300, cpu: [100, 150], rss: [170, 240] }),
        row('segment-wrap', { ms: 200, cpu: [50, 0], rss: [85, 120] }),
      ],
      'segment-wrap',
    ).split('\n');
    expect(lines[2]).toBe('| bodycam | 1.50× | 3.00× | 2.00× / n/a | 2.00× / 2.00× | 1.010× | 0 B |');
    expect(lines[3]).toBe('| segment-wrap | 1.00× | 2.00× | 1.00× / n/a | 1.00× / 1.00× | 1.010× | 0 B |');
  });
  it('says nothing without the peer', () => {
    expect(peerTable([row('bodycam', { ms: 1, cpu: [1, 1], rss: [1, 1] })], 'segment-wrap')).toBe('');
  });
  it('names every recording that was not exact: frames lost or unreadable, a short pre-roll, no keyframe first', () => {
    const exact = row('bodycam', { ms: 1, cpu: [1, 1], rss: [1, 1] });
    expect(recordingMisses(exact)).toEqual([]);
    const misses = recordingMisses({ ...exact, lost: 2, unknown: 215, withinGop: 3, keyframeFirst: 4 });
    expect(misses).toEqual([
      'bodycam: 2 frames lost, 0 duplicated and 215 unreadable at the seams of 4 recordings; there must be none',
      'bodycam: pre-roll within one GOP of the request in 3 of 4 recordings',
    ]);
    expect(recordingMisses({ ...exact, duplicated: 1, keyframeFirst: 3 })).toHaveLength(2);
  });
});
