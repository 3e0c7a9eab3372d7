/**
 * The signed audit log (`audit.jsonl` in the storage directory, format `bodycam-audit/1`): every entry the event log
 * takes is also signed and chained here. `append` is synchronous and cheap (a signature, no I/O), so it can run
 * inside the activation's index transaction; lines are written and fdatasynced in order by one background queue,
 * so a power cut loses at most the entries of the last moments and leaves a valid chain (a torn last line is cut off
 * at the next start).
 */
import { type FileHandle, open, readFile, truncate } from 'node:fs/promises';
import { AuditChain, auditLine, parseAuditLog } from '../../evidence/audit.ts';
import { auditLogFile } from '../../evidence/paths.ts';
import { errnoCode } from '../../lib/errors.ts';
import { storageError, writeAll } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DeviceIdentity } from '../identity.ts';

export interface AuditRecord {
  at: string;
  kind: string;
  incidentId: string | null;
  data: Record<string, unknown>;
}

export class AuditTrail {
  readonly #file: string;
  readonly #identity: DeviceIdentity;
  readonly #chain: AuditChain;
  readonly #log: Logger;
  #pending: string[] = [];
  #writing: Promise<void> | null = null;
  #handle: FileHandle | null = null;
  #failed = false;

  private constructor(file: string, identity: DeviceIdentity, chain: AuditChain, logger: Logger) {
    this.#file = file;
    this.#identity = identity;
    this.#chain = chain;
    this.#log = logger;
  }

  /** Opens the log, cutting off a torn last line (a power cut mid-append) and continuing its chain. */
  static async open(storageDir: string, identity: DeviceIdentity, logger: Logger): Promise<AuditTrail> {
    const file = auditLogFile(storageDir);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw storageError(e, file, 'reading');
      bytes = Buffer.alloc(0);
    }
    const parsed = parseAuditLog(bytes);
    if (parsed.tornTail !== null) {
      logger.warn({ file, bytes: parsed.tornTail.bytes }, 'audit log ended in a torn line (power cut); cut it off');
      await truncate(file, parsed.tornTail.offset).catch((e: unknown) => {
        throw storageError(e, file, 'truncating');
      });
    }
    if (parsed.malformed.length > 0) {
      // Never repaired here: the verifier reports it. The chain goes on from the last good entry.
      logger.error({ file, malformed: parsed.malformed }, 'audit log holds malformed lines');
    }
    const last = parsed.entries.at(-1);
    const head = last === undefined ? null : { seq: last.envelope.payload.seq, hash: last.hash };
    return new AuditTrail(file, identity, new AuditChain(head), logger);
  }

  /** The seq of the last entry appended (on disk or about to be), −1 for an empty log. */
  get head(): number {
    return this.#chain.head?.seq ?? -1;
  }

  /** Signs and chains an entry now; it reaches the disk with the next flush. */
  append(r: AuditRecord): void {
    const env = this.#chain.append(
      { at: r.at, kind: r.kind, incident: r.incidentId, data: r.data },
      this.#identity.privateKey,
      this.#identity.keyId,
    );
    this.#pending.push(auditLine(env));
    this.#writing ??= this.#drain();
  }

  /** Resolves once everything appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#handle?.close();
    this.#handle = null;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const lines = this.#pending.join('');
        const count = this.#pending.length;
        let size: number | undefined;
        try {
          this.#handle ??= await open(this.#file, 'a', 0o600);
          size = (await this.#handle.stat()).size;
          await writeAll(this.#handle, Buffer.from(lines));
          await this.#handle.datasync();
          this.#pending.splice(0, count);
          if (this.#failed) this.#log.info({ file: this.#file }, 'audit log writable again');
          this.#failed = false;
        } catch (e) {
          // Storage full or failing: cut back what part of the lines got written (no torn line in the middle of the
          // log), keep them in order and try again with the next entry.
          if (size !== undefined) await this.#handle?.truncate(size).catch(() => undefined);
          if (!this.#failed)
            this.#log.error({ err: storageError(e, this.#file, 'appending to') }, 'audit log not written');
          this.#failed = true;
          return;
        }
      }
    } finally {
      this.#writing = null;
    }
  }
}
