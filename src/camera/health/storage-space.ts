import { statfs } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { CameraBus, CameraEvents, StorageLevel } from '../events.ts';

/** A segment-sized margin: below it the next write is likely to fail, so storage shows as full already. */
export const FULL_BELOW_BYTES = 32 * 1024 * 1024;

/** The storage level for the free bytes: full below a segment's margin, low below the configured threshold. */
export function storageLevel(freeBytes: number, lowBytes: number): StorageLevel {
  if (freeBytes < FULL_BELOW_BYTES) return 'full';
  if (freeBytes < lowBytes) return 'low';
  return 'ok';
}

export interface StorageSpaceOptions {
  bus: CameraBus;
  dir: string;
  lowBytes: number;
  clock: Clock;
  everyMs?: number;
  /** How free space is read (statfs of `dir`); a stand-in in tests. */
  freeBytes?: (dir: string) => Promise<number>;
}

/**
 * Watches the free space of the evidence storage and publishes `health.storage` when its level changes, so the
 * officer sees low or full storage before a write fails; after a failed write it looks again at once.
 */
export class StorageSpace {
  readonly #o: StorageSpaceOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #timer: TimerHandle | null = null;
  #level: StorageLevel | null = null;

  constructor(options: StorageSpaceOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    await this.check();
    this.#timer = this.#o.clock.setInterval(() => void this.check(), this.#o.everyMs ?? 10_000);
    this.#subs.on('storage.fault', () => void this.check());
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  async check(): Promise<void> {
    let free: number;
    try {
      free = await (this.#o.freeBytes ?? statfsFree)(this.#o.dir);
    } catch {
      return; // unreadable: the write failures themselves will say so
    }
    const level = storageLevel(free, this.#o.lowBytes);
    if (level === this.#level) return;
    this.#level = level;
    this.#o.bus.emit('health.storage', { level, freeBytes: free });
  }
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
