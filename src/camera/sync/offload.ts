/**
 * The camera's side of an offload, on its own storage: what to offer the dock (the outbox is the index: segments
 * signed and not yet offloaded, closing manifests not yet acknowledged), reading chunks and audit lines, and acting
 * on a receipt: only one signed by the enrolled dock for exactly that segment deletes anything.
 */
import type { KeyObject } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { parseAuditLine } from '../../evidence/audit.ts';
import { type DockingRecord, dockingLine, parseDockingLine, parseDockingMessage } from '../../evidence/docking.ts';
import type { Envelope } from '../../evidence/envelope.ts';
import { envelopeHash, verifySignature } from '../../evidence/envelope.ts';
import { type Receipt, receiptFileText, receiptMatches } from '../../evidence/receipt.ts';
import { errnoCode } from '../../lib/errors.ts';
import { appendLinesDurably, fsyncParent, unlinkIfPresent, writeFileDurably } from '../../lib/fs.ts';
import { AUDIT_BATCH_LINES, CHUNK_BYTES, MAX_JSON_BYTES, MAX_OFFERS_PER_INVENTORY } from '../../protocol/limits.ts';
import type { Inventory } from '../../protocol/messages.ts';

/** An inventory's size at most: its JSON message with room to spare. */
const INVENTORY_BYTES = MAX_JSON_BYTES - 256 * 1024;
/** An offer's fields besides its manifest, in JSON, at most. */
const OFFER_BYTES = 512;

import {
  auditLogFile,
  closingManifestFile,
  dockingsLogFile,
  INCIDENT_MANIFEST,
  incidentDir,
  manifestFileFor,
  receiptFileFor,
  tmpFileFor,
} from '../../evidence/paths.ts';
import type { CameraStore } from '../storage/store.ts';

export interface OffloadOptions {
  store: CameraStore;
  storageDir: string;
  device: string;
  dockKey: KeyObject;
}

/** What the dock's last signed docking record says it holds: its manifest chain and audit heads (seq, −1 none). */
export interface HeldAtDock {
  chain: number;
  audit: number;
}

export function heldOf(r: DockingRecord): HeldAtDock {
  return { chain: r.chain?.seq ?? -1, audit: r.audit?.seq ?? -1 };
}

export type ReceiptOutcome =
  | {
      done: 'segment' | 'incident';
      file: string;
      sha256: string /** a receipt we had already acted on */;
      again: boolean;
    }
  | { refused: string };

export class Offload {
  readonly #o: OffloadOptions;

  constructor(options: OffloadOptions) {
    this.#o = options;
  }

  /**
   * What waits for the dock, oldest first but those in `later` (refused while docked) last, at most
   * MAX_OFFERS_PER_INVENTORY segments and closings and well under MAX_JSON_BYTES: the rest in a later inventory.
   */
  async inventory(session: string, later: ReadonlySet<string> = new Set()): Promise<Inventory> {
    const { store, storageDir } = this.#o;
    const segments: Inventory['segments'] = [];
    const waiting = store.segments.awaitingOffload();
    const first = waiting.filter((s) => !later.has(`${s.incidentId}#${s.seq}`));
    let room = INVENTORY_BYTES;
    for (const s of [...first, ...waiting.filter((s) => later.has(`${s.incidentId}#${s.seq}`))]) {
      if (segments.length >= MAX_OFFERS_PER_INVENTORY) break;
      const text = await readFile(manifestFileFor(s.path), 'utf8');
      if (text.length + OFFER_BYTES > room) break;
      room -= text.length + OFFER_BYTES;
      const manifest = JSON.parse(text) as unknown;
      segments.push({
        incident: s.incidentId,
        seq: s.seq,
        file: path.basename(s.path),
        bytes: s.bytes,
        sha256: s.sha256 ?? '',
        manifest,
      });
    }
    const incidents: Inventory['incidents'] = [];
    for (const id of store.incidents.closingsAwaitingOffload()) {
      if (incidents.length >= MAX_OFFERS_PER_INVENTORY) break;
      const text = await readFile(closingManifestFile(incidentDir(storageDir, id)), 'utf8');
      if (text.length + OFFER_BYTES > room) break;
      room -= text.length + OFFER_BYTES;
      incidents.push({ incident: id, manifest: JSON.parse(text) as unknown });
    }
    const audit = await this.#auditHead();
    const heads = {
      chain: store.manifests.head(),
      audit: audit.hash === null ? null : { seq: audit.seq, hash: audit.hash },
    };
    const h = this.holding();
    const holding = {
      recording: h.recording,
      segments: h.segmentsWaiting,
      closings: h.closingsWaiting,
      open: h.incidentsOpen,
    };
    return { session, segments, incidents, auditHead: audit.seq, heads, holding };
  }

  /** What the index holds that the dock has not acknowledged, for the "safe to undock" decision (no file read). */
  holding(): {
    recording: boolean;
    segmentsWaiting: number;
    closingsWaiting: number;
    incidentsOpen: number;
    chain: number;
  } {
    const { store } = this.#o;
    return {
      recording: store.incidents.inState('recording').length > 0,
      segmentsWaiting: store.segments.awaitingOffload().length,
      closingsWaiting: store.incidents.closingsAwaitingOffload().length,
      incidentsOpen: store.manifests.incidentsOpenInChain().length,
      chain: store.manifests.head()?.seq ?? -1,
    };
  }

  /**
   * Up to `count` chunks of a segment from `offset` (fewer at its end), each as soon as it is read, so the first is
   * on its way while the next is read; none for a segment no longer here.
   */
  async *chunks(
    incident: string,
    seq: number,
    offset: number,
    count: number,
  ): AsyncGenerator<{ offset: number; bytes: Buffer }> {
    const row = this.#o.store.segments.ofIncident(incident).find((s) => s.seq === seq);
    if (row === undefined || row.offloadedAt !== null || offset >= row.bytes) return;
    const fh = await open(row.path, 'r');
    try {
      let n = 0;
      for (let at = offset; at < row.bytes && n < count; at += CHUNK_BYTES, n++) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, row.bytes - at));
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        yield { offset: at, bytes: buf.subarray(0, bytesRead) };
      }
    } finally {
      await fh.close();
    }
  }

  /** The audit log's lines from sequence number `fromSeq` (line n holds seq n-1). */
  async auditLines(fromSeq: number, max = AUDIT_BATCH_LINES): Promise<string[]> {
    const text = await readFile(auditLogFile(this.#o.storageDir), 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    return lines.slice(fromSeq, fromSeq + max).filter((l) => l.endsWith('}'));
  }

  /** The audit log's last complete entry: its seq (-1 when none) and envelope hash. */
  async #auditHead(): Promise<{ seq: number; hash: string | null }> {
    const text = await readFile(auditLogFile(this.#o.storageDir), 'utf8').catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return '';
      throw e;
    });
    const lines = text.split('\n').filter((l) => l.endsWith('}'));
    const last = lines.at(-1);
    const parsed = last === undefined ? null : parseAuditLine(last);
    const hash = parsed === null || 'reason' in parsed ? null : envelopeHash(parsed.envelope);
    return { seq: lines.length - 1, hash };
  }

  /**
   * A docking record from the dock: kept in `dockings.jsonl` when it is signed by the enrolled dock for this camera
   * (a verifier given the dock's key then knows what the dock held at that docking); anything else is refused.
   */
  async docking(text: string): Promise<{ kept: boolean; seq: number; held: HeldAtDock } | { refused: string }> {
    const parsed = parseDockingMessage(text);
    if ('reason' in parsed) return { refused: `not a docking record (${parsed.reason})` };
    const env = parsed.envelope;
    if (env.payload.device !== this.#o.device) return { refused: `a record of ${env.payload.device}` };
    if (!verifySignature(env, this.#o.dockKey)) return { refused: 'not signed by the enrolled dock' };
    const file = dockingsLogFile(this.#o.storageDir);
    const line = dockingLine(env);
    const held = await readFile(file, 'utf8').catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return '';
      throw e;
    });
    if (held.split('\n').includes(line.trimEnd()))
      return { kept: false, seq: env.payload.seq, held: heldOf(env.payload) };
    await appendLinesDurably(file, line);
    return { kept: true, seq: env.payload.seq, held: heldOf(env.payload) };
  }

  /**
   * What the last docking record kept here says the dock holds; null without one. Only records that were checked
   * against the enrolled dock's key when they came are in the file; the last line is checked again for this device.
   */
  async lastHeld(): Promise<HeldAtDock | null> {
    const text = await readFile(dockingsLogFile(this.#o.storageDir), 'utf8').catch(() => '');
    const last = text
      .split('\n')
      .filter((l) => l.endsWith('}'))
      .at(-1);
    if (last === undefined) return null;
    const parsed = parseDockingLine(last);
    if ('reason' in parsed || parsed.envelope.payload.device !== this.#o.device) return null;
    if (!verifySignature(parsed.envelope, this.#o.dockKey)) return null;
    return heldOf(parsed.envelope.payload);
  }

  /**
   * A receipt from the dock. Only one signed by the enrolled dock key for exactly a segment (or closing manifest)
   * we hold is acted on: its receipt is kept beside the manifest, the index marks it offloaded, and only then is the
   * segment's file deleted. Anything else is refused with the reason, and nothing is touched.
   */
  async receipt(env: unknown): Promise<ReceiptOutcome> {
    const { store, storageDir, device, dockKey } = this.#o;
    const p = (env as Envelope<Receipt> | null)?.payload;
    if (typeof p !== 'object' || p === null || typeof p.incident !== 'string' || typeof p.seq !== 'number') {
      return { refused: 'not a receipt' };
    }
    if (p.kind === 'incident') {
      const file = closingManifestFile(incidentDir(storageDir, p.incident));
      const closing = await readFile(file, 'utf8').catch(() => null);
      if (closing === null) return { refused: `no closing manifest of ${p.incident} here` };
      const hash = envelopeHash(JSON.parse(closing) as Envelope<unknown>);
      const expected = {
        kind: 'incident' as const,
        device,
        incident: p.incident,
        seq: p.seq,
        file: INCIDENT_MANIFEST,
        sha256: hash,
        bytes: 0,
      };
      if (!receiptMatches(env, dockKey, expected))
        return { refused: 'receipt not signed by the enrolled dock for this closing manifest' };
      const again = !store.incidents.closingsAwaitingOffload().includes(p.incident);
      if (!again) {
        await this.#keepReceipt(receiptFileFor(file), env as Envelope<Receipt>);
        store.incidents.markClosingOffloaded(p.incident);
      }
      return { done: 'incident', file: path.relative(storageDir, file), sha256: hash, again };
    }
    const row = store.segments.ofIncident(p.incident).find((s) => s.seq === p.seq);
    if (row === undefined || row.sha256 === null) return { refused: `no segment ${p.incident}#${p.seq} here` };
    const expected = {
      kind: 'segment' as const,
      device,
      incident: p.incident,
      seq: p.seq,
      file: path.basename(row.path),
      sha256: row.sha256,
      bytes: row.bytes,
    };
    if (!receiptMatches(env, dockKey, expected))
      return { refused: 'receipt not signed by the enrolled dock for this segment' };
    const again = row.offloadedAt !== null;
    if (!again) {
      await this.#keepReceipt(receiptFileFor(row.path), env as Envelope<Receipt>);
      store.segments.markOffloaded(row.id);
    }
    // Deleted only now: the receipt is durable and the index says offloaded, so a crash here leaves a file the next
    // receipt removes, never a segment gone without a receipt.
    await unlinkIfPresent(row.path);
    await fsyncParent(row.path);
    return { done: 'segment', file: path.relative(storageDir, row.path), sha256: row.sha256, again };
  }

  /** Receipts go into the storage reserve (docs/design.md §18); a failed write leaves no partial file behind. */
  async #keepReceipt(file: string, env: Envelope<Receipt>): Promise<void> {
    try {
      await writeFileDurably(tmpFileFor(file), Buffer.from(receiptFileText(env)));
      await rename(tmpFileFor(file), file);
    } catch (e) {
      await unlinkIfPresent(tmpFileFor(file)).catch(() => undefined);
      throw e;
    }
    await fsyncParent(file);
  }
}
