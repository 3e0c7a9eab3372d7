import { describe, expect, it } from 'vitest';
import {
  PreRecordRing,
  prerollStartIndex,
  type RingUnit,
  selectPreroll,
  type UnitSpan,
  unitsToEvict,
} from '../../../../src/camera/media/ring.ts';
import type { MediaFragment } from '../../../../src/camera/media/types.ts';

/** Units of `gop` ms from `from`; `n` marks a non-keyframe unit, `k` a keyframe one. */
function spans(pattern: string, gop = 1000, from = 0): UnitSpan[] {
  return [...pattern].map((c, i) => ({ startMs: from + i * gop, endMs: from + (i + 1) * gop, keyframe: c === 'k' }));
}

function fragment(kind: 'video' | 'audio', startMs: number, keyframe = true, size = 100): MediaFragment {
  return {
    track: kind === 'video' ? 1 : 2,
    kind,
    timescale: 1000,
    baseTime: startMs,
    duration: 1000,
    sampleCount: 30,
    keyframe,
    startMs,
    endMs: startMs + 1000,
    bytes: Buffer.alloc(size),
  };
}

describe('unitsToEvict', () => {
  it.each([
    { name: 'empty ring', units: '', preroll: 30_000, drop: 0 },
    { name: 'shorter than the pre-roll', units: 'kkk', preroll: 5000, drop: 0 },
    { name: 'exactly the pre-roll', units: 'kkkkk', preroll: 5000, drop: 0 },
    { name: 'one GOP more than the pre-roll is dropped', units: 'kkkkkk', preroll: 5000, drop: 1 },
    { name: 'pre-roll not a GOP multiple keeps [pre-roll, +GOP)', units: 'kkkkkk', preroll: 4500, drop: 1 },
    { name: 'several surplus units at once', units: 'kkkkkkkk', preroll: 3000, drop: 5 },
    { name: 'pre-roll 0 keeps nothing', units: 'kkk', preroll: 0, drop: 3 },
    { name: 'never leaves a non-keyframe head', units: 'knkkk', preroll: 3000, drop: 2 },
    { name: 'keeps a keyframe head with its non-keyframe units', units: 'knnkk', preroll: 3500, drop: 0 },
    { name: 'leading non-keyframe units always go', units: 'nnkk', preroll: 30_000, drop: 2 },
    { name: 'no keyframe at all: nothing decodable to keep', units: 'nnn', preroll: 30_000, drop: 3 },
  ])('$name', ({ units, preroll, drop }) => {
    expect(unitsToEvict(spans(units), preroll)).toBe(drop);
  });
});

describe('prerollStartIndex', () => {
  it.each([
    { name: 'latest keyframe at or before activation − pre-roll', units: 'kkkkkk', at: 6000, preroll: 4500, i: 1 },
    { name: 'exact boundary', units: 'kkkkkk', at: 6000, preroll: 4000, i: 2 },
    { name: 'activation inside the last GOP', units: 'kkkkkk', at: 6400, preroll: 5000, i: 1 },
    { name: 'ring shorter than requested: first keyframe', units: 'kkk', at: 3000, preroll: 30_000, i: 0 },
    { name: 'shorter, non-keyframe head: first keyframe', units: 'nkk', at: 3000, preroll: 30_000, i: 1 },
    { name: 'skips a non-keyframe unit back to its keyframe', units: 'kknkk', at: 5000, preroll: 2500, i: 1 },
    { name: 'pre-roll 0 starts at the GOP holding the activation', units: 'kkk', at: 2500, preroll: 0, i: 2 },
    { name: 'no keyframe', units: 'nn', at: 2000, preroll: 1000, i: -1 },
    { name: 'empty', units: '', at: 2000, preroll: 1000, i: -1 },
  ])('$name', ({ units, at, preroll, i }) => {
    expect(prerollStartIndex(spans(units), at, preroll)).toBe(i);
  });
});

describe('selectPreroll', () => {
  const units: RingUnit[] = spans('kkkk').map((s) => ({
    ...s,
    video: fragment('video', s.startMs),
    audio: [fragment('audio', s.startMs)],
  }));

  it('returns the fragments in stream order with the actual pre-roll', () => {
    const selected = selectPreroll(units, 4200, 2000);
    expect(selected.fragments.map((f) => `${f.kind}@${f.startMs}`)).toEqual([
      'video@2000',
      'audio@2000',
      'video@3000',
      'audio@3000',
    ]);
    expect(selected.actualPrerollMs).toBe(2200);
    expect(selected.firstVideoStartMs).toBe(2000);
  });

  it('gives the whole ring, and says so, when it is shorter than requested', () => {
    const selected = selectPreroll(units, 4000, 30_000);
    expect(selected.fragments).toHaveLength(8);
    expect(selected.actualPrerollMs).toBe(4000);
  });

  it('selects nothing from an empty ring', () => {
    expect(selectPreroll([], 1000, 30_000)).toEqual({
      fragments: [],
      actualPrerollMs: 0,
      firstVideoStartMs: undefined,
    });
  });
});

describe('PreRecordRing', () => {
  function fill(ring: PreRecordRing, seconds: number, keyframe = (_i: number) => true): void {
    for (let i = 0; i < seconds; i++) {
      ring.push(fragment('video', i * 1000, keyframe(i), 1000));
      ring.push(fragment('audio', i * 1000, true, 100));
    }
  }

  it('stays within [pre-roll, pre-roll + one GOP) of media once filled, with audio', () => {
    const ring = new PreRecordRing({ prerollMs: 5000, audioInPreroll: true });
    fill(ring, 20);
    expect(ring.stats()).toEqual({ seconds: 5, bytes: 5 * 1100, units: 5, fragments: 10 });
    const selected = ring.selectPreroll(20_300);
    expect(selected.firstVideoStartMs).toBe(15_000);
    expect(selected.actualPrerollMs).toBe(5300);
    expect(selected.fragments[1]?.kind).toBe('audio');
  });

  it('keeps no audio at all when the policy says so', () => {
    const ring = new PreRecordRing({ prerollMs: 3000, audioInPreroll: false });
    fill(ring, 10);
    expect(ring.stats()).toEqual({ seconds: 3, bytes: 3000, units: 3, fragments: 3 });
    expect(ring.selectPreroll(10_000).fragments.every((f) => f.kind === 'video')).toBe(true);
  });

  it('holds nothing with a pre-roll of 0', () => {
    const ring = new PreRecordRing({ prerollMs: 0, audioInPreroll: true });
    fill(ring, 4);
    expect(ring.stats()).toEqual({ seconds: 0, bytes: 0, units: 0, fragments: 0 });
    expect(ring.selectPreroll(4000).fragments).toEqual([]);
  });

  it('drops audio that arrives before any video and starts pre-roll on a keyframe', () => {
    const ring = new PreRecordRing({ prerollMs: 2000, audioInPreroll: true });
    ring.push(fragment('audio', 0));
    fill(ring, 6, (i) => i % 2 === 0);
    // Keyframes every 2 s: the ring keeps [4000, 6000), the head on a keyframe.
    expect(ring.stats()).toMatchObject({ seconds: 2, units: 2, fragments: 4 });
    const selected = ring.selectPreroll(6000);
    expect(selected.fragments[0]).toMatchObject({ kind: 'video', keyframe: true, startMs: 4000 });
    expect(selected.actualPrerollMs).toBe(2000);
  });

  it('a non-keyframe unit never becomes the head', () => {
    const ring = new PreRecordRing({ prerollMs: 3000, audioInPreroll: false });
    fill(ring, 8, (i) => i % 3 === 0);
    // Keyframes at 0, 3000, 6000; media to 8000: from 6000 only 2 s remain, so the head is 3000 (5 s window).
    expect(ring.stats()).toMatchObject({ seconds: 5, units: 5 });
    expect(ring.selectPreroll(8000).firstVideoStartMs).toBe(3000);
    expect(ring.selectPreroll(9000).firstVideoStartMs).toBe(6000);
  });

  it('clear() empties it', () => {
    const ring = new PreRecordRing({ prerollMs: 3000, audioInPreroll: true });
    fill(ring, 5);
    ring.clear();
    expect(ring.stats()).toEqual({ seconds: 0, bytes: 0, units: 0, fragments: 0 });
  });
});
