/**
 * Bytes received from a pipe but not yet parsed, in one buffer the queue owns. A reader may fill its free space
 * directly (`space` then `wrote`: ffmpeg's stdout read into it, no Buffer allocated per read), or hand in chunks
 * (`push`, one copy). The buffer grows only as bytes arrive, never for a size a box claims, so a hostile size claim
 * never causes an allocation by itself; the parser asks for a copy once all the bytes of a box are here.
 *
 * What is queued is moved to the front of the buffer only while it is short: `expect` (the parser, when a box's
 * header says how long it is) moves it when the box has just begun and would not fit in the room left, so a whole
 * GOP arrives in place and is copied once, into the arena, not once more each time the buffer wraps.
 */
const INITIAL_BYTES = 256 * 1024;
/** A buffer grown past this for one large box goes back to the initial size once little is queued. */
const KEEP_BYTES = 16 * 1024 * 1024;
/** The free space `space` offers at least: one pipe read's worth (a pipe holds 64 KiB; Node's own reads are 64 KiB). */
export const READ_BYTES = 64 * 1024;

export class ByteQueue {
  #buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  #start = 0;
  #end = 0;
  #moved = 0;
  readonly #maxBytes: number;

  /** `maxBytes`: the longest box the reader accepts; doubling stops there (plus room for the reads around it). */
  constructor(maxBytes = 64 * 1024 * 1024) {
    this.#maxBytes = maxBytes + 2 * READ_BYTES;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** The bytes the queue holds memory for (what it costs, not what it holds). */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Bytes copied inside the queue so far (moved to the front, or into a grown buffer): its cost beyond the reads. */
  get moved(): number {
    return this.#moved;
  }

  /**
   * Free space after the queued bytes, at least `min` long: the next read goes there, then `wrote` says how much it
   * filled. The view is valid until the next call that changes the queue.
   */
  space(min = READ_BYTES): Buffer {
    if (this.#buf.length - this.#end < min) {
      // Moving costs what is queued; only worth it when that is no more than the room it frees (else grow).
      if (this.#start > 0 && this.length <= this.#start) this.#compact();
      if (this.#buf.length - this.#end < min) this.#grow(min);
    }
    return this.#buf.subarray(this.#end);
  }

  /**
   * The box at the head is `total` bytes long (its header said so; none of it is allocated for): if it would not
   * fit in the room after the head, the few bytes of it queued so far move to the front now, while that is cheap.
   */
  expect(total: number): void {
    if (this.#start > 0 && this.#start + total + READ_BYTES > this.#buf.length) this.#compact();
  }

  /** `n` bytes were written at the start of the last `space`. */
  wrote(n: number): void {
    if (!Number.isInteger(n) || n < 0 || this.#end + n > this.#buf.length)
      throw new RangeError(`wrote ${n} bytes into ${this.#buf.length - this.#end} bytes of space`);
    this.#end += n;
  }

  /** Appends a copy of `chunk`. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.space(chunk.length).set(chunk);
    this.#end += chunk.length;
  }

  /** The first `n` bytes, not consumed: a view, valid until the next call that changes the queue. */
  peek(n: number): Buffer {
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  /** Removes the first `n` bytes into `target` at `at` (one copy, no intermediate buffer); `n` must be ≤ length. */
  takeInto(target: Buffer, at: number, n: number): void {
    this.#buf.copy(target, at, this.#start, this.#start + n);
    this.skip(n);
  }

  /** Removes and returns (as an owned copy) the first `n` bytes; `n` must be ≤ length. */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    this.#buf.copy(out, 0, this.#start, this.#start + n);
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    this.#start = Math.min(this.#start + n, this.#end);
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
    }
    // A buffer grown for one giant box is given back once what is left of the stream is short again.
    if (this.#buf.length > KEEP_BYTES && this.length <= READ_BYTES) this.#moveTo(Buffer.allocUnsafeSlow(INITIAL_BYTES));
  }

  /** Drops what is queued; `release` also gives the memory back (a later `space` allocates again). */
  clear(release = false): void {
    this.#start = 0;
    this.#end = 0;
    if (release) this.#buf = Buffer.alloc(0);
    else if (this.#buf.length > KEEP_BYTES) this.#buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  }

  #compact(): void {
    this.#moved += this.length;
    this.#buf.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
  }

  #grow(min: number): void {
    const needed = this.#end - this.#start + min;
    // Doubling, capped at the longest box and its reads (never below what is needed: `space` must not throw, it
    // runs inside the socket's read); what is queued moves to the front of the new buffer.
    this.#moveTo(Buffer.allocUnsafeSlow(Math.max(needed, Math.min(this.#buf.length * 2, this.#maxBytes))));
  }

  /** What is queued goes to the front of `target`, which becomes the queue's buffer. */
  #moveTo(target: Buffer): void {
    this.#moved += this.length;
    this.#buf.copy(target, 0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = target;
  }
}
