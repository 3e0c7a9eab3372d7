/**
 * The camera's side of an offload, on its own storage: what to offer the dock (the outbox is the index: segments
 * signed and not yet offloaded, closing manifests not yet acknowledged), reading chunks and audit lines, and acting
 * on a receipt: only one signed by the enrolled dock for exactly that segment deletes anything.
 */
import type { KeyObject } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Envelope } from '../../evidence/envelope.ts';
import { envelopeHash } from '../../evidence/envelope.ts';
import { INCIDENT_MANIFEST, manifestFileFor } from '../../evidence/manifest.ts';
import { type Receipt, receiptFileFor, receiptFileText, receiptMatches } from '../../evidence/receipt.ts';
import { errnoCode } from '../../lib/errors.ts';
import { fsyncParent, unlinkIfPresent, writeFileDurably } from '../../lib/fs.ts';
import { CHUNK_BYTES, type Inventory } from '../../protocol/messages.ts';
import type { CameraStore } from '../storage/store.ts';

export interface OffloadOptions {
  store: CameraStore;
  storageDir: string;
  device: string;
  dockKey: KeyObject;
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

  async inventory(session: string): Promise<Inventory> {
    const { store, storageDir } = this.#o;
    const segments: Inventory['segments'] = [];
    for (const s of store.segments.awaitingOffload()) {
      const manifest = JSON.parse(await readFile(manifestFileFor(s.path), 'utf8')) as unknown;
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
      const file = path.join(storageDir, 'footage', id, INCIDENT_MANIFEST);
      incidents.push({ incident: id, manifest: JSON.parse(await readFile(file, 'utf8')) as unknown });
    }
    return { session, segments, incidents, auditHead: await this.#auditHead() };
  }

  /** Up to `count` chunks of a segment from `offset` (fewer at its end); none for a segment no longer here. */
  async chunks(
    incident: string,
    seq: number,
    offset: number,
    count: number,
  ): Promise<Array<{ offset: number; bytes: Buffer }>> {
    const row = this.#o.store.segments.ofIncident(incident).find((s) => s.seq === seq);
    if (row === undefined || row.offloadedAt !== null || offset >= row.bytes) return [];
    const out: Array<{ offset: number; bytes: Buffer }> = [];
    const fh = await open(row.path, 'r');
    try {
      for (let at = offset; at < row.bytes && out.length < count; at += CHUNK_BYTES) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, row.bytes - at));
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        out.push({ offset: at, bytes: buf.subarray(0, bytesRead) });
      }
    } finally {
      await fh.close();
    }
    return out;
  }

  /** The audit log's lines from sequence number `fromSeq` (line n holds seq n-1). */
  async auditLines(fromSeq: number, max = 5000): Promise<string[]> {
    const text = await readFile(path.join(this.#o.storageDir, 'audit.jsonl'), 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    return lines.slice(fromSeq, fromSeq + max).filter((l) => l.endsWith('}'));
  }

  async #auditHead(): Promise<number> {
    const text = await readFile(path.join(this.#o.storageDir, 'audit.jsonl'), 'utf8').catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return '';
      throw e;
    });
    return text.split('\n').filter((l) => l.endsWith('}')).length - 1;
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
      const file = path.join(storageDir, 'footage', p.incident, INCIDENT_MANIFEST);
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
        await this.#keepReceipt(`${file}.receipt.json`, env as Envelope<Receipt>);
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
      await writeFileDurably(`${file}.tmp`, Buffer.from(receiptFileText(env)));
      await rename(`${file}.tmp`, file);
    } catch (e) {
      await unlinkIfPresent(`${file}.tmp`).catch(() => undefined);
      throw e;
    }
    await fsyncParent(file);
  }
}
