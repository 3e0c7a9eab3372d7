/**
 * Unfinished transfers (`incoming/<device>/*.part`) that nobody touched for `maxAgeMs` are deleted: at start and
 * then periodically, on the Clock port. A camera that comes back later sends the segment again from the start (the
 * transfer notices its file is gone); a camera that never comes back leaves no disk behind.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isTransferFile } from '../../evidence/paths.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { Logger } from '../../lib/logger.ts';

export interface PartialExpiryOptions {
  /** The incoming directory (one subdirectory per camera). */
  dir: string;
  maxAgeMs: number;
  clock: Clock;
  logger: Logger;
  /** Files of transfers under way: never deleted, whatever their age. */
  inUse: () => ReadonlySet<string>;
}

/** At most this long between sweeps. */
const SWEEP_MS = 60 * 60 * 1000;

/** Should a partial file last modified at `mtimeMs` go, at wall time `nowMs`? */
export function expired(mtimeMs: number, nowMs: number, maxAgeMs: number): boolean {
  return nowMs - mtimeMs > maxAgeMs;
}

export class PartialExpiry {
  readonly #o: PartialExpiryOptions;
  #timer: TimerHandle | null = null;
  #sweeping: Promise<string[]> | null = null;

  constructor(options: PartialExpiryOptions) {
    this.#o = options;
  }

  /** Sweeps now, then every hour (or every quarter of the maximum age, if that is shorter). */
  async start(): Promise<void> {
    await this.sweep();
    this.#timer = this.#o.clock.setInterval(() => void this.sweep(), Math.min(SWEEP_MS, this.#o.maxAgeMs / 4));
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
    await this.#sweeping;
  }

  /** Deletes the expired partial files; returns their paths. */
  sweep(): Promise<string[]> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<string[]> {
    const removed: string[] = [];
    const now = this.#o.clock.wallNow();
    const inUse = this.#o.inUse();
    const devices = await readdir(this.#o.dir, { withFileTypes: true }).catch(() => []);
    for (const d of devices.filter((e) => e.isDirectory())) {
      const dir = path.join(this.#o.dir, d.name);
      for (const name of await readdir(dir).catch(() => [])) {
        const file = path.join(dir, name);
        if (!isTransferFile(name) || inUse.has(file)) continue;
        const st = await stat(file).catch(() => null);
        if (st === null || !st.isFile() || !expired(st.mtimeMs, now, this.#o.maxAgeMs)) continue;
        try {
          await unlink(file);
          removed.push(file);
        } catch (e) {
          this.#o.logger.warn({ file, err: (e as Error).message }, 'an expired partial transfer could not be deleted');
        }
      }
    }
    if (removed.length > 0) {
      this.#o.logger.info(
        { files: removed.length, maxAgeHours: this.#o.maxAgeMs / 3_600_000 },
        'expired partial transfers deleted',
      );
    }
    return removed;
  }
}
