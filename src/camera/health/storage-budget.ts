import { statfsSync } from 'node:fs';
import type { StorageLevel } from '../events.ts';
import { type RecordingRate, storageOutlook, storageReserve } from './reserve.ts';

/** Free bytes for an unprivileged writer, and the block size small files are rounded to. */
export interface SpaceReading {
  freeBytes: number;
  blockSize: number;
}

/** What the card holds, for the reserve (docs/design.md §18). */
export interface CardContents {
  segmentsOnCard: number;
  incidentsOnCard: number;
  walBytesNow: number;
}

export interface StorageView {
  level: StorageLevel;
  freeBytes: number;
  reserveBytes: number;
  /** Bytes footage may still take before it reaches the reserve. */
  headroomBytes: number;
  /** Minutes of recording left beyond the reserve at the configured bitrate, in tenths, rounded down. */
  minutesLeft: number;
}

export interface StorageBudgetOptions {
  dir: string;
  rate: RecordingRate;
  segmentSeconds: number;
  lowMinutes: number;
  contents: () => CardContents;
  /** How free space is read (statfs of `dir`); a stand-in in tests. */
  probe?: (dir: string) => SpaceReading;
}

/**
 * The footage's share of the card, between statfs readings: free space as last read, less what the recorder has
 * written or queued since, less the reserve. Readings are synchronous (statfs is one system call), so the recorder
 * can decide at each fragment; it refreshes after each sync, the storage monitor every few seconds. Bytes counted
 * twice (written and already in a reading) only err on the safe side until the next reading.
 */
export class StorageBudget {
  readonly #o: StorageBudgetOptions;
  #free = 0;
  #blockSize = 4096;
  #reserve = 0;
  #written = 0;
  #queued = 0;
  #readable = false;

  constructor(options: StorageBudgetOptions) {
    this.#o = options;
  }

  /** Reads free space and what the card holds (the reserve); false (the last reading kept) when statfs fails. */
  refresh(): boolean {
    if (!this.readFree()) return false;
    try {
      this.#reserve = storageReserve({ blockSize: this.#blockSize, ...this.#o.contents() }).bytes;
    } catch {
      // The index cannot be read: keep the last reserve (or the floor); the write failures will say the rest.
      this.#reserve = Math.max(this.#reserve, storageReserve({ blockSize: this.#blockSize, ...EMPTY }).bytes);
    }
    return true;
  }

  /**
   * Reads free space only (one statfs), keeping the reserve of the last `refresh()`: the recorder's reading at each
   * activation and sync, so the activation path runs no query. The storage monitor refreshes the reserve every few
   * seconds; it grows by a few KiB per segment, well inside its margin.
   */
  readFree(): boolean {
    let reading: SpaceReading;
    try {
      reading = (this.#o.probe ?? statfsReading)(this.#o.dir);
    } catch {
      return false;
    }
    this.#free = reading.freeBytes;
    this.#blockSize = reading.blockSize;
    this.#written = 0;
    if (!this.#readable) this.#reserve = storageReserve({ blockSize: this.#blockSize, ...EMPTY }).bytes;
    this.#readable = true;
    return true;
  }

  /** Bytes footage may still take before it reaches the reserve; negative once it has. */
  headroom(): number {
    return this.#free - this.#written - this.#queued - this.#reserve;
  }

  /** Whether a video fragment of `bytes` and the GOP of audio beside it fit before the reserve. */
  fits(bytes: number): boolean {
    return bytes + this.#o.rate.audioBytesPerGop <= this.headroom();
  }

  /**
   * Whether an activation can store footage: a segment's opening and one GOP at the configured rate fit before the
   * reserve. An unreadable filesystem never refuses: the writes will tell.
   */
  canRecord(): boolean {
    if (!this.#readable) return true;
    const gop = this.#o.rate.bytesPerSecond * this.#o.rate.gopSeconds;
    return this.headroom() >= gop + OPENING_BYTES;
  }

  /** Footage handed to the writer, not yet on disk. */
  queued(bytes: number): void {
    this.#queued += bytes;
  }

  /** Queued footage now on disk (the recorder says so after each sync); counted until the next reading has it. */
  wrote(bytes: number): void {
    this.#queued -= bytes;
    this.#written += bytes;
  }

  view(): StorageView {
    const { level, headroomBytes, minutesLeft } = storageOutlook({
      freeBytes: this.#free - this.#written - this.#queued,
      reserveBytes: this.#reserve,
      bytesPerSecond: this.#o.rate.bytesPerSecond,
      segmentSeconds: this.#o.segmentSeconds,
      lowMinutes: this.#o.lowMinutes,
    });
    // Tenths of a minute, rounded down: never more time than there is.
    const minutes = Math.floor(minutesLeft * 10) / 10;
    return { level, freeBytes: this.#free, reserveBytes: this.#reserve, headroomBytes, minutesLeft: minutes };
  }
}

const EMPTY: CardContents = { segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 };
/** A segment's init segment and age header, with room to spare. */
const OPENING_BYTES = 16 * 1024;

function statfsReading(dir: string): SpaceReading {
  const s = statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, blockSize: s.bsize };
}
