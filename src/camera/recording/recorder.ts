import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { segmentPath } from '../../evidence/paths.ts';
import type { TimerHandle } from '../../hal/clock/port.ts';
import { isSubsystemError } from '../../lib/errors.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import { fsyncDir } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraEvents, RecorderState } from '../events.ts';
import { type InitSegment, type MediaFragment, sameInit } from '../media/types.ts';
import { incidentId } from './incident-id.ts';
import { fitPreroll } from './space.ts';
import { shouldRotate, transition } from './state.ts';
import type { Activation, OpenIncident, OpenSegment, RecorderOptions, RecorderStatus } from './types.ts';
import { WriteFaults } from './write-faults.ts';

export type { Activation, OpenSegmentFile, RecorderOptions, RecorderStatus } from './types.ts';

/**
 * Buffering ⇄ recording. Fragments reach it synchronously in stream order (the `capture.fragment` event), and
 * activation happens between two of them, so the pre-roll (taken from the ring at activation) and the live
 * fragments (every one published after it) meet without a gap or an overlap. File work runs on one promise chain
 * in that same order; what happens is published on the bus (incident, segment, storage events).
 */
export class Recorder {
  readonly #o: RecorderOptions;
  readonly #log: Logger;
  readonly #subs: Subscriptions<CameraEvents>;
  #state: RecorderState = 'buffering';
  #init: InitSegment | null = null;
  #incident: OpenIncident | null = null;
  #segment: OpenSegment | null = null;
  #stopAtMs: number | null = null;
  #stopReason = '';
  #stopTimer: TimerHandle | null = null;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  /** Plaintext bytes the writer took since the last sync, still counted as queued against the reserve. */
  #taken = 0;
  readonly #faults: WriteFaults;
  #closed: Array<() => void> = [];

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#subs = new Subscriptions(options.bus);
    this.#faults = new WriteFaults({ bus: options.bus, segments: options.segments, logger: options.logger });
  }

  async start(): Promise<void> {
    this.#subs.on('capture.init', (init) => {
      this.#init = init;
    });
    this.#subs.on('capture.fragment', (f) => this.onFragment(f));
  }

  /** Unsubscribes and waits for queued writes; call `shutdown()` first to close an open incident cleanly. */
  async stop(): Promise<void> {
    this.#subs.clear();
    this.#cancelStop();
    await this.drain();
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
      writeFailures: this.#faults.total,
    };
  }

  /**
   * Start an incident. Returns its id, or null when already recording, when the index cannot take it, or when not
   * even one GOP of footage fits before the storage reserve (refused: `activation.refused`, nothing recorded).
   */
  activate(a: Activation): string | null {
    const space = this.#o.space;
    if (this.#state === 'buffering') space?.readFree();
    const t = transition(this.#state, { type: 'activate', canStore: space?.canRecord() ?? true });
    if (t.action === 'refuse') {
      this.#refuse(a.trigger);
      return null;
    }
    if (t.action !== 'openIncident') {
      this.#setState(t.next);
      if (this.#stopTimer !== null) this.#cancelStop();
      return null;
    }
    // On a nearly full card the pre-roll gives up its oldest GOPs, so the footage after the press still fits.
    const preroll = space === undefined ? a.preroll : fitPreroll(a.preroll, Math.max(0, space.headroom()) / 2);
    const first = preroll.find((f) => f.kind === 'video');
    const firstMs = first?.startMs ?? a.activationMs;
    const wall = new Date(this.#o.clock.wallNow());
    const id = incidentId(this.#o.deviceId, wall);
    const prerollActualMs = Math.max(0, Math.round(a.activationMs - firstMs));
    try {
      this.#o.incidents.open(
        {
          id,
          trigger: a.trigger,
          activatedAt: wall.toISOString(),
          activationMediaMs: a.activationMs,
          prerollRequestedMs: a.requestedPrerollMs,
          prerollActualMs,
          firstMediaMs: firstMs,
          warning: a.warning.speak ? { state: 'pending' } : { state: 'suppressed', reason: a.warning.reason },
        },
        {
          trigger: a.trigger,
          prerollActualMs,
          warning: a.warning.speak ? 'to be spoken' : `suppressed: ${a.warning.reason}`,
        },
      );
    } catch (e) {
      // Storage full or broken: stay buffering (the ring keeps the pre-roll) and tell the officer.
      if (!isSubsystemError(e, 'STORAGE')) throw e;
      this.#faults.report(e, this.#incident?.id ?? null);
      return null;
    }
    const incident: OpenIncident = { id, trigger: a.trigger, activationMs: a.activationMs, seqNext: 0 };
    this.#incident = incident;
    this.#setState(t.next);
    this.#log.info(
      { incident: id, trigger: a.trigger, prerollActualMs, fragments: a.preroll.length },
      'recording started',
    );
    this.#o.bus.emit('incident.started', {
      id,
      trigger: a.trigger,
      activationMs: a.activationMs,
      prerollRequestedMs: a.requestedPrerollMs,
      prerollActualMs,
      atMono: this.#o.clock.now(),
      warning: a.warning,
    });
    const init = this.#init;
    for (const f of preroll) this.#enqueueWrite(incident, init, f);
    return id;
  }

  #refuse(trigger: string): void {
    const { freeBytes, reserveBytes } = this.#o.space?.view() ?? { freeBytes: 0, reserveBytes: 0 };
    this.#log.warn({ trigger, freeBytes, reserveBytes }, 'activation refused: storage is full up to its reserve');
    this.#o.bus.emit('activation.refused', { trigger, reason: 'storage-full', freeBytes, reserveBytes });
  }

  /** Ask to stop once the footage up to `atMs` (capture timeline) is written. */
  requestStop(reason: string, atMs: number): boolean {
    const t = transition(this.#state, { type: 'stop' });
    if (t.action !== 'armStop') return false;
    this.#setState(t.next);
    this.#stopAtMs = atMs;
    this.#stopReason = reason;
    this.#stopTimer = this.#o.clock.setTimeout(() => this.#onStopTimeout(), this.#o.stopTimeoutMs);
    this.#log.info({ reason, atMs }, 'stop requested');
    return true;
  }

  /** Every fragment from the capture, in stream order. */
  onFragment(f: MediaFragment): void {
    if (this.#state === 'buffering') return;
    if (f.kind === 'video') {
      const fits = this.#o.space?.fits(f.bytes.length) ?? true;
      const t = transition(this.#state, { type: 'videoFragment', startMs: f.startMs, stopAtMs: this.#stopAtMs, fits });
      if (t.action === 'closeStorageFull') {
        // The footage ends where this fragment would have started; closing it uses the reserve.
        this.#cancelStop();
        this.#stopAtMs = f.startMs;
        this.#log.warn({ atMs: f.startMs }, 'storage is full up to its reserve: recording stops');
      }
      if (t.action === 'closeIncident' || t.action === 'closeStorageFull') {
        this.#closeIncident(t.action === 'closeStorageFull' ? 'storage-full' : this.#stopReason);
        this.#setState(t.next);
        return;
      }
    }
    // The incident is bound now: a stop may clear it before the chain reaches this write.
    const incident = this.#incident;
    const init = this.#init;
    if (incident !== null) this.#enqueueWrite(incident, init, f);
  }

  /**
   * Queues a fragment's write, counted against the storage reserve from now on, and as queued until the next sync: the
   * writer may hold its ciphertext for a while, and a reading of free space meanwhile would not see it.
   */
  #enqueueWrite(incident: OpenIncident, init: InitSegment | null, f: MediaFragment): void {
    const bytes = f.bytes.length;
    this.#o.space?.queued(bytes);
    this.#o.arena?.retain(f.bytes);
    this.#enqueue(async () => {
      try {
        await this.#write(incident, init, f);
      } finally {
        this.#o.arena?.release(f.bytes);
        this.#taken += bytes;
      }
    });
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
    if (this.#stopTimer !== null) this.#o.clock.clearTimeout(this.#stopTimer);
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
      this.#o.incidents.close(inc.id, 'closed', stopAtMs, reason);
      this.#log.info({ incident: inc.id, reason }, 'recording stopped');
      this.#o.bus.emit('incident.closed', { id: inc.id, reason, stopAtMs });
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
        await this.#onWriteError(e);
      } finally {
        this.#pending -= 1;
      }
      // Sync once the queue drains: a flushed pre-roll costs one fsync; live footage at risk is the GOP in flight.
      if (this.#pending === 0) {
        let synced = true;
        if (this.#segment !== null) {
          try {
            await this.#syncSegment(this.#segment);
          } catch (e) {
            synced = false;
            await this.#onWriteError(e);
          }
        }
        // What the writer took is on disk now (synced, or sealed), so in the next reading of free space; after a failed
        // sync it may still wait in the writer, and stays counted.
        if (synced) {
          this.#o.space?.wrote(this.#taken);
          this.#taken = 0;
        }
        this.#o.space?.readFree();
      }
    });
  }

  /**
   * A failed write is reported, never thrown: the chain goes on and the next fragment tries again. A segment whose
   * writer broke is given up (finished to its last good sync) and footage goes on in a new one.
   */
  async #onWriteError(e: unknown): Promise<void> {
    this.#faults.report(e, this.#incident?.id ?? null);
    const seg = this.#segment;
    if (seg === null || !seg.file.broken) return;
    this.#segment = null;
    await this.#faults.abandon(seg);
  }

  /** `init` is the capture's init segment when `f` arrived; a different one (new capture parameters) rotates. */
  async #write(inc: OpenIncident, init: InitSegment | null, f: MediaFragment): Promise<void> {
    if (init === null) throw new Error('a fragment arrived before any init segment');
    let seg = this.#segment;
    const keyframe = f.kind === 'video' && f.keyframe;
    const initChanged = seg !== null && !sameInit(seg.init, init) && keyframe;
    if (seg === null || initChanged || (keyframe && shouldRotate(seg.firstMs, f.startMs, true, this.#o.segmentMs))) {
      // A segment must open on a video keyframe to play alone; audio before it belongs to the pre-roll cut.
      if (keyframe) {
        await this.#closeSegment();
        seg = await this.#openSegment(inc, init, f.startMs);
      }
    }
    if (seg === null) return;
    // Counted first: write() takes the fragment even when it rejects (kept, appended by a later operation; the
    // rejection may be an earlier fragment's failed append), and the progress note must match the file.
    seg.fragments += 1;
    if (f.kind === 'video') {
      seg.frames += f.sampleCount;
      seg.endMs = Math.max(seg.endMs, f.endMs);
    }
    await seg.file.write(f.bytes);
  }

  async #openSegment(inc: OpenIncident, init: InitSegment, firstMs: number): Promise<OpenSegment> {
    const seq = inc.seqNext;
    inc.seqNext += 1;
    const relative = segmentPath(inc.id, seq);
    const file = path.join(this.#o.storageDir, relative);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    await fsyncDir(path.dirname(dir));
    const rowId = this.#o.segments.insert(inc.id, seq, relative, firstMs);
    const handle = await this.#o.openSegmentFile(file).catch(async (e: unknown) => {
      if (await this.#faults.discardUnopened(rowId, file)) inc.seqNext = seq;
      throw e;
    });
    await handle.write(init.bytes);
    const seg: OpenSegment = {
      rowId,
      incidentId: inc.id,
      seq,
      path: file,
      file: handle,
      init,
      firstMs,
      endMs: firstMs,
      frames: 0,
      fragments: 0,
    };
    this.#segment = seg;
    this.#o.bus.emit('segment.opened', { incidentId: inc.id, seq, path: file, firstMs });
    return seg;
  }

  async #syncSegment(seg: OpenSegment): Promise<void> {
    const progress = { endMediaMs: seg.endMs, frames: seg.frames, fragments: seg.fragments };
    // The progress rides in the recovery tail, so after a power cut the index matches the disk exactly.
    await seg.file.sync(progress);
    const bytes = seg.file.bytesWritten;
    this.#o.segments.progress(seg.rowId, { ...progress, bytes });
    this.#o.bus.emit('segment.synced', { incidentId: seg.incidentId, seq: seg.seq, endMs: seg.endMs, bytes });
  }

  async #closeSegment(): Promise<void> {
    const seg = this.#segment;
    if (seg === null) return;
    this.#segment = null;
    const closed = await seg.file.close().catch((e: unknown) => {
      // A failed background append may first be heard of here, thrown without a retry: report it, then close once
      // more (that close appends it again). A failed fsync is final, and so is a second failure (the incident must
      // close now, not at the next start): the segment is given up, kept to its last sync.
      this.#faults.report(e, seg.incidentId);
      if (seg.file.broken) return null;
      return seg.file.close().catch((again: unknown) => {
        this.#faults.report(again, seg.incidentId);
        return null;
      });
    });
    if (closed === null) return this.#faults.abandon(seg);
    const progress = { endMediaMs: seg.endMs, frames: seg.frames, fragments: seg.fragments, bytes: closed.bytes };
    this.#o.segments.finish(seg.rowId, 'closed', progress, closed.sha256);
    const { incidentId, seq, firstMs, endMs, frames } = seg;
    const { bytes, sha256 } = closed;
    this.#o.bus.emit('segment.sealed', { incidentId, seq, path: seg.path, bytes, sha256, firstMs, endMs, frames });
  }

  #setState(next: RecorderState): void {
    const previous = this.#state;
    if (next === previous) return;
    this.#state = next;
    this.#o.bus.emit('recorder.state', { state: next, previous });
  }
}
