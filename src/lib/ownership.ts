/**
 * Giving files to another user (root provisioning or upgrading a camera for its service user), never through a
 * symbolic link or a hard link that a less trusted user could have planted: the file is opened with O_NOFOLLOW,
 * checked on the open descriptor (type, one link) and changed through it (fchown, fchmod), so what is checked is what
 * is changed. A whole tree (a camera's storage) is given entry by entry the same way.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
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

/**
 * Gives every directory and regular file below `dir` (itself excluded) to `owner`, modes unchanged: storage that
 * root filled (an earlier release run as root, a copy restored by hand) becomes the service user's, database journals
 * included. Each entry is changed through `handTo`'s checks on an O_NOFOLLOW descriptor; a symbolic link, a file linked
 * more than once or any other type is left as it is and named in `skipped`. Stops at `maxEntries` (named as skipped).
 */
export async function handTreeTo(dir: string, owner: Owner, maxEntries = 1_000_000): Promise<TreeHandOver> {
  const done: TreeHandOver = { given: 0, skipped: [] };
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (done.given >= maxEntries) {
        done.skipped.push(`${full} and what follows (more than ${maxEntries} entries)`);
        return done;
      }
      const kind = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : null;
      if (kind === null) {
        done.skipped.push(`${full} (${entry.isSymbolicLink() ? 'a symbolic link' : 'not a file or directory'})`);
        continue;
      }
      try {
        const info = await lstat(full);
        if (await handTo(full, owner, info.mode & 0o7777, kind)) done.given += 1;
      } catch (e) {
        if (!(e instanceof BodycamError)) throw e;
        done.skipped.push(`${full} (${e.message})`);
        continue;
      }
      if (kind === 'dir') pending.push(full);
    }
  }
  return done;
}
