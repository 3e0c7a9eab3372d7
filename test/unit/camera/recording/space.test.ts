import { describe, expect, it } from 'vitest';
import type { MediaFragment } from '../../../../src/camera/media/types.ts';
import { fitPreroll } from '../../../../src/camera/recording/space.ts';

/** GOPs of a 1000-byte video fragment and a 100-byte audio fragment each; names say which. */
function gops(count: number, audio = true): MediaFragment[] {
  const out: MediaFragment[] = [];
  for (let n = 0; n < count; n++) {
    const base = { track: 1, timescale: 1000, baseTime: n * 1000, duration: 1000, startMs: n * 1000 };
    out.push({
      ...base,
      kind: 'video',
      sampleCount: 30,
      keyframe: true,
      endMs: (n + 1) * 1000,
      bytes: Buffer.alloc(1000, n),
    });
    if (audio)
      out.push({
        ...base,
        track: 2,
        kind: 'audio',
        sampleCount: 47,
        keyframe: true,
        endMs: (n + 1) * 1000,
        bytes: Buffer.alloc(100, n),
      });
  }
  return out;
}
const firstGop = (fs: MediaFragment[]) => fs[0]?.bytes[0];

describe('pre-roll on a nearly full card', () => {
  it.each([
    // 5 GOPs of 1100 bytes: max bytes → GOPs kept (the oldest go first)
    [10_000, 5, 0],
    [5500, 5, 0],
    [5499, 4, 1],
    [2200, 2, 3],
    [1, 1, 4], // the last GOP always stays: the recording itself stops at the reserve
    [0, 1, 4],
  ])('room for %d bytes: %d GOPs from GOP %d', (max, kept, from) => {
    const out = fitPreroll(gops(5), max);
    expect(out.filter((f) => f.kind === 'video')).toHaveLength(kept);
    expect(firstGop(out)).toBe(from);
    expect(out[0]?.kind === 'video' && out[0].keyframe).toBe(true);
  });

  it('keeps a video-only pre-roll on keyframes too, and an empty one empty', () => {
    expect(fitPreroll(gops(4, false), 2000).map((f) => f.bytes[0])).toEqual([2, 3]);
    expect(fitPreroll([], 0)).toEqual([]);
  });
});
