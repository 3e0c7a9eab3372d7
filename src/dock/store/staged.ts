/**
 * The object store one hop away, with the dock's disk in between when it does not answer (issue: custody one hop
 * further). Each write goes straight to the store while nothing waits; when the store does not answer
 * (STORE_UNREACHABLE) the write is staged instead: a segment's file is moved into `staging/` under a random name,
 * anything else waits in its backlog row, both durably before the call returns, so the dock receipts it and goes on
 * receiving. While anything waits, every new write waits behind it (the store sees them in arrival order). A catch-up
 * loop writes the backlog to the store oldest first, retrying with back-off while the store does not answer; a
 * write the store refuses (a conflict, a denial) is logged and retried later, and waits without holding back the rest.
 *
 * A staged segment is moved, never copied: the file the camera's receipt vouches for is the one that goes up, and a
 * hard link of it is what the store's upload consumes, so a crash after the upload leaves the row and its file to be
 * written again (the store's write-once makes that a no-op). Staged files with no row (a crash between the move and
 * the row) are removed at start: no receipt went out for them, so the camera still holds them.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { ErrorCode, errnoCode, isBodycamError } from '../../lib/errors.ts';
import { fsyncDir, sha256OfFile, unlinkIfPresent } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EvidenceStore } from '../sync/evidence-store.ts';
import type { Backlog, BacklogRow } from './backlog.ts';

export interface StagedStoreOptions {
  store: EvidenceStore;
  backlog: Backlog;
  stagingDir: string;
  clock: Clock;
  log: Logger;
  /** First retry after this long, doubling up to `retryMaxMs`. */
  retryMs?: number;
  retryMaxMs?: number;
}

const SEGMENT_SUFFIX = '.seg';

export class StagedEvidenceStore implements EvidenceStore {
  readonly #o: StagedStoreOptions;
  readonly #retryMs: number;
  readonly #retryMaxMs: number;
  #delayMs: number;
  #timer: TimerHandle | null = null;
  #draining: Promise<void> | null = null;
  #stopped = false;
  /** When the rows the store refused were last asked again (monotonic ms). */
  #refusedAskedMs = Number.NEGATIVE_INFINITY;

  constructor(o: StagedStoreOptions) {
    this.#o = o;
    this.#retryMs = o.retryMs ?? 2000;
    this.#retryMaxMs = o.retryMaxMs ?? 60_000;
    this.#delayMs = this.#retryMs;
  }

  /** Prepares the staging directory (removing files no row names) and starts catching up on what waits. */
  async start(): Promise<void> {
    await mkdir(this.#o.stagingDir, { recursive: true });
    const named = new Set(
      this.#o.backlog
        .all()
        .filter((r) => r.op === 'segment')
        .map((r) => this.#stagedFile(r)),
    );
    for (const name of await readdir(this.#o.stagingDir)) {
      const file = path.join(this.#o.stagingDir, name);
      if (!named.has(file)) await unlinkIfPresent(file);
    }
    const waiting = this.#o.backlog.summary();
    if (waiting.waiting > 0) {
      this.#o.log.warn(
        { waiting: waiting.waiting, bytes: waiting.bytes },
        'evidence waits at the dock for the object store: catching up',
      );
    }
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#draining;
  }

  async putSegment(device: string, incident: string, file: string, source: string, manifestText: string) {
    await this.#write(
      () => this.#o.store.putSegment(device, incident, file, source, manifestText),
      async () => {
        // A name of its own, not the row's id: two cameras staging at once must never share a file.
        const staged = `${randomUUID()}${SEGMENT_SUFFIX}`;
        const { bytes, sha256 } = await sha256OfFile(source);
        await rename(source, path.join(this.#o.stagingDir, staged));
        await fsyncDir(this.#o.stagingDir);
        await fsyncDir(path.dirname(source));
        const row = { op: 'segment' as const, device, incident, file, staged, text: manifestText, bytes, sha256 };
        return this.#o.backlog.add({ ...row, atMs: this.#o.clock.wallNow() });
      },
    );
  }

  async putClosing(device: string, incident: string, manifestText: string) {
    await this.#write(
      () => this.#o.store.putClosing(device, incident, manifestText),
      () => this.#stageText('closing', device, incident, manifestText),
    );
  }

  async appendAudit(device: string, lines: string) {
    await this.#write(
      () => this.#o.store.appendAudit(device, lines),
      () => this.#stageText('audit', device, null, lines),
    );
  }

  async appendDocking(device: string, line: string) {
    await this.#write(
      () => this.#o.store.appendDocking(device, line),
      () => this.#stageText('docking', device, null, line),
    );
    this.#o.backlog.setLastDocking(device, line.endsWith('\n') ? line.slice(0, -1) : line);
  }

  /**
   * The device's newest docking record: one still waiting here is newer than any in the store; else the store's (it
   * may hold a newer one from another dock), else, while the store does not answer, the last this dock signed.
   */
  async lastDocking(device: string): Promise<string | null> {
    const waiting = this.#o.backlog.newestDocking(device);
    if (waiting !== undefined) return waiting.endsWith('\n') ? waiting.slice(0, -1) : waiting;
    try {
      return await this.#o.store.lastDocking(device);
    } catch (e) {
      const mine = this.#o.backlog.lastDocking(device);
      if (!isBodycamError(e, ErrorCode.STORE_UNREACHABLE) || mine === undefined) throw e;
      return mine;
    }
  }

  async putDeviceKey(device: string, pem: string) {
    await this.#write(
      () => this.#o.store.putDeviceKey(device, pem),
      () => this.#stageText('device-key', device, null, pem),
    );
  }

  async holdsSegment(device: string, incident: string, file: string, expect: { bytes: number; sha256: string }) {
    const staged = this.#o.backlog.segment(device, incident, file);
    if (staged !== undefined) {
      if (staged.sha256 !== expect.sha256 || staged.bytes !== expect.bytes) return false;
      const actual = await sha256OfFile(this.#stagedFile(staged)).catch(() => null);
      return actual?.sha256 === expect.sha256 && actual.bytes === expect.bytes;
    }
    return this.#o.store.holdsSegment(device, incident, file, expect);
  }

  async holdsClosing(device: string, incident: string, manifestText: string) {
    const staged = this.#o.backlog.closing(device, incident);
    if (staged !== undefined) return staged.text === manifestText;
    return this.#o.store.holdsClosing(device, incident, manifestText);
  }

  #stagedFile(row: Pick<BacklogRow, 'staged' | 'id'>): string {
    return path.join(this.#o.stagingDir, row.staged ?? `${row.id}${SEGMENT_SUFFIX}`);
  }

  #stageText(op: BacklogRow['op'], device: string, incident: string | null, text: string): number {
    const bytes = Buffer.byteLength(text);
    return this.#o.backlog.add({
      op,
      device,
      incident,
      file: null,
      staged: null,
      text,
      bytes,
      sha256: null,
      atMs: this.#o.clock.wallNow(),
    });
  }

  /** Straight to the store while nothing waits and it answers; staged otherwise. */
  async #write(direct: () => Promise<void>, stage: () => Promise<number> | number): Promise<void> {
    if (!this.#o.backlog.waitsForStore()) {
      try {
        await direct();
        return;
      } catch (e) {
        if (!isBodycamError(e, ErrorCode.STORE_UNREACHABLE)) throw e;
        this.#o.log.warn({ err: e }, 'the object store does not answer: evidence waits at the dock');
      }
    }
    const id = await stage();
    this.#o.log.info({ id }, 'staged at the dock for the object store');
    this.#schedule(this.#delayMs);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#timer !== null || this.#draining !== null) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      this.#draining = this.#drain().finally(() => {
        this.#draining = null;
        if (this.#o.backlog.waitsForStore()) this.#schedule(this.#delayMs);
        else if (!this.#o.backlog.isEmpty()) this.#schedule(this.#retryMaxMs);
      });
    }, ms);
  }

  /**
   * Writes what waits, oldest first, until the store stops answering or this round's rows are done (rows staged
   * meanwhile wait for the next round). A row the store refuses is skipped this round, so it holds back nothing.
   */
  async #drain(): Promise<void> {
    // What the store refused is asked again only as often as it is worth logging, and holds back nothing.
    const askRefused = this.#o.clock.now() - this.#refusedAskedMs >= this.#retryMaxMs;
    if (askRefused) this.#refusedAskedMs = this.#o.clock.now();
    for (const row of this.#o.backlog.all()) {
      if (this.#stopped) return;
      if (row.refused !== 0 && !askRefused) continue;
      try {
        await this.#replay(row);
      } catch (e) {
        const unreachable = isBodycamError(e, ErrorCode.STORE_UNREACHABLE);
        this.#o.backlog.failed(row.id, e instanceof Error ? e.message : String(e), !unreachable);
        if (unreachable) {
          this.#delayMs = Math.min(this.#delayMs * 2, this.#retryMaxMs);
          const waiting = this.#o.backlog.summary().waiting;
          this.#o.log.warn({ id: row.id, waiting, err: e }, 'the object store still does not answer');
          return;
        }
        const { id, op, device } = row;
        this.#o.log.error({ id, op, device, err: e }, 'the object store refused a staged write: it waits at the dock');
        continue;
      }
      this.#o.backlog.done(row.id);
      this.#delayMs = this.#retryMs;
      if (row.op === 'segment') await unlinkIfPresent(this.#stagedFile(row));
      this.#o.log.info(
        { id: row.id, op: row.op, device: row.device, incident: row.incident },
        'staged evidence stored',
      );
    }
  }

  async #replay(row: BacklogRow): Promise<void> {
    const s = this.#o.store;
    switch (row.op) {
      case 'segment': {
        const staged = this.#stagedFile(row);
        const upload = `${staged}.up`;
        await unlinkIfPresent(upload);
        try {
          await link(staged, upload);
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e;
          // The file went up and the row outlived it (a crash between): the store must hold it.
          const expect = { bytes: row.bytes, sha256: row.sha256 ?? '' };
          if (await s.holdsSegment(row.device, row.incident ?? '', row.file ?? '', expect)) return;
          throw e;
        }
        await s.putSegment(row.device, row.incident ?? '', row.file ?? '', upload, row.text);
        return;
      }
      case 'closing':
        return s.putClosing(row.device, row.incident ?? '', row.text);
      case 'audit':
        return s.appendAudit(row.device, row.text);
      case 'docking':
        return s.appendDocking(row.device, row.text);
      case 'device-key':
        return s.putDeviceKey(row.device, row.text);
    }
  }
}
