import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../../../lib/errors.ts';
import { fsyncDir } from '../../../lib/fs.ts';
import { AgeSealer, SEALED_CHUNK_SIZE, TAG_SIZE } from '../../../age/sealer.ts';

/**
 * A crash-safe, append-only age file on disk (DESIGN decisions 5 and 7).
 *
 * While open, ciphertext goes to `<path>.partial`. `sync()` fsyncs it and then atomically replaces `<path>.tail`:
 * the still-pending plaintext sealed as a final chunk. After a crash, `recoverSealedFile` cuts the partial back to
 * the chunks the tail vouches for and appends the tail, giving a valid age file of everything up to the last
 * `sync()`. The tail file names its own geometry in plaintext, so recovery needs neither a key nor the index.
 *
 * Tail file layout: `BCTAIL1\n`, header length (uint32 BE), chunk count (uint64 BE), caller metadata length
 * (uint32 BE) and bytes, then the sealed final chunk. The metadata is plaintext the caller chooses (the recorder
 * stores frame counts and media times, never content), committed atomically with the data it describes.
 */

const TAIL_MAGIC = Buffer.from('BCTAIL1\n');
const TAIL_PREAMBLE = TAIL_MAGIC.length + 4 + 8 + 4;
const MAX_TAIL_META = 4096;
const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');

export interface SealedFileResult {
  path: string;
  /** Ciphertext bytes of the finished file. */
  bytes: number;
  /** Hex SHA-256 of the finished ciphertext file. */
  sha256: string;
}

export interface RecoveredFile extends SealedFileResult {
  recovered: true;
  /** close() had finished the file and only its tail file was left: nothing after the last sync was cut. */
  complete: boolean;
  /** The metadata of the sync the file was recovered to. */
  meta: Buffer;
}

function partialPath(path: string): string {
  return `${path}.partial`;
}
function tailPath(path: string): string {
  return `${path}.tail`;
}
function tailTmpPath(path: string): string {
  return `${path}.tail.tmp`;
}

/** ENOSPC/EDQUOT become STORAGE_FULL (the officer must be told), the rest STORAGE_IO; files stay as they are. */
function storageError(e: unknown, path: string, action: string): BodycamError {
  if (e instanceof BodycamError) return e;
  const errno = errnoCode(e);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new BodycamError(
      ErrorCode.STORAGE_FULL,
      `Storage is full while ${action} ${path}; what is on disk is kept`,
      { path, errno },
      { cause: e },
    );
  }
  return new BodycamError(ErrorCode.STORAGE_IO, `I/O error while ${action} ${path}`, { path, errno }, { cause: e });
}

/** fsync the directory holding `path`, so a create, rename or unlink there survives a power cut. */
async function fsyncParent(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    await fsyncDir(dir);
  } catch (e) {
    throw storageError(e, dir, 'syncing directory');
  }
}

async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw storageError(e, path, 'removing');
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw storageError(e, path, 'checking');
  }
}

/** Writes all of `data` at the handle's position (O_APPEND: the end); short writes happen when a disk fills. */
async function writeAll(handle: FileHandle, data: Buffer, position?: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const at = position === undefined ? null : position + done;
    const { bytesWritten } = await handle.write(data, done, data.length - done, at);
    done += bytesWritten;
  }
}

export class SealedFileWriter {
  readonly path: string;
  #sealer: AgeSealer;
  #handle: FileHandle | undefined;
  #hash: Hash = createHash('sha256');
  #bytes = 0;
  /** Ciphertext sealed but not yet on disk (after ENOSPC); retried first by the next operation. */
  #backlog: Buffer[] = [];
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
  static async create(options: { path: string; recipients: Buffer[] }): Promise<SealedFileWriter> {
    const sealer = new AgeSealer(options.recipients);
    const partial = partialPath(options.path);
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
    const writer = new SealedFileWriter(options.path, sealer, handle);
    writer.#backlog.push(sealer.header);
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
      const sealed = this.#sealer.push(plain);
      if (sealed.length > 0) this.#backlog.push(sealed);
      await this.#flush();
    });
  }

  /**
   * Makes everything written so far durable and recoverable: fsync the data, then replace the tail atomically.
   * `meta` (≤ 4 KiB, plaintext) is kept in the tail and handed back by recovery.
   */
  sync(meta: Buffer = Buffer.alloc(0)): Promise<void> {
    return this.#run(async () => {
      const handle = this.#assertWritable();
      await this.#flush();
      const partial = partialPath(this.path);
      try {
        await handle.datasync();
      } catch (e) {
        throw storageError(e, partial, 'syncing');
      }
      const preamble = Buffer.alloc(TAIL_PREAMBLE);
      TAIL_MAGIC.copy(preamble);
      preamble.writeUInt32BE(this.#sealer.header.length, TAIL_MAGIC.length);
      preamble.writeBigUInt64BE(BigInt(this.#sealer.chunkCount), TAIL_MAGIC.length + 4);
      if (meta.length > MAX_TAIL_META) throw new BodycamError(ErrorCode.SEAL_STATE, 'tail metadata over 4 KiB');
      preamble.writeUInt32BE(meta.length, TAIL_MAGIC.length + 12);
      await writeFileDurably(tailTmpPath(this.path), Buffer.concat([preamble, meta, this.#sealer.sealTail()]));
      try {
        await rename(tailTmpPath(this.path), tailPath(this.path));
      } catch (e) {
        throw storageError(e, tailPath(this.path), 'renaming to');
      }
      await fsyncParent(this.path);
    });
  }

  /** Appends the final chunk, makes the file durable under its final name and removes the recovery files. */
  close(): Promise<SealedFileResult> {
    return this.#run(async () => {
      const handle = this.#assertOpen();
      if (!this.#finished) {
        this.#backlog.push(this.#sealer.finish());
        this.#finished = true;
      }
      await this.#flush();
      const partial = partialPath(this.path);
      try {
        await handle.datasync();
        await handle.close();
        this.#handle = undefined;
        await rename(partial, this.path);
      } catch (e) {
        throw storageError(e, partial, 'finishing');
      }
      await fsyncParent(this.path);
      await unlinkIfPresent(tailPath(this.path));
      await unlinkIfPresent(tailTmpPath(this.path));
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
      throw new BodycamError(ErrorCode.SEAL_STATE, `sealed file ${this.path} is already closed`, { path: this.path });
    }
    return this.#handle;
  }

  /** write() and sync() only make sense before close() sealed the final chunk (a failed close may be retried). */
  #assertWritable(): FileHandle {
    const handle = this.#assertOpen();
    if (this.#finished) {
      throw new BodycamError(ErrorCode.SEAL_STATE, `sealed file ${this.path} is being closed`, { path: this.path });
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
      const data = this.#backlog[0] as Buffer;
      try {
        await writeAll(handle, data);
      } catch (e) {
        await handle.truncate(this.#bytes).catch(() => undefined);
        throw storageError(e, partialPath(this.path), 'appending to');
      }
      this.#backlog.shift();
      this.#hash.update(data);
      this.#bytes += data.length;
    }
  }
}

/** Writes a whole small file and fsyncs it (the caller renames it into place). */
async function writeFileDurably(path: string, data: Buffer): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'w');
    await writeAll(handle, data, 0);
    await handle.datasync();
  } catch (e) {
    await handle?.close().catch(() => undefined);
    handle = undefined;
    await unlink(path).catch(() => undefined);
    throw storageError(e, path, 'writing');
  } finally {
    await handle?.close();
  }
}

async function sha256OfFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    throw storageError(e, path, 'reading');
  }
  return { bytes, sha256: hash.digest('hex') };
}

function recoveryError(path: string, problem: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.SEAL_RECOVERY, `Cannot recover ${path}: ${problem}; files left as they are`, {
    path,
    ...details,
  });
}

function parseTail(
  path: string,
  tail: Buffer,
): { headerLength: number; chunkCount: number; meta: Buffer; chunk: Buffer } {
  if (tail.length < TAIL_PREAMBLE + TAG_SIZE || !tail.subarray(0, TAIL_MAGIC.length).equals(TAIL_MAGIC)) {
    throw recoveryError(path, 'the tail file is not a BCTAIL1 file');
  }
  const headerLength = tail.readUInt32BE(TAIL_MAGIC.length);
  const chunkCount = Number(tail.readBigUInt64BE(TAIL_MAGIC.length + 4));
  const metaLength = tail.readUInt32BE(TAIL_MAGIC.length + 12);
  if (metaLength > MAX_TAIL_META || TAIL_PREAMBLE + metaLength + TAG_SIZE > tail.length) {
    throw recoveryError(path, 'the tail file has an impossible metadata length', { metaLength });
  }
  const meta = tail.subarray(TAIL_PREAMBLE, TAIL_PREAMBLE + metaLength);
  const chunk = tail.subarray(TAIL_PREAMBLE + metaLength);
  if (chunk.length > SEALED_CHUNK_SIZE || !Number.isSafeInteger(chunkCount) || headerLength < AGE_MAGIC.length) {
    throw recoveryError(path, 'the tail file has impossible sizes', { headerLength, chunkCount });
  }
  return { headerLength, chunkCount, meta, chunk };
}

/**
 * Finishes an interrupted sealed file from its last `sync()`, given the final path. Returns null when no sync ever
 * completed (no `.tail`): nothing was promised durable, so the partial file is left for the caller to judge.
 * A leftover `.tail.tmp` belongs to a sync that never returned and is discarded. Safe to run again if it is itself
 * interrupted: every step before the rename is repeatable.
 */
export async function recoverSealedFile(path: string): Promise<RecoveredFile | null> {
  const partial = partialPath(path);
  const tailFile = tailPath(path);
  if (await unlinkIfPresent(tailTmpPath(path))) await fsyncParent(path);
  let tail: Buffer;
  try {
    tail = await readFile(tailFile);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw storageError(e, tailFile, 'reading');
  }
  const [hasPartial, hasFinal] = await Promise.all([exists(partial), exists(path)]);
  if (!hasPartial) {
    if (!hasFinal) throw recoveryError(path, 'a tail file exists but the partial file is gone');
    // close() got as far as the rename: the file is complete; only the tail was left behind.
    const { meta } = parseTail(path, tail);
    await unlinkIfPresent(tailFile);
    await fsyncParent(path);
    return { path, ...(await sha256OfFile(path)), recovered: true, complete: true, meta };
  }
  if (hasFinal) throw recoveryError(path, 'both the partial and the final file exist');

  const { headerLength, chunkCount, meta, chunk } = parseTail(path, tail);
  const keep = headerLength + chunkCount * SEALED_CHUNK_SIZE;
  let handle: FileHandle | undefined;
  try {
    handle = await open(partial, 'r+');
    const { size } = await handle.stat();
    if (size < keep) {
      throw recoveryError(path, `the partial file has ${size} bytes but the last sync covered ${keep}`, { size, keep });
    }
    const magic = Buffer.alloc(AGE_MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    if (!magic.equals(AGE_MAGIC)) throw recoveryError(path, 'the partial file does not start with an age header');
    await handle.truncate(keep);
    await writeAll(handle, chunk, keep);
    await handle.datasync();
  } catch (e) {
    throw storageError(e, partial, 'recovering');
  } finally {
    await handle?.close();
  }
  try {
    await rename(partial, path);
  } catch (e) {
    throw storageError(e, partial, 'renaming');
  }
  await fsyncParent(path);
  await unlinkIfPresent(tailFile);
  await fsyncParent(path);
  return { path, ...(await sha256OfFile(path)), recovered: true, complete: false, meta };
}
