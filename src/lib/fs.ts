/**
 * Durable file helpers: every write that evidence depends on goes through these, so errors are classified the same
 * way everywhere (ENOSPC/EDQUOT → STORAGE_FULL, the officer must be told; anything else → STORAGE_IO) and every
 * create, rename or unlink is made durable by fsyncing its directory.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from './errors.ts';

/** ENOSPC/EDQUOT become STORAGE_FULL, the rest STORAGE_IO; a BodycamError passes through unchanged. */
export function storageError(e: unknown, path: string, action: string): BodycamError {
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

/** fsync a directory so a create or rename inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync the directory holding `path`; failures are storage errors. */
export async function fsyncParent(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    await fsyncDir(dir);
  } catch (e) {
    throw storageError(e, dir, 'syncing directory');
  }
}

/** Removes `path`; false when it was not there. */
export async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw storageError(e, path, 'removing');
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw storageError(e, path, 'checking');
  }
}

/** Writes all of `data` at `position` (or the handle's position); short writes happen when a disk fills. */
export async function writeAll(handle: FileHandle, data: Buffer, position?: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const at = position === undefined ? null : position + done;
    const { bytesWritten } = await handle.write(data, done, data.length - done, at);
    done += bytesWritten;
  }
}

/** `writeAll` for several buffers in one system call (`writev`), resumed after a short write; appends. */
export async function writevAll(handle: FileHandle, data: readonly Buffer[]): Promise<void> {
  let rest = data.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    while (rest.length > 0 && bytesWritten >= (rest[0] as Buffer).length) {
      bytesWritten -= (rest[0] as Buffer).length;
      rest = rest.slice(1);
    }
    if (bytesWritten > 0) rest = [(rest[0] as Buffer).subarray(bytesWritten), ...rest.slice(1)];
  }
}

/** Writes a whole small file and fsyncs it (the caller renames it into place); a failure leaves no file. */
export async function writeFileDurably(path: string, data: Buffer): Promise<void> {
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

/** The length of `handle`'s content up to and including its last newline (0 when it has none). */
async function completeLength(handle: FileHandle, size: number): Promise<number> {
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const { bytesRead } = await handle.read(block, 0, end - start, start);
    const nl = block.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Appends complete lines (`text` ends in a newline) to a line file and fdatasyncs it. A torn last line left by a
 * power cut during an earlier append is cut off first, so the new lines never glue onto it.
 */
export async function appendLinesDurably(path: string, text: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'a+');
    const { size } = await handle.stat();
    const complete = size === 0 ? 0 : await completeLength(handle, size);
    if (complete < size) await handle.truncate(complete);
    await writeAll(handle, Buffer.from(text));
    await handle.datasync();
  } catch (e) {
    throw storageError(e, path, 'appending to');
  } finally {
    await handle?.close();
  }
}

/** Size and hex SHA-256 of a file, read as a stream. */
export async function sha256OfFile(path: string): Promise<{ bytes: number; sha256: string }> {
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

/**
 * A directory only the running user may write: created with `mode` when missing (and its missing parents), never a
 * symbolic link, never writable by others unless it is sticky and ours. Provisioning writes keys and configs into
 * such directories only, so a local user cannot redirect a write (a planted symlink) or swap a file under it.
 * `trustedUids` may own it too (root provisioning a camera for its service user). USAGE naming the directory and
 * what is wrong.
 */
export async function privateDirectory(dir: string, mode = 0o755, trustedUids: readonly number[] = []): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const info = await lstat(dir);
  const problem = !info.isDirectory()
    ? 'is a symbolic link or not a directory'
    : info.uid !== (process.getuid?.() ?? info.uid) && info.uid !== 0 && !trustedUids.includes(info.uid)
      ? `belongs to another user (uid ${info.uid})`
      : (info.mode & 0o022) !== 0
        ? `is writable by others (mode ${(info.mode & 0o777).toString(8)})`
        : undefined;
  if (problem !== undefined) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `${dir} ${problem}: refusing to write keys or configuration there (a local user could redirect the writes); use a directory only you can write`,
      { path: dir },
    );
  }
}

/**
 * Writes a whole file with `mode`, never through a symbolic link (O_NOFOLLOW) and with that mode even when the file
 * existed with a looser one. For files in a `privateDirectory`.
 */
export async function writeFileNoFollow(path: string, data: string | Buffer, mode: number): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  } catch (e) {
    if (errnoCode(e) === 'ELOOP') {
      throw new BodycamError(ErrorCode.USAGE, `${path} is a symbolic link: refusing to write through it`, { path });
    }
    throw e;
  }
  try {
    await handle.chmod(mode);
    await writeAll(handle, typeof data === 'string' ? Buffer.from(data) : data, 0);
  } finally {
    await handle.close();
  }
}

/** Takes group and other access away from `path` when it has any (a file only its owner should read). */
export async function makePrivate(path: string, mode = 0o600): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (info === null || info.isSymbolicLink() || (info.mode & 0o077) === 0) return;
  if (info.uid === (process.getuid?.() ?? info.uid)) await chmod(path, mode);
}
