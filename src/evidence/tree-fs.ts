/**
 * The file-system reads of the evidence walk: directory entries by their own type (a symbolic link is a link, never
 * what it points to), files opened without following a link in their last component and checked to be regular files
 * after opening, small files read whole within a size limit, and every file read recorded with its SHA-256.
 */
import { constants, type Dirent } from 'node:fs';
import { type FileHandle, open, opendir } from 'node:fs/promises';
import { sha256Hex } from './canonical.ts';

/** What a directory entry is, by lstat: never followed. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'socket' | 'other';

/** A directory's entries by name, in name order; `truncated` when it held more than `max`. */
export interface Entries {
  names: Map<string, EntryKind>;
  truncated: boolean;
}

/** No directory of evidence comes near this many entries (a day of 1 s segments is 259,200 files). */
export const MAX_ENTRIES = 500_000;

function kindOf(d: Dirent): EntryKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  if (d.isSocket()) return 'socket';
  return 'other';
}

/** The entries of `dir` (which must not be a link), at most `max` of them. Throws the errno error. */
export async function entries(dir: string, max = MAX_ENTRIES): Promise<Entries> {
  const names = new Map<string, EntryKind>();
  let truncated = false;
  const handle = await opendir(dir, { bufferSize: 256 });
  try {
    for await (const d of handle) {
      if (names.size >= max) {
        truncated = true;
        break;
      }
      names.set(d.name, kindOf(d));
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { names: new Map([...names].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), truncated };
}

/** Opens a regular file for reading, refusing a link in its last component (ELOOP) and anything not a file. */
export async function openFile(file: string): Promise<{ fh: FileHandle; size: number }> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTREG' });
    return { fh, size: info.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** One file the walk read, relative to the evidence root (`/`-separated), with its size and SHA-256. */
export interface FileRead {
  file: string;
  bytes: number;
  sha256: string;
}

/** A small file's text, or `tooLarge` with its size when it exceeds `max` bytes (then nothing is read). */
export async function readSmall(
  file: string,
  max: number,
): Promise<{ text: string; bytes: number; sha256: string } | { tooLarge: number }> {
  const { fh, size } = await openFile(file);
  try {
    if (size > max) return { tooLarge: size };
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    const bytes = buf.subarray(0, at);
    return { text: bytes.toString('utf8'), bytes: at, sha256: sha256Hex(bytes) };
  } finally {
    await fh.close();
  }
}
