/**
 * One camera's session at the dock, from its hello: its work runs one step at a time, in arrival order. It takes
 * the newest inventory (one arriving while another waits replaces it), assesses the offers against the camera's
 * budgets, pulls segments oldest first (two transfers at most, the next once the last has asked for everything),
 * checks each whole segment against its signed manifest and the camera's chain, stores it, and only then receipts
 * it; at the end, closing manifests and the audit log. Ended by the agent when the camera says hello again or is
 * withdrawn: its transfers then stop where they are.
 */
import type { KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { manifestFileText } from '../../evidence/manifest.ts';
import { transferFile } from '../../evidence/paths.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { sha256OfFile, unlinkIfPresent } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import { SerialQueue } from '../../lib/serial.ts';
import { checkAuditBatch, checkInventoryHead } from '../../protocol/checks.ts';
import type { ChunkHeader, Inventory, SegmentOffer } from '../../protocol/messages.ts';
import type { EnrolledKey } from '../enrolled.ts';
import { type DockLimits, MiB } from '../limits.ts';
import type { AuditIntake } from './audit-intake.ts';
import type { BudgetState } from './budget.ts';
import { claimOf } from './claims.ts';
import { takeClosings } from './closings.ts';
import type { Dockings } from './dockings.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Gate } from './gate.ts';
import { assessOffers, offerKey } from './offers.ts';
import type { Progress } from './progress.ts';
import { ReceiptMemory } from './receipt-memory.ts';
import type { Addressee, Replies } from './replies.ts';
import { Transfer, type TransferItem } from './transfer.ts';
import { checkReceived } from './verify-offer.ts';

/**
 * At least this long between the end of one inventory's handling and the start of the next, per camera: an
 * inventory costs a parse of up to MAX_JSON_BYTES and a signature check per offer, and a camera may send them as
 * fast as the broker forwards them. The newest that came meanwhile is the one handled.
 */
export const INVENTORY_INTERVAL_MS = 1000;

export interface SessionDeps {
  clock: Clock;
  audit: AuditIntake;
  progress: Progress;
  store: EvidenceStore;
  incomingDir: string;
  deviceKey: (device: string) => EnrolledKey | null;
  limits: DockLimits;
  logger: Logger;
  replies: Replies;
  gate: Gate;
  /** Docking records: what the dock holds of each camera, compared at each inventory, signed once it settles. */
  dockings: Dockings;
  /** Free bytes on the dock's disk now. */
  freeBytes: () => Promise<number>;
  /** What the other cameras' transfers (under way, and queued unless only under way is asked) will still write. */
  othersWillWrite: (self: CameraSession, underWayOnly: boolean) => number;
  /** Ends this session: the camera is no longer enrolled. */
  withdraw: (self: CameraSession) => void;
  onProgress?: (device: string, line: string) => void;
  checkpointBytes?: number;
}

export class CameraSession implements Addressee {
  readonly id: string;
  readonly device: string;
  readonly keyId: string;
  readonly #d: SessionDeps;
  #queue: TransferItem[] = [];
  #closings = new Map<string, unknown>();
  #auditHead = -1;
  /** Transfers under way, oldest first. */
  #active: Transfer[] = [];
  /** The session's steps, one at a time (after the previous session's). */
  readonly #steps = new SerialQueue();
  /** The newest inventory not yet taken up, as it came (parsed when taken up). */
  #inventory: Buffer | null = null;
  /** When (in this session's order of events) the waiting inventory came. */
  #inventoryCame = 0;
  /** Which re-offered segments are owed their receipt again. */
  readonly #receipts: ReceiptMemory;
  #inventoryKey: KeyObject | null = null;
  #inventoryTimer: TimerHandle | null = null;
  /** When the last inventory's handling ended (Clock port time). */
  #inventoryDone = Number.NEGATIVE_INFINITY;
  /** Audit pulls sent and not yet answered: an audit batch nobody asked for is not parsed. */
  #auditPulls = 0;
  #ended = false;

  /** `previous`: the session before, whose work this one follows and whose inventory interval it keeps. */
  constructor(hello: { id: string; device: string; keyId: string }, deps: SessionDeps, previous?: CameraSession) {
    ({ id: this.id, device: this.device, keyId: this.keyId } = hello);
    this.#d = deps;
    this.#receipts = new ReceiptMemory(() => deps.clock.now());
    const before = previous?.work;
    if (before !== undefined) void this.#steps.run(() => before);
    this.#inventoryDone = previous === undefined ? Number.NEGATIVE_INFINITY : previous.#inventoryDone;
  }

  /** Everything done so far (for the next session, and for stopping). */
  get work(): Promise<void> {
    return this.#steps.idle();
  }

  /** The incoming files of the transfers under way. */
  get files(): string[] {
    return this.#active.map((t) => t.file);
  }

  /** Bytes its transfers will still write: those under way, and (unless `underWayOnly`) those queued. */
  willWrite(underWayOnly = false): number {
    const active = this.#active.reduce((n, t) => n + t.item.offer.bytes - t.received, 0);
    return underWayOnly ? active : active + this.#queue.reduce((n, i) => n + i.offer.bytes, 0);
  }

  /** Runs `op` after the session's earlier work; `bytes` of the camera's messages are held until it has run. */
  serially(op: () => Promise<void>, bytes = 0): void {
    this.#d.gate.hold(this.device, bytes);
    void this.#steps.run(async () => {
      try {
        await op();
      } catch (e) {
        this.#d.logger.error({ err: e, device: this.device }, 'dock sync step failed');
      } finally {
        this.#d.gate.release(this.device, bytes);
      }
    });
  }

  /** Stops: nothing more pulled, stored or receipted (even from chunks taken before); transfers keep their length. */
  end(): void {
    this.#ended = true;
    this.#queue = [];
    this.#takeInventory();
    if (this.#inventoryTimer !== null) this.#d.clock.clearTimeout(this.#inventoryTimer);
    this.#inventoryTimer = null;
    this.serially(() => this.close());
  }

  async close(): Promise<void> {
    for (const t of this.#active.splice(0)) await t.close();
  }

  /** An inventory, taken up after the work before it and INVENTORY_INTERVAL_MS after the last (a newer replaces it). */
  offer(payload: Buffer, key: KeyObject): void {
    if (this.#ended) return;
    const waiting = this.#takeInventory() !== null; // then a step to take it up is already on its way
    this.#inventory = payload;
    this.#inventoryCame = this.#receipts.came();
    this.#inventoryKey = key;
    this.#d.gate.hold(this.device, payload.length);
    if (!waiting) this.#takeUpInventory();
  }

  #takeUpInventory(): void {
    this.serially(async () => {
      if (this.#inventory === null || this.#ended) return;
      const wait = this.#inventoryDone + INVENTORY_INTERVAL_MS - this.#d.clock.now();
      if (wait > 0) {
        this.#inventoryTimer = this.#d.clock.setTimeout(() => {
          this.#inventoryTimer = null;
          this.#takeUpInventory();
        }, wait);
        return;
      }
      const came = this.#inventoryCame;
      const newest = this.#takeInventory();
      const key = this.#inventoryKey;
      if (newest === null || key === null) return;
      const m = checkInventoryHead(newest, this.#d.limits.maxOffersPerInventory);
      if ('error' in m || m.ok.inventory.session !== this.id) {
        const reason = 'error' in m ? m.error : 'another session';
        this.#d.gate.warn(this.device, 'a camera message was refused', { topic: 'inventory', reason });
      } else {
        await this.#onInventory(m.ok.inventory, m.ok.notConsidered, key, came);
      }
      this.#inventoryDone = this.#d.clock.now();
    });
  }

  /** The inventory waiting to be taken up (its bytes no longer held), if any. */
  #takeInventory(): Buffer | null {
    const inv = this.#inventory;
    this.#inventory = null;
    if (inv !== null) this.#d.gate.release(this.device, inv.length);
    return inv;
  }

  /** An audit batch: parsed and taken only in answer to an audit pull. */
  audit(payload: Buffer, key: KeyObject): void {
    if (this.#auditPulls === 0) {
      this.#d.gate.warn(this.device, 'a camera message was refused', { topic: 'audit', reason: 'not asked for' });
      return;
    }
    this.#auditPulls -= 1;
    this.serially(async () => {
      const m = checkAuditBatch(payload);
      if ('error' in m || m.ok.session !== this.id) {
        const reason = 'error' in m ? m.error : 'another session';
        this.#d.gate.warn(this.device, 'a camera message was refused', { topic: 'audit', reason });
        return;
      }
      if (await this.#d.audit.take(this.device, key, m.ok)) this.#pullAudit();
      else await this.#settle();
    }, payload.length);
  }

  #pullAudit(): void {
    this.#auditPulls = Math.min(this.#auditPulls + 1, 2);
    const fromSeq = this.#d.progress.auditHead(this.device).seq + 1;
    this.#d.replies.send(this.device, 'audit-pull', { session: this.id, fromSeq });
  }

  /**
   * A chunk: taken only for a transfer under way, at the offset and of the length asked for. One that fits no
   * transfer yet is held in the byte budget until the work before it is done (its transfer may be starting).
   */
  chunk(h: ChunkHeader, payload: Buffer): void {
    const problem = this.#transfer(h)?.problem(h, payload.length);
    if (problem !== undefined) {
      this.#chunkRefused(h, problem);
      return;
    }
    this.#d.progress.claims.heard(this.device, this.id, this.#d.clock.wallNow());
    this.serially(async () => {
      // Taken before the session ended, run after: not written (the next session pulls from the durable length).
      if (this.#ended) return;
      const t = this.#transfer(h);
      const r = await t?.chunk(h, payload); // none: late or repeated, that transfer is over
      if (typeof r === 'object') this.#chunkRefused(h, r.refused);
      else if (r === 'complete' && t !== undefined) await this.#finish(t);
    }, payload.length);
  }

  #transfer(h: ChunkHeader): Transfer | undefined {
    return this.#active.find((a) => a.item.offer.incident === h.incident && a.item.offer.seq === h.seq);
  }

  #chunkRefused(h: ChunkHeader, reason: string): void {
    const where = { incident: h.incident, seq: h.seq, offset: h.offset, reason };
    this.#d.gate.warn(this.device, 'a chunk was refused', where);
  }

  /** `came`: when the inventory came, in this session's order of events. */
  async #onInventory(inv: Inventory, notConsidered: number, key: KeyObject, came: number): Promise<void> {
    const { logger } = this.#d;
    const device = this.device;
    const offers = inv.segments.length + notConsidered;
    logger.info({ device, offers, incidents: inv.incidents.length }, 'inventory received');
    this.#queue = [];
    this.#closings = new Map(inv.incidents.map((i) => [i.incident, i.manifest]));
    this.#auditHead = inv.auditHead;
    this.#d.dockings.compare(device, inv.heads);
    this.#d.progress.claims.record(device, claimOf(this.id, this.#d.clock.wallNow(), inv, notConsidered));
    const a = await assessOffers(inv.segments, {
      device,
      key,
      limits: this.#d.limits,
      progress: this.#d.progress,
      store: this.#d.store,
      budget: await this.#budget(),
      busy: new Set(this.#active.map((t) => offerKey(t.item.offer))),
    });
    if (this.#ended) return;
    // A stored segment offered again: its receipt again only when the camera can have missed it (receipt-memory.ts).
    for (const { offer, hash } of a.resend) {
      if (this.#receipts.again(offerKey(offer), came)) this.#receipt(offer, hash);
    }
    for (const { offer } of a.queue.filter((i) => i.again)) {
      const which = { device, incident: offer.incident, seq: offer.seq };
      logger.warn(which, 'the stored copy is missing or differs: pulling it again');
    }
    this.#queue = a.queue;
    this.#d.replies.refuseOffers(this, a.refused, a.notConsidered + notConsidered);
    const counts = { queued: a.queue.length, resent: a.resend.length, refused: a.refused.length };
    logger.info({ device, offers, ...counts, notConsidered: a.notConsidered + notConsidered }, 'inventory handled');
    if (this.#active.length === 0) await this.#pump();
  }

  /**
   * What this camera has here (stored, and the whole of every transfer under way: its received bytes are not stored
   * yet, and counting only what is still to come let an inventory arriving mid-transfer admit one segment over the
   * quota), and the disk's free space less what every transfer will still write.
   */
  async #budget(): Promise<BudgetState> {
    const own = this.willWrite(true);
    const underWay = this.#active.reduce((n, t) => n + t.item.offer.bytes, 0);
    return {
      cameraBytes: this.#d.progress.storedBytes(this.device) + underWay,
      freeBytes: (await this.#d.freeBytes()) - own - this.#d.othersWillWrite(this, false),
    };
  }

  /** Starts transfers while the last one has asked for everything (two at most); when all are done, the rest. */
  async #pump(): Promise<void> {
    while (this.#queue.length > 0 && this.#active.length < 2 && (this.#active.at(-1)?.allRequested ?? true)) {
      const item = this.#queue.shift();
      if (item === undefined || this.#ended) break;
      if (!(await this.#diskAllows(item))) {
        const message = `the dock's disk is down to its ${this.#d.limits.minFreeMiB} MiB floor`;
        const refused = [item, ...this.#queue.splice(0)].map((i) => ({
          offer: i.offer,
          code: 'dock-disk-full',
          message,
        }));
        this.#d.replies.refuseOffers(this, refused, 0);
        break;
      }
      const t = await this.#begin(item);
      this.#active.push(t);
      if (t.complete) await this.#finish(t);
    }
    if (this.#queue.length > 0 || this.#active.length > 0 || this.#ended) return;
    const key = this.#d.deviceKey(this.device);
    if (key === null || !(await takeClosings(this, key.key, this.#closings, this.#d))) {
      this.#d.withdraw(this);
      return;
    }
    if (this.#auditHead > this.#d.progress.auditHead(this.device).seq) this.#pullAudit();
    else await this.#settle();
  }

  /** Everything offered is handed over: a docking record of what the dock now holds, to the camera too. */
  async #settle(): Promise<void> {
    if (this.#queue.length > 0 || this.#active.length > 0 || this.#ended) return;
    if (this.#auditHead > this.#d.progress.auditHead(this.device).seq) return;
    const env = await this.#d.dockings.settle(this.device);
    if (env !== null) this.#d.replies.send(this.device, 'docking', env);
  }

  /** The disk may have filled since the inventory: checked again as each transfer starts. */
  async #diskAllows(item: TransferItem): Promise<boolean> {
    const free = (await this.#d.freeBytes()) - this.willWrite(true) - this.#d.othersWillWrite(this, true);
    return free - item.offer.bytes >= this.#d.limits.minFreeMiB * MiB;
  }

  async #begin(item: TransferItem): Promise<Transfer> {
    const { offer } = item;
    const { incident, seq, file, bytes, sha256 } = offer;
    const chain = { chainSeq: item.env.payload.chainSeq, manifestHash: item.hash };
    const row = this.#d.progress.begin(
      { device: this.device, incident, seq, file, bytes, sha256, ...chain },
      item.again,
    );
    const part = transferFile(this.#d.incomingDir, this.device, incident, file);
    await mkdir(path.dirname(part), { recursive: true });
    const { onProgress, checkpointBytes } = this.#d;
    return Transfer.open({
      file: part,
      offer,
      row,
      progress: this.#d.progress,
      clock: this.#d.clock,
      pull: (offset, count) =>
        this.#d.replies.send(this.device, 'pull', { session: this.id, incident, seq, offset, count }),
      item,
      onAllRequested: () => this.serially(() => this.#pump()),
      ...(checkpointBytes === undefined ? {} : { checkpointBytes }),
      ...(onProgress === undefined ? {} : { onProgress: (line: string) => onProgress(this.device, line) }),
    });
  }

  async #finish(t: Transfer): Promise<void> {
    if (this.#ended) return; // left whole in incoming, and closed with the others: the next session finishes it
    this.#active = this.#active.filter((a) => a !== t);
    const { offer, hash, env } = t.item;
    await t.close();
    const actual = t.digest() ?? (await sha256OfFile(t.file));
    const previous = this.#d.progress.storedByChainSeq(this.device, env.payload.chainSeq - 1)?.manifestHash;
    const v = checkReceived(env, actual, previous ?? undefined);
    if ('code' in v) {
      await unlinkIfPresent(t.file);
      this.#d.replies.refuse(this, offer, v.code, v.message);
    } else {
      await this.#d.store.putSegment(this.device, offer.incident, offer.file, t.file, manifestFileText(env));
      this.#d.progress.finish(this.device, offer.incident, offer.seq, 'stored', null);
      this.#d.progress.dockings.held(this.device, env.payload.chainSeq, hash);
      this.#d.logger.info(
        { device: this.device, incident: offer.incident, seq: offer.seq, bytes: offer.bytes },
        'segment stored and verified',
      );
      // Ended meanwhile: the next session receipts it when the camera offers it again (at once: not receipted there).
      if (!this.#ended) this.#receipt(offer, hash);
    }
    await this.#pump();
  }

  /** A segment's receipt; a camera withdrawn meanwhile gets none, and its session ends. */
  #receipt(offer: SegmentOffer, manifestHash: string): void {
    const { incident, seq, file, sha256, bytes } = offer;
    const fields = { kind: 'segment' as const, incident, seq, file, sha256, bytes, manifest: manifestHash };
    if (this.#d.replies.receipt(this, fields)) this.#receipts.sent(offerKey(offer));
    else this.#d.withdraw(this);
  }
}
