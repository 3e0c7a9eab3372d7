/**
 * What the dock answers a camera that the camera acts on: receipts, which alone let it delete footage, and
 * refusals, which tell it to keep a segment. A receipt is signed only while the camera is enrolled at this very
 * moment with the key it said hello with; refusals of one inventory go out as one message and into SQLite in one
 * transaction, however many there are.
 */
import type { KeyObject } from 'node:crypto';
import { type Receipt, signReceipt } from '../../evidence/receipt.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SegmentOffer } from '../../protocol/messages.ts';
import { type DownType, downTopic } from '../../protocol/topics.ts';
import type { SyncTransport } from '../../protocol/transport/port.ts';
import type { EnrolledKey } from '../enrolled.ts';
import type { Refused } from './offers.ts';
import type { Progress } from './progress.ts';

export interface DockIdentity {
  privateKey: KeyObject;
  keyId: string;
}

/** The camera session an answer belongs to. */
export interface Addressee {
  device: string;
  /** The session id. */
  id: string;
  /** The key id it said hello with. */
  keyId: string;
}

export interface RepliesOptions {
  transport: SyncTransport;
  progress: Progress;
  deviceKey: (device: string) => EnrolledKey | null;
  dock: DockIdentity;
  logger: Logger;
  wallNow: () => number;
  onProgress?: (device: string, line: string) => void;
}

/** A refusal's message as sent: enough to say why, never enough to fill the reply. */
const MESSAGE_CHARS = 200;

export class Replies {
  readonly #o: RepliesOptions;

  constructor(options: RepliesOptions) {
    this.#o = options;
  }

  send(device: string, type: DownType, body: unknown): void {
    this.#o.transport.publish(downTopic(device, type), JSON.stringify(body));
  }

  /** Signs and sends a receipt; false (nothing signed) when the camera is not enrolled as it was at its hello. */
  receipt(s: Addressee, fields: Omit<Receipt, 'format' | 'device' | 'storedAt'>): boolean {
    const key = this.#o.deviceKey(s.device);
    if (key === null || key.keyId !== s.keyId) {
      this.#o.logger.warn(
        { device: s.device, incident: fields.incident, seq: fields.seq },
        'no receipt: the camera is no longer enrolled here',
      );
      return false;
    }
    const storedAt = new Date(this.#o.wallNow()).toISOString();
    this.send(
      s.device,
      'ack',
      signReceipt({ ...fields, device: s.device, storedAt }, this.#o.dock.privateKey, this.#o.dock.keyId),
    );
    this.#o.logger.info(
      { device: s.device, kind: fields.kind, incident: fields.incident, seq: fields.seq },
      'receipt signed',
    );
    return true;
  }

  /** One segment refused after its transfer: recorded, logged and told to the camera, which keeps it. */
  refuse(s: Addressee, offer: SegmentOffer, code: string, message: string): void {
    this.#o.progress.refuseAll(s.device, [{ ...offer, reason: `${code}: ${message}` }]);
    this.#o.logger.error(
      { device: s.device, incident: offer.incident, seq: offer.seq, code, message },
      'segment refused: it stays on the camera',
    );
    this.#o.onProgress?.(s.device, `REFUSED ${offer.incident}/${offer.file}: ${code}`);
    this.send(s.device, 'refuse', { session: s.id, incident: offer.incident, seq: offer.seq, code, message });
  }

  /** Offers refused before any transfer: one transaction, one log line, one message, however many. */
  refuseOffers(s: Addressee, refused: readonly Refused[], notConsidered: number): void {
    if (refused.length === 0 && notConsidered === 0) return;
    this.#o.progress.refuseAll(
      s.device,
      refused.map((r) => ({ ...r.offer, reason: `${r.code}: ${r.message}` })),
    );
    const codes: Record<string, number> = {};
    for (const r of refused) codes[r.code] = (codes[r.code] ?? 0) + 1;
    this.#o.logger.error(
      { device: s.device, refused: refused.length, codes, notConsidered, first: refused[0]?.message },
      'offers refused: they stay on the camera',
    );
    const summary = Object.entries(codes).map(([code, n]) => `${n} ${code}`);
    if (notConsidered > 0) summary.push(`${notConsidered} not considered`);
    this.#o.onProgress?.(s.device, `REFUSED ${summary.join(', ')}`);
    this.send(s.device, 'refusals', {
      session: s.id,
      segments: refused.map((r) => ({
        incident: r.offer.incident,
        seq: r.offer.seq,
        code: r.code,
        message: r.message.slice(0, MESSAGE_CHARS),
      })),
      notConsidered,
    });
  }
}
