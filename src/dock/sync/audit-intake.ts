/**
 * The camera's audit log, taken in at the dock: each line must be a signed entry of that camera, continuing the
 * chain the dock holds (next sequence number, linked to the previous hash); lines are appended to the store up to
 * the first that is not, which is reported.
 */
import type { KeyObject } from 'node:crypto';
import { parseAuditLog } from '../../evidence/audit.ts';
import { verifySignature } from '../../evidence/envelope.ts';
import type { Logger } from '../../lib/logger.ts';
import { AUDIT_BATCH_LINES } from '../../protocol/limits.ts';
import type { AuditBatch } from '../../protocol/messages.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Progress } from './progress.ts';

export class AuditIntake {
  readonly #progress: Progress;
  readonly #store: EvidenceStore;
  readonly #log: Logger;

  constructor(progress: Progress, store: EvidenceStore, logger: Logger) {
    this.#progress = progress;
    this.#store = store;
    this.#log = logger;
  }

  /** Appends what continues the chain; true when a full batch came (there may be more to pull). */
  async take(device: string, key: KeyObject, batch: AuditBatch): Promise<boolean> {
    const head = this.#progress.auditHead(device);
    if (batch.fromSeq !== head.seq + 1) return false; // an old answer: the next pull asks from the right place
    const parsed = parseAuditLog(batch.lines.map((l) => `${l}\n`).join(''));
    let seq = head.seq;
    let hash = head.hash;
    const accepted: string[] = [];
    for (const e of parsed.entries) {
      const p = e.envelope.payload;
      if (p.seq !== seq + 1 || p.prev !== hash || !verifySignature(e.envelope, key)) {
        this.#log.error(
          { device, seq: p.seq, expected: seq + 1 },
          'audit entry does not continue the chain: not taken',
        );
        break;
      }
      accepted.push(batch.lines[e.line - 1] ?? '');
      seq = p.seq;
      hash = e.hash;
    }
    if (accepted.length === 0) return false;
    await this.#store.appendAudit(device, accepted.map((l) => `${l}\n`).join(''));
    this.#progress.setAuditHead(device, seq, hash ?? '');
    return accepted.length === batch.lines.length && batch.lines.length >= AUDIT_BATCH_LINES;
  }
}
