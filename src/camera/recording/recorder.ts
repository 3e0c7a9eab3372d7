import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, isBodycamError, isSubsystemError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { InitSegment, MediaFragment } from '../media/types.ts';
import { fsyncDir } from '../../lib/fs.ts';
import type { IndexDb } from '../storage/index-db.ts';
import { type RecorderState, shouldRotate, transition } from './state.ts';

/** What the recorder needs of a sealed segment file (crash-safe age writer). */
export interface SegmentFile {
  write(plain: Buffer): Promise<void>;
  /** Everything written so far becomes durable and recoverable; `meta` is handed back by recovery. */
  sync(meta?: Buffer): Promise<void>;
  close(): Promise<{ path: string; bytes: number; sha256: string }>;
  /** Ciphertext bytes on disk so far. */
  readonly bytesWritten: number;
}

export type OpenSegmentFile = (finalPath: string) => Promise<SegmentFile>;

export interface Activation {
  trigger: string;
  /** Capture-timeline position of the press, ms. */
  activationMs: number;
  requestedPrerollMs: number;
  /** Pre-roll fragments in stream order, starting with a video keyframe. */
  preroll: MediaFragment[];
}

export interface RecorderOptions {
  index: IndexDb;
  storageDir: string;
  deviceId: string;
  segmentMs: number;
  stopTimeoutMs: number;
  openSegmentFile: OpenSegmentFile;
  logger: Logger;
  now?: () => Date;
  onStateChange?: (state: RecorderState) => void;
  /** A write or sync failed (disk full, I/O error): the officer must be told. */
  onWriteFailure?: (code: string) => void;
}

interface OpenIncident {
  id: string;
  trigger: string;
  activationMs: number;
  seqNext: number;
}

interface OpenSegment {
  rowId: number;
  seq: number;
  file: SegmentFile;
  init: InitSegment;
  firstMs: number;
  endMs: number;
  frames: number;
  fragments: number;
}

export interface RecorderStatus {
  state: RecorderState;
  incident: { id: string; trigger: string; segments: number; activationMs: number } | null;
  writeFailures: number;
}

/**
 * Buffering ⇄ recording. Fragments reach `onFragment` synchronously in stream order, and activation happens
 * between two of them, so the pre-roll (taken from the ring at activation) and the live fragments (every one
 * pushed after it) meet without a gap or an overlap. File work runs on one promise chain in that same order.
 */
export class Recorder {
  readonly #o: RecorderOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  #state: RecorderState = 'buffering';
  #init: InitSegment | null = null;
  #incident: OpenIncident | null = null;
  #segment: OpenSegment | null = null;
  #stopAtMs: number | null = null;
  #stopReason = '';
  #stopTimer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #writeFailures = 0;
  #lastFailureCode = '';
  #failureRun = 0;
  #closed: Array<() => void> = [];

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#now = options.now ?? (() => new Date());
  }

  get state(): RecorderState {
    return this.#state;
  }

  status(): RecorderStatus {
    const inc = this.#incident;
    return {
      state: this.#state,
      incident:
        inc === null
          ? null
          : { id: inc.id, trigger: inc.trigger, segments: inc.seqNext, activationMs: inc.activationMs },
      writeFailures: this.#writeFailures,
    };
  }

  /** The capture's init segment; a changed one (capture restarted with other parameters) starts a new segment. */
  setInit(init: InitSegment): void {
    this.#init = init;
  }

  /** Start an incident. Returns its id, or null when already recording or when the index cannot take it. */
  activate(a: Activation): string | null {
    const t = transition(this.#state, { type: 'activate' });
    if (t.action !== 'openIncident') {
      this.#setState(t.next);
      if (this.#stopTimer !== null) this.#cancelStop();
      return null;
    }
    const first = a.preroll.find((f) => f.kind === 'video');
    const firstMs = first?.startMs ?? a.activationMs;
    const id = incidentId(this.#o.deviceId, this.#now());
    const prerollActualMs = Math.max(0, Math.round(a.activationMs - firstMs));
    try {
      this.#o.index.insertIncident(
        {
          id,
          trigger: a.trigger,
          activatedAt: this.#now().toISOString(),
          activationMediaMs: a.activationMs,
          prerollRequestedMs: a.requestedPrerollMs,
          prerollActualMs,
          firstMediaMs: firstMs,
        },
        { trigger: a.trigger, prerollActualMs },
      );
    } catch (e) {
      // Storage full or broken: stay buffering (the ring keeps the pre-roll) and tell the officer.
      if (!isSubsystemError(e, 'STORAGE')) throw e;
      this.#onWriteError(e);
      return null;
    }
    this.#incident = { id, trigger: a.trigger, activationMs: a.activationMs, seqNext: 0 };
    this.#setState(t.next);
    this.#log.info(
      { incident: id, trigger: a.trigger, prerollActualMs, fragments: a.preroll.length },
      'recording started',
    );
    const incident = this.#incident;
    const init = this.#init;
    for (const f of a.preroll) this.#enqueue(() => this.#write(incident, init, f));
    return id;
  }

  /** Ask to stop once the footage up to `atMs` (capture timeline) is written. */
  requestStop(reason: string, atMs: number): boolean {
    const t = transition(this.#state, { type: 'stop' });
    if (t.action !== 'armStop') return false;
    this.#setState(t.next);
    this.#stopAtMs = atMs;
    this.#stopReason = reason;
    this.#stopTimer = setTimeout(() => this.#onStopTimeout(), this.#o.stopTimeoutMs);
    this.#log.info({ reason, atMs }, 'stop requested');
    return true;
  }

  /** Every fragment from the capture, in stream order. */
  onFragment(f: MediaFragment): void {
    if (this.#state === 'buffering') return;
    if (f.kind === 'video') {
      const t = transition(this.#state, { type: 'videoFragment', startMs: f.startMs, stopAtMs: this.#stopAtMs });
      if (t.action === 'closeIncident') {
        this.#closeIncident(this.#stopReason);
        this.#setState(t.next);
        return;
      }
    }
    // The incident is bound now: a stop may clear it before the chain reaches this write.
    const incident = this.#incident;
    const init = this.#init;
    if (incident !== null) this.#enqueue(() => this.#write(incident, init, f));
  }

  /** Resolves when every queued write and close has finished. */
  async drain(): Promise<void> {
    await this.#chain;
  }

  /** SIGTERM: stop at the current media position, wait for it (bounded), close the segment cleanly. */
  async shutdown(atMs: number): Promise<void> {
    if (this.#state === 'recording') this.requestStop('shutdown', atMs);
    if (this.#state === 'stopping') {
      await new Promise<void>((resolve) => this.#closed.push(resolve));
    }
    await this.drain();
  }

  #onStopTimeout(): void {
    this.#stopTimer = null;
    const t = transition(this.#state, { type: 'stopTimeout' });
    if (t.action === 'closeIncident') {
      this.#log.warn(
        { stopAtMs: this.#stopAtMs },
        'no fragment past the stop point in time; closing with what arrived',
      );
      this.#closeIncident(this.#stopReason);
      this.#setState(t.next);
    }
  }

  #cancelStop(): void {
    if (this.#stopTimer !== null) clearTimeout(this.#stopTimer);
    this.#stopTimer = null;
    this.#stopAtMs = null;
  }

  #closeIncident(reason: string): void {
    const inc = this.#incident;
    const stopAtMs = this.#stopAtMs;
    this.#cancelStop();
    this.#incident = null;
    if (inc === null) return;
    this.#enqueue(async () => {
      await this.#closeSegment();
      this.#o.index.closeIncident(inc.id, 'closed', stopAtMs, reason);
      this.#o.index.addEvent('stop', { reason, stopAtMs }, inc.id);
      this.#log.info({ incident: inc.id, reason }, 'recording stopped');
    });
    this.#enqueue(async () => {
      for (const resolve of this.#closed.splice(0)) resolve();
    });
  }

  #enqueue(op: () => Promise<void>): void {
    this.#pending += 1;
    this.#chain = this.#chain.then(async () => {
      try {
        await op();
      } catch (e) {
        this.#onWriteError(e);
      } finally {
        this.#pending -= 1;
      }
      // Sync once the queue drains: a flushed pre-roll costs one fsync; live footage at risk is the GOP in flight.
      if (this.#pending === 0 && this.#segment !== null) {
        try {
          await this.#syncSegment(this.#segment);
        } catch (e) {
          this.#onWriteError(e);
        }
      }
    });
  }

  /**
   * A failed write is reported, never thrown: the chain goes on and the next fragment tries again (the sealed file
   * keeps unwritten ciphertext in memory). While storage stays full, every failure would say the same thing, so the
   * first of a run of identical failures is logged in full and then one in every 30.
   */
  #onWriteError(e: unknown): void {
    this.#writeFailures += 1;
    const code = isBodycamError(e) ? e.code : (errnoCode(e) ?? 'unknown');
    this.#failureRun = code === this.#lastFailureCode ? this.#failureRun + 1 : 1;
    this.#lastFailureCode = code;
    if (this.#failureRun % 30 === 1) {
      this.#log.error(
        { code, message: (e as Error).message, repeated: this.#failureRun - 1 },
        'writing footage failed; the segment keeps what was synced',
      );
      try {
        this.#o.index.addEvent('write_failed', { code, message: (e as Error).message }, this.#incident?.id ?? null);
      } catch (indexError) {
        // The index lives on the same storage: when it is full too, the log line above is the record.
        if (!isSubsystemError(indexError, 'STORAGE')) throw indexError;
      }
    }
    this.#o.onWriteFailure?.(code);
  }

  /** `init` is the capture's init segment when `f` arrived; a different one (new capture parameters) rotates. */
  async #write(inc: OpenIncident, init: InitSegment | null, f: MediaFragment): Promise<void> {
    if (init === null) throw new Error('a fragment arrived before any init segment');
    let seg = this.#segment;
    const initChanged = seg !== null && !seg.init.bytes.equals(init.bytes) && f.kind === 'video' && f.keyframe;
    if (
      seg === null ||
      initChanged ||
      (f.kind === 'video' && shouldRotate(seg.firstMs, f.startMs, f.keyframe, this.#o.segmentMs))
    ) {
      if (f.kind !== 'video' || !f.keyframe) {
        // A segment must open on a video keyframe to play alone; audio before it belongs to the pre-roll cut.
        if (seg === null) return;
      } else {
        await this.#closeSegment();
        seg = await this.#openSegment(inc, init, f.startMs);
      }
    }
    if (seg === null) return;
    await seg.file.write(f.bytes);
    seg.fragments += 1;
    if (f.kind === 'video') {
      seg.frames += f.sampleCount;
      seg.endMs = Math.max(seg.endMs, f.endMs);
    }
  }

  async #openSegment(inc: OpenIncident, init: InitSegment, firstMs: number): Promise<OpenSegment> {
    const seq = inc.seqNext;
    inc.seqNext += 1;
    const dir = path.join(this.#o.storageDir, 'footage', inc.id);
    await mkdir(dir, { recursive: true });
    await fsyncDir(path.dirname(dir));
    const file = path.join(dir, `${String(seq).padStart(4, '0')}.mp4.age`);
    const rowId = this.#o.index.insertSegment(inc.id, seq, file, firstMs);
    const handle = await this.#o.openSegmentFile(file);
    await handle.write(init.bytes);
    const seg: OpenSegment = { rowId, seq, file: handle, init, firstMs, endMs: firstMs, frames: 0, fragments: 0 };
    this.#segment = seg;
    return seg;
  }

  async #syncSegment(seg: OpenSegment): Promise<void> {
    const progress = { endMediaMs: seg.endMs, frames: seg.frames, fragments: seg.fragments };
    // The progress rides in the recovery tail, so after a power cut the index matches the disk exactly.
    await seg.file.sync(Buffer.from(JSON.stringify(progress)));
    this.#o.index.updateSegmentProgress(seg.rowId, { ...progress, bytes: seg.file.bytesWritten });
  }

  async #closeSegment(): Promise<void> {
    const seg = this.#segment;
    if (seg === null) return;
    this.#segment = null;
    const closed = await seg.file.close();
    this.#o.index.finishSegment(
      seg.rowId,
      'closed',
      { endMediaMs: seg.endMs, frames: seg.frames, fragments: seg.fragments, bytes: closed.bytes },
      closed.sha256,
    );
  }

  #setState(next: RecorderState): void {
    if (next === this.#state) return;
    this.#state = next;
    this.#o.onStateChange?.(next);
  }
}

/** `DEVICE-YYYYMMDDTHHMMSSZ-xxxx`: sortable by time, unique per device, safe as a directory name. */
export function incidentId(deviceId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const rand = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${deviceId}-${stamp}-${rand}`;
}
