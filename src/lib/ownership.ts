/**
 * Giving files to another user (root provisioning or upgrading a camera for its service user), never through a
 * symbolic link or a hard link that a less trusted user could have planted: the file is opened with O_NOFOLLOW,
 * checked on the open descriptor (type, one link) and changed through it (fchown, fchmod), so what is checked is what
 * is changed. A whole tree (a camera's storage) is given entry by entry the same way.
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from './errors.ts';

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Sets owner and mode of `path`, a regular file (`file`) or a directory (`dir`). Returns false when it does not exist;
 * USAGE when it is a symbolic link, of another type, or a file with more than one hard link.
 */
export async function handTo(path: string, owner: Owner, mode: number, kind: 'file' | 'dir'): Promise<boolean> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | (kind === 'dir' ? constants.O_DIRECTORY : 0);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, flags | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return false;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${path} is a symbolic link or not a ${kind === 'dir' ? 'directory' : 'file'}: not giving it to uid ${owner.uid}`,
        { path },
      );
    }
    throw e;
  }
  try {
    const info = await handle.stat();
    const wrongType = kind === 'dir' ? !info.isDirectory() : !info.isFile();
    if (wrongType || (kind === 'file' && info.nlink !== 1)) {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${path} is ${wrongType ? `not a regular ${kind === 'dir' ? 'directory' : 'file'}` : `linked ${info.nlink} times`}: not giving it to uid ${owner.uid}`,
        { path },
      );
    }
    if (info.uid !== owner.uid || info.gid !== owner.gid) await handle.chown(owner.uid, owner.gid);
    if ((info.mode & 0o7777) !== mode) await handle.chmod(mode);
    return true;
  } finally {
    await handle.close();
  }
}

/** What `handTreeTo` did: how many entries it gave away, and what it left alone (links, other types). */
export interface TreeHandOver {
  given: number;
  skipped: string[];
}

/** Deeper than any storage tree the camera makes; a deeper one is named, not followed (each level holds a descriptor). */
const MAX_DEPTH = 32;

type Handle = Awaited<ReturnType<typeof open>>;

/**
 * Gives every directory and regular file below `dir` (itself excluded) to `owner`, modes unchanged: storage that
 * root filled (an earlier release run as root, a copy restored by hand) becomes the service user's, database journals
 * included. A symbolic link, a file linked more than once or any other type is left as it is and named in `skipped`.
 * Stops at `maxEntries` (named as skipped).
 *
 * The walk never resolves a path below `dir` again once it has opened it: each directory is held open and read, and
 * its entries opened, through `/proc/self/fd/N` (the kernel's handle on the very directory opened, as openat(2) would
 * use it), each with O_NOFOLLOW and checked on its own descriptor. Whatever a process of the new owner does meanwhile
 * (a directory already given swapped for a link to /etc), root never follows it out of the tree.
 */
export async function handTreeTo(dir: string, owner: Owner, maxEntries = 1_000_000): Promise<TreeHandOver> {
  const done: TreeHandOver = { given: 0, skipped: [] };
  const top = await openEntry(dir, 'dir');
  if (top === null || top === 'link') {
    throw new BodycamError(ErrorCode.USAGE, `${dir} is not a directory: not giving its contents to uid ${owner.uid}`, {
      path: dir,
    });
  }
  try {
    await giveContents(top, dir, owner, maxEntries, done, 0);
  } finally {
    await top.close();
  }
  return done;
}

/** Gives what the open directory `handle` (shown as `shown`) holds; false once `maxEntries` is reached. */
async function giveContents(
  handle: Handle,
  shown: string,
  owner: Owner,
  maxEntries: number,
  done: TreeHandOver,
  depth: number,
): Promise<boolean> {
  const here = `/proc/self/fd/${handle.fd}`;
  for (const entry of await readdir(here, { withFileTypes: true })) {
    const full = join(shown, entry.name);
    if (done.given >= maxEntries) {
      done.skipped.push(`${full} and what follows (more than ${maxEntries} entries)`);
      return false;
    }
    const kind = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : null;
    if (kind === null) {
      done.skipped.push(`${full} (${entry.isSymbolicLink() ? 'a symbolic link' : 'not a file or directory'})`);
      continue;
    }
    const child = await openEntry(join(here, entry.name), kind);
    if (child === null) continue; // gone meanwhile
    if (child === 'link') {
      done.skipped.push(`${full} (a symbolic link or not a ${kind === 'dir' ? 'directory' : 'file'})`);
      continue;
    }
    try {
      const info = await child.stat();
      const wrongType = kind === 'dir' ? !info.isDirectory() : !info.isFile();
      if (wrongType || (kind === 'file' && info.nlink !== 1)) {
        done.skipped.push(
          `${full} (${wrongType ? `not a regular ${kind === 'dir' ? 'directory' : 'file'}` : `linked ${info.nlink} times`})`,
        );
        continue;
      }
      if (info.uid !== owner.uid || info.gid !== owner.gid) await child.chown(owner.uid, owner.gid);
      done.given += 1;
      if (kind === 'dir') {
        if (depth + 1 >= MAX_DEPTH) {
          done.skipped.push(`${full}/* (deeper than ${MAX_DEPTH} levels)`);
        } else if (!(await giveContents(child, full, owner, maxEntries, done, depth + 1))) {
          return false;
        }
      }
    } finally {
      await child.close();
    }
  }
  return true;
}

/** Opens `path` without following a last-component link: null when gone, 'link' when a link or of the wrong type. */
async function openEntry(path: string, kind: 'file' | 'dir'): Promise<Handle | null | 'link'> {
  const flags =
    constants.O_RDONLY |
    constants.O_NOFOLLOW |
    constants.O_NONBLOCK |
    constants.O_NOCTTY |
    (kind === 'dir' ? constants.O_DIRECTORY : 0);
  try {
    return await open(path, flags);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP' || code === 'ENOTDIR') return 'link';
    throw e;
  }
}
