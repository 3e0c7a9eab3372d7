/**
 * Bytes received from a pipe but not yet parsed, kept as the chunks they arrived in. The parser only asks for
 * a copy once all the bytes of a box are here, so a hostile size claim never causes an allocation by itself.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #offset = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** A copy of the first `n` bytes without consuming them; `n` must be ≤ length. */
  peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      if (written === n) break;
      written += chunk.copy(out, written, offset, Math.min(chunk.length, offset + n - written));
      offset = 0;
    }
    return out;
  }

  /** Removes the first `n` bytes into `target` at `at` (one copy, no intermediate buffer); `n` must be ≤ length. */
  takeInto(target: Buffer, at: number, n: number): void {
    let written = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      if (written === n) break;
      written += chunk.copy(target, at + written, offset, Math.min(chunk.length, offset + n - written));
      offset = 0;
    }
    this.skip(n);
  }

  /** Removes and returns (as an owned copy) the first `n` bytes; `n` must be ≤ length. */
  take(n: number): Buffer {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    let left = n;
    this.#length -= n;
    while (left > 0) {
      const first = this.#chunks[0];
      if (first === undefined) break;
      const here = first.length - this.#offset;
      if (here > left) {
        this.#offset += left;
        return;
      }
      left -= here;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  clear(): void {
    this.#chunks = [];
    this.#offset = 0;
    this.#length = 0;
  }
}
