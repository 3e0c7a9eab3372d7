/**
 * One preallocated block of memory the fMP4 parser copies every fragment into, used as a circular buffer (docs/design.md
 * §14). A Buffer of its own per fragment would leave a dead Buffer behind every evicted GOP, which V8 counts only as
 * "external" memory and collects late (tens of MB later) unless a full collection is forced; here the ring's memory
 * is one block of fixed size, reused in place, and no collection is needed to get it back.
 *
 * Lifetime by reference counts: `alloc` gives the caller (capture) one reference, which it drops once every
 * subscriber has seen the fragment; the ring holds one while the fragment is in the pre-roll, the recorder one while
 * its write is queued. A slot is reused only when nothing refers to it, so a fragment's bytes never change under a
 * holder. Slots are handed out in stream order and freed roughly in that order; space is reclaimed from the oldest
 * slot on. When the block has no room (a write stuck behind a slow card, or a bitrate above the estimate) `alloc`
 * gives an ordinary Buffer instead, and the block is replaced by a larger one once that keeps happening: correctness
 * never depends on the block's size, only memory does.
 */

import { AUDIO_KBPS } from './sources.ts';

interface Slot {
  /** Virtual offsets: they only grow; the byte position in the block is the offset modulo the capacity. */
  start: number;
  end: number;
  refs: number;
}

class Block {
  readonly mem: Buffer;
  readonly slots: Slot[] = [];
  /** Slots by their byte position in `mem`, for retain/release. */
  readonly byPosition = new Map<number, Slot>();
  /** Virtual offset where the next slot may start. */
  tail = 0;

  constructor(capacity: number) {
    this.mem = Buffer.allocUnsafeSlow(capacity);
  }

  get capacity(): number {
    return this.mem.length;
  }

  /** Virtual offset of the oldest byte still referred to. */
  head(): number {
    return this.slots[0]?.start ?? this.tail;
  }

  alloc(n: number): Buffer | undefined {
    const cap = this.capacity;
    if (n > cap) return undefined;
    let start = this.tail;
    const at = start % cap;
    // A slot never wraps around the end: skip what is left there.
    if (at + n > cap) start += cap - at;
    if (start + n - this.head() > cap) return undefined;
    const slot: Slot = { start, end: start + n, refs: 1 };
    const position = start % cap;
    this.slots.push(slot);
    this.byPosition.set(position, slot);
    this.tail = slot.end;
    return this.mem.subarray(position, position + n);
  }

  slotOf(b: Buffer): Slot | undefined {
    return b.buffer === this.mem.buffer ? this.byPosition.get(b.byteOffset - this.mem.byteOffset) : undefined;
  }

  /** Drops the freed slots at the head. */
  reclaim(): void {
    const cap = this.capacity;
    while (this.slots.length > 0 && (this.slots[0] as Slot).refs === 0) {
      const slot = this.slots.shift() as Slot;
      this.byPosition.delete(slot.start % cap);
    }
  }
}

export interface ArenaStats {
  /** Bytes of the current block. */
  capacity: number;
  /** Bytes between the oldest slot still referred to and the newest one. */
  used: number;
  /** Fragments that got a Buffer of their own since the start (no room in the block). */
  overflows: number;
  /** Times the block was replaced by a larger one. */
  grown: number;
}

/** Overflows in a row after which the block is replaced by one that fits what is held plus a margin. */
const GROW_AFTER = 4;
const GROW_MARGIN = 1.25;
/** The first block's margin over the bitrate: the encoders' one-second VBV keeps a GOP close to its share. */
const FIRST_MARGIN = 1.1;
/** The block grows to at most this many times its first size; beyond, fragments get Buffers of their own. */
const MAX_GROWTH = 4;

export class FragmentArena {
  #block: Block;
  /** Older blocks that still hold referenced slots (after a growth). */
  #retired: Block[] = [];
  #overflows = 0;
  #overflowRun = 0;
  #grown = 0;
  readonly #maxCapacity: number;

  constructor(capacityBytes: number) {
    this.#block = new Block(Math.max(64 * 1024, Math.ceil(capacityBytes)));
    this.#maxCapacity = MAX_GROWTH * this.#block.capacity;
  }

  /**
   * `n` bytes for one fragment, with one reference for the caller, who must `release` it. Contents are undefined
   * (the parser overwrites all of them).
   */
  alloc(n: number): Buffer {
    const b = this.#block.alloc(n);
    if (b !== undefined) {
      this.#overflowRun = 0;
      return b;
    }
    this.#overflows += 1;
    this.#overflowRun += 1;
    if (this.#overflowRun >= GROW_AFTER && this.#block.capacity < this.#maxCapacity) this.#grow(n);
    return this.#block.alloc(n) ?? Buffer.allocUnsafeSlow(n);
  }

  /** One more reference to `b` (no effect on a Buffer that is not the arena's). */
  retain(b: Buffer): void {
    const slot = this.#find(b)?.slot;
    if (slot !== undefined) slot.refs += 1;
  }

  /** Drops a reference; the slot is reused once none is left. */
  release(b: Buffer): void {
    const found = this.#find(b);
    if (found === undefined || found.slot.refs === 0) return;
    found.slot.refs -= 1;
    if (found.slot.refs > 0) return;
    found.block.reclaim();
    if (found.block !== this.#block && found.block.slots.length === 0) {
      this.#retired = this.#retired.filter((r) => r !== found.block);
    }
  }

  stats(): ArenaStats {
    const block = this.#block;
    return {
      capacity: block.capacity,
      used: block.tail - block.head(),
      overflows: this.#overflows,
      grown: this.#grown,
    };
  }

  #find(b: Buffer): { block: Block; slot: Slot } | undefined {
    const slot = this.#block.slotOf(b);
    if (slot !== undefined) return { block: this.#block, slot };
    for (const block of this.#retired) {
      const s = block.slotOf(b);
      if (s !== undefined) return { block, slot: s };
    }
    return undefined;
  }

  /** A larger block for what the current one holds plus `n`; the old one goes once its slots are released. */
  #grow(n: number): void {
    const old = this.#block;
    const needed = old.tail - old.head() + n;
    this.#block = new Block(Math.min(this.#maxCapacity, Math.max(old.capacity, Math.ceil(needed * GROW_MARGIN))));
    if (old.slots.length > 0) this.#retired.push(old);
    this.#overflowRun = 0;
    this.#grown += 1;
  }
}

/**
 * The block for a source: its bitrates over the pre-roll plus two GOPs (the ring holds up to one GOP beyond the
 * pre-roll, and the newest fragment is being filled), with a margin for a scene busier than the rate control's
 * average (a block that proves too small grows).
 */
export function arenaBytesFor(opts: { kbps: number; prerollMs: number; gopMs: number }): number {
  const bytesPerMs = (opts.kbps * 1000) / 8 / 1000;
  return Math.ceil(bytesPerMs * (opts.prerollMs + 2 * opts.gopMs) * FIRST_MARGIN);
}

/** The arena for a capture source and the pre-roll held of it (audio counted only when the pre-roll keeps it). */
export function arenaForSource(
  source: { videoBitrateKbps: number; audio: boolean; gopSeconds: number },
  preRecord: { seconds: number; audio: boolean },
): FragmentArena {
  return new FragmentArena(
    arenaBytesFor({
      kbps: source.videoBitrateKbps + (source.audio && preRecord.audio ? AUDIO_KBPS : 0),
      prerollMs: preRecord.seconds * 1000,
      gopMs: source.gopSeconds * 1000,
    }),
  );
}
