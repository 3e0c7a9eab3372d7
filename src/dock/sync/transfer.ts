/**
 * One segment coming in: chunks written at their offsets into an incoming file, a window of chunks asked for at a
 * time, the durable length (after fdatasync) recorded in SQLite at the end of every window, and the window asked for
 * again from there when chunks stop coming (a lost message, a broker restart).
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { CHUNK_BYTES, type ChunkHeader, type SegmentOffer, WINDOW_CHUNKS } from '../../protocol/messages.ts';
import type { Progress, TransferRow } from './progress.ts';
import type { checkReceived } from './verify-offer.ts';

const STALL_MS = 10_000;

export interface TransferItem {
  offer: SegmentOffer;
  hash: string;
  env: Parameters<typeof checkReceived>[0];
}

export interface TransferOptions {
  file: string;
  offer: SegmentOffer;
  row: TransferRow;
  progress: Progress;
  pull: (offset: number, count: number) => void;
  item: TransferItem;
  onProgress?: (line: string) => void;
}

export class Transfer {
  readonly file: string;
  readonly item: TransferItem;
  readonly #o: TransferOptions;
  readonly #fh: FileHandle;
  #expected: number;
  #durable: number;
  #total: number;
  #windowEnd = 0;
  #stall: NodeJS.Timeout | null = null;
  #startedAt = Date.now();

  private constructor(o: TransferOptions, fh: FileHandle) {
    this.#o = o;
    this.file = o.file;
    this.item = o.item;
    this.#fh = fh;
    this.#expected = o.row.received;
    this.#durable = o.row.received;
    this.#total = o.row.receivedTotal;
  }

  /** Opens (or resumes) the incoming file at the durable length and asks for the first window. */
  static async open(o: TransferOptions): Promise<Transfer> {
    const fh = await open(o.file, 'a+').then(async (h) => {
      await h.close();
      return open(o.file, 'r+');
    });
    await fh.truncate(o.row.received);
    const t = new Transfer(o, fh);
    if (!t.complete) t.#ask();
    return t;
  }

  get complete(): boolean {
    return this.#durable >= this.#o.offer.bytes;
  }

  /** Takes one chunk; 'complete' once the whole segment is durably here. */
  async chunk(h: ChunkHeader, bytes: Buffer): Promise<'more' | 'complete'> {
    const { offer } = this.#o;
    if (h.incident !== offer.incident || h.seq !== offer.seq) return 'more';
    if (createHash('sha256').update(bytes).digest('hex') !== h.sha256) return 'more'; // damaged: asked for again
    this.#total += bytes.length;
    if (h.offset !== this.#expected) return 'more'; // a repeat, or after a lost one: the stall re-asks
    await this.#fh.write(bytes, 0, bytes.length, h.offset);
    this.#expected += bytes.length;
    if (this.#expected < this.#windowEnd && this.#expected < offer.bytes) return 'more';
    await this.#fh.datasync();
    this.#durable = this.#expected;
    this.#o.progress.received(this.#o.row.device, offer.incident, offer.seq, this.#durable, this.#total);
    const seconds = (Date.now() - this.#startedAt) / 1000;
    this.#o.onProgress?.(
      `${offer.incident}/${offer.file} ${Math.floor((100 * this.#durable) / offer.bytes)}% of ${(offer.bytes / 1e6).toFixed(1)} MB, ${(this.#durable / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s`,
    );
    if (this.complete) {
      this.#clearStall();
      return 'complete';
    }
    this.#ask();
    return 'more';
  }

  async close(): Promise<void> {
    this.#clearStall();
    await this.#fh.close().catch(() => undefined);
  }

  #ask(): void {
    const left = this.#o.offer.bytes - this.#durable;
    const count = Math.min(WINDOW_CHUNKS, Math.ceil(left / CHUNK_BYTES));
    this.#expected = this.#durable;
    this.#windowEnd = Math.min(this.#o.offer.bytes, this.#durable + count * CHUNK_BYTES);
    this.#o.pull(this.#durable, count);
    this.#clearStall();
    this.#stall = setTimeout(() => this.#ask(), STALL_MS);
    this.#stall.unref();
  }

  #clearStall(): void {
    if (this.#stall !== null) clearTimeout(this.#stall);
    this.#stall = null;
  }
}
