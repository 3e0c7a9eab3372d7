/**
 * One segment coming in: chunks written at their offsets into an incoming file, a sliding window of chunks kept
 * asked for ahead of what has arrived (asked again at half, so the pipe never runs dry), and the durable length
 * (fdatasync, then the progress row) recorded every CHECKPOINT_BYTES and at the end: after a crash or a lost
 * connection the transfer resumes from there. When chunks stop coming (a lost message) it asks again, on the Clock
 * port's time.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { CHECKPOINT_BYTES, CHUNK_BYTES, WINDOW_CHUNKS } from '../../protocol/limits.ts';
import type { ChunkHeader, SegmentOffer } from '../../protocol/messages.ts';
import type { Progress, TransferRow } from './progress.ts';
import type { checkReceived } from './verify-offer.ts';

/** Nothing came for this long after a pull: it is asked for again from the next byte expected. */
export const STALL_MS = 10_000;

/**
 * Why a chunk is not one a pull asked for, or undefined when it is: pulls name offsets on chunk boundaries and
 * every chunk is CHUNK_BYTES long but the segment's last, so offset and length say exactly what may come.
 */
export function chunkProblem(
  chunk: { offset: number; length: number },
  segment: { bytes: number; requested: number },
): string | undefined {
  const { offset, length } = chunk;
  if (length > CHUNK_BYTES) return `${length} bytes: a chunk holds at most ${CHUNK_BYTES}`;
  if (offset % CHUNK_BYTES !== 0) return `offset ${offset} is not on a chunk boundary`;
  if (offset >= segment.requested) return `offset ${offset} was not asked for`;
  const expected = Math.min(CHUNK_BYTES, segment.bytes - offset);
  if (length !== expected) return `${length} bytes at offset ${offset}: the pull asked for ${expected}`;
  return undefined;
}

export interface TransferItem {
  offer: SegmentOffer;
  hash: string;
  env: Parameters<typeof checkReceived>[0];
  /** Stored before, but the store no longer holds it as it should: pulled again from the start. */
  again?: boolean;
}

export interface TransferOptions {
  file: string;
  offer: SegmentOffer;
  row: TransferRow;
  progress: Progress;
  clock: Clock;
  pull: (offset: number, count: number) => void;
  item: TransferItem;
  onProgress?: (line: string) => void;
  /** Every chunk has now been asked for: the agent may start asking for the next segment. */
  onAllRequested?: () => void;
  /** How often received bytes are made durable (default CHECKPOINT_BYTES). */
  checkpointBytes?: number;
}

export class Transfer {
  readonly file: string;
  readonly item: TransferItem;
  readonly #o: TransferOptions;
  readonly #fh: FileHandle;
  /** Next byte expected, durable length, end of what has been asked for, all bytes received (resent too). */
  #expected: number;
  #durable: number;
  #requested: number;
  #total: number;
  #stall: TimerHandle | null = null;
  readonly #startedAt: number;
  /** A checkpoint under way (its fdatasync runs beside the writes that follow it). */
  #syncing: Promise<void> | null = null;
  /** SHA-256 of the bytes written, in order, when the transfer began at 0 (else the file is hashed at the end). */
  readonly #hash = createHash('sha256');
  readonly #hashing: boolean;

  private constructor(o: TransferOptions, fh: FileHandle) {
    this.#o = o;
    this.file = o.file;
    this.item = o.item;
    this.#fh = fh;
    this.#expected = o.row.received;
    this.#durable = o.row.received;
    this.#requested = o.row.received;
    this.#total = o.row.receivedTotal;
    this.#hashing = o.row.received === 0;
    this.#startedAt = o.clock.now();
  }

  /**
   * Opens (or resumes) the incoming file at the durable length and asks for the first window. A file shorter than
   * its recorded durable length (expired, or removed by hand) starts over from 0, never resumes over a hole.
   */
  static async open(o: TransferOptions): Promise<Transfer> {
    await (await open(o.file, 'a')).close();
    const fh = await open(o.file, 'r+');
    let row = o.row;
    if ((await fh.stat()).size < row.received) {
      row = { ...row, received: 0 };
      o.progress.received(row.device, row.incident, row.seq, 0, row.receivedTotal);
    }
    await fh.truncate(row.received);
    const t = new Transfer({ ...o, row }, fh);
    if (!t.complete) t.#askFrom(t.#expected);
    return t;
  }

  get complete(): boolean {
    return this.#durable >= this.#o.offer.bytes;
  }

  /** Why this chunk is not one that was asked for (undefined when it is). */
  problem(h: ChunkHeader, length: number): string | undefined {
    return chunkProblem({ offset: h.offset, length }, { bytes: this.#o.offer.bytes, requested: this.#requested });
  }

  /** Bytes received in order so far. */
  get received(): number {
    return this.#expected;
  }

  /**
   * Takes one chunk; 'complete' once the whole segment is durably here; a reason when it is not a chunk that was
   * asked for (it is not written).
   */
  async chunk(h: ChunkHeader, bytes: Buffer): Promise<'more' | 'complete' | { refused: string }> {
    const { offer } = this.#o;
    if (h.incident !== offer.incident || h.seq !== offer.seq) return 'more';
    const problem = this.problem(h, bytes.length);
    if (problem !== undefined) return { refused: problem };
    if (createHash('sha256').update(bytes).digest('hex') !== h.sha256) return 'more'; // damaged: asked for again
    this.#total += bytes.length;
    if (h.offset !== this.#expected) return 'more'; // a repeat, or after a lost one: the stall asks again
    await this.#fh.write(bytes, 0, bytes.length, h.offset);
    if (this.#hashing) this.#hash.update(bytes);
    this.#expected += bytes.length;
    this.#armStall();
    const end = this.#expected >= offer.bytes;
    if (end) {
      await this.#syncing;
      await this.#checkpoint(this.#expected);
    } else if (
      this.#syncing === null &&
      this.#expected - this.#durable >= (this.#o.checkpointBytes ?? CHECKPOINT_BYTES)
    ) {
      // Not awaited: the chunks keep coming while the disk catches up; only what was written before it counts.
      const upTo = this.#expected;
      this.#syncing = this.#checkpoint(upTo).finally(() => {
        this.#syncing = null;
      });
    }
    if (end) {
      this.#clearStall();
      return 'complete';
    }
    const window = WINDOW_CHUNKS * CHUNK_BYTES;
    if (this.#requested - this.#expected <= window / 2 && this.#requested < offer.bytes) this.#askFrom(this.#requested);
    return 'more';
  }

  get allRequested(): boolean {
    return this.#requested >= this.#o.offer.bytes;
  }

  /** The whole file's SHA-256 and size when it came in one go from 0; null when resumed (hash the file). */
  digest(): { bytes: number; sha256: string } | null {
    return this.#hashing && this.complete ? { bytes: this.#expected, sha256: this.#hash.digest('hex') } : null;
  }

  async close(): Promise<void> {
    this.#clearStall();
    await this.#syncing?.catch(() => undefined);
    // Bytes that came after the last checkpoint still count as received (they will be sent again).
    const { offer, row } = this.#o;
    if (!this.complete) this.#o.progress.received(row.device, offer.incident, offer.seq, this.#durable, this.#total);
    await this.#fh.close().catch(() => undefined);
  }

  async #checkpoint(upTo: number): Promise<void> {
    const { offer, row } = this.#o;
    await this.#fh.datasync();
    this.#durable = upTo;
    this.#o.progress.received(row.device, offer.incident, offer.seq, this.#durable, this.#total);
    const seconds = Math.max((this.#o.clock.now() - this.#startedAt) / 1000, 0.001);
    this.#o.onProgress?.(
      `${offer.incident}/${offer.file} ${Math.floor((100 * this.#durable) / offer.bytes)}% of ${(offer.bytes / 1e6).toFixed(1)} MB, ${((this.#durable - row.received) / 1e6 / seconds).toFixed(1)} MB/s`,
    );
  }

  /** Asks for the window from `from` (up to the end of the segment). */
  #askFrom(from: number): void {
    const left = this.#o.offer.bytes - from;
    const count = Math.min(
      from === this.#requested && from > this.#expected ? WINDOW_CHUNKS / 2 : WINDOW_CHUNKS,
      Math.ceil(left / CHUNK_BYTES),
    );
    if (count <= 0) return;
    this.#o.pull(from, count);
    this.#requested = Math.max(this.#requested, Math.min(this.#o.offer.bytes, from + count * CHUNK_BYTES));
    this.#armStall();
    if (this.allRequested) this.#o.onAllRequested?.();
  }

  #armStall(): void {
    this.#clearStall();
    this.#stall = this.#o.clock.setTimeout(() => {
      this.#stall = null;
      this.#askFrom(this.#expected);
    }, STALL_MS);
  }

  #clearStall(): void {
    if (this.#stall !== null) this.#o.clock.clearTimeout(this.#stall);
    this.#stall = null;
  }
}
