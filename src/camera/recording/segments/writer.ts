import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { AgeSealer } from '../../../age/sealer.ts';
import { partialFileFor, tailFileFor, tailTmpFileFor } from '../../../evidence/paths.ts';
import { BodycamError, ErrorCode } from '../../../lib/errors.ts';
import { exists, fsyncParent, storageError, unlinkIfPresent, writeFileDurably, writevAll } from '../../../lib/fs.ts';
import { encodeTail, type SegmentProgress } from './tail.ts';

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
  /** Ciphertext bytes on disk so far. */
  readonly bytesWritten: number;
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
  /** Ciphertext sealed but not yet on disk (after ENOSPC); retried first by the next operation. */
  #backlog: Buffer[][] = [];
  #finished = false;
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
    writer.#backlog.push([sealer.header]);
    try {
      await writer.#run(() => writer.#flush());
    } catch (e) {
      // Only a (cut back) header is there, no evidence: remove it so a retry can start afresh.
      await handle.close().catch(() => undefined);
      await unlink(partial).catch(() => undefined);
      throw e;
    }
    return writer;
  }

  /**
   * Seals `plain` and appends the ciphertext that is complete. On STORAGE_FULL the fragment has still been taken
   * (sealed and kept in memory): do not write it again; the next write(), sync() or close() retries the append.
   */
  write(plain: Buffer): Promise<void> {
    return this.#run(async () => {
      this.#assertWritable();
      const sealed = this.#sealer.pushPieces(plain);
      if (sealed.length > 0) this.#backlog.push(sealed);
      await this.#flush();
    });
  }

  /** Makes everything written so far durable and recoverable: fsync the data, then replace the tail atomically. */
  sync(progress: SegmentProgress | null): Promise<void> {
    return this.#run(async () => {
      const handle = this.#assertWritable();
      await this.#flush();
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
      if (data.status === 'rejected') throw storageError(data.reason, partialFileFor(this.path), 'syncing');
      if (tailFile.status === 'rejected') throw tailFile.reason;
      try {
        await rename(tailTmpFileFor(this.path), tailFileFor(this.path));
      } catch (e) {
        throw storageError(e, tailFileFor(this.path), 'renaming to');
      }
      await fsyncParent(this.path);
    });
  }

  /** Appends the final chunk, makes the file durable under its final name and removes the recovery files. */
  close(): Promise<SealedSegment> {
    return this.#run(async () => {
      const handle = this.#assertOpen();
      if (!this.#finished) {
        this.#backlog.push([this.#sealer.finish()]);
        this.#finished = true;
      }
      await this.#flush();
      const partial = partialFileFor(this.path);
      try {
        await handle.datasync();
        await handle.close();
        this.#handle = undefined;
        await rename(partial, this.path);
      } catch (e) {
        throw storageError(e, partial, 'finishing');
      }
      await fsyncParent(this.path);
      await unlinkIfPresent(tailFileFor(this.path));
      await unlinkIfPresent(tailTmpFileFor(this.path));
      await fsyncParent(this.path);
      return { path: this.path, bytes: this.#bytes, sha256: this.#hash.digest('hex') };
    });
  }

  /** Closes the file descriptor and leaves every file exactly as a crash would. */
  abort(): Promise<void> {
    return this.#run(async () => {
      const handle = this.#handle;
      this.#handle = undefined;
      await handle?.close();
    });
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #assertOpen(): FileHandle {
    if (this.#handle === undefined) {
      throw new BodycamError(ErrorCode.SEAL_STATE, `segment ${this.path} is already closed`, { path: this.path });
    }
    return this.#handle;
  }

  /** write() and sync() only make sense before close() sealed the final chunk (a failed close may be retried). */
  #assertWritable(): FileHandle {
    const handle = this.#assertOpen();
    if (this.#finished) {
      throw new BodycamError(ErrorCode.SEAL_STATE, `segment ${this.path} is being closed`, { path: this.path });
    }
    return handle;
  }

  /**
   * Appends the backlog. A failed append is cut back to the last whole write, so the file never holds a torn
   * chunk and the same bytes can be retried once space is freed.
   */
  async #flush(): Promise<void> {
    const handle = this.#assertOpen();
    while (this.#backlog.length > 0) {
      // One write's pieces (a push's chunks, each body and tag) go out in one writev, and count as one write.
      const data = this.#backlog[0] as Buffer[];
      try {
        await writevAll(handle, data);
      } catch (e) {
        await handle.truncate(this.#bytes).catch(() => undefined);
        throw storageError(e, partialFileFor(this.path), 'appending to');
      }
      this.#backlog.shift();
      for (const piece of data) {
        this.#hash.update(piece);
        this.#bytes += piece.length;
      }
    }
  }
}
