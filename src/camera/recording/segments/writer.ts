import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { AgeSealer } from '../../../age/sealer.ts';
import { partialFileFor, tailFileFor, tailTmpFileFor } from '../../../evidence/paths.ts';
import { BodycamError, ErrorCode } from '../../../lib/errors.ts';
import { exists, fsyncParent, storageError, unlinkIfPresent, writeFileDurably, writevAll } from '../../../lib/fs.ts';
import { releaseNow } from '../../../lib/memory.ts';
import { encodeTail, type SegmentProgress } from './tail.ts';

/** Ciphertext a write() may leave to the background append: enough to keep the disk busy while the next is sealed. */
const AHEAD_BYTES = 2 * 1024 * 1024;
/** Ciphertext a disk that keeps refusing appends may leave waiting in memory before the file is given up (broken). */
const GIVE_UP_BYTES = 4 * AHEAD_BYTES;
/** Buffers one writev takes (Linux IOV_MAX). */
const IOV_MAX = 1024;

export interface SealedSegment {
  path: string;
  /** Ciphertext bytes of the finished file. */
  bytes: number;
  /** Hex SHA-256 of the finished ciphertext file. */
  sha256: string;
}

/** What the recorder needs of a segment file; `SegmentWriter` is the real one. */
export interface SegmentFile {
  write(plain: Buffer): Promise<void>;
  /** Everything written so far becomes durable and recoverable, with `progress` as the tail's note. */
  sync(progress: SegmentProgress | null): Promise<void>;
  close(): Promise<SealedSegment>;
  /** Closes the descriptor and leaves the files as a crash would, for recovery from the last sync. */
  abort(): Promise<void>;
  /** Ciphertext bytes on disk so far. */
  readonly bytesWritten: number;
  /**
   * Nothing more of this file can be made durable (an fsync failed, or the disk kept refusing appends until
   * `GIVE_UP_BYTES` waited in memory): abort it, recovery keeps its last sync. write(), sync() and close() throw.
   */
  readonly broken: boolean;
}

/**
 * A crash-safe, append-only age file (docs/design.md §5 and §7). While open, ciphertext goes to `<path>.partial`;
 * `sync()` fsyncs it and then atomically replaces `<path>.tail` (see tail.ts); `close()` appends the final chunk and
 * renames the file into place. After a crash, `recoverSegmentFile` finishes it from its last sync.
 */
export class SegmentWriter implements SegmentFile {
  readonly path: string;
  #sealer: AgeSealer;
  #handle: FileHandle | undefined;
  #hash: Hash = createHash('sha256');
  #bytes = 0;
  /**
   * Ciphertext sealed but not yet on disk, one entry per write, in file order; appended in the background. `owned`:
   * the pieces are the sealer's fresh chunks, which nothing else holds, and their memory is given back once they are
   * on disk and hashed (the header and the final chunk are not).
   */
  #backlog: { pieces: Buffer[]; owned: boolean }[] = [];
  #backlogBytes = 0;
  /** The append running in the background, if any: at most one, so the file grows in backlog order. */
  #appending: Promise<void> | null = null;
  /** What stopped the background appends (STORAGE_FULL, …): thrown once by the next operation, which retries. */
  #failure: { error: unknown } | null = null;
  /** The file may hold bytes of a failed append past `#bytes` (its cut-back failed too): cut before appending. */
  #torn = false;
  #finished = false;
  /** close() made every byte durable and closed the descriptor; what is left is the name and the recovery files. */
  #onDisk = false;
  /** What close() returned: the file is finished. */
  #sealed: SealedSegment | null = null;
  /**
   * A failed fsync, in sync() or close(): Linux may have dropped the pages it reported, so a later fsync that
   * succeeds proves nothing. Or appends failing with `GIVE_UP_BYTES` waiting: a backlog that only grows would take
   * the camera's memory. Every later call throws it; the file stays for recovery from its last sync.
   */
  #broken: { error: unknown } | null = null;
  /** Operations run one at a time, in call order, even if a caller forgets to await. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, sealer: AgeSealer, handle: FileHandle) {
    this.path = path;
    this.#sealer = sealer;
    this.#handle = handle;
  }

  /** Ciphertext bytes appended to disk so far (not yet all durable: that is what `sync()` is for). */
  get bytesWritten(): number {
    return this.#bytes;
  }

  get broken(): boolean {
    return this.#broken !== null;
  }

  /** Starts `<path>.partial` with the age header. Refuses to touch an existing file of that name. */
  static async create(options: { path: string; recipients: Buffer[] }): Promise<SegmentWriter> {
    const sealer = new AgeSealer(options.recipients);
    const partial = partialFileFor(options.path);
    if (await exists(options.path)) {
      throw new BodycamError(ErrorCode.STORAGE_IO, `${options.path} already exists; evidence is never overwritten`, {
        path: options.path,
      });
    }
    let handle: FileHandle;
    try {
      handle = await open(partial, 'ax');
    } catch (e) {
      throw storageError(e, partial, 'creating');
    }
    const writer = new SegmentWriter(options.path, sealer, handle);
    writer.#take([sealer.header], false);
    try {
      await writer.#run(() => writer.#flush(0));
    } catch (e) {
      // Only a (cut back) header is there, no evidence: remove it so a retry can start afresh.
      await handle.close().catch(() => undefined);
      await unlink(partial).catch(() => undefined);
      throw e;
    }
    return writer;
  }

  /**
   * Seals `plain` and appends the ciphertext that is complete. It resolves once `plain` is sealed and at most
   * `AHEAD_BYTES` of ciphertext wait for the disk: the append goes on in the background while the caller seals the
   * next fragment, and `sync()` or `close()` waits for it. `plain` is not read after it resolves. A failed append
   * rejects a later write() that finds it, and at the latest the next sync() or close(); each of them appends it
   * again. A fragment is taken even by a write() that rejects (sealed and kept in memory): do not write it again.
   * A broken file (see `broken`) takes nothing more.
   */
  write(plain: Buffer): Promise<void> {
    return this.#run(async () => {
      this.#assertWritable();
      if (this.#broken !== null) throw this.#broken.error;
      const sealed = this.#sealer.pushPieces(plain);
      if (sealed.length > 0) this.#take(sealed, true);
      await this.#flush(AHEAD_BYTES);
    });
  }

  /** Makes everything written so far durable and recoverable: fsync the data, then replace the tail atomically. */
  sync(progress: SegmentProgress | null): Promise<void> {
    return this.#run(async () => {
      const handle = this.#assertWritable();
      await this.#flush(0);
      if (this.#broken !== null) throw this.#broken.error;
      const tail = encodeTail({
        headerLength: this.#sealer.header.length,
        chunkCount: this.#sealer.chunkCount,
        progress,
        finalChunk: this.#sealer.sealTail(),
      });
      // The data and the new tail become durable side by side (two fsyncs in flight, not one after the other); the
      // tail only takes effect with the rename below, once both are on disk. A `.tail.tmp` left by a crash before
      // then is discarded by recovery, which uses the previous tail.
      const [data, tailFile] = await Promise.allSettled([
        handle.datasync(),
        writeFileDurably(tailTmpFileFor(this.path), tail),
      ]);
      if (data.status === 'rejected') {
        this.#broken = { error: storageError(data.reason, partialFileFor(this.path), 'syncing') };
        throw this.#broken.error;
      }
      if (tailFile.status === 'rejected') throw tailFile.reason;
      try {
        await rename(tailTmpFileFor(this.path), tailFileFor(this.path));
      } catch (e) {
        throw storageError(e, tailFileFor(this.path), 'renaming to');
      }
      await fsyncParent(this.path);
    });
  }

  /**
   * Appends the final chunk, makes the file durable under its final name and removes the recovery files. A close that
   * failed after its data was durable (the rename, a directory fsync) may be called again: it goes on from there.
   */
  close(): Promise<SealedSegment> {
    return this.#run(async () => {
      if (this.#sealed !== null) throw this.#closedError();
      const partial = partialFileFor(this.path);
      if (!this.#onDisk) {
        const handle = this.#assertOpen();
        if (!this.#finished) {
          this.#take([this.#sealer.finish()], false);
          this.#finished = true;
        }
        await this.#flush(0);
        if (this.#broken !== null) throw this.#broken.error;
        try {
          await handle.datasync();
        } catch (e) {
          this.#broken = { error: storageError(e, partial, 'finishing') };
          throw this.#broken.error;
        }
        // Every byte is durable in the partial: from here a retry only names and tidies it.
        this.#onDisk = true;
        this.#handle = undefined;
        await handle.close().catch(() => undefined);
      }
      if (await exists(partial)) {
        try {
          await rename(partial, this.path);
        } catch (e) {
          throw storageError(e, partial, 'finishing');
        }
      } else if (!(await exists(this.path))) {
        // Named by an earlier try, then removed by someone else: never report a file that is not there as sealed.
        throw new BodycamError(ErrorCode.STORAGE_IO, `${partial} vanished before it was named ${this.path}`, {
          path: this.path,
        });
      }
      await fsyncParent(this.path);
      await unlinkIfPresent(tailFileFor(this.path));
      await unlinkIfPresent(tailTmpFileFor(this.path));
      await fsyncParent(this.path);
      this.#sealed = { path: this.path, bytes: this.#bytes, sha256: this.#hash.digest('hex') };
      return this.#sealed;
    });
  }

  /** Closes the file descriptor and leaves every file exactly as a crash would. */
  abort(): Promise<void> {
    return this.#run(async () => {
      const handle = this.#handle;
      this.#handle = undefined;
      // An append in flight finishes first (its descriptor must stay valid); what was not handed to it is dropped.
      await this.#appending;
      await handle?.close();
    });
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #assertOpen(): FileHandle {
    if (this.#handle === undefined) throw this.#closedError();
    return this.#handle;
  }

  #closedError(): BodycamError {
    return new BodycamError(ErrorCode.SEAL_STATE, `segment ${this.path} is already closed`, { path: this.path });
  }

  /** write() and sync() only make sense before close() sealed the final chunk (a failed close may be retried). */
  #assertWritable(): FileHandle {
    const handle = this.#assertOpen();
    if (this.#finished) {
      throw new BodycamError(ErrorCode.SEAL_STATE, `segment ${this.path} is being closed`, { path: this.path });
    }
    return handle;
  }

  #take(pieces: Buffer[], owned: boolean): void {
    this.#backlog.push({ pieces, owned });
    for (const piece of pieces) this.#backlogBytes += piece.length;
  }

  /**
   * Starts appending the backlog in the background if it is not already, and waits until at most `limit` bytes wait
   * for the disk (0: all of it is on disk).
   * Throws, once, the error that stopped it; the backlog is kept, so the next call appends the same bytes again.
   */
  async #flush(limit: number): Promise<void> {
    for (;;) {
      const failed = this.#failure;
      if (failed !== null) {
        this.#failure = null;
        throw failed.error;
      }
      this.#appendNext(this.#assertOpen());
      if (this.#backlogBytes <= limit) return;
      // Bytes waiting but no append running: the count is out of step with the backlog. Fail loudly, never spin.
      if (this.#appending === null) throw new Error(`segment writer: ${this.#backlogBytes} bytes counted, none queued`);
      await this.#appending;
    }
  }

  #appendNext(handle: FileHandle): void {
    if (this.#appending !== null || this.#failure !== null || this.#backlog.length === 0) return;
    // Whole writes only, as many as one writev takes: a failed append is cut back to a write's boundary.
    let count = 0;
    let pieces = 0;
    for (const entry of this.#backlog) {
      if (count > 0 && pieces + entry.pieces.length > IOV_MAX) break;
      count += 1;
      pieces += entry.pieces.length;
    }
    const batch = this.#backlog.slice(0, count);
    this.#appending = this.#append(handle, batch).then(
      () => {
        this.#backlog.splice(0, count);
        this.#appending = null;
        // The disk gets the next batch before the hash reads this one; abort() stops here.
        if (this.#handle !== undefined) this.#appendNext(this.#handle);
        for (const entry of batch) {
          for (const piece of entry.pieces) {
            this.#hash.update(piece);
            this.#bytes += piece.length;
            this.#backlogBytes -= piece.length;
            // Now, not at the next collection: the next chunk sealed reuses these warm pages (lib/memory.ts).
            if (entry.owned) releaseNow(piece);
          }
        }
      },
      (e: unknown) => {
        this.#appending = null;
        this.#failure = { error: e };
        if (this.#backlogBytes > GIVE_UP_BYTES) this.#broken ??= { error: e };
      },
    );
  }

  /** One writev of `batch`. A failed append is cut back to the last whole write, so the file never holds a torn chunk. */
  async #append(handle: FileHandle, batch: { pieces: Buffer[] }[]): Promise<void> {
    try {
      // A cut-back that failed left torn bytes past `#bytes`: cut them first, or the retry would land after them.
      if (this.#torn) {
        await handle.truncate(this.#bytes);
        this.#torn = false;
      }
      await writevAll(
        handle,
        batch.flatMap((entry) => entry.pieces),
      );
    } catch (e) {
      this.#torn = await handle.truncate(this.#bytes).then(
        () => false,
        () => true,
      );
      throw storageError(e, partialFileFor(this.path), 'appending to');
    }
  }
}
