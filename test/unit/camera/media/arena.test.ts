import { describe, expect, it } from 'vitest';
import { arenaBytesFor, FragmentArena } from '../../../../src/camera/media/arena.ts';
import { PreRecordRing } from '../../../../src/camera/media/ring.ts';
import type { MediaFragment } from '../../../../src/camera/media/types.ts';

const KB = 1024;

function filled(arena: FragmentArena, n: number, byte: number): Buffer {
  const b = arena.alloc(n);
  b.fill(byte);
  return b;
}

describe('FragmentArena', () => {
  it('reuses the block in place once the oldest slots are released', () => {
    const arena = new FragmentArena(256 * KB);
    const first = filled(arena, 100 * KB, 1);
    const second = filled(arena, 100 * KB, 2);
    expect(first.buffer).toBe(second.buffer);
    arena.release(first);
    // 56 KB left at the end: the slot skips to the start, where `first` was.
    const third = filled(arena, 100 * KB, 3);
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteOffset).toBe(first.byteOffset);
    expect(second.every((x) => x === 2)).toBe(true);
    expect(arena.stats()).toMatchObject({ overflows: 0, grown: 0 });
  });

  it('never hands out bytes something still refers to: a retained slot blocks reuse, and overflow gets its own Buffer', () => {
    const arena = new FragmentArena(256 * KB);
    const kept = filled(arena, 200 * KB, 7);
    arena.retain(kept); // the ring's reference
    arena.release(kept); // the capture's reference
    const other = filled(arena, 100 * KB, 9);
    expect(other.buffer).not.toBe(kept.buffer);
    expect(kept.every((x) => x === 7)).toBe(true);
    expect(arena.stats().overflows).toBe(1);
    arena.release(kept);
    const reused = filled(arena, 100 * KB, 5);
    expect(reused.buffer).toBe(kept.buffer);
  });

  it('frees a slot only when its last reference goes, in any order', () => {
    const arena = new FragmentArena(192 * KB);
    const a = filled(arena, 64 * KB, 1);
    const b = filled(arena, 64 * KB, 2);
    const c = filled(arena, 64 * KB, 3);
    arena.release(b);
    arena.release(c);
    // a still held: nothing at the head is free, so the block is full.
    expect(filled(arena, 64 * KB, 4).buffer).not.toBe(a.buffer);
    arena.release(a);
    expect(arena.stats().used).toBe(0);
    expect(filled(arena, 64 * KB, 4).buffer).toBe(a.buffer);
  });

  it('grows to what it holds when it keeps overflowing, and keeps the old block until its slots are released', () => {
    const arena = new FragmentArena(64 * KB);
    const held: Buffer[] = [];
    for (let i = 0; i < 8; i++) held.push(filled(arena, 40 * KB, i));
    expect(arena.stats().grown).toBeGreaterThan(0);
    expect(arena.stats().capacity).toBeGreaterThan(64 * KB);
    held.forEach((b, i) => {
      expect(b.every((x) => x === i)).toBe(true);
    });
    for (const b of held) arena.release(b);
    expect(arena.stats().used).toBe(0);
  });

  it('ignores Buffers that are not its own', () => {
    const arena = new FragmentArena(64 * KB);
    const own = Buffer.alloc(10);
    arena.retain(own);
    arena.release(own);
    expect(arena.stats()).toMatchObject({ used: 0, overflows: 0 });
  });

  it('is sized from the bitrates over the pre-roll plus two GOPs, with a margin', () => {
    // 2000 kbit/s = 250 kB/s, over 32 s, × 1.1.
    expect(arenaBytesFor({ kbps: 2000, prerollMs: 30_000, gopMs: 1000 })).toBe(8_800_000);
  });
});

describe('the ring in an arena', () => {
  function fragment(arena: FragmentArena, startMs: number, size: number): MediaFragment {
    return {
      track: 1,
      kind: 'video',
      timescale: 1000,
      baseTime: startMs,
      duration: 1000,
      sampleCount: 30,
      keyframe: true,
      startMs,
      endMs: startMs + 1000,
      bytes: filled(arena, size, startMs / 1000),
    };
  }

  it('holds the pre-roll in a block of its size, with every byte intact, over many times the block', () => {
    const arena = new FragmentArena(arenaBytesFor({ kbps: 8 * 8, prerollMs: 5000, gopMs: 1000 }));
    const ring = new PreRecordRing({ prerollMs: 5000, audioInPreroll: false, arena });
    for (let s = 0; s < 100; s++) {
      const f = fragment(arena, s * 1000, 8000);
      ring.push(f);
      arena.release(f.bytes); // the capture's reference, after the subscribers
    }
    const selection = ring.selectPreroll(100_000);
    expect(selection.fragments.length).toBeGreaterThanOrEqual(5);
    for (const f of selection.fragments) {
      expect(f.bytes.every((x) => x === (f.startMs / 1000) % 256)).toBe(true);
      expect(f.bytes.buffer).toBe(selection.fragments[0]?.bytes.buffer);
    }
    expect(arena.stats()).toMatchObject({ overflows: 0, grown: 0 });
    ring.clear();
    expect(arena.stats().used).toBe(0);
  });
});
