/**
 * Bytes received from a pipe but not yet parsed, in one buffer the queue owns. A reader may fill its free space
 * directly (`space` then `wrote`: ffmpeg's stdout read into it, no Buffer allocated per read), or hand in chunks
 * (`push`, one copy). The buffer grows only as bytes arrive, never for a size a box claims, so a hostile size claim
 * never causes an allocation by itself; the parser asks for a copy once all the bytes of a box are here.
 */
const INITIAL_BYTES = 256 * 1024;
/** A buffer grown past this for one large box goes back to the initial size once it is empty. */
const KEEP_BYTES = 16 * 1024 * 1024;
/** The free space `space` offers by default: one pipe read's worth (Node's own reads are 64 KiB). */
export const READ_BYTES = 64 * 1024;

export class ByteQueue {
  #buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  /** The bytes the queue holds memory for (what it costs, not what it holds). */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Free space after the queued bytes, at least `min` long: the next read goes there, then `wrote` says how much it
   * filled. The view is valid until the next call that changes the queue.
   */
  space(min = READ_BYTES): Buffer {
    if (this.#buf.length - this.#end < min && this.#start > 0) {
      // Move what is still queued (the start of the next box, usually short) to the front.
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#buf.length - this.#end < min) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#end + min));
      this.#buf.copy(grown, 0, 0, this.#end);
      this.#buf = grown;
    }
    return this.#buf.subarray(this.#end);
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
    if (this.#start === this.#end) this.#empty();
  }

  clear(): void {
    this.#start = this.#end;
    this.#empty();
  }

  #empty(): void {
    this.#start = 0;
    this.#end = 0;
    if (this.#buf.length > KEEP_BYTES) this.#buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  }
}
